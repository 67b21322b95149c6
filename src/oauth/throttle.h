/* SPDX-License-Identifier: Apache-2.0
 * Brute-force throttling (SPEC 12.9): failure counters in fixed windows per key ("user:TENANT:
 * NAME", "ip:ADDR"), in memory and per node. A key over its limit is refused until its window
 * ends. The table is bounded (KG_THROTTLE_SLOTS); the stalest entries are dropped first.
 * Thread-safe. */
#ifndef KG_OAUTH_THROTTLE_H
#define KG_OAUTH_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

struct kg_throttle;

struct kg_throttle *kg_throttle_new(void);
void kg_throttle_free(struct kg_throttle *t);
/* Seconds until key may try again (0 = not throttled). */
int64_t kg_throttle_wait(struct kg_throttle *t, const char *key, int limit, int64_t now);
void kg_throttle_fail(struct kg_throttle *t, const char *key, int64_t now);
void kg_throttle_reset(struct kg_throttle *t, const char *key);

#endif
