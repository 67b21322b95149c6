/* SPDX-License-Identifier: Apache-2.0
 * The SQL store's enforcement (store.h): workspaces and members, roles by id, API keys,
 * subscriptions and route policies. Keys are found by their hash alone (a unique index), so a
 * lookup costs the same with a thousand keys or a million. */
#include <stdlib.h>
#include <string.h>

#include "store/sql/sql.h"

#define KEY_COLS                                                                                   \
    "id, tenant_id, workspace_id, name, role_id, hash, hint, created_by, created_at, "             \
    "expires_at, revoked_at, last_used_at, rate_limit"
#define SUB_COLS "id, tenant_id, api_id, name, primary_hash, secondary_hash, created_at"
#define ROLE_COLS "r.id, r.tenant_id, r.name, r.permissions, r.builtin"

/* Slots 88.. of the statement cache (sql.c has 0..1, config.c 2..63, signin.c 64..87). */
static const struct kg_sql_q
    WS_INS = {88, "INSERT INTO workspaces (id, tenant_id, name, created_at) VALUES (?,?,?,?)"},
    WS_GET = {89, "SELECT id, tenant_id, name, created_at FROM workspaces WHERE tenant_id = ? "
                  "AND (id = ? OR name = ?)"},
    MEMBER_PUT = {90, "INSERT INTO members (workspace_id, tenant_id, principal_id, "
                      "principal_type, role_id) VALUES (?,?,?,?,?) ON CONFLICT (workspace_id, "
                      "principal_id) DO UPDATE SET role_id = excluded.role_id"},
    MEMBER_ROLE = {91, "SELECT " ROLE_COLS " FROM members m JOIN roles r ON r.id = m.role_id "
                       "WHERE m.tenant_id = ? AND m.workspace_id = ? AND m.principal_id = ?"},
    ROLE_BY_ID = {92, "SELECT " ROLE_COLS " FROM roles r WHERE r.tenant_id = ? AND r.id = ?"},
    ROLES = {93, "SELECT " ROLE_COLS " FROM roles r WHERE r.tenant_id = ? ORDER BY "
                 "r.builtin DESC, r.name"},
    KEY_INS = {94, "INSERT INTO api_keys (" KEY_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,0,0,?)"},
    KEY_BY_HASH = {95, "SELECT " KEY_COLS " FROM api_keys WHERE hash = ?"},
    KEY_GET = {96, "SELECT " KEY_COLS " FROM api_keys WHERE tenant_id = ? AND id = ?"},
    KEY_LIST = {97, "SELECT " KEY_COLS " FROM api_keys WHERE tenant_id = ? AND "
                    "(? = '' OR workspace_id = ?) ORDER BY created_at, id"},
    KEY_REVOKE = {98, "UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND "
                      "(revoked_at = 0 OR revoked_at > ?)"},
    KEY_RETIRE = {99, "UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND "
                      "revoked_at = 0"},
    KEY_TOUCH = {100, "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND last_used_at < ?"},
    SUB_INS = {101, "INSERT INTO subscriptions (" SUB_COLS ") VALUES (?,?,?,?,?,?,?)"},
    SUB_BY_HASH = {102, "SELECT " SUB_COLS " FROM subscriptions WHERE primary_hash = ? OR "
                        "secondary_hash = ?"},
    SUB_PRIMARY = {103, "UPDATE subscriptions SET primary_hash = ? WHERE tenant_id = ? AND id = ?"},
    SUB_SECONDARY = {104, "UPDATE subscriptions SET secondary_hash = ? WHERE tenant_id = ? AND "
                          "id = ?"},
    ROUTE_INS = {105, "INSERT INTO routes (api_id, position, method, pattern, permission, "
                      "workspace_param) SELECT ?, COALESCE(MAX(position), 0) + 1, ?, ?, ?, ? "
                      "FROM routes WHERE api_id = ?"},
    ROUTES = {106, "SELECT method, pattern, permission, workspace_param, position FROM routes "
                   "WHERE api_id = ? ORDER BY position"};

static void read_ws(const struct kg_row *st, void *out)
{
    struct kg_workspace *w = out;
    memset(w, 0, sizeof *w);
    kg_row_str(st, 0, w->id, sizeof w->id);
    kg_row_str(st, 1, w->tenant_id, sizeof w->tenant_id);
    kg_row_str(st, 2, w->name, sizeof w->name);
    w->created_at = kg_row_int(st, 3);
}

