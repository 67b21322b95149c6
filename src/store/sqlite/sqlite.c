/* SPDX-License-Identifier: Apache-2.0
 * The SQLite back end of store.h (the only file that includes <sqlite3.h>).
 *
 * Two database files in WAL mode with synchronous=FULL, so a commit that returned is on disk and a
 * killed or crashed process loses nothing it acknowledged: keygate.db holds the configuration and
 * token state, audit.db (attached to every connection as schema "audit") the append-only audit
 * trail. Keeping the high-rate audit writes out of the main file means they never invalidate the
 * page cache of the readers that serve every request. Threads take a connection from a small
 * pool (each keeps its prepared statements), so readers never wait for each other; writers are
 * serialised by SQLite (BEGIN IMMEDIATE + busy timeout), which also covers the CLI writing to the
 * same file while a server runs. Schema changes are numbered migrations (migrations/sqlite/),
 * each applied in its own transaction. */
#include <unistd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "store/sqlite/lite.h"

extern const char *const kg_migrations_sqlite[];
extern const int kg_migrations_sqlite_count;

enum q {
    Q_TENANT_INS,
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
    Q_STAMP,
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_PING,
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

static const char *const SQL[Q_COUNT] = {
    [Q_TENANT_INS] = "INSERT INTO tenants (" TENANT_COLS ") VALUES (?,?,?,?,?,?)",
    [Q_TENANT_GET] = "SELECT " TENANT_COLS " FROM tenants WHERE id = ? OR name = ?",
    [Q_TENANT_LIST] = "SELECT " TENANT_COLS " FROM tenants ORDER BY name",
    [Q_API_INS] = "INSERT INTO apis (" API_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?)",
    [Q_API_GET] = "SELECT " API_COLS " FROM apis WHERE identifier = ?",
    [Q_API_LIST] = "SELECT " API_COLS " FROM apis ORDER BY identifier",
    [Q_APP_INS] = "INSERT INTO applications (" APP_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?)",
    [Q_APP_GET] = "SELECT " APP_COLS " FROM applications WHERE tenant_id = ? AND client_id = ?",
    [Q_APP_LIST] = "SELECT " APP_COLS " FROM applications WHERE tenant_id = ? ORDER BY name",
    [Q_SECRET_INS] = "INSERT INTO client_secrets (id, client_id, hash, hint, created_at, "
                     "expires_at) VALUES (?,?,?,?,?,?)",
    [Q_SECRET_LIST] = "SELECT id, client_id, hash, hint, created_at, expires_at FROM "
                      "client_secrets WHERE client_id = ? ORDER BY created_at, id",
    [Q_SECRET_DEL] = "DELETE FROM client_secrets WHERE client_id = ? AND id = ?",
    [Q_GRANT_INS] = "INSERT INTO app_grants (client_id, api_id, permission) VALUES (?,?,?) "
                    "ON CONFLICT DO NOTHING",
    [Q_GRANT_LIST] = "SELECT permission FROM app_grants WHERE client_id = ? AND api_id = ? "
                     "ORDER BY permission",
    [Q_USER_INS] = "INSERT INTO users (" USER_COLS ") VALUES (?,?,?,?,?,?,?,?,?)",
    [Q_USER_BY_NAME] = "SELECT " USER_COLS " FROM users WHERE tenant_id = ? AND username_key = ?",
    [Q_USER_GET] = "SELECT " USER_COLS " FROM users WHERE tenant_id = ? AND oid = ?",
    [Q_ROLE_INS] = "INSERT INTO roles (id, tenant_id, name, permissions, builtin) "
                   "VALUES (?,?,?,?,?)",
    [Q_ROLE_GET] = "SELECT id, tenant_id, name, permissions, builtin FROM roles "
                   "WHERE tenant_id = ? AND name = ?",
    [Q_ROLE_ASSIGN] = "INSERT INTO role_assignments (tenant_id, principal_id, role_id) "
                      "VALUES (?,?,?) ON CONFLICT DO NOTHING",
    [Q_PRINCIPAL_ROLES] = "SELECT r.name FROM role_assignments a JOIN roles r ON r.id = "
                          "a.role_id WHERE a.tenant_id = ? AND a.principal_id = ? ORDER BY r.name",
    [Q_KEY_INS] = "INSERT INTO signing_keys (" KEY_COLS ") VALUES (?,?,?,?,?,?,?,?)",
    [Q_KEYS] = "SELECT " KEY_COLS " FROM signing_keys WHERE tenant_id = ? AND "
               "(status <> 'retired' OR retired_at > ?) ORDER BY created_at DESC, kid",
    [Q_KEY_GET] = "SELECT " KEY_COLS " FROM signing_keys WHERE kid = ?",
    [Q_FAMILY_INS] = "INSERT INTO refresh_families (id, tenant_id, client_id, user_oid, "
                     "created_at, revoked_at) VALUES (?,?,?,?,?,0)",
    [Q_RT_INS] = "INSERT INTO refresh_tokens (hash, tenant_id, family_id, client_id, user_oid, "
                 "scope, access_jti, access_exp, auth_time, created_at, expires_at, used_at) "
                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,0)",
    [Q_RT_GET] = "SELECT " RT_COLS " FROM refresh_tokens t JOIN refresh_families f "
                 "ON f.id = t.family_id WHERE t.hash = ?",
    [Q_RT_USE] = "UPDATE refresh_tokens SET used_at = ?, grace = ? WHERE hash = ? AND "
                 "used_at = 0 AND family_id IN (SELECT id FROM refresh_families WHERE "
                 "revoked_at = 0)",
    [Q_RT_REVOKE_ACCESS] = "INSERT INTO revoked_jti (jti, tenant_id, expires_at) SELECT "
                           "access_jti, tenant_id, access_exp FROM refresh_tokens WHERE "
                           "hash = ? AND access_exp > ? ON CONFLICT DO NOTHING",
    [Q_FAMILY_REVOKE] = "UPDATE refresh_families SET revoked_at = ? WHERE id = ? AND "
                        "revoked_at = 0",
    [Q_FAMILY_REVOKE_ACCESS] = "INSERT INTO revoked_jti (jti, tenant_id, expires_at) SELECT "
                               "access_jti, tenant_id, access_exp FROM refresh_tokens WHERE "
                               "family_id = ? AND access_exp > ? ON CONFLICT DO NOTHING",
    [Q_JTI_INS] = "INSERT INTO revoked_jti (jti, tenant_id, expires_at) VALUES (?,?,?) "
                  "ON CONFLICT DO NOTHING",
    [Q_JTI_GET] = "SELECT 1 FROM revoked_jti WHERE jti = ?",
    [Q_AUDIT_INS] =
        "INSERT INTO audit.audit_events (" AUDIT_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [Q_AUDIT_LIST] = "SELECT " AUDIT_COLS ", seq FROM audit.audit_events WHERE tenant_id = ? AND "
                     "time_ms >= ? ORDER BY seq LIMIT ?",
    [Q_AUDIT_LAST] = "SELECT hash FROM audit.audit_events WHERE tenant_id = ? ORDER BY seq DESC "
                     "LIMIT 1",
    [Q_AUDIT_CHAIN] = "SELECT " AUDIT_COLS ", seq FROM audit.audit_events WHERE tenant_id = ? "
                      "AND seq > ? ORDER BY seq LIMIT 1000",
    [Q_STAMP] = "SELECT v FROM config_stamp",
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_PING] = "SELECT 1",
};

