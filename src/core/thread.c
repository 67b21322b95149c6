/* SPDX-License-Identifier: Apache-2.0
 * Thread names (pthread_setname_np is a GNU extension; this is the one file that needs it) and
 * monotonic condition variables; see thread.h. */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "core/clock.h"
#include "core/thread.h"

void kg_thread_name(const char *name)
{
    char n[16];
    strncpy(n, name, sizeof n - 1);
    n[sizeof n - 1] = '\0';
    (void)pthread_setname_np(pthread_self(), n);
}

void kg_cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t mono;
    pthread_condattr_init(&mono);
    pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &mono);
    pthread_condattr_destroy(&mono);
}

struct timespec kg_monotonic_timespec(int64_t at_us)
{
    return (struct timespec){.tv_sec = at_us / 1000000, .tv_nsec = at_us % 1000000 * 1000};
}

bool kg_mutex_lock_within(pthread_mutex_t *mu, int64_t ms)
{
    const struct timespec until = kg_monotonic_timespec(kg_monotonic_us() + ms * 1000);
    return pthread_mutex_clocklock(mu, CLOCK_MONOTONIC, &until) == 0;
}
