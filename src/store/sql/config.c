/* SPDX-License-Identifier: Apache-2.0
 * The SQL store's configuration and token state (store.h): tenants, APIs, applications and
 * their secrets and grants, users, roles, signing keys, refresh-token families, revoked access
 * tokens, and the chained audit trail. Portable SQL run through sql.h on either back end. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/str.h"
#include "store/sql/sql.h"

enum q {
    Q_TENANT_INS = 2, /* 0 and 1: sql.c */
    Q_TENANT_GET,
    Q_TENANT_LIST,
    Q_API_INS,
    Q_API_GET,
    Q_API_LIST,
    Q_APP_INS,
    Q_APP_GET,
    Q_APP_LIST,
    Q_SECRET_INS,
    Q_SECRET_LIST,
    Q_SECRET_DEL,
    Q_GRANT_INS,
    Q_GRANT_LIST,
    Q_USER_INS,
    Q_USER_BY_NAME,
    Q_USER_GET,
    Q_ROLE_INS,
    Q_ROLE_GET,
    Q_ROLE_ASSIGN,
    Q_PRINCIPAL_ROLES,
    Q_KEY_INS,
    Q_KEYS,
    Q_KEY_GET,
    Q_FAMILY_INS,
    Q_RT_INS,
    Q_RT_GET,
    Q_RT_USE,
    Q_RT_REVOKE_ACCESS,
    Q_FAMILY_REVOKE,
    Q_FAMILY_REVOKE_ACCESS,
    Q_JTI_INS,
    Q_JTI_GET,
    Q_AUDIT_INS,
    Q_AUDIT_LIST,
    Q_AUDIT_LAST,
    Q_AUDIT_CHAIN,
    Q_AUDIT_PROBE,
    Q_COUNT
};

#define TENANT_COLS "id, name, display_name, signing_alg, token_lifetime, created_at"
#define API_COLS                                                                                   \
    "id, identifier, name, permissions, scopes, require_caller_id, "                               \
    "require_subscription_key, tenant_header, created_at, rate_limit"
#define APP_COLS                                                                                   \
    "client_id, tenant_id, name, is_public, auth_method, grants, redirect_uris, "                  \
    "sp_oid, token_lifetime, created_at"
#define USER_COLS                                                                                  \
    "oid, tenant_id, username, username_key, email, display_name, "                                \
    "password_hash, disabled, created_at"
#define KEY_COLS "kid, tenant_id, alg, status, public_jwk, private_sealed, created_at, retired_at"
#define RT_COLS                                                                                    \
    "t.hash, t.tenant_id, t.family_id, t.client_id, t.user_oid, t.scope, "                         \
    "t.access_jti, t.access_exp, t.auth_time, t.created_at, t.expires_at, "                        \
    "t.used_at, f.revoked_at, t.grace"
#define AUDIT_COLS                                                                                 \
    "time_ms, tenant_id, actor_type, actor_id, caller_id, action, target, "                        \
    "outcome, client_ip, trace_id, detail, prev_hash, hash"

