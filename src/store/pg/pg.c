/* SPDX-License-Identifier: Apache-2.0
 * The PostgreSQL driver of the SQL store (sql.h), selected by a postgresql:// URL; the only
 * files that include <libpq-fe.h> are here.
 *
 * Connections: a pool that grows to the number of threads that use it at once (each request
 * thread, the audit committer, the rotator) and keeps up to MAX_IDLE idle; each connection
 * prepares a statement the first time it runs it ('?' placeholders rewritten to $n). A connection
 * that failed is dropped, and the next call opens a new one, so keygate recovers by itself when
 * the database comes back; while it is away calls fail with KG_ERR_STORE (503 / temporarily
 * unavailable), and nothing is half-written because every multi-statement change is one
 * transaction.
 *
 * Batched writes (send, the audit trail's inserts) go out in libpq's pipeline mode: queued
 * without waiting, their results read at the next run or at commit, and at most PIPELINE_MAX
 * outstanding so that neither side's socket buffer can fill while the other is not reading.
 *
 * Write transactions take one transaction-scoped advisory lock, so writers are serialised across
 * every node and CLI as SQLite serialises them (BEGIN IMMEDIATE): the operations that read and
 * then write (rotation steps, the audit chain's head) are exact under READ COMMITTED without
 * retry loops. The audit trail's batches take a lock of their own (they touch nothing else, and
 * nothing else touches the trail), so that they and the other writers never wait for each other,
 * as on SQLite, where the trail is a file of its own. Single statements outside transactions
 * (lookups, single-use UPDATEs with their WHERE guard) do not take either.
 *
 * Durability: a commit returns after PostgreSQL's WAL flush (synchronous_commit on, the
 * default), so an acknowledged write survives a crash of keygate or of the database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "store/pg/pg.h"

extern const char *const kg_migrations_pg[];
extern const int kg_migrations_pg_count;

#define MAX_IDLE 32
#define RETRY_MS 100 /* after a failed connect: no request waits on another one before */
#define MAX_PARAMS 32
#define PIPELINE_MAX 64        /* queued writes before their results are read */
#define WRITE_LOCK "7254901"   /* pg_advisory_xact_lock key of write transactions */
#define AUDIT_LOCK "7254902"   /* the same, of the audit trail's batches */
#define MIGRATE_LOCK "7254900" /* pg_advisory_lock key of schema migrations */

struct kg_conn {
    PGconn *pg;
    bool broken;
    bool audit;           /* taken for the audit trail: its transactions take AUDIT_LOCK */
    int queued;           /* writes sent in pipeline mode whose results are unread */
    enum kg_rc queued_rc; /* the first failure among them */
    bool prepared[KG_SQL_SLOTS];
    struct kg_conn *next;
};

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *kg_pg_connect(const char *url)
{
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {"5", "keygate", url, NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        kg_log(KG_LOG_WARN, NULL, "store.connect_failed", "error",
               pg ? PQerrorMessage(pg) : "out of memory", NULL);
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, quiet, NULL);
    return pg;
}

/* Runs simple-protocol SQL (no parameters); true if it ended with want. */
static bool simple(PGconn *pg, const char *sql, ExecStatusType want)
{
    PGresult *r = PQexec(pg, sql);
    bool ok = PQresultStatus(r) == want;
    if (!ok) {
        kg_log(KG_LOG_ERROR, NULL, "store.exec_failed", "error", PQerrorMessage(pg), NULL);
    }
    PQclear(r);
    return ok;
}

bool kg_pg_read_stamp(PGconn *pg, int64_t *out)
{
    PGresult *r = PQexec(pg, "SELECT v FROM config_stamp");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok) {
        *out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    return ok;
}

/* ---- the pool ---- */

static void conn_close(struct kg_conn *c)
{
    PQfinish(c->pg);
    free(c);
}

/* A pooled connection, or a new one. For RETRY_MS after a connection attempt failed, calls that
 * would need a new connection fail at once, so that while the database is unreachable worker
 * threads do not queue behind connection timeouts. */
static struct kg_conn *acquire(void *db, bool audit)
{
    /* the trail is a schema of the same database: one pool serves both */
    struct kg_pgdb *p = db;
    int64_t now = kg_monotonic_ms();
    pthread_mutex_lock(&p->mu);
    struct kg_conn *c = p->free_list;
    if (c) {
        p->free_list = c->next;
        p->idle--;
    }
    bool wait = !c && now < p->retry_at_ms;
    pthread_mutex_unlock(&p->mu);
    if (!c && !wait) {
        PGconn *pg = kg_pg_connect(p->url);
        pthread_mutex_lock(&p->mu);
        p->retry_at_ms = pg ? 0 : kg_monotonic_ms() + RETRY_MS;
        pthread_mutex_unlock(&p->mu);
        if (pg) {
            c = kg_calloc(1, sizeof *c);
            c->pg = pg;
        }
    }
    if (c) {
        c->audit = audit;
    }
    return c;
}