/* The audit file's schema: append-only, so it needs no migrations beyond IF NOT EXISTS (and
 * the two chain columns, added to files made before them: see audit_upgrade). */
#define AUDIT_SCHEMA                                                                               \
    "CREATE TABLE IF NOT EXISTS audit.audit_events (seq INTEGER PRIMARY KEY, "                     \
    "time_ms INTEGER NOT NULL, tenant_id TEXT NOT NULL, actor_type TEXT NOT NULL, "                \
    "actor_id TEXT NOT NULL, caller_id TEXT NOT NULL, action TEXT NOT NULL, "                      \
    "target TEXT NOT NULL, outcome TEXT NOT NULL, client_ip TEXT NOT NULL, "                       \
    "trace_id TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL DEFAULT '', "           \
    "hash TEXT NOT NULL DEFAULT ''); "                                                             \
    "CREATE INDEX IF NOT EXISTS audit.audit_events_tenant_time ON "                                \
    "audit_events(tenant_id, time_ms);"

#define AUDIT_CHAIN_INDEX                                                                          \
    "CREATE INDEX IF NOT EXISTS audit.audit_events_tenant_seq ON audit_events(tenant_id, seq);"

/* Adds the chain columns to an audit file made before them (its events stay unchained). */
static int audit_upgrade(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT hash FROM audit.audit_events LIMIT 0", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_finalize(st);
        return sqlite3_exec(db, AUDIT_CHAIN_INDEX, NULL, NULL, NULL);
    }
    return sqlite3_exec(db,
                        "ALTER TABLE audit.audit_events ADD COLUMN prev_hash TEXT NOT NULL "
                        "DEFAULT ''; ALTER TABLE audit.audit_events ADD COLUMN hash TEXT NOT NULL "
                        "DEFAULT ''; " AUDIT_CHAIN_INDEX,
                        NULL, NULL, NULL);
}

struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[Q_COUNT];
    sqlite3_stmt *ext[KG_LITE_EXT_SLOTS]; /* other files' statements (lite.h) */
    struct conn *next;
};

struct lite {
    char *path;
    pthread_mutex_t mu;
    struct conn *free_list;
};

static enum kg_rc conn_open(const char *path, struct conn **out)
{
    struct conn *c = kg_calloc(1, sizeof *c);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        kg_log(KG_LOG_ERROR, NULL, "store.open_failed", "error",
               c->db ? sqlite3_errmsg(c->db) : "open", NULL);
        sqlite3_close(c->db);
        free(c);
        return KG_ERR_STORE;
    }
    sqlite3_busy_timeout(c->db, 10000);
    char audit[4200];
    size_t dl = strlen(path);
    while (dl && path[dl - 1] != '/') {
        dl--;
    }
    snprintf(audit, sizeof audit, "%.*saudit.db", (int)dl, path);
    char *attach = sqlite3_mprintf("ATTACH DATABASE %Q AS audit", audit);
    int ar = sqlite3_exec(c->db, attach, NULL, NULL, NULL);
    sqlite3_free(attach);
    const char *pragmas = "PRAGMA main.journal_mode=WAL; PRAGMA main.synchronous=FULL; "
                          "PRAGMA audit.journal_mode=WAL; PRAGMA audit.synchronous=FULL; "
                          "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; " AUDIT_SCHEMA;
    if (ar != SQLITE_OK || sqlite3_exec(c->db, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
        audit_upgrade(c->db) != SQLITE_OK) {
        kg_log(KG_LOG_ERROR, NULL, "store.pragma_failed", "error", sqlite3_errmsg(c->db), NULL);
        sqlite3_close(c->db);
        free(c);
        return KG_ERR_STORE;
    }
    *out = c;
    return KG_OK;
}

static void conn_close(struct conn *c)
{
    for (int i = 0; i < Q_COUNT; i++) {
        sqlite3_finalize(c->st[i]);
    }
    for (int i = 0; i < KG_LITE_EXT_SLOTS; i++) {
        sqlite3_finalize(c->ext[i]);
    }
    sqlite3_close(c->db);
    free(c);
}

static struct conn *acquire(struct kg_store *s)
{
    struct lite *l = s->impl;
    pthread_mutex_lock(&l->mu);
    struct conn *c = l->free_list;
    if (c) {
        l->free_list = c->next;
    }
    pthread_mutex_unlock(&l->mu);
    if (!c && conn_open(l->path, &c) != KG_OK) {
        return NULL;
    }
    return c;
}

static void release(struct kg_store *s, struct conn *c)
{
    struct lite *l = s->impl;
    pthread_mutex_lock(&l->mu);
    c->next = l->free_list;
    l->free_list = c;
    pthread_mutex_unlock(&l->mu);
}

