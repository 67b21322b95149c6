/* SPDX-License-Identifier: Apache-2.0
 * The SQLite driver of the SQL store (sql.h); the only file that includes <sqlite3.h>.
 *
 * Two database files in WAL mode with synchronous=FULL, so a commit that returned is on disk and a
 * killed or crashed process loses nothing it acknowledged: keygate.db holds the configuration and
 * token state, audit.db the append-only audit trail. Keeping the high-rate audit writes out of
 * the main file means they never invalidate the page cache of the readers that serve every
 * request. Threads take a connection from a small pool (each keeps its prepared statements), so
 * readers never wait for each other; writers are serialised by SQLite (BEGIN IMMEDIATE + busy
 * timeout), which also covers the CLI writing to the same file while a server runs, and within
 * the process first by a mutex per file (write_mu): SQLite's busy handler polls, sleeping 1, 2,
 * 5, 10 ... 100 ms, so writers queued behind one another's fsync slept well past its end
 * (bench/refresh.sh: 841 sleeps in 3,700 refresh grants, p99 in the hundreds of ms). The two
 * files have pools of their own: BEGIN IMMEDIATE write-locks every database attached to the
 * connection, so if one connection held both, each audit commit would hold keygate.db's write
 * lock through its fsync, and every write to keygate.db would wait for the audit writer. An
 * audit connection attaches audit.db (as schema "audit", which the statements name) to an
 * in-memory main database; a main connection does not see audit.db at all. Schema changes are
 * numbered migrations (migrations/sqlite/), each applied in its own transaction. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "core/thread.h"
#include "store/sql/sql.h"

extern const char *const kg_migrations_sqlite[];
extern const int kg_migrations_sqlite_count;

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
    "audit_events(tenant_id, time_ms); "                                                           \
    "CREATE TABLE IF NOT EXISTS audit.audit_probe (id INTEGER PRIMARY KEY, at_ms INTEGER NOT "     \
    "NULL);"

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

struct kg_conn {
    sqlite3 *db;
    bool audit;                /* an audit.db connection */
    pthread_mutex_t *write_mu; /* its file's writer lock (struct lite), set by acquire */
    bool writing;              /* holds *write_mu: from begin to commit or rollback */
    sqlite3_stmt *st[KG_SQL_SLOTS];
    struct kg_conn *next;
};

/* How long a writer waits for another (thread or process) before its transaction fails. */
#define KG_SQLITE_BUSY_MS 10000

/* What config_stamp keeps (see lite_stamp). */
#define WAL_HDR 96 /* both copies of SQLite's 48-byte WAL-index header */
struct stamp_watch {
    pthread_mutex_t mu;
    struct kg_conn *c;                 /* its own connection, open till the store closes */
    const volatile unsigned char *hdr; /* SQLite's own mapping of the WAL-index, or NULL */
    unsigned char seen[WAL_HDR];       /* the header as it was before the last stamp read */
    bool valid;
    int64_t stamp;
};

struct lite {
    char *path;
    pthread_mutex_t mu;
    struct kg_conn *free_list[2]; /* [0] keygate.db, [1] audit.db */
    pthread_mutex_t write_mu[2];  /* the same: one in-process writer per file at a time */
    struct stamp_watch w;
};