static void read_key(const struct kg_row *st, void *out)
{
    struct kg_api_key *k = out;
    memset(k, 0, sizeof *k);
    kg_row_str(st, 0, k->id, sizeof k->id);
    kg_row_str(st, 1, k->tenant_id, sizeof k->tenant_id);
    kg_row_str(st, 2, k->workspace_id, sizeof k->workspace_id);
    kg_row_str(st, 3, k->name, sizeof k->name);
    kg_row_str(st, 4, k->role_id, sizeof k->role_id);
    kg_row_str(st, 5, k->hash, sizeof k->hash);
    kg_row_str(st, 6, k->hint, sizeof k->hint);
    kg_row_str(st, 7, k->created_by, sizeof k->created_by);
    k->created_at = kg_row_int(st, 8);
    k->expires_at = kg_row_int(st, 9);
    k->revoked_at = kg_row_int(st, 10);
    k->last_used_at = kg_row_int(st, 11);
    k->rate_limit = kg_row_int(st, 12);
}

static void read_sub(const struct kg_row *st, void *out)
{
    struct kg_subscription *x = out;
    memset(x, 0, sizeof *x);
    kg_row_str(st, 0, x->id, sizeof x->id);
    kg_row_str(st, 1, x->tenant_id, sizeof x->tenant_id);
    kg_row_str(st, 2, x->api_id, sizeof x->api_id);
    kg_row_str(st, 3, x->name, sizeof x->name);
    kg_row_str(st, 4, x->primary_hash, sizeof x->primary_hash);
    kg_row_str(st, 5, x->secondary_hash, sizeof x->secondary_hash);
    x->created_at = kg_row_int(st, 6);
}

static void read_route(const struct kg_row *st, void *out)
{
    struct kg_route *r = out;
    memset(r, 0, sizeof *r);
    kg_row_str(st, 0, r->method, sizeof r->method);
    kg_row_str(st, 1, r->pattern, sizeof r->pattern);
    kg_row_str(st, 2, r->permission, sizeof r->permission);
    kg_row_str(st, 3, r->workspace_param, sizeof r->workspace_param);
    r->position = kg_row_int(st, 4);
}

static enum kg_rc op_workspace_create(struct kg_store *s, const struct kg_workspace *w)
{
    return kg_sql_exec1(s, &WS_INS, "sssi", w->id, w->tenant_id, w->name, w->created_at);
}

static enum kg_rc op_workspace_get(struct kg_store *s, const char *tenant_id,
                                   const char *id_or_name, struct kg_workspace *out)
{
    return kg_sql_get1(s, &WS_GET, read_ws, out, "sss", tenant_id, id_or_name, id_or_name);
}

static enum kg_rc op_member_put(struct kg_store *s, const struct kg_member *m)
{
    return kg_sql_exec1(s, &MEMBER_PUT, "sssss", m->workspace_id, m->tenant_id, m->principal_id,
                        m->principal_type, m->role_id);
}

static enum kg_rc op_member_role(struct kg_store *s, const char *tenant_id,
                                 const char *workspace_id, const char *principal_id,
                                 struct kg_role *out)
{
    return kg_sql_get1(s, &MEMBER_ROLE, kg_sql_read_role, out, "sss", tenant_id, workspace_id,
                       principal_id);
}

static enum kg_rc op_role_by_id(struct kg_store *s, const char *tenant_id, const char *id,
                                struct kg_role *out)
{
    return kg_sql_get1(s, &ROLE_BY_ID, kg_sql_read_role, out, "ss", tenant_id, id);
}

static enum kg_rc op_roles_list(struct kg_store *s, const char *tenant_id, struct kg_role **out,
                                size_t *n)
{
    return kg_sql_list(s, &ROLES, sizeof **out, kg_sql_read_role, (void **)out, n, "s", tenant_id);
}

static enum kg_rc key_insert(struct kg_sql_tx *t, const void *arg)
{
    const struct kg_api_key *k = arg;
    return kg_sql_exec(t, &KEY_INS, "ssssssssiii", k->id, k->tenant_id, k->workspace_id, k->name,
                       k->role_id, k->hash, k->hint, k->created_by, k->created_at, k->expires_at,
                       k->rate_limit);
}

static enum kg_rc op_apikey_create(struct kg_store *s, const struct kg_api_key *k)
{
    return kg_sql_in_tx(s, key_insert, k);
}

static enum kg_rc op_apikey_by_hash(struct kg_store *s, const char *hash, struct kg_api_key *out)
{
    return kg_sql_get1(s, &KEY_BY_HASH, read_key, out, "s", hash);
}

