/* SPDX-License-Identifier: Apache-2.0
 * The SQL store: every store.h operation written once, in SQL both back ends speak, over a small
 * driver interface that each SQL engine implements (sqlite/ with SQLite, pg/ with libpq). The
 * operations (config.c, signin.c, enforce.c, rotation.c) see only this header: statements with
 * '?' placeholders, bind formats, rows read through kg_row_*, and write transactions. Only
 * src/store/ includes this. */
#ifndef KG_STORE_SQL_SQL_H
#define KG_STORE_SQL_SQL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* A statement: slot is its index in each connection's prepared-statement cache (0 ..
 * KG_SQL_SLOTS-1, unique across files), so it is prepared once per connection. */
#define KG_SQL_SLOTS 128
struct kg_sql_q {
    int slot;
    const char *sql;
};

/* A row of a result, read by column index through the driver that produced it. */
struct kg_row_ops {
    const char *(*text)(void *h, int row, int col); /* NULL for SQL NULL */
    int64_t (*integer)(void *h, int row, int col);
    uint8_t *(*blob)(void *h, int row, int col, size_t *n); /* owned copy or NULL */
};
struct kg_row {
    const struct kg_row_ops *ops;
    void *h;
    int row;
};

typedef void (*kg_sql_reader)(const struct kg_row *, void *);
/* Called for each row of a result; returns false to stop reading. */
typedef bool (*kg_sql_each)(const struct kg_row *, void *);

struct kg_conn; /* a driver's pooled connection */

/* What an SQL engine provides. Binding formats everywhere: s = const char *, i = int64_t,
 * b = (const void *, size_t) blob (NULL binds SQL NULL). */
struct kg_sql_driver {
    const char *name;
    bool reads_wait; /* store.h */
    /* A pooled connection; NULL when the database cannot be reached. With audit, one for the
     * audit trail's statements (SQLite keeps the trail in a file of its own, whose writers must
     * not lock the main file); a driver may serve both from one pool. */
    struct kg_conn *(*acquire)(void *db, bool audit);
    void (*release)(void *db, struct kg_conn *c);
    /* Runs q; each row goes to each(row, arg); *changes receives the rows changed by a write.
     * KG_ERR_CONFLICT for a constraint violation, KG_ERR_STORE for anything else. */
    enum kg_rc (*run)(struct kg_conn *c, const struct kg_sql_q *q, const char *fmt, va_list ap,
                      kg_sql_each each, void *arg, int64_t *changes);
    /* Optional, in a write transaction: queues a write whose outcome is only needed at commit
     * (which then fails if it failed), so that a batch costs no round trip per statement. Any
     * later run or commit sees its effect. NULL: writes run at once. */
    enum kg_rc (*send)(struct kg_conn *c, const struct kg_sql_q *q, const char *fmt, va_list ap);
    /* A write transaction: writers are serialised, as SQLite's BEGIN IMMEDIATE does, across
     * every process on the database. */
    enum kg_rc (*begin)(struct kg_conn *c);
    enum kg_rc (*commit)(struct kg_conn *c);
    void (*rollback)(struct kg_conn *c);
    /* The config stamp (store.h), kept as cheaply as the engine allows. */
    enum kg_rc (*config_stamp)(void *db, int64_t *out);
    void (*close)(void *db);
};

/* A store whose operations are the SQL ones, run through driver d on database db. */
struct kg_store *kg_sql_store_new(const struct kg_sql_driver *d, void *db);

/* One statement on a pooled connection, outside any explicit transaction. */
enum kg_rc kg_sql_exec1(struct kg_store *s, const struct kg_sql_q *q, const char *fmt, ...);
/* exec1 that must change at least one row: KG_ERR_NOT_FOUND when it changed none. */
enum kg_rc kg_sql_exec1_some(struct kg_store *s, const struct kg_sql_q *q, const char *fmt, ...);
/* The first row read into out by reader; KG_ERR_NOT_FOUND if none. */
enum kg_rc kg_sql_get1(struct kg_store *s, const struct kg_sql_q *q, kg_sql_reader reader,
                       void *out, const char *fmt, ...);