static const struct kg_sql_q SQL[Q_COUNT] = {
    [Q_TENANT_INS] = {Q_TENANT_INS, "INSERT INTO tenants (" TENANT_COLS ") VALUES (?,?,?,?,?,?)"},
    [Q_TENANT_GET] = {Q_TENANT_GET, "SELECT " TENANT_COLS " FROM tenants WHERE id = ? OR name = ?"},
    [Q_TENANT_LIST] = {Q_TENANT_LIST, "SELECT " TENANT_COLS " FROM tenants ORDER BY name"},
    [Q_API_INS] = {Q_API_INS, "INSERT INTO apis (" API_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?)"},
    [Q_API_GET] = {Q_API_GET, "SELECT " API_COLS " FROM apis WHERE identifier = ?"},
    [Q_API_LIST] = {Q_API_LIST, "SELECT " API_COLS " FROM apis ORDER BY identifier"},
    [Q_APP_INS] = {Q_APP_INS,
                   "INSERT INTO applications (" APP_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?)"},
    [Q_APP_GET] = {Q_APP_GET,
                   "SELECT " APP_COLS " FROM applications WHERE tenant_id = ? AND client_id = ?"},
    [Q_APP_LIST] = {Q_APP_LIST,
                    "SELECT " APP_COLS " FROM applications WHERE tenant_id = ? ORDER BY name"},
    [Q_SECRET_INS] = {Q_SECRET_INS,
                      "INSERT INTO client_secrets (id, client_id, hash, hint, created_at, "
                      "expires_at) VALUES (?,?,?,?,?,?)"},
    [Q_SECRET_LIST] = {Q_SECRET_LIST,
                       "SELECT id, client_id, hash, hint, created_at, expires_at FROM "
                       "client_secrets WHERE client_id = ? ORDER BY created_at, id"},
    [Q_SECRET_DEL] = {Q_SECRET_DEL, "DELETE FROM client_secrets WHERE client_id = ? AND id = ?"},
    [Q_GRANT_INS] = {Q_GRANT_INS,
                     "INSERT INTO app_grants (client_id, api_id, permission) VALUES (?,?,?) "
                     "ON CONFLICT DO NOTHING"},
    [Q_GRANT_LIST] = {Q_GRANT_LIST,
                      "SELECT permission FROM app_grants WHERE client_id = ? AND api_id = ? "
                      "ORDER BY permission"},
    [Q_USER_INS] = {Q_USER_INS, "INSERT INTO users (" USER_COLS ") VALUES (?,?,?,?,?,?,?,?,?)"},
    [Q_USER_BY_NAME] = {Q_USER_BY_NAME,
                        "SELECT " USER_COLS " FROM users WHERE tenant_id = ? AND username_key = ?"},
    [Q_USER_GET] = {Q_USER_GET, "SELECT " USER_COLS " FROM users WHERE tenant_id = ? AND oid = ?"},
    [Q_ROLE_INS] = {Q_ROLE_INS, "INSERT INTO roles (id, tenant_id, name, permissions, builtin) "
                                "VALUES (?,?,?,?,?)"},
    [Q_ROLE_GET] = {Q_ROLE_GET, "SELECT id, tenant_id, name, permissions, builtin FROM roles "
                                "WHERE tenant_id = ? AND name = ?"},
    [Q_ROLE_ASSIGN] = {Q_ROLE_ASSIGN,
                       "INSERT INTO role_assignments (tenant_id, principal_id, role_id) "
                       "VALUES (?,?,?) ON CONFLICT DO NOTHING"},
    [Q_PRINCIPAL_ROLES] =
        {Q_PRINCIPAL_ROLES,
         "SELECT r.name FROM role_assignments a JOIN roles r ON r.id = "
         "a.role_id WHERE a.tenant_id = ? AND a.principal_id = ? ORDER BY r.name"},
    [Q_KEY_INS] = {Q_KEY_INS, "INSERT INTO signing_keys (" KEY_COLS ") VALUES (?,?,?,?,?,?,?,?)"},
    [Q_KEYS] = {Q_KEYS, "SELECT " KEY_COLS " FROM signing_keys WHERE tenant_id = ? AND "
                        "(status <> 'retired' OR retired_at > ?) ORDER BY created_at DESC, kid"},
    [Q_KEY_GET] = {Q_KEY_GET, "SELECT " KEY_COLS " FROM signing_keys WHERE kid = ?"},
    [Q_FAMILY_INS] = {Q_FAMILY_INS,
                      "INSERT INTO refresh_families (id, tenant_id, client_id, user_oid, "
                      "created_at, revoked_at) VALUES (?,?,?,?,?,0)"},
    [Q_RT_INS] = {Q_RT_INS,
                  "INSERT INTO refresh_tokens (hash, tenant_id, family_id, client_id, user_oid, "
                  "scope, access_jti, access_exp, auth_time, created_at, expires_at, used_at) "
                  "VALUES (?,?,?,?,?,?,?,?,?,?,?,0)"},
    [Q_RT_GET] = {Q_RT_GET, "SELECT " RT_COLS " FROM refresh_tokens t JOIN refresh_families f "
                            "ON f.id = t.family_id WHERE t.hash = ?"},
    [Q_RT_USE] = {Q_RT_USE, "UPDATE refresh_tokens SET used_at = ?, grace = ? WHERE hash = ? AND "
                            "used_at = 0 AND family_id IN (SELECT id FROM refresh_families WHERE "
                            "revoked_at = 0)"},
    [Q_RT_REVOKE_ACCESS] = {Q_RT_REVOKE_ACCESS,
                            "INSERT INTO revoked_jti (jti, tenant_id, expires_at) SELECT "
                            "access_jti, tenant_id, access_exp FROM refresh_tokens WHERE "
                            "hash = ? AND access_exp > ? ON CONFLICT DO NOTHING"},
    [Q_FAMILY_REVOKE] = {Q_FAMILY_REVOKE,
                         "UPDATE refresh_families SET revoked_at = ? WHERE id = ? AND "
                         "revoked_at = 0"},
    [Q_FAMILY_REVOKE_ACCESS] = {Q_FAMILY_REVOKE_ACCESS,
                                "INSERT INTO revoked_jti (jti, tenant_id, expires_at) SELECT "
                                "access_jti, tenant_id, access_exp FROM refresh_tokens WHERE "
                                "family_id = ? AND access_exp > ? ON CONFLICT DO NOTHING"},
    [Q_JTI_INS] = {Q_JTI_INS, "INSERT INTO revoked_jti (jti, tenant_id, expires_at) VALUES (?,?,?) "
                              "ON CONFLICT DO NOTHING"},
    [Q_JTI_GET] = {Q_JTI_GET, "SELECT 1 FROM revoked_jti WHERE jti = ?"},
    [Q_AUDIT_INS] = {Q_AUDIT_INS, "INSERT INTO audit.audit_events (" AUDIT_COLS
                                  ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"},
    [Q_AUDIT_LIST] = {Q_AUDIT_LIST,
                      "SELECT " AUDIT_COLS ", seq FROM audit.audit_events WHERE tenant_id = ? AND "
                      "time_ms >= ? ORDER BY seq LIMIT ?"},
    [Q_AUDIT_LAST] = {Q_AUDIT_LAST,
                      "SELECT hash FROM audit.audit_events WHERE tenant_id = ? ORDER BY seq DESC "
                      "LIMIT 1"},
    [Q_AUDIT_PROBE] = {Q_AUDIT_PROBE,
                       "INSERT INTO audit.audit_probe (id, at_ms) VALUES (1, ?) ON CONFLICT (id) "
                       "DO UPDATE SET at_ms = excluded.at_ms"},
    [Q_AUDIT_CHAIN] = {Q_AUDIT_CHAIN,
                       "SELECT " AUDIT_COLS ", seq FROM audit.audit_events WHERE tenant_id = ? "
                       "AND seq > ? ORDER BY seq LIMIT 1000"},
};

/* ---- readers of rows into records ---- */

static void read_tenant(const struct kg_row *st, struct kg_tenant *t)
{
    memset(t, 0, sizeof *t);
    kg_row_str(st, 0, t->id, sizeof t->id);
    kg_row_str(st, 1, t->name, sizeof t->name);
    kg_row_str(st, 2, t->display_name, sizeof t->display_name);
    kg_row_str(st, 3, t->signing_alg, sizeof t->signing_alg);
    t->token_lifetime = kg_row_int(st, 4);
    t->created_at = kg_row_int(st, 5);
}

static void read_api(const struct kg_row *st, struct kg_api *a)
{
    memset(a, 0, sizeof *a);
    kg_row_str(st, 0, a->id, sizeof a->id);
    kg_row_str(st, 1, a->identifier, sizeof a->identifier);
    kg_row_str(st, 2, a->name, sizeof a->name);
    kg_row_str(st, 3, a->permissions, sizeof a->permissions);
    kg_row_str(st, 4, a->scopes, sizeof a->scopes);
    a->require_caller_id = kg_row_int(st, 5) != 0;
    a->require_subscription_key = kg_row_int(st, 6) != 0;
    kg_row_str(st, 7, a->tenant_header, sizeof a->tenant_header);
    a->created_at = kg_row_int(st, 8);
    a->rate_limit = kg_row_int(st, 9);
}

static void read_app(const struct kg_row *st, struct kg_app *a)
{
    memset(a, 0, sizeof *a);
    kg_row_str(st, 0, a->client_id, sizeof a->client_id);
    kg_row_str(st, 1, a->tenant_id, sizeof a->tenant_id);
    kg_row_str(st, 2, a->name, sizeof a->name);
    a->is_public = kg_row_int(st, 3) != 0;
    kg_row_str(st, 4, a->auth_method, sizeof a->auth_method);
    kg_row_str(st, 5, a->grants, sizeof a->grants);
    kg_row_str(st, 6, a->redirect_uris, sizeof a->redirect_uris);
    kg_row_str(st, 7, a->sp_oid, sizeof a->sp_oid);
    a->token_lifetime = kg_row_int(st, 8);
    a->created_at = kg_row_int(st, 9);
}

static void read_secret(const struct kg_row *st, struct kg_secret_rec *r)
{
    memset(r, 0, sizeof *r);
    kg_row_str(st, 0, r->id, sizeof r->id);
    kg_row_str(st, 1, r->client_id, sizeof r->client_id);
    kg_row_str(st, 2, r->hash, sizeof r->hash);
    kg_row_str(st, 3, r->hint, sizeof r->hint);
    r->created_at = kg_row_int(st, 4);
    r->expires_at = kg_row_int(st, 5);
}

static void read_user(const struct kg_row *st, struct kg_user *u)
{
    memset(u, 0, sizeof *u);
    kg_row_str(st, 0, u->oid, sizeof u->oid);
    kg_row_str(st, 1, u->tenant_id, sizeof u->tenant_id);
    kg_row_str(st, 2, u->username, sizeof u->username);
    kg_row_str(st, 3, u->username_key, sizeof u->username_key);
    kg_row_str(st, 4, u->email, sizeof u->email);
    kg_row_str(st, 5, u->display_name, sizeof u->display_name);
    kg_row_str(st, 6, u->password_hash, sizeof u->password_hash);
    u->disabled = kg_row_int(st, 7) != 0;
    u->created_at = kg_row_int(st, 8);
}

static void read_key(const struct kg_row *st, struct kg_signing_key *k)
{
    memset(k, 0, sizeof *k);
    kg_row_str(st, 0, k->kid, sizeof k->kid);
    kg_row_str(st, 1, k->tenant_id, sizeof k->tenant_id);
    kg_row_str(st, 2, k->alg, sizeof k->alg);
    kg_row_str(st, 3, k->status, sizeof k->status);
    k->public_jwk = kg_strdup(st->ops->text(st->h, st->row, 4) ? kg_row_text(st, 4) : "{}");
    k->private_sealed = kg_row_blob(st, 5, &k->private_sealed_len);
    k->created_at = kg_row_int(st, 6);
    k->retired_at = kg_row_int(st, 7);
}

static void read_refresh(const struct kg_row *st, struct kg_refresh *r)
{
    memset(r, 0, sizeof *r);
    kg_row_str(st, 0, r->hash, sizeof r->hash);
    kg_row_str(st, 1, r->tenant_id, sizeof r->tenant_id);
    kg_row_str(st, 2, r->family_id, sizeof r->family_id);
    kg_row_str(st, 3, r->client_id, sizeof r->client_id);
    kg_row_str(st, 4, r->user_oid, sizeof r->user_oid);
    kg_row_str(st, 5, r->scope, sizeof r->scope);
    kg_row_str(st, 6, r->access_jti, sizeof r->access_jti);
    r->access_exp = kg_row_int(st, 7);
    r->auth_time = kg_row_int(st, 8);
    r->created_at = kg_row_int(st, 9);
    r->expires_at = kg_row_int(st, 10);
    r->used_at = kg_row_int(st, 11);
    r->revoked_at = kg_row_int(st, 12);
    r->grace = kg_row_blob(st, 13, &r->grace_len);
}

static void read_audit(const struct kg_row *st, struct kg_audit *a)
{
    memset(a, 0, sizeof *a);
    a->time_ms = kg_row_int(st, 0);
    kg_row_str(st, 1, a->tenant_id, sizeof a->tenant_id);
    kg_row_str(st, 2, a->actor_type, sizeof a->actor_type);
    kg_row_str(st, 3, a->actor_id, sizeof a->actor_id);
    kg_row_str(st, 4, a->caller_id, sizeof a->caller_id);
    kg_row_str(st, 5, a->action, sizeof a->action);
    kg_row_str(st, 6, a->target, sizeof a->target);
    kg_row_str(st, 7, a->outcome, sizeof a->outcome);
    kg_row_str(st, 8, a->client_ip, sizeof a->client_ip);
    kg_row_str(st, 9, a->trace_id, sizeof a->trace_id);
    kg_row_str(st, 10, a->detail, sizeof a->detail);
    kg_row_str(st, 11, a->prev_hash, sizeof a->prev_hash);
    kg_row_str(st, 12, a->hash, sizeof a->hash);
    a->seq = kg_row_int(st, 13);
}

static void read_hash(const struct kg_row *st, void *out)
{
    kg_row_str(st, 0, out, KG_HASH_HEX);
}

/* ---- operations ---- */

static enum kg_rc key_insert(struct kg_sql_tx *t, const void *arg)
{
    const struct kg_signing_key *k = arg;
    return kg_sql_exec(t, &SQL[Q_KEY_INS], "sssssbii", k->kid, k->tenant_id, k->alg, k->status,
                       k->public_jwk, k->private_sealed, k->private_sealed_len, k->created_at,
                       k->retired_at);
}

static enum kg_rc role_insert(struct kg_sql_tx *t, const void *arg)
{
    const struct kg_role *r = arg;
    return kg_sql_exec(t, &SQL[Q_ROLE_INS], "ssssi", r->id, r->tenant_id, r->name, r->permissions,
                       (int64_t)r->builtin);
}

static enum kg_rc secret_insert(struct kg_sql_tx *t, const void *arg)
{
    const struct kg_secret_rec *r = arg;
    return kg_sql_exec(t, &SQL[Q_SECRET_INS], "ssssii", r->id, r->client_id, r->hash, r->hint,
                       r->created_at, r->expires_at);
}

static enum kg_rc op_tenant_create(struct kg_store *s, const struct kg_tenant *tn,
                                   const struct kg_signing_key *k, const struct kg_role *roles,
                                   size_t nroles)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc =
        kg_sql_exec(&t, &SQL[Q_TENANT_INS], "ssssii", tn->id, tn->name, tn->display_name,
                    tn->signing_alg, tn->token_lifetime, tn->created_at);
    if (!rc && k) {
        rc = key_insert(&t, k);
    }
    for (size_t i = 0; !rc && i < nroles; i++) {
        rc = role_insert(&t, &roles[i]);
    }
    return kg_sql_end(&t, rc);
}

