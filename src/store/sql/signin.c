/* SPDX-License-Identifier: Apache-2.0
 * The SQL store's interactive sign-in (store.h): sessions, remembered consent, authorization
 * codes and device codes. Single use is a conditional UPDATE and its row count inside one
 * transaction; expired rows are pruned a day after expiry, when new ones are written (a replayed
 * code is recognised until then). */
#include <string.h>

#include "store/sql/sql.h"

#define PRUNE_AFTER 86400

#define SESSION_COLS "hash, sid, tenant_id, user_oid, auth_time, created_at, expires_at, ended_at"
#define CODE_COLS                                                                                  \
    "hash, tenant_id, client_id, user_oid, sid, redirect_uri, challenge, scope, nonce, "           \
    "auth_time, created_at, expires_at, used_at, access_jti, access_exp, family_id"
#define DEVICE_COLS                                                                                \
    "hash, user_code, tenant_id, client_id, scope, status, user_oid, auth_time, created_at, "      \
    "expires_at, poll_interval, last_poll_ms, access_jti, access_exp, family_id"

static const struct kg_sql_q
    SESSION_INS = {64, "INSERT INTO sessions (" SESSION_COLS ") VALUES (?,?,?,?,?,?,?,0)"},
    SESSION_GET = {65, "SELECT " SESSION_COLS " FROM sessions WHERE hash = ?"},
    SESSION_END = {66, "UPDATE sessions SET ended_at = ? WHERE hash = ? AND ended_at = 0"},
    SESSION_PRUNE = {67, "DELETE FROM sessions WHERE expires_at < ?"},
    CONSENT_GET = {68, "SELECT scopes FROM consents WHERE tenant_id = ? AND user_oid = ? AND "
                       "client_id = ?"},
    CONSENT_PUT = {69, "INSERT INTO consents (tenant_id, user_oid, client_id, scopes, updated_at) "
                       "VALUES (?,?,?,?,?) ON CONFLICT (tenant_id, user_oid, client_id) DO UPDATE "
                       "SET scopes = excluded.scopes, updated_at = excluded.updated_at"},
    CODE_INS = {70, "INSERT INTO auth_codes (" CODE_COLS ") VALUES "
                    "(?,?,?,?,?,?,?,?,?,?,?,?,0,'',0,'')"},
    CODE_GET = {71, "SELECT " CODE_COLS " FROM auth_codes WHERE hash = ?"},
    CODE_USE = {72, "UPDATE auth_codes SET used_at = ?, access_jti = ?, access_exp = ?, "
                    "family_id = ? WHERE hash = ? AND used_at = 0"},
    CODE_PRUNE = {73, "DELETE FROM auth_codes WHERE expires_at < ?"},
    DEV_INS = {74, "INSERT INTO device_codes (" DEVICE_COLS ") VALUES "
                   "(?,?,?,?,?,'pending','',0,?,?,?,0,'',0,'')"},
    DEV_BY_UC = {75, "SELECT " DEVICE_COLS " FROM device_codes WHERE user_code = ?"},
    DEV_GET = {76, "SELECT " DEVICE_COLS " FROM device_codes WHERE hash = ?"},
    DEV_POLL = {77, "UPDATE device_codes SET last_poll_ms = ? WHERE hash = ?"},
    DEV_APPROVE = {78, "UPDATE device_codes SET status = 'approved', user_oid = ?, auth_time = ? "
                       "WHERE user_code = ? AND status = 'pending' AND expires_at > ?"},
    DEV_DENY = {79, "UPDATE device_codes SET status = 'denied' WHERE user_code = ? AND "
                    "status = 'pending' AND expires_at > ?"},
    DEV_USE = {80, "UPDATE device_codes SET status = 'consumed', access_jti = ?, access_exp = ?, "
                   "family_id = ? WHERE hash = ? AND status = 'approved'"},
    DEV_PRUNE = {81, "DELETE FROM device_codes WHERE expires_at < ?"},
    REV_JTI = {82, "INSERT INTO revoked_jti (jti, tenant_id, expires_at) VALUES (?,?,?) "
                   "ON CONFLICT DO NOTHING"},
    REV_FAMILY = {83, "INSERT INTO refresh_families (id, tenant_id, client_id, user_oid, "
                      "created_at, revoked_at) VALUES (?,?,'','',?,?) ON CONFLICT (id) DO UPDATE "
                      "SET revoked_at = excluded.revoked_at WHERE refresh_families.revoked_at = 0"},
    REV_FAMILY_ACCESS = {84, "INSERT INTO revoked_jti (jti, tenant_id, expires_at) SELECT "
                             "access_jti, tenant_id, access_exp FROM refresh_tokens WHERE "
                             "family_id = ? AND access_exp > ? ON CONFLICT DO NOTHING"};