static sqlite3_stmt *prepared(struct conn *c, sqlite3_stmt **slot, const char *sql)
{
    if (!*slot) {
        if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) !=
            SQLITE_OK) {
            kg_log(KG_LOG_ERROR, NULL, "store.prepare_failed", "error", sqlite3_errmsg(c->db),
                   NULL);
            return NULL;
        }
    }
    return *slot;
}

static sqlite3_stmt *stmt(struct conn *c, enum q q)
{
    return prepared(c, &c->st[q], SQL[q]);
}

static sqlite3_stmt *ext_stmt(struct conn *c, const struct kg_lite_q *q)
{
    if (q->slot < 0 || q->slot >= KG_LITE_EXT_SLOTS) {
        abort();
    }
    return prepared(c, &c->ext[q->slot], q->sql);
}

/* Binds by format: s = const char *, i = int64_t, b = (const void *, size_t) blob. */
static void bindv(sqlite3_stmt *st, const char *fmt, va_list ap)
{
    for (int i = 0; fmt[i]; i++) {
        switch (fmt[i]) {
        case 's': {
            const char *v = va_arg(ap, const char *);
            sqlite3_bind_text(st, i + 1, v ? v : "", -1, SQLITE_STATIC);
            break;
        }
        case 'i': sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t)); break;
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t n = va_arg(ap, size_t);
            if (p) {
                sqlite3_bind_blob(st, i + 1, p, (int)n, SQLITE_STATIC);
            } else {
                sqlite3_bind_null(st, i + 1);
            }
            break;
        }
        default: abort();
        }
    }
}

static void done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

/* Runs a statement that returns no rows; maps the result to kg_rc. */
static enum kg_rc exec_stv(struct conn *c, sqlite3_stmt *st, const char *fmt, va_list ap)
{
    if (!st) {
        return KG_ERR_STORE;
    }
    bindv(st, fmt, ap);
    int r = sqlite3_step(st);
    done(st);
    if (r == SQLITE_DONE || r == SQLITE_ROW) {
        return KG_OK;
    }
    if ((r & 0xff) == SQLITE_CONSTRAINT) {
        return KG_ERR_CONFLICT;
    }
    kg_log(KG_LOG_ERROR, NULL, "store.exec_failed", "error", sqlite3_errmsg(c->db), NULL);
    return KG_ERR_STORE;
}

static enum kg_rc exec_qv(struct conn *c, enum q q, const char *fmt, va_list ap)
{
    return exec_stv(c, stmt(c, q), fmt, ap);
}

static enum kg_rc exec_q(struct conn *c, enum q q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = exec_qv(c, q, fmt, ap);
    va_end(ap);
    return rc;
}

static enum kg_rc row_rc(int r)
{
    if (r == SQLITE_ROW) {
        return KG_OK;
    }
    return r == SQLITE_DONE ? KG_ERR_NOT_FOUND : KG_ERR_STORE;
}

static void col(sqlite3_stmt *st, int i, char *dst, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    kg_strlcpy(dst, t ? (const char *)t : "", size);
}

static int64_t icol(sqlite3_stmt *st, int i)
{
    return sqlite3_column_int64(st, i);
}

static uint8_t *bcol(sqlite3_stmt *st, int i, size_t *n)
{
    const void *p = sqlite3_column_blob(st, i);
    *n = (size_t)sqlite3_column_bytes(st, i);
    if (!p) {
        *n = 0;
        return NULL;
    }
    uint8_t *d = kg_malloc(*n);
    memcpy(d, p, *n);
    return d;
}

static enum kg_rc begin(struct conn *c)
{
    return exec_q(c, Q_BEGIN, "");
}

static enum kg_rc finish(struct conn *c, enum kg_rc rc)
{
    if (rc == KG_OK) {
        rc = exec_q(c, Q_COMMIT, "");
        if (rc == KG_OK) {
            return KG_OK;
        }
    }
    exec_q(c, Q_ROLLBACK, "");
    return rc;
}

#define WITH_CONN(s, c)                                                                            \
    struct conn *c = acquire(s);                                                                   \
    if (!c) {                                                                                      \
        return KG_ERR_STORE;                                                                       \
    }

/* One statement on a pooled connection, outside any explicit transaction. */
static enum kg_rc exec1(struct kg_store *s, enum q q, const char *fmt, ...)
{
    WITH_CONN(s, c);
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = exec_qv(c, q, fmt, ap);
    va_end(ap);
    release(s, c);
    return rc;
}

typedef void (*reader_fn)(sqlite3_stmt *, void *);

/* The first row of st read into out by reader; KG_ERR_NOT_FOUND if none. */
static enum kg_rc get_stv(struct conn *c, sqlite3_stmt *st, reader_fn reader, void *out,
                          const char *fmt, va_list ap)
{
    if (!st) {
        return KG_ERR_STORE;
    }
    bindv(st, fmt, ap);
    int r = sqlite3_step(st);
    enum kg_rc rc = row_rc(r);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
        kg_log(KG_LOG_ERROR, NULL, "store.step_failed", "error", sqlite3_errmsg(c->db), NULL);
    }
    if (!rc) {
        reader(st, out);
    }
    done(st);
    return rc;
}

static enum kg_rc get_q(struct conn *c, enum q q, reader_fn reader, void *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = get_stv(c, stmt(c, q), reader, out, fmt, ap);
    va_end(ap);
    return rc;
}

static enum kg_rc get1(struct kg_store *s, enum q q, reader_fn reader, void *out, const char *fmt,
                       ...)
{
    WITH_CONN(s, c);
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = get_stv(c, stmt(c, q), reader, out, fmt, ap);
    va_end(ap);
    release(s, c);
    return rc;
}

/* ---- lite.h: the same helpers for statements of other files ---- */

enum kg_rc kg_lite_exec1(struct kg_store *s, const struct kg_lite_q *q, const char *fmt, ...)
{
    WITH_CONN(s, c);
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = exec_stv(c, ext_stmt(c, q), fmt, ap);
    va_end(ap);
    release(s, c);
    return rc;
}