static void release(void *db, struct kg_conn *c)
{
    struct kg_pgdb *p = db;
    bool keep = !c->broken && PQstatus(c->pg) == CONNECTION_OK &&
                PQtransactionStatus(c->pg) == PQTRANS_IDLE;
    pthread_mutex_lock(&p->mu);
    if (keep && p->idle < MAX_IDLE) {
        c->next = p->free_list;
        p->free_list = c;
        p->idle++;
        c = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    if (c) {
        conn_close(c);
    }
}

/* ---- statements ---- */

/* sql with its '?' placeholders numbered $1, $2, ... (none is inside a quoted literal). */
static char *numbered(const char *sql)
{
    struct kg_buf b;
    kg_buf_init(&b, strlen(sql) + 64);
    int n = 0;
    bool quoted = false;
    for (const char *s = sql; *s; s++) {
        if (*s == '\'') {
            quoted = !quoted;
        }
        if (*s == '?' && !quoted) {
            kg_buf_printf(&b, "$%d", ++n);
        } else {
            kg_buf_add(&b, s, 1);
        }
    }
    return kg_buf_take(&b);
}

static bool prepare(struct kg_conn *c, const struct kg_sql_q *q, char name[16])
{
    if (q->slot < 0 || q->slot >= KG_SQL_SLOTS) {
        abort();
    }
    snprintf(name, 16, "k%d", q->slot);
    if (c->prepared[q->slot]) {
        return true;
    }
    char *sql = numbered(q->sql);
    PGresult *r = PQprepare(c->pg, name, sql, 0, NULL);
    free(sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        kg_log(KG_LOG_ERROR, NULL, "store.prepare_failed", "error", PQerrorMessage(c->pg), NULL);
        c->broken = PQstatus(c->pg) != CONNECTION_OK;
    }
    PQclear(r);
    c->prepared[q->slot] = ok;
    return ok;
}

struct params {
    int n;
    const char *v[MAX_PARAMS];
    int len[MAX_PARAMS];
    int fmt[MAX_PARAMS];
    char num[MAX_PARAMS][24];
};

static void bind(struct params *p, const char *fmt, va_list ap)
{
    for (p->n = 0; fmt[p->n]; p->n++) {
        int i = p->n;
        if (i >= MAX_PARAMS) {
            abort();
        }
        p->len[i] = 0;
        p->fmt[i] = 0;
        switch (fmt[i]) {
        case 's': {
            const char *v = va_arg(ap, const char *);
            p->v[i] = v ? v : "";
            break;
        }
        case 'i':
            snprintf(p->num[i], sizeof p->num[i], "%lld", (long long)va_arg(ap, int64_t));
            p->v[i] = p->num[i];
            break;
        case 'b': { /* bytea, sent in binary */
            p->v[i] = va_arg(ap, const char *);
            p->len[i] = (int)va_arg(ap, size_t);
            p->fmt[i] = 1;
            break;
        }
        default: abort();
        }
    }
}

static const char *row_text(void *h, int row, int col)
{
    return PQgetisnull(h, row, col) ? NULL : PQgetvalue(h, row, col);
}

static int64_t row_int(void *h, int row, int col)
{
    return PQgetisnull(h, row, col) ? 0 : strtoll(PQgetvalue(h, row, col), NULL, 10);
}

static uint8_t *row_blob(void *h, int row, int col, size_t *n)
{
    *n = 0;
    if (PQgetisnull(h, row, col)) {
        return NULL;
    }
    size_t len = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(h, row, col), &len);
    if (!raw) {
        return NULL;
    }
    uint8_t *d = kg_malloc(len ? len : 1);
    memcpy(d, raw, len);
    PQfreemem(raw);
    *n = len;
    return d;
}

static const struct kg_row_ops ROW = {row_text, row_int, row_blob};

static enum kg_rc failed(struct kg_conn *c, PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && strncmp(state, "23", 2) == 0) { /* integrity constraint violation */
        return KG_ERR_CONFLICT;
    }
    c->broken = PQstatus(c->pg) != CONNECTION_OK;
    kg_log(KG_LOG_ERROR, NULL, "store.exec_failed", "error", PQerrorMessage(c->pg), "sqlstate",
           state ? state : "", NULL);
    return KG_ERR_STORE;
}

/* Reads the results of the queued writes and leaves pipeline mode; the first failure among
 * them (also remembered in queued_rc until the transaction ends). */
