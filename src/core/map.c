/* SPDX-License-Identifier: Apache-2.0
 * See map.h. */
#include "core/map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

struct entry {
    char *key;
    void *value;
    struct entry *next;
};

struct kg_map {
    struct entry **b;
    size_t nb, n;
};

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
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
    for (struct entry *e = m->b[fnv(key) & (m->nb - 1)]; e; e = e->next) {
        if (strcmp(e->key, key) == 0) {
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
            size_t k = fnv(e->key) & (nb - 1);
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
    struct entry **slot = &m->b[fnv(key) & (m->nb - 1)];
    for (struct entry *e = *slot; e; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            void *old = e->value;
            e->value = value;
            return old;
        }
    }
    struct entry *e = kg_malloc(sizeof *e);
    e->key = kg_strdup(key);
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
    for (struct entry **p = &m->b[fnv(key) & (m->nb - 1)]; *p; p = &(*p)->next) {
        struct entry *e = *p;
        if (strcmp(e->key, key) == 0) {
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