static enum kg_rc op_tenant_get(struct kg_store *s, const char *alias, struct kg_tenant *out)
{
    return kg_sql_get1(s, &SQL[Q_TENANT_GET], (kg_sql_reader)read_tenant, out, "ss", alias, alias);
}

static enum kg_rc op_tenant_list(struct kg_store *s, struct kg_tenant **out, size_t *n)
{
    return kg_sql_list(s, &SQL[Q_TENANT_LIST], sizeof **out, (kg_sql_reader)read_tenant,
                       (void **)out, n, "");
}

static enum kg_rc op_api_create(struct kg_store *s, const struct kg_api *a)
{
    return kg_sql_exec1(s, &SQL[Q_API_INS], "sssssiisii", a->id, a->identifier, a->name,
                        a->permissions, a->scopes, (int64_t)a->require_caller_id,
                        (int64_t)a->require_subscription_key, a->tenant_header, a->created_at,
                        a->rate_limit);
}

static enum kg_rc op_api_get(struct kg_store *s, const char *identifier, struct kg_api *out)
{
    return kg_sql_get1(s, &SQL[Q_API_GET], (kg_sql_reader)read_api, out, "s", identifier);
}

static enum kg_rc op_api_list(struct kg_store *s, struct kg_api **out, size_t *n)
{
    return kg_sql_list(s, &SQL[Q_API_LIST], sizeof **out, (kg_sql_reader)read_api, (void **)out, n,
                       "");
}

