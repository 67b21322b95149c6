/* SPDX-License-Identifier: Apache-2.0
 * The last-used writer thread; see lastused.h. */
#include "server/lastused.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/map.h"
#include "core/str.h"
#include "core/thread.h"

#define EVERY_US 1000000 /* how often the queue is written */
#define PER_KEY 60       /* seconds between two writes of one key's time */
#define CHUNK 256        /* uses written in one transaction */

struct kg_lastused {
    struct kg_store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* on the monotonic clock */
    struct kg_map *written; /* key id -> when its time was last queued (int64_t) */
    struct kg_key_use *queue;
    size_t n, cap;
    bool stop;
};

/* A key whose time was queued a minute or more ago would be queued again on its next use. */
static bool written_over_a_minute_ago(const void *value, void *now)
{
    return *(const int64_t *)now - *(const int64_t *)value >= PER_KEY;
}

void kg_lastused_note(struct kg_lastused *l, const char *id, int64_t now)
{
    pthread_mutex_lock(&l->mu);
    int64_t *last = kg_map_get(l->written, id);
    if ((last && now - *last < PER_KEY) || l->n >= KG_MAX_LASTUSED_QUEUE) {
        pthread_mutex_unlock(&l->mu);
        return;
    }
    if (!last) {
        kg_map_make_room(l->written, KG_MAX_LASTUSED_KEYS, written_over_a_minute_ago, &now, free);
        last = kg_malloc(sizeof *last);
        kg_map_put(l->written, id, last);
    }
    *last = now;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->queue = kg_realloc(l->queue, l->cap * sizeof *l->queue);
    }
    kg_strlcpy(l->queue[l->n].id, id, sizeof l->queue[l->n].id);
    l->queue[l->n++].at = now;
    pthread_mutex_unlock(&l->mu);
}

/* Writes uses[0..n) (mu not held), CHUNK to a transaction: a write transaction holds the store's
 * writer lock (SQLite's on both files, PostgreSQL's advisory lock on every node), which the audit
 * committer, and so every token response, waits for. On failure a chunk is forgotten, so that
 * the next use of its keys queues them again. */
static void write_uses(struct kg_lastused *l, struct kg_key_use *uses, size_t n)
{
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        enum kg_rc rc = l->store->ops->apikey_touch(l->store, uses + at, k);
        if (rc == KG_OK) {
            continue;
        }
        kg_log(KG_LOG_ERROR, NULL, "apikey.last_used_failed", "error", kg_rc_name(rc), NULL);
        pthread_mutex_lock(&l->mu);
        for (size_t i = at; i < at + k; i++) {
            free(kg_map_del(l->written, uses[i].id));
        }
        pthread_mutex_unlock(&l->mu);
    }
}

static void *writer(void *arg)
{
    struct kg_lastused *l = arg;
    kg_thread_name("kg-lastused");
    pthread_mutex_lock(&l->mu);
    for (;;) {
        const struct timespec until = kg_monotonic_timespec(kg_monotonic_us() + EVERY_US);
        while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &until) == 0) {
        }
        struct kg_key_use *uses = l->queue;
        size_t n = l->n;
        bool stop = l->stop;
        l->queue = NULL;
        l->n = l->cap = 0;
        pthread_mutex_unlock(&l->mu);
        if (n) {
            write_uses(l, uses, n);
        }
        free(uses);
        if (stop) {
            return NULL;
        }
        pthread_mutex_lock(&l->mu);
    }
}

struct kg_lastused *kg_lastused_start(struct kg_store *store)
{
    struct kg_lastused *l = kg_calloc(1, sizeof *l);
    l->store = store;
    l->written = kg_map_new();
    pthread_mutex_init(&l->mu, NULL);
    kg_cond_init_monotonic(&l->cv);
    if (pthread_create(&l->thread, NULL, writer, l) != 0) {
        kg_log(KG_LOG_ERROR, NULL, "apikey.last_used_thread_failed", NULL);
        abort();
    }
    return l;
}

void kg_lastused_stop(struct kg_lastused *l)
{
    if (!l) {
        return;
    }
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    kg_map_free(l->written, free);
    free(l->queue);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}
