/* SPDX-License-Identifier: Apache-2.0
 * The signing-key schedule; see rotator.h. A key is due for replacement at
 * created_at + lifetime; its successor is published 2 x max-age before that (so that it has
 * been in every JWKS cache for max-age when it is promoted). */
#include "server/rotator.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/thread.h"
#include "oauth/keyring.h"
#include "server/server.h"

struct kg_rotator {
    struct kg_server *srv;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static void tenant_step(struct kg_server *srv, const struct kg_tenant *t, int64_t now)
{
    struct kg_store *st = srv->store;
    struct kg_signing_key *keys = NULL;
    size_t n = 0;
    if (st->ops->signing_keys(st, t->id, &keys, &n) != KG_OK) {
        return;
    }
    int64_t active_at = -1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(keys[i].status, "active") == 0 && active_at < 0) {
            active_at = keys[i].created_at;
        }
    }
    kg_signing_keys_free(keys, n);
    int64_t life = srv->cfg.signing_key_lifetime, age = srv->cfg.jwks_max_age;
    if (active_at < 0 || now < active_at + life - 2 * age) {
        return;
    }
    bool promoted = false;
    int64_t ready = 0;
    char kid[48];
    enum kg_rc rc =
        kg_signing_rotate(st, srv->cfg.master_key, t, now, age, &promoted, &ready, kid, NULL);
    if (rc == KG_OK) {
        kg_log(KG_LOG_INFO, NULL, promoted ? "signing_key.rotated" : "signing_key.published",
               "tenant", t->id, "next", kid, NULL);
    }
}

static void *run(void *arg)
{
    struct kg_rotator *r = arg;
    kg_thread_name("kg-rotator");
    int64_t every = r->srv->cfg.jwks_max_age / 2;
    every = every < 1 ? 1 : every > 60 ? 60 : every;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        pthread_mutex_unlock(&r->mu);
        struct kg_tenant *ts = NULL;
        size_t n = 0;
        if (r->srv->store->ops->tenant_list(r->srv->store, &ts, &n) == KG_OK) {
            int64_t now = kg_now();
            for (size_t i = 0; i < n; i++) {
                tenant_step(r->srv, &ts[i], now);
            }
        }
        free(ts);
        pthread_mutex_lock(&r->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += every;
        while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

struct kg_rotator *kg_rotator_start(struct kg_server *srv)
{
    if (srv->cfg.signing_key_lifetime <= 0) {
        return NULL;
    }
    struct kg_rotator *r = kg_calloc(1, sizeof *r);
    r->srv = srv;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, run, r) != 0) {
        abort();
    }
    return r;
}

void kg_rotator_stop(struct kg_rotator *r)
{
    if (!r) {
        return;
    }
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}
