/* SPDX-License-Identifier: Apache-2.0
 * A string-keyed hash map with chaining (SipHash-2-4 under a per-process kg_random secret, so
 * clients cannot choose keys that share a bucket), growing by doubling. Not thread-safe: the owner
 * locks. Values are opaque pointers; the owner frees them. */
#ifndef KG_CORE_MAP_H
#define KG_CORE_MAP_H

#include <stdbool.h>
#include <stddef.h>

struct kg_map;

struct kg_map *kg_map_new(void);
/* Frees the map and its keys; calls free_value on each value when not NULL. */
void kg_map_free(struct kg_map *m, void (*free_value)(void *));
void *kg_map_get(const struct kg_map *m, const char *key);
/* Sets key to value and returns the previous value (NULL if none); the key is copied. */
void *kg_map_put(struct kg_map *m, const char *key, void *value);
/* Removes key; returns its value or NULL. */
void *kg_map_del(struct kg_map *m, const char *key);
size_t kg_map_len(const struct kg_map *m);
/* Removes every entry for which drop(value, ctx) is true, freeing its value with free_value. */
void kg_map_prune(struct kg_map *m, bool (*drop)(const void *value, void *ctx), void *ctx,
                  void (*free_value)(void *));
/* Bounded memory for a map of at most max entries, before adding one: when it is full, drops the
 * entries drop(value, ctx) says hold nothing worth keeping (drop may be NULL), and if that frees
 * less than a sixteenth of max, empties it (a table nearly every entry of which is live starts
 * afresh, rather than being scanned whole at every insert). */
void kg_map_make_room(struct kg_map *m, size_t max, bool (*drop)(const void *value, void *ctx),
                      void *ctx, void (*free_value)(void *));

#endif
