/* SPDX-License-Identifier: Apache-2.0
 * oauth/throttle: the limit at -1/0/+1, window expiry, reset on success, and bounded memory
 * that keeps live counters when old ones can be dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "core/limits.h"
#include "oauth/throttle.h"

static void limit_and_window(void **state)
{
    (void)state;
    struct kg_throttle *t = kg_throttle_new();
    for (int i = 0; i < 4; i++) {
        kg_throttle_fail(t, "user:a", 1000);
    }
    assert_int_equal(kg_throttle_wait(t, "user:a", 5, 1000), 0); /* 4 < 5 */
    kg_throttle_fail(t, "user:a", 1000);
    assert_true(kg_throttle_wait(t, "user:a", 5, 1001) > 0); /* 5 = limit */
    assert_int_equal(kg_throttle_wait(t, "user:a", 6, 1001), 0);
    assert_int_equal(kg_throttle_wait(t, "user:b", 5, 1001), 0); /* keys are independent */
    assert_int_equal(kg_throttle_wait(t, "user:a", 5, 1000 + KG_THROTTLE_WINDOW_SECONDS), 0);
    kg_throttle_reset(t, "user:a");
    assert_int_equal(kg_throttle_wait(t, "user:a", 1, 1001), 0);
    kg_throttle_free(t);
}

static void bounded_but_keeps_live_counters(void **state)
{
    (void)state;
    struct kg_throttle *t = kg_throttle_new();
    char key[32];
    for (int i = 0; i < KG_THROTTLE_SLOTS; i++) { /* yesterday's failures fill the table */
        snprintf(key, sizeof key, "ip:%d", i);
        kg_throttle_fail(t, key, 100);
    }
    for (int i = 0; i < 5; i++) { /* a live attack: the stale counters make room for it */
        kg_throttle_fail(t, "user:victim", 5000);
    }
    /* stale counters fill the table again beside the live one; the next new key must drop
     * them, not the attack's counter */
    for (int i = 1; i < KG_THROTTLE_SLOTS; i++) {
        snprintf(key, sizeof key, "old:%d", i);
        kg_throttle_fail(t, key, 100);
    }
    kg_throttle_fail(t, "ip:new", 5001);
    assert_true(kg_throttle_wait(t, "user:victim", 5, 5002) > 0);
    kg_throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limit_and_window),
        cmocka_unit_test(bounded_but_keeps_live_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