static enum kg_rc op_app_create(struct kg_store *s, const struct kg_app *a,
                                const struct kg_secret_rec *first)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc = kg_sql_exec(&t, &SQL[Q_APP_INS], "sssissssii", a->client_id, a->tenant_id,
                                a->name, (int64_t)a->is_public, a->auth_method, a->grants,
                                a->redirect_uris, a->sp_oid, a->token_lifetime, a->created_at);
    if (!rc && first) {
        rc = secret_insert(&t, first);
    }
    return kg_sql_end(&t, rc);
}

static enum kg_rc op_app_get(struct kg_store *s, const char *tenant_id, const char *client_id,
                             struct kg_app *out)
{
    return kg_sql_get1(s, &SQL[Q_APP_GET], (kg_sql_reader)read_app, out, "ss", tenant_id,
                       client_id);
}

static enum kg_rc op_app_list(struct kg_store *s, const char *tenant_id, struct kg_app **out,
                              size_t *n)
{
    return kg_sql_list(s, &SQL[Q_APP_LIST], sizeof **out, (kg_sql_reader)read_app, (void **)out, n,
                       "s", tenant_id);
}

static enum kg_rc op_secret_add(struct kg_store *s, const struct kg_secret_rec *r)
{
    return kg_sql_in_tx(s, secret_insert, r);
}