/* Every row, each read by reader into an element of size bytes of a new array (owned). */
enum kg_rc kg_sql_list(struct kg_store *s, const struct kg_sql_q *q, size_t size,
                       kg_sql_reader reader, void **out, size_t *n, const char *fmt, ...);
/* kg_sql_list on an audit trail connection (the driver's acquire), for the trail's queries. */
enum kg_rc kg_sql_list_audit(struct kg_store *s, const struct kg_sql_q *q, size_t size,
                             kg_sql_reader reader, void **out, size_t *n, const char *fmt, ...);
/* Space-separated values of column 0 over every row into out[KG_LIST]. */
enum kg_rc kg_sql_join1(struct kg_store *s, const struct kg_sql_q *q, char out[KG_LIST],
                        const char *fmt, ...);

/* A write transaction on a pooled connection (kg_sql_begin fills it; KG_ERR_STORE if the
 * database cannot be reached); changes is the row count of the last statement run in it. */
struct kg_sql_tx {
    const struct kg_sql_driver *d;
    void *db;
    struct kg_conn *c;
    int64_t changes;
};
enum kg_rc kg_sql_begin(struct kg_store *s, struct kg_sql_tx *t);
/* kg_sql_begin on an audit trail connection, for the trail's statements only. */
enum kg_rc kg_sql_begin_audit(struct kg_store *s, struct kg_sql_tx *t);
enum kg_rc kg_sql_exec(struct kg_sql_tx *t, const struct kg_sql_q *q, const char *fmt, ...);
/* A write in t whose outcome kg_sql_end reports (the driver's send; else run at once). */
enum kg_rc kg_sql_send(struct kg_sql_tx *t, const struct kg_sql_q *q, const char *fmt, ...);
enum kg_rc kg_sql_get(struct kg_sql_tx *t, const struct kg_sql_q *q, kg_sql_reader reader,
                      void *out, const char *fmt, ...);
enum kg_rc kg_sql_collect(struct kg_sql_tx *t, const struct kg_sql_q *q, size_t size,
                          kg_sql_reader reader, void **out, size_t *n, const char *fmt, ...);
/* kg_sql_end for a conditional UPDATE that must change exactly one row (single use, a live
 * record): rc becomes none_rc when the last statement changed none. */
enum kg_rc kg_sql_end_one(struct kg_sql_tx *t, enum kg_rc rc, enum kg_rc none_rc);
/* Commits if rc is KG_OK (else rolls back), releases the connection, returns the outcome. */
enum kg_rc kg_sql_end(struct kg_sql_tx *t, enum kg_rc rc);
/* fn(t, arg) in a write transaction of its own: for the writers a bigger transaction also
 * calls (an insert shared by a create-with-children and a create-alone). */
typedef enum kg_rc (*kg_sql_tx_fn)(struct kg_sql_tx *t, const void *arg);
enum kg_rc kg_sql_in_tx(struct kg_store *s, kg_sql_tx_fn fn, const void *arg);

/* Column readers. */
void kg_row_str(const struct kg_row *r, int col, char *dst, size_t size);
int64_t kg_row_int(const struct kg_row *r, int col);
uint8_t *kg_row_blob(const struct kg_row *r, int col, size_t *n);
const char *kg_row_text(const struct kg_row *r, int col); /* "" for NULL */

/* A role row: id, tenant_id, name, permissions, builtin. */
void kg_sql_read_role(const struct kg_row *r, void *out);

/* Fill their entries of ops: config.c, signin.c, enforce.c, rotation.c. */
void kg_sql_config_ops(struct kg_store_ops *ops);
void kg_sql_signin_ops(struct kg_store_ops *ops);
void kg_sql_enforce_ops(struct kg_store_ops *ops);
void kg_sql_rotation_ops(struct kg_store_ops *ops);

#endif