enum kg_rc kg_lite_get1(struct kg_store *s, const struct kg_lite_q *q, kg_lite_reader reader,
                        void *out, const char *fmt, ...)
{
    WITH_CONN(s, c);
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = get_stv(c, ext_stmt(c, q), reader, out, fmt, ap);
    va_end(ap);
    release(s, c);
    return rc;
}

struct conn *kg_lite_begin(struct kg_store *s)
{
    struct conn *c = acquire(s);
    if (c && begin(c) != KG_OK) {
        release(s, c);
        return NULL;
    }
    return c;
}

enum kg_rc kg_lite_exec(struct conn *c, const struct kg_lite_q *q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = exec_stv(c, ext_stmt(c, q), fmt, ap);
    va_end(ap);
    return rc;
}

enum kg_rc kg_lite_get(struct conn *c, const struct kg_lite_q *q, kg_lite_reader reader, void *out,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = get_stv(c, ext_stmt(c, q), reader, out, fmt, ap);
    va_end(ap);
    return rc;
}

enum kg_rc kg_lite_end_one(struct kg_store *s, struct conn *c, enum kg_rc rc, enum kg_rc none_rc)
{
    if (!rc && sqlite3_changes(c->db) != 1) {
        rc = none_rc;
    }
    return kg_lite_end(s, c, rc);
}

enum kg_rc kg_lite_end(struct kg_store *s, struct conn *c, enum kg_rc rc)
{
    rc = finish(c, rc);
    release(s, c);
    return rc;
}

void kg_lite_col(sqlite3_stmt *st, int i, char *dst, size_t size)
{
    col(st, i, dst, size);
}

int64_t kg_lite_icol(sqlite3_stmt *st, int i)
{
    return icol(st, i);
}

static void read_nothing(sqlite3_stmt *st, void *out)
{
    (void)st;
    (void)out;
}

/* ---- readers of rows into records ---- */

static void read_tenant(sqlite3_stmt *st, struct kg_tenant *t)
{
    memset(t, 0, sizeof *t);
    col(st, 0, t->id, sizeof t->id);
    col(st, 1, t->name, sizeof t->name);
    col(st, 2, t->display_name, sizeof t->display_name);
    col(st, 3, t->signing_alg, sizeof t->signing_alg);
    t->token_lifetime = icol(st, 4);
    t->created_at = icol(st, 5);
}

static void read_api(sqlite3_stmt *st, struct kg_api *a)
{
    memset(a, 0, sizeof *a);
    col(st, 0, a->id, sizeof a->id);
    col(st, 1, a->identifier, sizeof a->identifier);
    col(st, 2, a->name, sizeof a->name);
    col(st, 3, a->permissions, sizeof a->permissions);
    col(st, 4, a->scopes, sizeof a->scopes);
    a->require_caller_id = icol(st, 5) != 0;
    a->require_subscription_key = icol(st, 6) != 0;
    col(st, 7, a->tenant_header, sizeof a->tenant_header);
    a->created_at = icol(st, 8);
    a->rate_limit = icol(st, 9);
}

static void read_app(sqlite3_stmt *st, struct kg_app *a)
{
    memset(a, 0, sizeof *a);
    col(st, 0, a->client_id, sizeof a->client_id);
    col(st, 1, a->tenant_id, sizeof a->tenant_id);
    col(st, 2, a->name, sizeof a->name);
    a->is_public = icol(st, 3) != 0;
    col(st, 4, a->auth_method, sizeof a->auth_method);
    col(st, 5, a->grants, sizeof a->grants);
    col(st, 6, a->redirect_uris, sizeof a->redirect_uris);
    col(st, 7, a->sp_oid, sizeof a->sp_oid);
    a->token_lifetime = icol(st, 8);
    a->created_at = icol(st, 9);
}

static void read_secret(sqlite3_stmt *st, struct kg_secret_rec *r)
{
    memset(r, 0, sizeof *r);
    col(st, 0, r->id, sizeof r->id);
    col(st, 1, r->client_id, sizeof r->client_id);
    col(st, 2, r->hash, sizeof r->hash);
    col(st, 3, r->hint, sizeof r->hint);
    r->created_at = icol(st, 4);
    r->expires_at = icol(st, 5);
}

static void read_user(sqlite3_stmt *st, struct kg_user *u)
{
    memset(u, 0, sizeof *u);
    col(st, 0, u->oid, sizeof u->oid);
    col(st, 1, u->tenant_id, sizeof u->tenant_id);
    col(st, 2, u->username, sizeof u->username);
    col(st, 3, u->username_key, sizeof u->username_key);
    col(st, 4, u->email, sizeof u->email);
    col(st, 5, u->display_name, sizeof u->display_name);
    col(st, 6, u->password_hash, sizeof u->password_hash);
    u->disabled = icol(st, 7) != 0;
    u->created_at = icol(st, 8);
}

static void read_key(sqlite3_stmt *st, struct kg_signing_key *k)
{
    memset(k, 0, sizeof *k);
    col(st, 0, k->kid, sizeof k->kid);
    col(st, 1, k->tenant_id, sizeof k->tenant_id);
    col(st, 2, k->alg, sizeof k->alg);
    col(st, 3, k->status, sizeof k->status);
    const unsigned char *j = sqlite3_column_text(st, 4);
    k->public_jwk = kg_strdup(j ? (const char *)j : "{}");
    k->private_sealed = bcol(st, 5, &k->private_sealed_len);
    k->created_at = icol(st, 6);
    k->retired_at = icol(st, 7);
}

static void read_refresh(sqlite3_stmt *st, struct kg_refresh *r)
{
    memset(r, 0, sizeof *r);
    col(st, 0, r->hash, sizeof r->hash);
    col(st, 1, r->tenant_id, sizeof r->tenant_id);
    col(st, 2, r->family_id, sizeof r->family_id);
    col(st, 3, r->client_id, sizeof r->client_id);
    col(st, 4, r->user_oid, sizeof r->user_oid);
    col(st, 5, r->scope, sizeof r->scope);
    col(st, 6, r->access_jti, sizeof r->access_jti);
    r->access_exp = icol(st, 7);
    r->auth_time = icol(st, 8);
    r->created_at = icol(st, 9);
    r->expires_at = icol(st, 10);
    r->used_at = icol(st, 11);
    r->revoked_at = icol(st, 12);
    r->grace = bcol(st, 13, &r->grace_len);
}

