/* SPDX-License-Identifier: Apache-2.0
 * What the SQLite back end's files share (sqlite.c owns the connection pool; signin.c and any
 * later file add their own statements through these helpers). Only src/store/sqlite/ includes
 * this, and with it <sqlite3.h>. */
#ifndef KG_STORE_SQLITE_LITE_H
#define KG_STORE_SQLITE_LITE_H

#include <sqlite3.h>
#include <stdint.h>

#include "store/store.h"

/* A statement of another file: slot is its index in the connection's extra statement cache
 * (0 .. KG_LITE_EXT_SLOTS-1, unique across files), prepared once per connection. */
#define KG_LITE_EXT_SLOTS 48
struct kg_lite_q {
    int slot;
    const char *sql;
};

struct conn;
typedef void (*kg_lite_reader)(sqlite3_stmt *, void *);

/* Binding formats everywhere: s = const char *, i = int64_t, b = (const void *, size_t). */
enum kg_rc kg_lite_exec1(struct kg_store *s, const struct kg_lite_q *q, const char *fmt, ...);
enum kg_rc kg_lite_get1(struct kg_store *s, const struct kg_lite_q *q, kg_lite_reader reader,
                        void *out, const char *fmt, ...);
/* Every row, each read by reader into an element of size bytes of a new array (owned). */
enum kg_rc kg_lite_list(struct kg_store *s, const struct kg_lite_q *q, size_t size,
                        kg_lite_reader reader, void **out, size_t *n, const char *fmt, ...);
/* Space-separated values of column 0 over every row into out[KG_LIST]. */
enum kg_rc kg_lite_join1(struct kg_store *s, const struct kg_lite_q *q, char out[KG_LIST],
                         const char *fmt, ...);

/* A write transaction: BEGIN IMMEDIATE on a pooled connection; NULL on failure. */
struct conn *kg_lite_begin(struct kg_store *s);
enum kg_rc kg_lite_exec(struct conn *c, const struct kg_lite_q *q, const char *fmt, ...);
enum kg_rc kg_lite_get(struct conn *c, const struct kg_lite_q *q, kg_lite_reader reader, void *out,
                       const char *fmt, ...);
/* kg_lite_end for a conditional UPDATE that must change exactly one row (single use, a live
 * record): rc becomes none_rc when it changed none. */
enum kg_rc kg_lite_end_one(struct kg_store *s, struct conn *c, enum kg_rc rc, enum kg_rc none_rc);
/* Commits if rc is KG_OK (else rolls back), releases c, returns the outcome. */
enum kg_rc kg_lite_end(struct kg_store *s, struct conn *c, enum kg_rc rc);

void kg_lite_col(sqlite3_stmt *st, int i, char *dst, size_t size);
int64_t kg_lite_icol(sqlite3_stmt *st, int i);

/* A role row: id, tenant_id, name, permissions, builtin. */
void kg_lite_read_role(sqlite3_stmt *st, void *out);

/* Fill their entries of ops: signin.c and enforce.c. */
void kg_lite_signin_ops(struct kg_store_ops *ops);
void kg_lite_enforce_ops(struct kg_store_ops *ops);
void kg_lite_rotation_ops(struct kg_store_ops *ops);

#endif
