/* SPDX-License-Identifier: Apache-2.0
 * What the PostgreSQL driver's files share (pg.c owns connections, statements and migrations;
 * feed.c the change feed that keeps the config stamp). Only src/store/pg/ includes this, and
 * with it <libpq-fe.h>. */
#ifndef KG_STORE_PG_PG_H
#define KG_STORE_PG_PG_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/sql/sql.h"

struct kg_pg_feed;

struct kg_pgdb {
    char *url;
    pthread_mutex_t mu;
    struct kg_conn *free_list;
    size_t idle;
    int64_t retry_at_ms;             /* after a failed connect, calls fail at once until then */
    struct kg_pg_feed *_Atomic feed; /* started by the first config_stamp call */
};

/* A new connection to url, quiet (notices are not printed), or NULL (logged). */
PGconn *kg_pg_connect(const char *url);

/* Reads config_stamp on pg; false on any failure. */
bool kg_pg_read_stamp(PGconn *pg, int64_t *out);

/* The change feed: a thread on its own connection that LISTENs on keygate_config and re-reads
 * the stamp on every notification and at least once a second. */
struct kg_pg_feed *kg_pg_feed_start(const char *url);
/* The feed's stamp; false while it has none (not connected yet, or the connection is lost). */
bool kg_pg_feed_stamp(struct kg_pg_feed *f, int64_t *out);
void kg_pg_feed_stop(struct kg_pg_feed *f);

#endif
