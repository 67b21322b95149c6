/* SPDX-License-Identifier: Apache-2.0
 * The PostgreSQL change feed (pg.h): one thread per process with a connection of its own that
 * LISTENs on channel keygate_config, where the schema's triggers notify every change to what
 * nodes cache. On each notification, and at least once a second whatever happens (the safety net:
 * a notification lost with a dropped connection cannot leave a revoked credential valid for
 * longer), it re-reads config_stamp. While it is disconnected it has no stamp, and the store falls
 * back to reading the stamp on every request (or failing, if the database is gone). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "core/thread.h"
#include "store/pg/pg.h"

#define CHECK_MS 1000 /* the periodic re-read */
#define TICK_MS 100   /* how often the thread looks at its stop flag */
#define RETRY_MS 250  /* between reconnection attempts */

struct kg_pg_feed {
    char *url;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t mu;
    bool valid;
    int64_t stamp;
};

static void set(struct kg_pg_feed *f, bool valid, int64_t stamp)
{
    pthread_mutex_lock(&f->mu);
    f->valid = valid;
    if (valid) {
        f->stamp = stamp;
    }
    pthread_mutex_unlock(&f->mu);
}

bool kg_pg_feed_stamp(struct kg_pg_feed *f, int64_t *out)
{
    pthread_mutex_lock(&f->mu);
    bool ok = f->valid;
    *out = f->stamp;
    pthread_mutex_unlock(&f->mu);
    return ok;
}

static PGconn *subscribe(const char *url)
{
    PGconn *pg = kg_pg_connect(url);
    if (!pg) {
        return NULL;
    }
    PGresult *r = PQexec(pg, "LISTEN keygate_config");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        kg_log(KG_LOG_WARN, NULL, "store.feed_listen_failed", "error", PQerrorMessage(pg), NULL);
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

/* Waits up to ms for the connection's socket; false if the connection failed. */
static bool wait_input(PGconn *pg, int ms, bool *notified)
{
    struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
    int n = poll(&p, 1, ms);
    if (n < 0 && errno != EINTR) {
        return false;
    }
    if (n > 0 && !PQconsumeInput(pg)) {
        return false;
    }
    PGnotify *note;
    while ((note = PQnotifies(pg)) != NULL) {
        *notified = true;
        PQfreemem(note);
    }
    return PQstatus(pg) == CONNECTION_OK;
}

static void *run(void *arg)
{
    struct kg_pg_feed *f = arg;
    kg_thread_name("kg-pg-feed");
    PGconn *pg = NULL;
    int64_t last_read = 0;
    bool was_down = false;
    while (!atomic_load(&f->stop)) {
        if (!pg) {
            pg = subscribe(f->url);
            int64_t stamp;
            /* subscribed first, then read: a change in between is notified */
            if (!pg || !kg_pg_read_stamp(pg, &stamp)) {
                set(f, false, 0);
                if (pg) {
                    PQfinish(pg);
                    pg = NULL;
                }
                was_down = true;
                struct timespec ts = {0, RETRY_MS * 1000000L};
                nanosleep(&ts, NULL);
                continue;
            }
            if (was_down) {
                kg_log(KG_LOG_INFO, NULL, "store.feed_connected", NULL);
            }
            was_down = false;
            set(f, true, stamp);
            last_read = kg_monotonic_ms();
        }
        bool notified = false;
        bool ok = wait_input(pg, TICK_MS, &notified);
        int64_t stamp;
        if (ok && (notified || kg_monotonic_ms() - last_read >= CHECK_MS)) {
            ok = kg_pg_read_stamp(pg, &stamp);
            if (ok) {
                set(f, true, stamp);
                last_read = kg_monotonic_ms();
            }
        }
        if (!ok) {
            kg_log(KG_LOG_WARN, NULL, "store.feed_lost", "error", PQerrorMessage(pg), NULL);
            set(f, false, 0);
            PQfinish(pg);
            pg = NULL;
            was_down = true;
        }
    }
    if (pg) {
        PQfinish(pg);
    }
    return NULL;
}

struct kg_pg_feed *kg_pg_feed_start(const char *url)
{
    struct kg_pg_feed *f = kg_calloc(1, sizeof *f);
    f->url = kg_strdup(url);
    pthread_mutex_init(&f->mu, NULL);
    atomic_init(&f->stop, false);
    if (pthread_create(&f->thread, NULL, run, f) != 0) {
        pthread_mutex_destroy(&f->mu);
        free(f->url);
        free(f);
        return NULL;
    }
    return f;
}

void kg_pg_feed_stop(struct kg_pg_feed *f)
{
    if (!f) {
        return;
    }
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    pthread_mutex_destroy(&f->mu);
    free(f->url);
    free(f);
}