static enum kg_rc drain(struct kg_conn *c)
{
    if (PQpipelineStatus(c->pg) == PQ_PIPELINE_OFF) {
        return c->queued_rc;
    }
    if (!PQpipelineSync(c->pg)) {
        c->broken = true;
        return c->queued_rc = KG_ERR_STORE;
    }
    /* each statement's results end with a NULL; the sync point's result ends the pipeline */
    int nulls = 0;
    for (;;) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) {
            if (PQstatus(c->pg) != CONNECTION_OK || ++nulls > c->queued) {
                c->broken = true; /* gone, or out of step: never spin */
                c->queued_rc = KG_ERR_STORE;
                break;
            }
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (st != PGRES_COMMAND_OK && !c->queued_rc) {
            c->queued_rc = st == PGRES_PIPELINE_ABORTED ? KG_ERR_STORE : failed(c, r);
        }
        PQclear(r);
    }
    c->queued = 0;
    if (!PQexitPipelineMode(c->pg)) {
        c->broken = true;
        c->queued_rc = KG_ERR_STORE;
    }
    return c->queued_rc;
}

static enum kg_rc run_later(struct kg_conn *c, const struct kg_sql_q *q, const char *fmt,
                            va_list ap)
{
    char name[16];
    if (c->queued_rc) {
        return c->queued_rc;
    }
    if (!c->prepared[q->slot] && drain(c)) { /* PQprepare waits: not inside the pipeline */
        return c->queued_rc;
    }
    if (!prepare(c, q, name)) {
        return KG_ERR_STORE;
    }
    if (PQpipelineStatus(c->pg) == PQ_PIPELINE_OFF && !PQenterPipelineMode(c->pg)) {
        c->broken = true;
        return KG_ERR_STORE;
    }
    struct params p;
    bind(&p, fmt, ap);
    if (!PQsendQueryPrepared(c->pg, name, p.n, p.v, p.len, p.fmt, 0)) {
        kg_log(KG_LOG_ERROR, NULL, "store.exec_failed", "error", PQerrorMessage(c->pg), NULL);
        c->broken = true;
        return c->queued_rc = KG_ERR_STORE;
    }
    return ++c->queued >= PIPELINE_MAX ? drain(c) : KG_OK;
}

static enum kg_rc run(struct kg_conn *c, const struct kg_sql_q *q, const char *fmt, va_list ap,
                      kg_sql_each each, void *arg, int64_t *changes)
{
    char name[16];
    *changes = 0;
    if (drain(c) || !prepare(c, q, name)) { /* queued writes first: this one may read them */
        return c->queued_rc ? c->queued_rc : KG_ERR_STORE;
    }
    struct params p;
    bind(&p, fmt, ap);
    PGresult *r = PQexecPrepared(c->pg, name, p.n, p.v, p.len, p.fmt, 0);
    ExecStatusType st = PQresultStatus(r);
    enum kg_rc rc = KG_OK;
    if (st == PGRES_TUPLES_OK) {
        int rows = PQntuples(r);
        for (int i = 0; each && i < rows; i++) {
            struct kg_row row = {&ROW, r, i};
            if (!each(&row, arg)) {
                break;
            }
        }
    } else if (st == PGRES_COMMAND_OK) {
        *changes = strtoll(PQcmdTuples(r), NULL, 10);
    } else {
        rc = failed(c, r);
    }
    PQclear(r);
    return rc;
}

static enum kg_rc begin(struct kg_conn *c)
{
    if (!simple(c->pg, "BEGIN", PGRES_COMMAND_OK) ||
        !simple(c->pg,
                c->audit ? "SELECT pg_advisory_xact_lock(" AUDIT_LOCK ")"
                         : "SELECT pg_advisory_xact_lock(" WRITE_LOCK ")",
                PGRES_TUPLES_OK)) {
        c->broken = true; /* whatever state it is in, it is not a clean one */
        return KG_ERR_STORE;
    }
    return KG_OK;
}

static enum kg_rc commit(struct kg_conn *c)
{
    enum kg_rc queued = drain(c);
    c->queued_rc = KG_OK;
    if (queued) {
        if (!c->broken && !simple(c->pg, "ROLLBACK", PGRES_COMMAND_OK)) {
            c->broken = true;
        }
        return queued;
    }
    PGresult *r = PQexec(c->pg, "COMMIT");
    /* an aborted transaction "commits" as ROLLBACK */
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
    PQclear(r);
    if (!ok) {
        kg_log(KG_LOG_ERROR, NULL, "store.commit_failed", "error", PQerrorMessage(c->pg), NULL);
        c->broken = PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) != PQTRANS_IDLE;
    }
    return ok ? KG_OK : KG_ERR_STORE;
}

static void rollback(struct kg_conn *c)
{
    drain(c);
    c->queued_rc = KG_OK;
    if (c->broken || !simple(c->pg, "ROLLBACK", PGRES_COMMAND_OK)) {
        c->broken = true;
    }
}