static enum kg_rc op_apikey_get(struct kg_store *s, const char *tenant_id, const char *id,
                                struct kg_api_key *out)
{
    return kg_sql_get1(s, &KEY_GET, read_key, out, "ss", tenant_id, id);
}

static enum kg_rc op_apikey_list(struct kg_store *s, const char *tenant_id,
                                 const char *workspace_id, struct kg_api_key **out, size_t *n)
{
    const char *ws = workspace_id ? workspace_id : "";
    return kg_sql_list(s, &KEY_LIST, sizeof **out, read_key, (void **)out, n, "sss", tenant_id, ws,
                       ws);
}

static enum kg_rc op_apikey_revoke(struct kg_store *s, const char *tenant_id, const char *id,
                                   int64_t now)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc = kg_sql_exec(&t, &KEY_REVOKE, "issi", now, tenant_id, id, now);
    return kg_sql_end_one(&t, rc, KG_ERR_NOT_FOUND);
}

static enum kg_rc op_apikey_rotate(struct kg_store *s, const char *tenant_id, const char *old_id,
                                   const struct kg_api_key *next, int64_t old_until)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    struct kg_api_key old;
    enum kg_rc rc = kg_sql_get(&t, &KEY_GET, read_key, &old, "ss", tenant_id, old_id);
    if (!rc && old.revoked_at) {
        rc = KG_ERR_NOT_FOUND;
    }
    if (!rc) {
        /* rotated away: revoked from old_until on (a future time keeps it valid till then) */
        rc = kg_sql_exec(&t, &KEY_RETIRE, "iss", old_until, tenant_id, old_id);
    }
    if (!rc) {
        rc = key_insert(&t, next);
    }
    return kg_sql_end(&t, rc);
}

static enum kg_rc op_apikey_touch(struct kg_store *s, const struct kg_key_use *uses, size_t n)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc = KG_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = kg_sql_send(&t, &KEY_TOUCH, "isi", uses[i].at, uses[i].id, uses[i].at);
    }
    return kg_sql_end(&t, rc);
}

static enum kg_rc op_subscription_create(struct kg_store *s, const struct kg_subscription *x)
{
    return kg_sql_exec1(s, &SUB_INS, "ssssssi", x->id, x->tenant_id, x->api_id, x->name,
                        x->primary_hash, x->secondary_hash, x->created_at);
}

static enum kg_rc op_subscription_by_hash(struct kg_store *s, const char *hash,
                                          struct kg_subscription *out)
{
    return kg_sql_get1(s, &SUB_BY_HASH, read_sub, out, "ss", hash, hash);
}

static enum kg_rc op_subscription_regenerate(struct kg_store *s, const char *tenant_id,
                                             const char *id, bool primary, const char *hash)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc =
        kg_sql_exec(&t, primary ? &SUB_PRIMARY : &SUB_SECONDARY, "sss", hash, tenant_id, id);
    return kg_sql_end_one(&t, rc, KG_ERR_NOT_FOUND);
}

static enum kg_rc op_route_add(struct kg_store *s, const char *api_id, const struct kg_route *r)
{
    return kg_sql_exec1(s, &ROUTE_INS, "ssssss", api_id, r->method, r->pattern, r->permission,
                        r->workspace_param, api_id);
}

static enum kg_rc op_routes(struct kg_store *s, const char *api_id, struct kg_route **out,
                            size_t *n)
{
    return kg_sql_list(s, &ROUTES, sizeof **out, read_route, (void **)out, n, "s", api_id);
}

void kg_sql_enforce_ops(struct kg_store_ops *ops)
{
    ops->workspace_create = op_workspace_create;
    ops->workspace_get = op_workspace_get;
    ops->member_put = op_member_put;
    ops->member_role = op_member_role;
    ops->role_by_id = op_role_by_id;
    ops->roles_list = op_roles_list;
    ops->apikey_create = op_apikey_create;
    ops->apikey_by_hash = op_apikey_by_hash;
    ops->apikey_get = op_apikey_get;
    ops->apikey_list = op_apikey_list;
    ops->apikey_revoke = op_apikey_revoke;
    ops->apikey_rotate = op_apikey_rotate;
    ops->apikey_touch = op_apikey_touch;
    ops->subscription_create = op_subscription_create;
    ops->subscription_by_hash = op_subscription_by_hash;
    ops->subscription_regenerate = op_subscription_regenerate;
    ops->route_add = op_route_add;
    ops->routes = op_routes;
}