static enum kg_rc op_secret_list(struct kg_store *s, const char *client_id,
                                 struct kg_secret_rec **out, size_t *n)
{
    return kg_sql_list(s, &SQL[Q_SECRET_LIST], sizeof **out, (kg_sql_reader)read_secret,
                       (void **)out, n, "s", client_id);
}

static enum kg_rc op_secret_remove(struct kg_store *s, const char *client_id, const char *id)
{
    return kg_sql_exec1_some(s, &SQL[Q_SECRET_DEL], "ss", client_id, id);
}

static enum kg_rc op_app_grant(struct kg_store *s, const char *client_id, const char *api_id,
                               const char *permission)
{
    return kg_sql_exec1(s, &SQL[Q_GRANT_INS], "sss", client_id, api_id, permission);
}

static enum kg_rc op_app_permissions(struct kg_store *s, const char *client_id, const char *api_id,
                                     char out[KG_LIST])
{
    return kg_sql_join1(s, &SQL[Q_GRANT_LIST], out, "ss", client_id, api_id);
}

static enum kg_rc op_user_create(struct kg_store *s, const struct kg_user *u)
{
    return kg_sql_exec1(s, &SQL[Q_USER_INS], "sssssssii", u->oid, u->tenant_id, u->username,
                        u->username_key, u->email, u->display_name, u->password_hash,
                        (int64_t)u->disabled, u->created_at);
}

