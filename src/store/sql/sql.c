/* SPDX-License-Identifier: Apache-2.0
 * The SQL store's shared machinery (sql.h): statements run through a driver on pooled
 * connections, rows read into records, write transactions, and the store.h ops table that
 * config.c, signin.c, enforce.c and rotation.c fill. */
#include "store/sql/sql.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

struct sqlstore {
    const struct kg_sql_driver *d;
    void *db;
    struct kg_store_ops ops; /* the SQL ones, named after the driver */
};

static struct sqlstore *impl(struct kg_store *s)
{
    return s->impl;
}

/* ---- rows ---- */

const char *kg_row_text(const struct kg_row *r, int col)
{
    const char *t = r->ops->text(r->h, r->row, col);
    return t ? t : "";
}

void kg_row_str(const struct kg_row *r, int col, char *dst, size_t size)
{
    kg_strlcpy(dst, kg_row_text(r, col), size);
}

int64_t kg_row_int(const struct kg_row *r, int col)
{
    return r->ops->integer(r->h, r->row, col);
}

uint8_t *kg_row_blob(const struct kg_row *r, int col, size_t *n)
{
    return r->ops->blob(r->h, r->row, col, n);
}

/* ---- running statements ---- */

struct first {
    kg_sql_reader reader;
    void *out;
    bool found;
};

static bool take_first(const struct kg_row *r, void *arg)
{
    struct first *f = arg;
    f->reader(r, f->out);
    f->found = true;
    return false;
}

struct many {
    kg_sql_reader reader;
    size_t size, cap, n;
    char *arr;
};

static bool take_all(const struct kg_row *r, void *arg)
{
    struct many *m = arg;
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 8;
        m->arr = kg_realloc(m->arr, m->cap * m->size);
    }
    m->reader(r, m->arr + m->n * m->size);
    m->n++;
    return true;
}

struct joined {
    char *out;
    size_t o;
};

static bool take_word(const struct kg_row *r, void *arg)
{
    struct joined *j = arg;
    const char *t = kg_row_text(r, 0);
    size_t n = strlen(t);
    if (j->o + n + 2 > KG_LIST) {
        return false;
    }
    if (j->o) {
        j->out[j->o++] = ' ';
    }
    memcpy(j->out + j->o, t, n);
    j->o += n;
    j->out[j->o] = '\0';
    return true;
}

static enum kg_rc get_v(const struct kg_sql_driver *d, struct kg_conn *c, const struct kg_sql_q *q,
                        kg_sql_reader reader, void *out, int64_t *changes, const char *fmt,
                        va_list ap)
{
    struct first f = {reader, out, false};
    enum kg_rc rc = d->run(c, q, fmt, ap, take_first, &f, changes);
    return rc ? rc : f.found ? KG_OK : KG_ERR_NOT_FOUND;
}

static enum kg_rc list_v(const struct kg_sql_driver *d, struct kg_conn *c, const struct kg_sql_q *q,
                         size_t size, kg_sql_reader reader, void **out, size_t *n, int64_t *changes,
                         const char *fmt, va_list ap)
{
    struct many m = {reader, size, 0, 0, NULL};
    enum kg_rc rc = d->run(c, q, fmt, ap, take_all, &m, changes);
    if (rc) {
        free(m.arr);
        return rc;
    }
    *out = m.arr ? m.arr : kg_malloc(size);
    *n = m.n;
    return KG_OK;
}

/* A pooled connection for one statement or transaction; NULL when none can be had, or when
 * this thread is answering from caches only (store.h) and must not wait on the store. */
static struct kg_conn *acquire(struct sqlstore *st, bool audit)
{
    return kg_store_io_refused() ? NULL : st->d->acquire(st->db, audit);
}

/* Runs one statement on a connection of its own: what the *1 helpers share. */
#define ON_POOLED(s, audit, call)                                                                  \
    do {                                                                                           \
        struct sqlstore *st_ = impl(s);                                                            \
        struct kg_conn *c = acquire(st_, audit);                                                   \
        if (!c) {                                                                                  \
            return KG_ERR_STORE;                                                                   \
        }                                                                                          \
        const struct kg_sql_driver *d = st_->d;                                                    \
        int64_t changes = 0;                                                                       \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        enum kg_rc rc = call;                                                                      \
        va_end(ap);                                                                                \
        d->release(st_->db, c);                                                                    \
        (void)changes;                                                                             \
        return rc;                                                                                 \
    } while (0)

enum kg_rc kg_sql_exec1(struct kg_store *s, const struct kg_sql_q *q, const char *fmt, ...)
{
    ON_POOLED(s, false, d->run(c, q, fmt, ap, NULL, NULL, &changes));
}

/* run, then KG_ERR_NOT_FOUND if it changed no row (the row count is read after the run). */
static enum kg_rc run_some(const struct kg_sql_driver *d, struct kg_conn *c,
                           const struct kg_sql_q *q, const char *fmt, va_list ap)
{
    int64_t changes = 0;
    enum kg_rc rc = d->run(c, q, fmt, ap, NULL, NULL, &changes);
    return rc == KG_OK && changes == 0 ? KG_ERR_NOT_FOUND : rc;
}

enum kg_rc kg_sql_exec1_some(struct kg_store *s, const struct kg_sql_q *q, const char *fmt, ...)
{
    ON_POOLED(s, false, run_some(d, c, q, fmt, ap));
}

enum kg_rc kg_sql_get1(struct kg_store *s, const struct kg_sql_q *q, kg_sql_reader reader,
                       void *out, const char *fmt, ...)
{
    ON_POOLED(s, false, get_v(d, c, q, reader, out, &changes, fmt, ap));
}

