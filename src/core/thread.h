/* SPDX-License-Identifier: Apache-2.0
 * Names for keygate's own threads, so that top -H, perf and /proc/PID/task/N/comm (and the
 * benchmarks, which split CPU time by thread) tell them apart; and condition variables and mutex
 * waits timed on the monotonic clock, so that no wall-clock step cuts or stretches them. */
#ifndef KG_CORE_THREAD_H
#define KG_CORE_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Names the calling thread; at most 15 characters are kept. */
void kg_thread_name(const char *name);
/* Initialises cv so that pthread_cond_timedwait takes CLOCK_MONOTONIC deadlines. */
void kg_cond_init_monotonic(pthread_cond_t *cv);
/* The deadline for such a wait at at_us on kg_monotonic_us's clock. */
struct timespec kg_monotonic_timespec(int64_t at_us);
/* Locks mu, waiting at most ms milliseconds (monotonic); false if it could not. */
bool kg_mutex_lock_within(pthread_mutex_t *mu, int64_t ms);

#endif