static void read_audit(sqlite3_stmt *st, struct kg_audit *a)
{
    memset(a, 0, sizeof *a);
    a->time_ms = icol(st, 0);
    col(st, 1, a->tenant_id, sizeof a->tenant_id);
    col(st, 2, a->actor_type, sizeof a->actor_type);
    col(st, 3, a->actor_id, sizeof a->actor_id);
    col(st, 4, a->caller_id, sizeof a->caller_id);
    col(st, 5, a->action, sizeof a->action);
    col(st, 6, a->target, sizeof a->target);
    col(st, 7, a->outcome, sizeof a->outcome);
    col(st, 8, a->client_ip, sizeof a->client_ip);
    col(st, 9, a->trace_id, sizeof a->trace_id);
    col(st, 10, a->detail, sizeof a->detail);
    col(st, 11, a->prev_hash, sizeof a->prev_hash);
    col(st, 12, a->hash, sizeof a->hash);
    a->seq = icol(st, 13);
}

static void read_hash(sqlite3_stmt *st, void *out)
{
    col(st, 0, out, KG_HASH_HEX);
}

/* Collects every row of a query into an array of records of size sz read by reader. */
static enum kg_rc collect_stv(sqlite3_stmt *st, size_t sz, reader_fn reader, void **out, size_t *n,
                              const char *fmt, va_list ap)
{
    if (!st) {
        return KG_ERR_STORE;
    }
    bindv(st, fmt, ap);
    size_t cap = 8, cnt = 0;
    char *arr = kg_malloc(cap * sz);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap *= 2;
            arr = kg_realloc(arr, cap * sz);
        }
        reader(st, arr + cnt * sz);
        cnt++;
    }
    done(st);
    if (r != SQLITE_DONE) {
        free(arr);
        return KG_ERR_STORE;
    }
    *out = arr;
    *n = cnt;
    return KG_OK;
}

static enum kg_rc collect(struct conn *c, enum q q, size_t sz, reader_fn reader, void **out,
                          size_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = collect_stv(stmt(c, q), sz, reader, out, n, fmt, ap);
    va_end(ap);
    return rc;
}

enum kg_rc kg_lite_list(struct kg_store *s, const struct kg_lite_q *q, size_t size,
                        kg_lite_reader reader, void **out, size_t *n, const char *fmt, ...)
{
    WITH_CONN(s, c);
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = collect_stv(ext_stmt(c, q), size, reader, out, n, fmt, ap);
    va_end(ap);
    release(s, c);
    return rc;
}

/* Joins the first column of every row with spaces into out[KG_LIST]. */
/* Space-separated values of column 0 over every row of st. */
static enum kg_rc join_stv(sqlite3_stmt *st, char out[KG_LIST], const char *fmt, va_list ap)
{
    if (!st) {
        return KG_ERR_STORE;
    }
    bindv(st, fmt, ap);
    size_t o = 0;
    out[0] = '\0';
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        size_t n = t ? strlen(t) : 0;
        if (o + n + 2 > KG_LIST) {
            break;
        }
        if (o) {
            out[o++] = ' ';
        }
        memcpy(out + o, t, n);
        o += n;
        out[o] = '\0';
    }
    done(st);
    return (r == SQLITE_DONE || r == SQLITE_ROW) ? KG_OK : KG_ERR_STORE;
}

static enum kg_rc join_q(sqlite3_stmt *st, char out[KG_LIST], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = join_stv(st, out, fmt, ap);
    va_end(ap);
    return rc;
}

static enum kg_rc join_rows(struct conn *c, enum q q, char out[KG_LIST], const char *a,
                            const char *b)
{
    return join_q(stmt(c, q), out, "ss", a, b);
}

enum kg_rc kg_lite_join1(struct kg_store *s, const struct kg_lite_q *q, char out[KG_LIST],
                         const char *fmt, ...)
{
    WITH_CONN(s, c);
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = join_stv(ext_stmt(c, q), out, fmt, ap);
    va_end(ap);
    release(s, c);
    return rc;
}

/* ---- operations ---- */

static enum kg_rc op_ping(struct kg_store *s)
{
    return get1(s, Q_PING, read_nothing, NULL, "");
}

static void read_stamp(sqlite3_stmt *st, void *out)
{
    *(int64_t *)out = icol(st, 0);
}

/* Once per request, one point read of a one-row table (a read transaction: fcntl locks and an
 * fstat). Two attempts to skip it by watching keygate.db-shm failed: the WAL-index iChange
 * field does not move on every commit (changes were missed), and opening and closing the -shm
 * file ourselves released SQLite's POSIX locks on it (fcntl locks are per process and die
 * with any close), so another process reinitialised the shared memory under our connections
 * (SIGBUS). A safe version would take SQLite's own mapping through the VFS (xShmMap via
 * SQLITE_FCNTL_FILE_POINTER) instead of opening the file. */
static enum kg_rc op_config_stamp(struct kg_store *s, int64_t *out)
{
    return get1(s, Q_STAMP, read_stamp, out, "");
}

static enum kg_rc key_insert(struct conn *c, const struct kg_signing_key *k)
{
    return exec_q(c, Q_KEY_INS, "sssssbii", k->kid, k->tenant_id, k->alg, k->status, k->public_jwk,
                  k->private_sealed, k->private_sealed_len, k->created_at, k->retired_at);
}

static enum kg_rc role_insert(struct conn *c, const struct kg_role *r)
{
    return exec_q(c, Q_ROLE_INS, "ssssi", r->id, r->tenant_id, r->name, r->permissions,
                  (int64_t)r->builtin);
}