enum kg_rc kg_sql_list(struct kg_store *s, const struct kg_sql_q *q, size_t size,
                       kg_sql_reader reader, void **out, size_t *n, const char *fmt, ...)
{
    ON_POOLED(s, false, list_v(d, c, q, size, reader, out, n, &changes, fmt, ap));
}

enum kg_rc kg_sql_list_audit(struct kg_store *s, const struct kg_sql_q *q, size_t size,
                             kg_sql_reader reader, void **out, size_t *n, const char *fmt, ...)
{
    ON_POOLED(s, true, list_v(d, c, q, size, reader, out, n, &changes, fmt, ap));
}

static enum kg_rc join_v(const struct kg_sql_driver *d, struct kg_conn *c, const struct kg_sql_q *q,
                         char out[KG_LIST], int64_t *changes, const char *fmt, va_list ap)
{
    struct joined j = {out, 0};
    out[0] = '\0';
    return d->run(c, q, fmt, ap, take_word, &j, changes);
}

enum kg_rc kg_sql_join1(struct kg_store *s, const struct kg_sql_q *q, char out[KG_LIST],
                        const char *fmt, ...)
{
    ON_POOLED(s, false, join_v(d, c, q, out, &changes, fmt, ap));
}

/* ---- transactions ---- */

static enum kg_rc begin_on(struct kg_store *s, struct kg_sql_tx *t, bool audit)
{
    struct sqlstore *st = impl(s);
    memset(t, 0, sizeof *t);
    t->d = st->d;
    t->db = st->db;
    t->c = acquire(st, audit);
    if (!t->c) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc = t->d->begin(t->c);
    if (rc) {
        t->d->release(t->db, t->c);
        t->c = NULL;
    }
    return rc;
}

enum kg_rc kg_sql_begin(struct kg_store *s, struct kg_sql_tx *t)
{
    return begin_on(s, t, false);
}

enum kg_rc kg_sql_begin_audit(struct kg_store *s, struct kg_sql_tx *t)
{
    return begin_on(s, t, true);
}

enum kg_rc kg_sql_exec(struct kg_sql_tx *t, const struct kg_sql_q *q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = t->d->run(t->c, q, fmt, ap, NULL, NULL, &t->changes);
    va_end(ap);
    return rc;
}

enum kg_rc kg_sql_send(struct kg_sql_tx *t, const struct kg_sql_q *q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = t->d->send ? t->d->send(t->c, q, fmt, ap)
                               : t->d->run(t->c, q, fmt, ap, NULL, NULL, &t->changes);
    va_end(ap);
    return rc;
}

enum kg_rc kg_sql_get(struct kg_sql_tx *t, const struct kg_sql_q *q, kg_sql_reader reader,
                      void *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = get_v(t->d, t->c, q, reader, out, &t->changes, fmt, ap);
    va_end(ap);
    return rc;
}

enum kg_rc kg_sql_collect(struct kg_sql_tx *t, const struct kg_sql_q *q, size_t size,
                          kg_sql_reader reader, void **out, size_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum kg_rc rc = list_v(t->d, t->c, q, size, reader, out, n, &t->changes, fmt, ap);
    va_end(ap);
    return rc;
}

enum kg_rc kg_sql_end_one(struct kg_sql_tx *t, enum kg_rc rc, enum kg_rc none_rc)
{
    if (!rc && t->changes != 1) {
        rc = none_rc;
    }
    return kg_sql_end(t, rc);
}

enum kg_rc kg_sql_end(struct kg_sql_tx *t, enum kg_rc rc)
{
    if (rc == KG_OK) {
        rc = t->d->commit(t->c);
    } else {
        t->d->rollback(t->c);
    }
    t->d->release(t->db, t->c);
    t->c = NULL;
    return rc;
}

enum kg_rc kg_sql_in_tx(struct kg_store *s, kg_sql_tx_fn fn, const void *arg)
{
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    return kg_sql_end(&t, fn(&t, arg));
}

/* ---- the store ---- */

static const struct kg_sql_q PING = {0, "SELECT 1"};

static void read_int(const struct kg_row *r, void *out)
{
    *(int64_t *)out = kg_row_int(r, 0);
}

static enum kg_rc op_ping(struct kg_store *s)
{
    int64_t one = 0;
    return kg_sql_get1(s, &PING, read_int, &one, "");
}

static enum kg_rc op_config_stamp(struct kg_store *s, int64_t *out)
{
    struct sqlstore *st = impl(s);
    return st->d->config_stamp(st->db, out);
}

static void op_close(struct kg_store *s)
{
    struct sqlstore *st = impl(s);
    st->d->close(st->db);
    free(st);
    free(s);
}

static struct kg_store_ops ops_all;
static pthread_once_t ops_once = PTHREAD_ONCE_INIT;

static void ops_init(void)
{
    ops_all.close = op_close;
    ops_all.ping = op_ping;
    ops_all.config_stamp = op_config_stamp;
    kg_sql_config_ops(&ops_all);
    kg_sql_signin_ops(&ops_all);
    kg_sql_enforce_ops(&ops_all);
    kg_sql_rotation_ops(&ops_all);
}

struct kg_store *kg_sql_store_new(const struct kg_sql_driver *d, void *db)
{
    pthread_once(&ops_once, ops_init);
    struct sqlstore *st = kg_calloc(1, sizeof *st);
    st->d = d;
    st->db = db;
    st->ops = ops_all;
    st->ops.name = d->name;
    st->ops.reads_wait = d->reads_wait;
    struct kg_store *s = kg_calloc(1, sizeof *s);
    s->ops = &st->ops;
    s->impl = st;
    return s;
}
