/* SPDX-License-Identifier: Apache-2.0
 * core/thread.c: a mutex wait bounded on the monotonic clock gives up after its time while the
 * mutex is held elsewhere, and takes it at once when it is free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdbool.h>

#include "core/clock.h"
#include "core/thread.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *try_lock(void *arg)
{
    int64_t *took_us = arg;
    int64_t start = kg_monotonic_us();
    bool got = kg_mutex_lock_within(&mu, 50);
    *took_us = kg_monotonic_us() - start;
    if (got) {
        pthread_mutex_unlock(&mu);
    }
    return (void *)(intptr_t)got;
}

static void lock_within_gives_up_and_takes(void **state)
{
    (void)state;
    int64_t took = 0;
    void *got = NULL;
    pthread_mutex_lock(&mu); /* held here: the other thread waits its 50 ms, then gives up */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, try_lock, &took), 0);
    pthread_join(t, &got);
    pthread_mutex_unlock(&mu);
    assert_false((intptr_t)got);
    assert_true(took >= 50000);
    assert_int_equal(pthread_create(&t, NULL, try_lock, &took), 0); /* free: taken */
    pthread_join(t, &got);
    assert_true((intptr_t)got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(lock_within_gives_up_and_takes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