static enum kg_rc op_tenant_create(struct kg_store *s, const struct kg_tenant *t,
                                   const struct kg_signing_key *k, const struct kg_role *roles,
                                   size_t nroles)
{
    WITH_CONN(s, c);
    enum kg_rc rc = begin(c);
    if (rc) {
        goto out;
    }
    rc = exec_q(c, Q_TENANT_INS, "ssssii", t->id, t->name, t->display_name, t->signing_alg,
                t->token_lifetime, t->created_at);
    if (!rc && k) {
        rc = key_insert(c, k);
    }
    for (size_t i = 0; !rc && i < nroles; i++) {
        rc = role_insert(c, &roles[i]);
    }
    rc = finish(c, rc);
out:
    release(s, c);
    return rc;
}

static enum kg_rc op_tenant_get(struct kg_store *s, const char *alias, struct kg_tenant *out)
{
    return get1(s, Q_TENANT_GET, (reader_fn)read_tenant, out, "ss", alias, alias);
}

static enum kg_rc op_tenant_list(struct kg_store *s, struct kg_tenant **out, size_t *n)
{
    WITH_CONN(s, c);
    enum kg_rc rc =
        collect(c, Q_TENANT_LIST, sizeof **out, (reader_fn)read_tenant, (void **)out, n, "");
    release(s, c);
    return rc;
}

static enum kg_rc op_api_create(struct kg_store *s, const struct kg_api *a)
{
    return exec1(s, Q_API_INS, "sssssiisii", a->id, a->identifier, a->name, a->permissions,
                 a->scopes, (int64_t)a->require_caller_id, (int64_t)a->require_subscription_key,
                 a->tenant_header, a->created_at, a->rate_limit);
}

static enum kg_rc op_api_get(struct kg_store *s, const char *identifier, struct kg_api *out)
{
    return get1(s, Q_API_GET, (reader_fn)read_api, out, "s", identifier);
}

static enum kg_rc op_api_list(struct kg_store *s, struct kg_api **out, size_t *n)
{
    WITH_CONN(s, c);
    enum kg_rc rc = collect(c, Q_API_LIST, sizeof **out, (reader_fn)read_api, (void **)out, n, "");
    release(s, c);
    return rc;
}

static enum kg_rc secret_insert(struct conn *c, const struct kg_secret_rec *r)
{
    return exec_q(c, Q_SECRET_INS, "ssssii", r->id, r->client_id, r->hash, r->hint, r->created_at,
                  r->expires_at);
}

static enum kg_rc op_app_create(struct kg_store *s, const struct kg_app *a,
                                const struct kg_secret_rec *first)
{
    WITH_CONN(s, c);
    enum kg_rc rc = begin(c);
    if (rc) {
        goto out;
    }
    rc = exec_q(c, Q_APP_INS, "sssissssii", a->client_id, a->tenant_id, a->name,
                (int64_t)a->is_public, a->auth_method, a->grants, a->redirect_uris, a->sp_oid,
                a->token_lifetime, a->created_at);
    if (!rc && first) {
        rc = secret_insert(c, first);
    }
    rc = finish(c, rc);
out:
    release(s, c);
    return rc;
}

static enum kg_rc op_app_get(struct kg_store *s, const char *tenant_id, const char *client_id,
                             struct kg_app *out)
{
    return get1(s, Q_APP_GET, (reader_fn)read_app, out, "ss", tenant_id, client_id);
}

static enum kg_rc op_app_list(struct kg_store *s, const char *tenant_id, struct kg_app **out,
                              size_t *n)
{
    WITH_CONN(s, c);
    enum kg_rc rc =
        collect(c, Q_APP_LIST, sizeof **out, (reader_fn)read_app, (void **)out, n, "s", tenant_id);
    release(s, c);
    return rc;
}

static enum kg_rc op_secret_add(struct kg_store *s, const struct kg_secret_rec *r)
{
    return exec1(s, Q_SECRET_INS, "ssssii", r->id, r->client_id, r->hash, r->hint, r->created_at,
                 r->expires_at);
}

static enum kg_rc op_secret_list(struct kg_store *s, const char *client_id,
                                 struct kg_secret_rec **out, size_t *n)
{
    WITH_CONN(s, c);
    enum kg_rc rc = collect(c, Q_SECRET_LIST, sizeof **out, (reader_fn)read_secret, (void **)out, n,
                            "s", client_id);
    release(s, c);
    return rc;
}

static enum kg_rc op_secret_remove(struct kg_store *s, const char *client_id, const char *id)
{
    WITH_CONN(s, c);
    enum kg_rc rc = exec_q(c, Q_SECRET_DEL, "ss", client_id, id);
    if (!rc && sqlite3_changes(c->db) == 0) {
        rc = KG_ERR_NOT_FOUND;
    }
    release(s, c);
    return rc;
}

static enum kg_rc op_app_grant(struct kg_store *s, const char *client_id, const char *api_id,
                               const char *permission)
{
    return exec1(s, Q_GRANT_INS, "sss", client_id, api_id, permission);
}

static enum kg_rc op_app_permissions(struct kg_store *s, const char *client_id, const char *api_id,
                                     char out[KG_LIST])
{
    WITH_CONN(s, c);
    enum kg_rc rc = join_rows(c, Q_GRANT_LIST, out, client_id, api_id);
    release(s, c);
    return rc;
}

static enum kg_rc op_user_create(struct kg_store *s, const struct kg_user *u)
{
    return exec1(s, Q_USER_INS, "sssssssii", u->oid, u->tenant_id, u->username, u->username_key,
                 u->email, u->display_name, u->password_hash, (int64_t)u->disabled, u->created_at);
}

static enum kg_rc op_user_get_by_name(struct kg_store *s, const char *tenant_id, const char *key,
                                      struct kg_user *out)
{
    return get1(s, Q_USER_BY_NAME, (reader_fn)read_user, out, "ss", tenant_id, key);
}

static enum kg_rc op_user_get(struct kg_store *s, const char *tenant_id, const char *oid,
                              struct kg_user *out)
{
    return get1(s, Q_USER_GET, (reader_fn)read_user, out, "ss", tenant_id, oid);
}

static enum kg_rc op_role_create(struct kg_store *s, const struct kg_role *r)
{
    return exec1(s, Q_ROLE_INS, "ssssi", r->id, r->tenant_id, r->name, r->permissions,
                 (int64_t)r->builtin);
}