/* Opens a connection to keygate.db (path), or with audit one to audit.db beside it. */
static enum kg_rc conn_open(const char *path, bool audit, struct kg_conn **out)
{
    struct kg_conn *c = kg_calloc(1, sizeof *c);
    c->audit = audit;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(audit ? ":memory:" : path, &c->db, flags, NULL) != SQLITE_OK) {
        kg_log(KG_LOG_ERROR, NULL, "store.open_failed", "error",
               c->db ? sqlite3_errmsg(c->db) : "open", NULL);
        sqlite3_close(c->db);
        free(c);
        return KG_ERR_STORE;
    }
    sqlite3_busy_timeout(c->db, KG_SQLITE_BUSY_MS);
    int rc = SQLITE_OK;
    if (audit) {
        char file[4200];
        size_t dl = strlen(path);
        while (dl && path[dl - 1] != '/') {
            dl--;
        }
        snprintf(file, sizeof file, "%.*saudit.db", (int)dl, path);
        char *attach = sqlite3_mprintf("ATTACH DATABASE %Q AS audit", file);
        rc = sqlite3_exec(c->db, attach, NULL, NULL, NULL);
        sqlite3_free(attach);
        if (rc == SQLITE_OK) {
            rc = sqlite3_exec(c->db,
                              "PRAGMA audit.journal_mode=WAL; PRAGMA audit.synchronous=FULL; "
                              "PRAGMA temp_store=MEMORY; " AUDIT_SCHEMA,
                              NULL, NULL, NULL);
        }
        if (rc == SQLITE_OK) {
            rc = audit_upgrade(c->db);
        }
    } else {
        rc = sqlite3_exec(c->db,
                          "PRAGMA main.journal_mode=WAL; PRAGMA main.synchronous=FULL; "
                          "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;",
                          NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        kg_log(KG_LOG_ERROR, NULL, "store.pragma_failed", "error", sqlite3_errmsg(c->db), NULL);
        sqlite3_close(c->db);
        free(c);
        return KG_ERR_STORE;
    }
    *out = c;
    return KG_OK;
}

static void conn_close(struct kg_conn *c)
{
    for (int i = 0; i < KG_SQL_SLOTS; i++) {
        sqlite3_finalize(c->st[i]);
    }
    sqlite3_close(c->db);
    free(c);
}

static struct kg_conn *acquire(void *db, bool audit)
{
    struct lite *l = db;
    pthread_mutex_lock(&l->mu);
    struct kg_conn *c = l->free_list[audit];
    if (c) {
        l->free_list[audit] = c->next;
    }
    pthread_mutex_unlock(&l->mu);
    if (!c && conn_open(l->path, audit, &c) != KG_OK) {
        return NULL;
    }
    c->write_mu = &l->write_mu[audit];
    return c;
}

static void release(void *db, struct kg_conn *c)
{
    struct lite *l = db;
    pthread_mutex_lock(&l->mu);
    c->next = l->free_list[c->audit];
    l->free_list[c->audit] = c;
    pthread_mutex_unlock(&l->mu);
}

static sqlite3_stmt *prepared(struct kg_conn *c, sqlite3_stmt **slot, const char *sql)
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