static void read_session(const struct kg_row *st, void *out)
{
    struct kg_session *x = out;
    memset(x, 0, sizeof *x);
    kg_row_str(st, 0, x->hash, sizeof x->hash);
    kg_row_str(st, 1, x->sid, sizeof x->sid);
    kg_row_str(st, 2, x->tenant_id, sizeof x->tenant_id);
    kg_row_str(st, 3, x->user_oid, sizeof x->user_oid);
    x->auth_time = kg_row_int(st, 4);
    x->created_at = kg_row_int(st, 5);
    x->expires_at = kg_row_int(st, 6);
    x->ended_at = kg_row_int(st, 7);
}

static void read_issued(const struct kg_row *st, int i, struct kg_issued *is)
{
    kg_row_str(st, i, is->access_jti, sizeof is->access_jti);
    is->access_exp = kg_row_int(st, i + 1);
    kg_row_str(st, i + 2, is->family_id, sizeof is->family_id);
}

static void read_code(const struct kg_row *st, void *out)
{
    struct kg_code *c = out;
    memset(c, 0, sizeof *c);
    kg_row_str(st, 0, c->hash, sizeof c->hash);
    kg_row_str(st, 1, c->tenant_id, sizeof c->tenant_id);
    kg_row_str(st, 2, c->client_id, sizeof c->client_id);
    kg_row_str(st, 3, c->user_oid, sizeof c->user_oid);
    kg_row_str(st, 4, c->sid, sizeof c->sid);
    kg_row_str(st, 5, c->redirect_uri, sizeof c->redirect_uri);
    kg_row_str(st, 6, c->challenge, sizeof c->challenge);
    kg_row_str(st, 7, c->scope, sizeof c->scope);
    kg_row_str(st, 8, c->nonce, sizeof c->nonce);
    c->auth_time = kg_row_int(st, 9);
    c->created_at = kg_row_int(st, 10);
    c->expires_at = kg_row_int(st, 11);
    c->used_at = kg_row_int(st, 12);
    read_issued(st, 13, &c->issued);
}

static void read_device(const struct kg_row *st, void *out)
{
    struct kg_device *d = out;
    memset(d, 0, sizeof *d);
    kg_row_str(st, 0, d->hash, sizeof d->hash);
    kg_row_str(st, 1, d->user_code, sizeof d->user_code);
    kg_row_str(st, 2, d->tenant_id, sizeof d->tenant_id);
    kg_row_str(st, 3, d->client_id, sizeof d->client_id);
    kg_row_str(st, 4, d->scope, sizeof d->scope);
    kg_row_str(st, 5, d->status, sizeof d->status);
    kg_row_str(st, 6, d->user_oid, sizeof d->user_oid);
    d->auth_time = kg_row_int(st, 7);
    d->created_at = kg_row_int(st, 8);
    d->expires_at = kg_row_int(st, 9);
    d->interval = kg_row_int(st, 10);
    d->last_poll_ms = kg_row_int(st, 11);
    read_issued(st, 12, &d->issued);
}

/* Inserts a row after pruning its table's long-expired rows, in one transaction. */
#define PRUNE_AND_INSERT(s, prune, now, insert_call)                                               \
    do {                                                                                           \
        struct kg_sql_tx t;                                                                        \
        if (kg_sql_begin(s, &t)) {                                                                 \
            return KG_ERR_STORE;                                                                   \
        }                                                                                          \
        enum kg_rc rc = kg_sql_exec(&t, &(prune), "i", (int64_t)(now)-PRUNE_AFTER);                \
        if (!rc) {                                                                                 \
            rc = insert_call;                                                                      \
        }                                                                                          \
        return kg_sql_end(&t, rc);                                                                 \
    } while (0)

static enum kg_rc op_session_create(struct kg_store *s, const struct kg_session *x)
{
    PRUNE_AND_INSERT(s, SESSION_PRUNE, x->created_at,
                     kg_sql_exec(&t, &SESSION_INS, "ssssiii", x->hash, x->sid, x->tenant_id,
                                 x->user_oid, x->auth_time, x->created_at, x->expires_at));
}

static enum kg_rc op_session_get(struct kg_store *s, const char *hash, struct kg_session *out)
{
    return kg_sql_get1(s, &SESSION_GET, read_session, out, "s", hash);
}

static enum kg_rc op_session_end(struct kg_store *s, const char *hash, int64_t now)
{
    return kg_sql_exec1(s, &SESSION_END, "is", now, hash);
}

static enum kg_rc op_consent_get(struct kg_store *s, const char *tenant_id, const char *user_oid,
                                 const char *client_id, char out[KG_LIST])
{
    return kg_sql_join1(s, &CONSENT_GET, out, "sss", tenant_id, user_oid, client_id);
}