static enum kg_rc op_user_get_by_name(struct kg_store *s, const char *tenant_id, const char *key,
                                      struct kg_user *out)
{
    return kg_sql_get1(s, &SQL[Q_USER_BY_NAME], (kg_sql_reader)read_user, out, "ss", tenant_id,
                       key);
}

static enum kg_rc op_user_get(struct kg_store *s, const char *tenant_id, const char *oid,
                              struct kg_user *out)
{
    return kg_sql_get1(s, &SQL[Q_USER_GET], (kg_sql_reader)read_user, out, "ss", tenant_id, oid);
}

static enum kg_rc op_role_create(struct kg_store *s, const struct kg_role *r)
{
    return kg_sql_in_tx(s, role_insert, r);
}

void kg_sql_read_role(const struct kg_row *st, void *out)
{
    struct kg_role *r = out;
    memset(r, 0, sizeof *r);
    kg_row_str(st, 0, r->id, sizeof r->id);
    kg_row_str(st, 1, r->tenant_id, sizeof r->tenant_id);
    kg_row_str(st, 2, r->name, sizeof r->name);
    kg_row_str(st, 3, r->permissions, sizeof r->permissions);
    r->builtin = kg_row_int(st, 4) != 0;
}

static enum kg_rc op_role_get(struct kg_store *s, const char *tenant_id, const char *name,
                              struct kg_role *out)
{
    return kg_sql_get1(s, &SQL[Q_ROLE_GET], kg_sql_read_role, out, "ss", tenant_id, name);
}

static enum kg_rc op_role_assign(struct kg_store *s, const char *tenant_id, const char *principal,
                                 const char *role_id)
{
    return kg_sql_exec1(s, &SQL[Q_ROLE_ASSIGN], "sss", tenant_id, principal, role_id);
}

static enum kg_rc op_principal_roles(struct kg_store *s, const char *tenant_id,
                                     const char *principal, char out[KG_LIST])
{
    return kg_sql_join1(s, &SQL[Q_PRINCIPAL_ROLES], out, "ss", tenant_id, principal);
}

static enum kg_rc op_signing_key_add(struct kg_store *s, const struct kg_signing_key *k)
{
    return kg_sql_in_tx(s, key_insert, k);
}

static enum kg_rc op_signing_keys(struct kg_store *s, const char *tenant_id,
                                  struct kg_signing_key **out, size_t *n)
{
    return kg_sql_list(s, &SQL[Q_KEYS], sizeof **out, (kg_sql_reader)read_key, (void **)out, n,
                       "si", tenant_id, (int64_t)time(NULL));
}

static enum kg_rc op_signing_key_get(struct kg_store *s, const char *kid,
                                     struct kg_signing_key *out)
{
    return kg_sql_get1(s, &SQL[Q_KEY_GET], (kg_sql_reader)read_key, out, "s", kid);
}

static enum kg_rc rt_insert(struct kg_sql_tx *t, const struct kg_refresh *r)
{
    return kg_sql_exec(t, &SQL[Q_RT_INS], "sssssssiiii", r->hash, r->tenant_id, r->family_id,
                       r->client_id, r->user_oid, r->scope, r->access_jti, r->access_exp,
                       r->auth_time, r->created_at, r->expires_at);
}