static sqlite3_stmt *stmt(struct kg_conn *c, const struct kg_sql_q *q)
{
    if (q->slot < 0 || q->slot >= KG_SQL_SLOTS) {
        abort();
    }
    return prepared(c, &c->st[q->slot], q->sql);
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

static const char *row_text(void *h, int row, int col)
{
    (void)row;
    return (const char *)sqlite3_column_text(h, col);
}

static int64_t row_int(void *h, int row, int col)
{
    (void)row;
    return sqlite3_column_int64(h, col);
}

static uint8_t *row_blob(void *h, int row, int col, size_t *n)
{
    (void)row;
    sqlite3_stmt *st = h;
    const void *p = sqlite3_column_blob(st, col);
    *n = p ? (size_t)sqlite3_column_bytes(st, col) : 0;
    if (!p) {
        return NULL;
    }
    uint8_t *d = kg_malloc(*n);
    memcpy(d, p, *n);
    return d;
}

static const struct kg_row_ops ROW = {row_text, row_int, row_blob};

static enum kg_rc run(struct kg_conn *c, const struct kg_sql_q *q, const char *fmt, va_list ap,
                      kg_sql_each each, void *arg, int64_t *changes)
{
    sqlite3_stmt *st = stmt(c, q);
    if (!st) {
        return KG_ERR_STORE;
    }
    bindv(st, fmt, ap);
    struct kg_row row = {&ROW, st, 0};
    int r;
    bool more = true;
    while ((r = sqlite3_step(st)) == SQLITE_ROW && more) {
        more = each ? each(&row, arg) : false;
    }
    *changes = sqlite3_changes(c->db);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (r == SQLITE_DONE || r == SQLITE_ROW) {
        return KG_OK;
    }
    if ((r & 0xff) == SQLITE_CONSTRAINT) {
        return KG_ERR_CONFLICT;
    }
    kg_log(KG_LOG_ERROR, NULL, "store.exec_failed", "error", sqlite3_errmsg(c->db), NULL);
    return KG_ERR_STORE;
}

/* run for a statement that binds nothing (the variadic part is empty and never read). */
static enum kg_rc run_plain(struct kg_conn *c, const struct kg_sql_q *q, kg_sql_each each,
                            void *arg, ...)
{
    int64_t changes;
    va_list ap;
    va_start(ap, arg);
    enum kg_rc rc = run(c, q, "", ap, each, arg, &changes);
    va_end(ap);
    return rc;
}

static enum kg_rc exec_sql(struct kg_conn *c, const struct kg_sql_q *q)
{
    return run_plain(c, q, NULL, NULL);
}

static void end_writing(struct kg_conn *c)
{
    if (c->writing) {
        c->writing = false;
        pthread_mutex_unlock(c->write_mu);
    }
}

static const struct kg_sql_q BEGIN_Q = {KG_SQL_SLOTS - 3, "BEGIN IMMEDIATE"},
                             COMMIT_Q = {KG_SQL_SLOTS - 2, "COMMIT"},
                             ROLLBACK_Q = {KG_SQL_SLOTS - 1, "ROLLBACK"};

/* Another thread of this process writing the file is waited for here, woken as it ends, rather
 * than in SQLite's polling busy handler; as long as that would wait (busy_timeout), then the
 * transaction fails as SQLite's would. */
static enum kg_rc begin(struct kg_conn *c)
{
    if (c->write_mu && !kg_mutex_lock_within(c->write_mu, KG_SQLITE_BUSY_MS)) {
        kg_log(KG_LOG_ERROR, NULL, "store.exec_failed", "error", "writer lock timed out", NULL);
        return KG_ERR_STORE;
    }
    c->writing = c->write_mu != NULL;
    enum kg_rc rc = exec_sql(c, &BEGIN_Q);
    if (rc) {
        end_writing(c);
    }
    return rc;
}

/* Ends the transaction unless SQLite already has: after some errors (SQLITE_FULL, SQLITE_IOERR,
 * SQLITE_NOMEM) it rolls back by itself, and a ROLLBACK then only fails ("no transaction is
 * active") and logs a second, misleading error. */
static void rollback(struct kg_conn *c)
{
    if (!sqlite3_get_autocommit(c->db)) {
        exec_sql(c, &ROLLBACK_Q);
    }
    end_writing(c);
}

static enum kg_rc commit(struct kg_conn *c)
{
    enum kg_rc rc = exec_sql(c, &COMMIT_Q);
    if (rc) {
        rollback(c);
    }
    end_writing(c);
    return rc;
}

static void lite_close(void *db)
{
    struct lite *l = db;
    if (l->w.c) {
        conn_close(l->w.c);
    }
    pthread_mutex_destroy(&l->w.mu);
    for (int i = 0; i < 2; i++) {
        while (l->free_list[i]) {
            struct kg_conn *c = l->free_list[i];
            l->free_list[i] = c->next;
            conn_close(c);
        }
    }
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->write_mu[0]);
    pthread_mutex_destroy(&l->write_mu[1]);
    free(l->path);
    free(l);
}