void kg_lite_read_role(sqlite3_stmt *st, void *out)
{
    struct kg_role *r = out;
    memset(r, 0, sizeof *r);
    col(st, 0, r->id, sizeof r->id);
    col(st, 1, r->tenant_id, sizeof r->tenant_id);
    col(st, 2, r->name, sizeof r->name);
    col(st, 3, r->permissions, sizeof r->permissions);
    r->builtin = icol(st, 4) != 0;
}

static enum kg_rc op_role_get(struct kg_store *s, const char *tenant_id, const char *name,
                              struct kg_role *out)
{
    return get1(s, Q_ROLE_GET, kg_lite_read_role, out, "ss", tenant_id, name);
}

static enum kg_rc op_role_assign(struct kg_store *s, const char *tenant_id, const char *principal,
                                 const char *role_id)
{
    return exec1(s, Q_ROLE_ASSIGN, "sss", tenant_id, principal, role_id);
}

static enum kg_rc op_principal_roles(struct kg_store *s, const char *tenant_id,
                                     const char *principal, char out[KG_LIST])
{
    WITH_CONN(s, c);
    enum kg_rc rc = join_rows(c, Q_PRINCIPAL_ROLES, out, tenant_id, principal);
    release(s, c);
    return rc;
}

static enum kg_rc op_signing_key_add(struct kg_store *s, const struct kg_signing_key *k)
{
    WITH_CONN(s, c);
    enum kg_rc rc = key_insert(c, k);
    release(s, c);
    return rc;
}

static enum kg_rc op_signing_keys(struct kg_store *s, const char *tenant_id,
                                  struct kg_signing_key **out, size_t *n)
{
    WITH_CONN(s, c);
    enum kg_rc rc = collect(c, Q_KEYS, sizeof **out, (reader_fn)read_key, (void **)out, n, "si",
                            tenant_id, (int64_t)time(NULL));
    release(s, c);
    return rc;
}

static enum kg_rc op_signing_key_get(struct kg_store *s, const char *kid,
                                     struct kg_signing_key *out)
{
    return get1(s, Q_KEY_GET, (reader_fn)read_key, out, "s", kid);
}

static enum kg_rc rt_insert(struct conn *c, const struct kg_refresh *r)
{
    return exec_q(c, Q_RT_INS, "sssssssiiii", r->hash, r->tenant_id, r->family_id, r->client_id,
                  r->user_oid, r->scope, r->access_jti, r->access_exp, r->auth_time, r->created_at,
                  r->expires_at);
}

static enum kg_rc op_refresh_create(struct kg_store *s, const struct kg_refresh *r)
{
    WITH_CONN(s, c);
    enum kg_rc rc = begin(c);
    if (rc) {
        goto out;
    }
    rc = exec_q(c, Q_FAMILY_INS, "ssssi", r->family_id, r->tenant_id, r->client_id, r->user_oid,
                r->created_at);
    if (!rc) {
        rc = rt_insert(c, r);
    }
    rc = finish(c, rc);
out:
    release(s, c);
    return rc;
}

static enum kg_rc op_refresh_get(struct kg_store *s, const char *hash, struct kg_refresh *out)
{
    return get1(s, Q_RT_GET, (reader_fn)read_refresh, out, "s", hash);
}

static enum kg_rc op_refresh_rotate(struct kg_store *s, const char *old_hash,
                                    const struct kg_refresh *next, const uint8_t *grace,
                                    size_t grace_len, int64_t now)
{
    WITH_CONN(s, c);
    enum kg_rc rc = begin(c);
    if (rc) {
        goto out;
    }
    rc = exec_q(c, Q_RT_USE, "ibs", now, grace, grace_len, old_hash);
    if (!rc && sqlite3_changes(c->db) != 1) {
        rc = KG_ERR_CONFLICT; /* already used, or family revoked: single use holds */
    }
    if (!rc) {
        rc = rt_insert(c, next);
    }
    if (!rc) { /* seed 001: the access token issued with the old refresh token dies with it */
        rc = exec_q(c, Q_RT_REVOKE_ACCESS, "si", old_hash, now);
    }
    rc = finish(c, rc);
out:
    release(s, c);
    return rc;
}

static enum kg_rc op_family_revoke(struct kg_store *s, const char *family_id, int64_t now)
{
    WITH_CONN(s, c);
    enum kg_rc rc = begin(c);
    if (rc) {
        goto out;
    }
    rc = exec_q(c, Q_FAMILY_REVOKE, "is", now, family_id);
    if (!rc) {
        rc = exec_q(c, Q_FAMILY_REVOKE_ACCESS, "si", family_id, now);
    }
    rc = finish(c, rc);
out:
    release(s, c);
    return rc;
}

static enum kg_rc op_jti_revoke(struct kg_store *s, const char *tenant_id, const char *jti,
                                int64_t expires_at)
{
    return exec1(s, Q_JTI_INS, "ssi", jti, tenant_id, expires_at);
}

static enum kg_rc op_jti_revoked(struct kg_store *s, const char *jti)
{
    return get1(s, Q_JTI_GET, read_nothing, NULL, "s", jti);
}

static enum kg_rc op_audit_append(struct kg_store *s, const struct kg_audit *ev, size_t n)
{
    WITH_CONN(s, c);
    enum kg_rc rc = begin(c);
    if (rc) {
        goto out;
    }
    for (size_t i = 0; !rc && i < n; i++) {
        const struct kg_audit *a = &ev[i];
        /* the chain is extended inside the write transaction, so writers from several
         * processes (servers, the CLI) still make one chain per tenant */
        char prev[KG_HASH_HEX] = "", hash[KG_HASH_HEX];
        rc = get_q(c, Q_AUDIT_LAST, read_hash, prev, "s", a->tenant_id);
        rc = rc == KG_ERR_NOT_FOUND ? KG_OK : rc;
        kg_audit_hash(prev, a, hash);
        if (!rc) {
            rc = exec_q(c, Q_AUDIT_INS,
                        "isssssssss"
                        "sss",
                        a->time_ms, a->tenant_id, a->actor_type, a->actor_id, a->caller_id,
                        a->action, a->target, a->outcome, a->client_ip, a->trace_id, a->detail,
                        prev, hash);
        }
    }
    rc = finish(c, rc);
out:
    release(s, c);
    return rc;
}