static enum kg_rc op_refresh_create(struct kg_store *s, const struct kg_refresh *r)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc = kg_sql_exec(&t, &SQL[Q_FAMILY_INS], "ssssi", r->family_id, r->tenant_id,
                                r->client_id, r->user_oid, r->created_at);
    if (!rc) {
        rc = rt_insert(&t, r);
    }
    return kg_sql_end(&t, rc);
}

static enum kg_rc op_refresh_get(struct kg_store *s, const char *hash, struct kg_refresh *out)
{
    return kg_sql_get1(s, &SQL[Q_RT_GET], (kg_sql_reader)read_refresh, out, "s", hash);
}

static enum kg_rc op_refresh_rotate(struct kg_store *s, const char *old_hash,
                                    const struct kg_refresh *next, const uint8_t *grace,
                                    size_t grace_len, int64_t now)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc = kg_sql_exec(&t, &SQL[Q_RT_USE], "ibs", now, grace, grace_len, old_hash);
    if (!rc && t.changes != 1) {
        rc = KG_ERR_CONFLICT; /* already used, or family revoked: single use holds */
    }
    if (!rc) {
        rc = rt_insert(&t, next);
    }
    if (!rc) { /* seed 001: the access token issued with the old refresh token dies with it */
        rc = kg_sql_exec(&t, &SQL[Q_RT_REVOKE_ACCESS], "si", old_hash, now);
    }
    return kg_sql_end(&t, rc);
}

static enum kg_rc op_family_revoke(struct kg_store *s, const char *family_id, int64_t now)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc = kg_sql_exec(&t, &SQL[Q_FAMILY_REVOKE], "is", now, family_id);
    if (!rc) {
        rc = kg_sql_exec(&t, &SQL[Q_FAMILY_REVOKE_ACCESS], "si", family_id, now);
    }
    return kg_sql_end(&t, rc);
}

static enum kg_rc op_jti_revoke(struct kg_store *s, const char *tenant_id, const char *jti,
                                int64_t expires_at)
{
    return kg_sql_exec1(s, &SQL[Q_JTI_INS], "ssi", jti, tenant_id, expires_at);
}

static void read_nothing(const struct kg_row *r, void *out)
{
    (void)r;
    (void)out;
}

static enum kg_rc op_jti_revoked(struct kg_store *s, const char *jti)
{
    return kg_sql_get1(s, &SQL[Q_JTI_GET], read_nothing, NULL, "s", jti);
}

/* The chain heads of the tenants a batch has touched, so that each tenant's head is read from
 * the store once per batch, not once per event (a round trip each on PostgreSQL). */
#define BATCH_HEADS 16
struct heads {
    size_t n;
    const char *tenant[BATCH_HEADS];
    char hash[BATCH_HEADS][KG_HASH_HEX];
};

/* The head of tenant's chain into prev; its slot in h (or -1 when h is full). */
static int chain_head(struct kg_sql_tx *t, struct heads *h, const char *tenant,
                      char prev[KG_HASH_HEX], enum kg_rc *rc)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->tenant[i], tenant) == 0) {
            memcpy(prev, h->hash[i], KG_HASH_HEX);
            return (int)i;
        }
    }
    prev[0] = '\0';
    *rc = kg_sql_get(t, &SQL[Q_AUDIT_LAST], read_hash, prev, "s", tenant);
    *rc = *rc == KG_ERR_NOT_FOUND ? KG_OK : *rc;
    if (*rc || h->n == BATCH_HEADS) {
        return -1;
    }
    h->tenant[h->n] = tenant;
    return (int)h->n++;
}