static enum kg_rc op_consent_put(struct kg_store *s, const char *tenant_id, const char *user_oid,
                                 const char *client_id, const char *scopes, int64_t now)
{
    return kg_sql_exec1(s, &CONSENT_PUT, "ssssi", tenant_id, user_oid, client_id, scopes, now);
}

static enum kg_rc op_code_create(struct kg_store *s, const struct kg_code *x)
{
    PRUNE_AND_INSERT(s, CODE_PRUNE, x->created_at,
                     kg_sql_exec(&t, &CODE_INS, "sssssssssiii", x->hash, x->tenant_id, x->client_id,
                                 x->user_oid, x->sid, x->redirect_uri, x->challenge, x->scope,
                                 x->nonce, x->auth_time, x->created_at, x->expires_at));
}

static enum kg_rc op_code_get(struct kg_store *s, const char *hash, struct kg_code *out)
{
    return kg_sql_get1(s, &CODE_GET, read_code, out, "s", hash);
}

static enum kg_rc op_code_redeem(struct kg_store *s, const char *hash, int64_t now,
                                 const struct kg_issued *is)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc = kg_sql_exec(&t, &CODE_USE, "isiss", now, is->access_jti, is->access_exp,
                                is->family_id, hash);
    return kg_sql_end_one(&t, rc, KG_ERR_CONFLICT);
}

static enum kg_rc op_device_create(struct kg_store *s, const struct kg_device *d)
{
    PRUNE_AND_INSERT(s, DEV_PRUNE, d->created_at,
                     kg_sql_exec(&t, &DEV_INS, "sssssiii", d->hash, d->user_code, d->tenant_id,
                                 d->client_id, d->scope, d->created_at, d->expires_at,
                                 d->interval));
}

static enum kg_rc op_device_by_user_code(struct kg_store *s, const char *user_code,
                                         struct kg_device *out)
{
    return kg_sql_get1(s, &DEV_BY_UC, read_device, out, "s", user_code);
}

static enum kg_rc op_device_poll(struct kg_store *s, const char *hash, int64_t now_ms,
                                 struct kg_device *out)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc = kg_sql_get(&t, &DEV_GET, read_device, out, "s", hash);
    if (!rc) {
        rc = kg_sql_exec(&t, &DEV_POLL, "is", now_ms, hash);
    }
    return kg_sql_end(&t, rc);
}

static enum kg_rc op_device_decide(struct kg_store *s, const char *user_code, bool approve,
                                   const char *user_oid, int64_t auth_time, int64_t now)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc = approve
                        ? kg_sql_exec(&t, &DEV_APPROVE, "sisi", user_oid, auth_time, user_code, now)
                        : kg_sql_exec(&t, &DEV_DENY, "si", user_code, now);
    return kg_sql_end_one(&t, rc, KG_ERR_CONFLICT);
}

static enum kg_rc op_device_redeem(struct kg_store *s, const char *hash, const struct kg_issued *is)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc =
        kg_sql_exec(&t, &DEV_USE, "siss", is->access_jti, is->access_exp, is->family_id, hash);
    return kg_sql_end_one(&t, rc, KG_ERR_CONFLICT);
}

static enum kg_rc op_issued_revoke(struct kg_store *s, const char *tenant_id,
                                   const struct kg_issued *is, int64_t now)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc = KG_OK;
    if (is->access_jti[0] && is->access_exp > now) {
        rc = kg_sql_exec(&t, &REV_JTI, "ssi", is->access_jti, tenant_id, is->access_exp);
    }
    if (!rc && is->family_id[0]) {
        rc = kg_sql_exec(&t, &REV_FAMILY, "ssii", is->family_id, tenant_id, now, now);
        if (!rc) {
            rc = kg_sql_exec(&t, &REV_FAMILY_ACCESS, "si", is->family_id, now);
        }
    }
    return kg_sql_end(&t, rc);
}

void kg_sql_signin_ops(struct kg_store_ops *ops)
{
    ops->session_create = op_session_create;
    ops->session_get = op_session_get;
    ops->session_end = op_session_end;
    ops->consent_get = op_consent_get;
    ops->consent_put = op_consent_put;
    ops->code_create = op_code_create;
    ops->code_get = op_code_get;
    ops->code_redeem = op_code_redeem;
    ops->device_create = op_device_create;
    ops->device_by_user_code = op_device_by_user_code;
    ops->device_poll = op_device_poll;
    ops->device_decide = op_device_decide;
    ops->device_redeem = op_device_redeem;
    ops->issued_revoke = op_issued_revoke;
}
