/* SPDX-License-Identifier: Apache-2.0
 * See clock.h. */
#include "core/clock.h"

#include <time.h>

int64_t kg_now(void)
{
    return (int64_t)time(NULL);
}

int64_t kg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t kg_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t kg_monotonic_ms(void)
{
    return kg_monotonic_us() / 1000;
}