static enum kg_rc op_audit_list(struct kg_store *s, const char *tenant_id, int64_t since_ms,
                                size_t limit, struct kg_audit **out, size_t *n)
{
    WITH_CONN(s, c);
    enum kg_rc rc = collect(c, Q_AUDIT_LIST, sizeof **out, (reader_fn)read_audit, (void **)out, n,
                            "sii", tenant_id, since_ms, (int64_t)limit);
    release(s, c);
    return rc;
}

static enum kg_rc op_audit_verify(struct kg_store *s, const char *tenant_id, int64_t *count,
                                  int64_t *bad_seq, char head[KG_HASH_HEX])
{
    WITH_CONN(s, c);
    char prev[KG_HASH_HEX] = "";
    int64_t after = -1;
    enum kg_rc rc = KG_OK;
    *count = 0;
    *bad_seq = 0;
    bool chained = false;
    for (;;) {
        struct kg_audit *ev = NULL;
        size_t n = 0;
        rc = collect(c, Q_AUDIT_CHAIN, sizeof *ev, (reader_fn)read_audit, (void **)&ev, &n, "si",
                     tenant_id, after);
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
    release(s, c);
    kg_strlcpy(head, prev, KG_HASH_HEX);
    return rc;
}

static void op_close(struct kg_store *s)
{
    struct lite *l = s->impl;
    while (l->free_list) {
        struct conn *c = l->free_list;
        l->free_list = c->next;
        conn_close(c);
    }
    pthread_mutex_destroy(&l->mu);
    free(l->path);
    free(l);
    free(s);
}

static const struct kg_store_ops OPS = {
    .name = "sqlite",
    .close = op_close,
    .ping = op_ping,
    .config_stamp = op_config_stamp,
    .tenant_create = op_tenant_create,
    .tenant_get = op_tenant_get,
    .tenant_list = op_tenant_list,
    .api_create = op_api_create,
    .api_get = op_api_get,
    .api_list = op_api_list,
    .app_create = op_app_create,
    .app_get = op_app_get,
    .app_list = op_app_list,
    .secret_add = op_secret_add,
    .secret_list = op_secret_list,
    .secret_remove = op_secret_remove,
    .app_grant = op_app_grant,
    .app_permissions = op_app_permissions,
    .user_create = op_user_create,
    .user_get_by_name = op_user_get_by_name,
    .user_get = op_user_get,
    .role_create = op_role_create,
    .role_get = op_role_get,
    .role_assign = op_role_assign,
    .principal_roles = op_principal_roles,
    .signing_key_add = op_signing_key_add,
    .signing_keys = op_signing_keys,
    .signing_key_get = op_signing_key_get,
    .refresh_create = op_refresh_create,
    .refresh_get = op_refresh_get,
    .refresh_rotate = op_refresh_rotate,
    .family_revoke = op_family_revoke,
    .jti_revoke = op_jti_revoke,
    .jti_revoked = op_jti_revoked,
    .audit_append = op_audit_append,
    .audit_list = op_audit_list,
    .audit_verify = op_audit_verify,
};

static struct kg_store_ops ops_all;
static pthread_once_t ops_once = PTHREAD_ONCE_INIT;

static void ops_init(void)
{
    ops_all = OPS;
    kg_lite_signin_ops(&ops_all);
    kg_lite_enforce_ops(&ops_all);
    kg_lite_rotation_ops(&ops_all);
}

/* Applies every migration newer than the stored version, each in its own IMMEDIATE
 * transaction, re-reading the version inside it so concurrent openers agree. */
static enum kg_rc migrate(sqlite3 *db, struct kg_err *e)
{
    if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK) {
        return KG_FAIL(e, KG_ERR_STORE, "schema_version: %s", sqlite3_errmsg(db));
    }
    for (;;) {
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
            return KG_FAIL(e, KG_ERR_STORE, "begin: %s", sqlite3_errmsg(db));
        }
        sqlite3_stmt *st = NULL;
        int version = 0;
        sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &st, NULL);
        if (st && sqlite3_step(st) == SQLITE_ROW) {
            version = sqlite3_column_int(st, 0);
        }
        sqlite3_finalize(st);
        if (version > kg_migrations_sqlite_count) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return KG_FAIL(e, KG_ERR_STORE, "store schema %d is newer than this keygate (%d)",
                           version, kg_migrations_sqlite_count);
        }
        if (version == kg_migrations_sqlite_count) {
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
            return KG_OK;
        }
        char *msg = NULL;
        char upd[96];
        snprintf(upd, sizeof upd,
                 "DELETE FROM schema_version; INSERT INTO schema_version "
                 "VALUES (%d);",
                 version + 1);
        if (sqlite3_exec(db, kg_migrations_sqlite[version], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, upd, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            KG_FAIL(e, KG_ERR_STORE, "migration %d: %s", version + 1, msg ? msg : "?");
            sqlite3_free(msg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return KG_ERR_STORE;
        }
        char to[16];
        snprintf(to, sizeof to, "%d", version + 1);
        kg_log(KG_LOG_INFO, NULL, "store.migrated", "version", to, NULL);
    }
}

enum kg_rc kg_store_sqlite_open(const char *path, struct kg_store **out, struct kg_err *e)
{
    struct conn *c = NULL;
    if (conn_open(path, &c) != KG_OK) {
        return KG_FAIL(e, KG_ERR_STORE, "cannot open %s", path);
    }
    enum kg_rc rc = migrate(c->db, e);
    if (rc) {
        conn_close(c);
        return rc;
    }
    struct lite *l = kg_calloc(1, sizeof *l);
    l->path = kg_strdup(path);
    pthread_mutex_init(&l->mu, NULL);
    l->free_list = c;
    struct kg_store *s = kg_calloc(1, sizeof *s);
    pthread_once(&ops_once, ops_init);
    s->ops = &ops_all;
    s->impl = l;
    *out = s;
    return KG_OK;
}
