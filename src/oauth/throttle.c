/* SPDX-License-Identifier: Apache-2.0
 * Fixed-window failure counters; see throttle.h. */
#include "oauth/throttle.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/limits.h"
#include "core/map.h"
#include "core/str.h"

struct counter {
    int64_t window_start;
    int failures;
};

struct kg_throttle {
    pthread_mutex_t mu;
    struct kg_map *m;
};

static bool expired(const void *value, void *ctx)
{
    const struct counter *c = value;
    return *(const int64_t *)ctx - c->window_start >= KG_THROTTLE_WINDOW_SECONDS;
}

struct kg_throttle *kg_throttle_new(void)
{
    struct kg_throttle *t = kg_calloc(1, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    t->m = kg_map_new();
    return t;
}

void kg_throttle_free(struct kg_throttle *t)
{
    if (!t) {
        return;
    }
    kg_map_free(t->m, free);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

int64_t kg_throttle_wait(struct kg_throttle *t, const char *key, int limit, int64_t now)
{
    int64_t wait = 0;
    pthread_mutex_lock(&t->mu);
    struct counter *c = kg_map_get(t->m, key);
    if (c && now - c->window_start < KG_THROTTLE_WINDOW_SECONDS && c->failures >= limit) {
        wait = c->window_start + KG_THROTTLE_WINDOW_SECONDS - now;
    }
    pthread_mutex_unlock(&t->mu);
    return wait;
}

void kg_throttle_fail(struct kg_throttle *t, const char *key, int64_t now)
{
    pthread_mutex_lock(&t->mu);
    /* counters whose window has ended go first; only if a spray keeps every slot live does the
     * table start afresh (erring towards availability) */
    kg_map_make_room(t->m, KG_THROTTLE_SLOTS, expired, &now, free);
    struct counter *c = kg_map_get(t->m, key);
    if (!c) {
        c = kg_calloc(1, sizeof *c);
        kg_map_put(t->m, key, c);
    }
    if (now - c->window_start >= KG_THROTTLE_WINDOW_SECONDS) {
        c->window_start = now;
        c->failures = 0;
    }
    c->failures++;
    pthread_mutex_unlock(&t->mu);
}

void kg_throttle_reset(struct kg_throttle *t, const char *key)
{
    pthread_mutex_lock(&t->mu);
    free(kg_map_del(t->m, key));
    pthread_mutex_unlock(&t->mu);
}