/* ---- the config stamp ----
 * Every request starts by asking whether the configuration changed (sql.h config_stamp). A read
 * of the one-row config_stamp table costs a read transaction (fcntl locks and an fstat, about
 * 5-10 us). But no commit to keygate.db, by this process or any other, can happen without
 * rewriting the WAL-index header in keygate.db-shm (its frame count, checksums and salts), so
 * while that header is byte for byte what it was before the last read, the stamp has not
 * moved either, and the answer is a 96-byte comparison.
 *
 * The header is read through SQLite's own mapping of the -shm file (the VFS's xShmMap on a
 * connection kept open for this), never by opening the file ourselves: fcntl locks belong to
 * the process and die with any close of the file, so an open and close of our own released
 * SQLite's locks, and another process then reinitialised the shared memory under our
 * connections (SIGBUS). Comparing only the iChange field is not enough either: it does not
 * move on every commit. Without a mapping (another VFS, not in WAL mode) every call reads. */
static void map_wal_index(struct stamp_watch *w)
{
    sqlite3_file *f = NULL;
    if (sqlite3_file_control(w->c->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f ||
        !f->pMethods || f->pMethods->iVersion < 2 || !f->pMethods->xShmMap) {
        return;
    }
    void volatile *p = NULL;
    if (f->pMethods->xShmMap(f, 0, 32768, 0, &p) == SQLITE_OK && p) {
        w->hdr = (const volatile unsigned char *)p;
    }
}

static const struct kg_sql_q STAMP_Q = {KG_SQL_SLOTS - 4, "SELECT v FROM config_stamp"};

static bool stamp_row(const struct kg_row *r, void *out)
{
    *(int64_t *)out = kg_row_int(r, 0);
    return false;
}

static enum kg_rc read_stamp(struct kg_conn *c, int64_t *out)
{
    return run_plain(c, &STAMP_Q, stamp_row, out);
}

static enum kg_rc lite_stamp(void *db, int64_t *out)
{
    struct lite *l = db;
    struct stamp_watch *w = &l->w;
    pthread_mutex_lock(&w->mu);
    enum kg_rc rc = KG_OK;
    if (!w->c && conn_open(l->path, false, &w->c) != KG_OK) {
        w->c = NULL;
        rc = KG_ERR_STORE;
    }
    if (!rc && !w->hdr && read_stamp(w->c, out) == KG_OK) { /* the first read maps the -shm */
        map_wal_index(w);
    }
    unsigned char now[WAL_HDR];
    if (!rc && w->hdr) {
        for (size_t i = 0; i < WAL_HDR; i++) {
            now[i] = w->hdr[i];
        }
        __atomic_thread_fence(__ATOMIC_SEQ_CST); /* the header before the read, never after */
        if (w->valid && memcmp(now, w->seen, WAL_HDR) == 0) {
            *out = w->stamp;
            pthread_mutex_unlock(&w->mu);
            return KG_OK;
        }
    }
    if (!rc) {
        rc = read_stamp(w->c, out);
    }
    w->valid = rc == KG_OK && w->hdr;
    if (w->valid) {
        memcpy(w->seen, now, WAL_HDR);
        w->stamp = *out;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

static const struct kg_sql_driver DRIVER = {
    .name = "sqlite",
    .acquire = acquire,
    .release = release,
    .run = run,
    .begin = begin,
    .commit = commit,
    .rollback = rollback,
    .config_stamp = lite_stamp,
    .close = lite_close,
};

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
    struct kg_conn *c = NULL, *a = NULL;
    if (conn_open(path, false, &c) != KG_OK) {
        return KG_FAIL(e, KG_ERR_STORE, "cannot open %s", path);
    }
    enum kg_rc rc = migrate(c->db, e);
    if (!rc && conn_open(path, true, &a) != KG_OK) { /* makes the trail's file and table */
        rc = KG_FAIL(e, KG_ERR_STORE, "cannot open the audit trail beside %s", path);
    }
    if (rc) {
        conn_close(c);
        return rc;
    }
    struct lite *l = kg_calloc(1, sizeof *l);
    l->path = kg_strdup(path);
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->write_mu[0], NULL);
    pthread_mutex_init(&l->write_mu[1], NULL);
    pthread_mutex_init(&l->w.mu, NULL);
    l->free_list[0] = c;
    l->free_list[1] = a;
    *out = kg_sql_store_new(&DRIVER, l);
    return KG_OK;
}