static enum kg_rc op_audit_append(struct kg_store *s, const struct kg_audit *ev, size_t n)
{
    struct kg_sql_tx t;
    if (kg_sql_begin_audit(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc = KG_OK;
    struct heads heads = {0};
    for (size_t i = 0; !rc && i < n; i++) {
        const struct kg_audit *a = &ev[i];
        /* the chain is extended inside the write transaction (writers are serialised), so
         * writers from several processes and nodes still make one chain per tenant */
        char prev[KG_HASH_HEX], hash[KG_HASH_HEX];
        int slot = chain_head(&t, &heads, a->tenant_id, prev, &rc);
        kg_audit_hash(prev, a, hash);
        if (!rc) {
            rc = kg_sql_send(&t, &SQL[Q_AUDIT_INS],
                             "isssssssss"
                             "sss",
                             a->time_ms, a->tenant_id, a->actor_type, a->actor_id, a->caller_id,
                             a->action, a->target, a->outcome, a->client_ip, a->trace_id, a->detail,
                             prev, hash);
        }
        if (!rc && slot >= 0) {
            memcpy(heads.hash[slot], hash, KG_HASH_HEX);
        }
    }
    return kg_sql_end(&t, rc);
}

static enum kg_rc op_audit_probe(struct kg_store *s, int64_t now_ms)
{
    struct kg_sql_tx t;
    if (kg_sql_begin_audit(s, &t)) {
        return KG_ERR_STORE;
    }
    return kg_sql_end(&t, kg_sql_exec(&t, &SQL[Q_AUDIT_PROBE], "i", now_ms));
}

static enum kg_rc op_audit_list(struct kg_store *s, const char *tenant_id, int64_t since_ms,
                                size_t limit, struct kg_audit **out, size_t *n)
{
    return kg_sql_list_audit(s, &SQL[Q_AUDIT_LIST], sizeof **out, (kg_sql_reader)read_audit,
                             (void **)out, n, "sii", tenant_id, since_ms, (int64_t)limit);
}

static enum kg_rc op_audit_verify(struct kg_store *s, const char *tenant_id, int64_t *count,
                                  int64_t *bad_seq, char head[KG_HASH_HEX])
{
    char prev[KG_HASH_HEX] = "";
    int64_t after = -1;
    enum kg_rc rc = KG_OK;
    *count = 0;
    *bad_seq = 0;
    bool chained = false;
    for (;;) {
        struct kg_audit *ev = NULL;
        size_t n = 0;
        rc = kg_sql_list_audit(s, &SQL[Q_AUDIT_CHAIN], sizeof *ev, (kg_sql_reader)read_audit,
                               (void **)&ev, &n, "si", tenant_id, after);
        if (rc || n == 0) {
            free(ev);
            break;
        }
        for (size_t i = 0; i < n && !rc; i++) {
            const struct kg_audit *a = &ev[i];
            after = a->seq;
            if (!chained && !a->hash[0] && !a->prev_hash[0]) {
                continue; /* written before the chain existed */
            }
            chained = true;
            char want[KG_HASH_HEX];
            kg_audit_hash(prev, a, want);
            (*count)++;
            if (strcmp(a->prev_hash, prev) != 0 || strcmp(a->hash, want) != 0) {
                *bad_seq = a->seq;
                rc = KG_ERR_INVALID;
            }
            kg_strlcpy(prev, a->hash, sizeof prev);
        }
        free(ev);
        if (rc) {
            break;
        }
    }
    kg_strlcpy(head, prev, KG_HASH_HEX);
    return rc;
}

void kg_sql_config_ops(struct kg_store_ops *ops)
{
    ops->tenant_create = op_tenant_create;
    ops->tenant_get = op_tenant_get;
    ops->tenant_list = op_tenant_list;
    ops->api_create = op_api_create;
    ops->api_get = op_api_get;
    ops->api_list = op_api_list;
    ops->app_create = op_app_create;
    ops->app_get = op_app_get;
    ops->app_list = op_app_list;
    ops->secret_add = op_secret_add;
    ops->secret_list = op_secret_list;
    ops->secret_remove = op_secret_remove;
    ops->app_grant = op_app_grant;
    ops->app_permissions = op_app_permissions;
    ops->user_create = op_user_create;
    ops->user_get_by_name = op_user_get_by_name;
    ops->user_get = op_user_get;
    ops->role_create = op_role_create;
    ops->role_get = op_role_get;
    ops->role_assign = op_role_assign;
    ops->principal_roles = op_principal_roles;
    ops->signing_key_add = op_signing_key_add;
    ops->signing_keys = op_signing_keys;
    ops->signing_key_get = op_signing_key_get;
    ops->refresh_create = op_refresh_create;
    ops->refresh_get = op_refresh_get;
    ops->refresh_rotate = op_refresh_rotate;
    ops->family_revoke = op_family_revoke;
    ops->jti_revoke = op_jti_revoke;
    ops->jti_revoked = op_jti_revoked;
    ops->audit_append = op_audit_append;
    ops->audit_probe = op_audit_probe;
    ops->audit_list = op_audit_list;
    ops->audit_verify = op_audit_verify;
}