/* The change feed's stamp; while the feed has none, one read per call (or a failure). */
static enum kg_rc config_stamp(void *db, int64_t *out)
{
    struct kg_pgdb *p = db;
    struct kg_pg_feed *feed = atomic_load(&p->feed);
    if (!feed) { /* once per process; servers only (the CLI never asks) */
        pthread_mutex_lock(&p->mu);
        feed = atomic_load(&p->feed);
        if (!feed) {
            feed = kg_pg_feed_start(p->url);
            atomic_store(&p->feed, feed);
        }
        pthread_mutex_unlock(&p->mu);
    }
    if (feed && kg_pg_feed_stamp(feed, out)) {
        return KG_OK;
    }
    struct kg_conn *c = acquire(db, false);
    if (!c) {
        return KG_ERR_STORE;
    }
    bool ok = kg_pg_read_stamp(c->pg, out);
    c->broken = !ok;
    release(db, c);
    return ok ? KG_OK : KG_ERR_STORE;
}

static void pg_close(void *db)
{
    struct kg_pgdb *p = db;
    kg_pg_feed_stop(atomic_load(&p->feed));
    while (p->free_list) {
        struct kg_conn *c = p->free_list;
        p->free_list = c->next;
        conn_close(c);
    }
    pthread_mutex_destroy(&p->mu);
    free(p->url);
    free(p);
}

static const struct kg_sql_driver DRIVER = {
    .name = "postgresql",
    .reads_wait = true,
    .acquire = acquire,
    .release = release,
    .run = run,
    .send = run_later,
    .begin = begin,
    .commit = commit,
    .rollback = rollback,
    .config_stamp = config_stamp,
    .close = pg_close,
};

/* ---- migrations ---- */

static int schema_version(PGconn *pg)
{
    PGresult *r = PQexec(pg, "SELECT version FROM schema_version");
    int v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                ? (int)strtol(PQgetvalue(r, 0, 0), NULL, 10)
                : 0;
    PQclear(r);
    return v;
}

/* Applies every migration newer than the stored version, each in its own transaction, under a
 * session advisory lock so that nodes starting together migrate once. */
static enum kg_rc migrate(PGconn *pg, struct kg_err *e)
{
    if (!simple(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", PGRES_TUPLES_OK)) {
        return KG_FAIL(e, KG_ERR_STORE, "migration lock: %s", PQerrorMessage(pg));
    }
    enum kg_rc rc = KG_OK;
    if (!simple(pg, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
                PGRES_COMMAND_OK)) {
        rc = KG_FAIL(e, KG_ERR_STORE, "schema_version: %s", PQerrorMessage(pg));
    }
    int version = rc ? 0 : schema_version(pg);
    if (!rc && version > kg_migrations_pg_count) {
        rc = KG_FAIL(e, KG_ERR_STORE, "store schema %d is newer than this keygate (%d)", version,
                     kg_migrations_pg_count);
    }
    for (; !rc && version < kg_migrations_pg_count; version++) {
        char upd[96];
        snprintf(upd, sizeof upd,
                 "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)", version + 1);
        if (!simple(pg, "BEGIN", PGRES_COMMAND_OK) ||
            !simple(pg, kg_migrations_pg[version], PGRES_COMMAND_OK) ||
            !simple(pg, upd, PGRES_COMMAND_OK) || !simple(pg, "COMMIT", PGRES_COMMAND_OK)) {
            rc = KG_FAIL(e, KG_ERR_STORE, "migration %d: %s", version + 1, PQerrorMessage(pg));
            simple(pg, "ROLLBACK", PGRES_COMMAND_OK);
            break;
        }
        char to[16];
        snprintf(to, sizeof to, "%d", version + 1);
        kg_log(KG_LOG_INFO, NULL, "store.migrated", "version", to, "store", "postgresql", NULL);
    }
    simple(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")", PGRES_TUPLES_OK);
    return rc;
}

enum kg_rc kg_store_pg_open(const char *url, struct kg_store **out, struct kg_err *e)
{
    PGconn *pg = kg_pg_connect(url);
    if (!pg) {
        return KG_FAIL(e, KG_ERR_STORE, "cannot connect to PostgreSQL (see the log)");
    }
    enum kg_rc rc = migrate(pg, e);
    if (rc) {
        PQfinish(pg);
        return rc;
    }
    struct kg_pgdb *p = kg_calloc(1, sizeof *p);
    p->url = kg_strdup(url);
    pthread_mutex_init(&p->mu, NULL);
    struct kg_conn *c = kg_calloc(1, sizeof *c);
    c->pg = pg;
    p->free_list = c;
    p->idle = 1;
    *out = kg_sql_store_new(&DRIVER, p);
    return KG_OK;
}
