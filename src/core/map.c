/* SPDX-License-Identifier: Apache-2.0
 * See map.h. */
#include "core/map.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/siphash.h"
#include "core/str.h"

struct entry {
    char *key;
    uint64_t h;
    void *value;
    struct entry *next;
};

struct kg_map {
    struct entry **b;
    size_t nb, n;
};

/* Keys come from clients (user names, credentials' hashes), so buckets are chosen by a hash
 * keyed with a secret of this process: nobody can pick keys that share one bucket. */
static uint8_t secret[16];
static pthread_once_t secret_once = PTHREAD_ONCE_INIT;

static void secret_init(void)
{
    kg_random(secret, sizeof secret);
}

static uint64_t hash(const char *s)
{
    pthread_once(&secret_once, secret_init);
    return kg_siphash24(secret, s, strlen(s));
}

struct kg_map *kg_map_new(void)
{
    struct kg_map *m = kg_calloc(1, sizeof *m);
    m->nb = 64;
    m->b = kg_calloc(m->nb, sizeof *m->b);
    return m;
}

void kg_map_free(struct kg_map *m, void (*free_value)(void *))
{
    if (!m) {
        return;
    }
    for (size_t i = 0; i < m->nb; i++) {
        struct entry *e = m->b[i];
        while (e) {
            struct entry *next = e->next;
            if (free_value) {
                free_value(e->value);
            }
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(m->b);
    free(m);
}

void *kg_map_get(const struct kg_map *m, const char *key)
{
    uint64_t h = hash(key);
    for (struct entry *e = m->b[h & (m->nb - 1)]; e; e = e->next) {
        if (e->h == h && strcmp(e->key, key) == 0) {
            return e->value;
        }
    }
    return NULL;
}

static void grow(struct kg_map *m)
{
    size_t nb = m->nb * 2;
    struct entry **b = kg_calloc(nb, sizeof *b);
    for (size_t i = 0; i < m->nb; i++) {
        struct entry *e = m->b[i];
        while (e) {
            struct entry *next = e->next;
            size_t k = e->h & (nb - 1);
            e->next = b[k];
            b[k] = e;
            e = next;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

void *kg_map_put(struct kg_map *m, const char *key, void *value)
{
    uint64_t h = hash(key);
    struct entry **slot = &m->b[h & (m->nb - 1)];
    for (struct entry *e = *slot; e; e = e->next) {
        if (e->h == h && strcmp(e->key, key) == 0) {
            void *old = e->value;
            e->value = value;
            return old;
        }
    }
    struct entry *e = kg_malloc(sizeof *e);
    e->key = kg_strdup(key);
    e->h = h;
    e->value = value;
    e->next = *slot;
    *slot = e;
    if (++m->n > m->nb) {
        grow(m);
    }
    return NULL;
}

void *kg_map_del(struct kg_map *m, const char *key)
{
    uint64_t h = hash(key);
    for (struct entry **p = &m->b[h & (m->nb - 1)]; *p; p = &(*p)->next) {
        struct entry *e = *p;
        if (e->h == h && strcmp(e->key, key) == 0) {
            void *v = e->value;
            *p = e->next;
            free(e->key);
            free(e);
            m->n--;
            return v;
        }
    }
    return NULL;
}

size_t kg_map_len(const struct kg_map *m)
{
    return m->n;
}

void kg_map_prune(struct kg_map *m, bool (*drop)(const void *value, void *ctx), void *ctx,
                  void (*free_value)(void *))
{
    for (size_t i = 0; i < m->nb; i++) {
        struct entry **p = &m->b[i];
        while (*p) {
            struct entry *e = *p;
            if (drop(e->value, ctx)) {
                *p = e->next;
                if (free_value) {
                    free_value(e->value);
                }
                free(e->key);
                free(e);
                m->n--;
            } else {
                p = &e->next;
            }
        }
    }
}

static bool any(const void *value, void *ctx)
{
    (void)value;
    (void)ctx;
    return true;
}

void kg_map_make_room(struct kg_map *m, size_t max, bool (*drop)(const void *value, void *ctx),
                      void *ctx, void (*free_value)(void *))
{
    if (m->n < max) {
        return;
    }
    if (drop) {
        kg_map_prune(m, drop, ctx, free_value);
    }
    /* nearly every entry live: pruning again at each insert would cost a scan of the whole map
     * per entry added, so start afresh unless a sixteenth is free */
    if (m->n >= max - max / 16) {
        kg_map_prune(m, any, NULL, free_value);
    }
}
