/* SPDX-License-Identifier: Apache-2.0
 * core/str: decimal formatting at the limits of int64_t, cache keys that refuse to be truncated
 * (a truncated key could name another entry), and bounded copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/str.h"

static void fmt_int(void **state)
{
    (void)state;
    static const int64_t v[] = {0, 7, -1, 10, 1234567890, INT64_MAX, INT64_MIN, -9};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char want[32], got[32];
        snprintf(want, sizeof want, "%lld", (long long)v[i]);
        memset(got, 'x', sizeof got);
        size_t n = kg_fmt_int(got, v[i]);
        assert_int_equal(n, strlen(want));
        assert_memory_equal(got, want, n);
        assert_int_equal(got[n], 'x'); /* no NUL written */
    }
}

static void key_join(void **state)
{
    (void)state;
    char k[12];
    assert_true(kg_key_join(k, sizeof k, "t", "abc", NULL));
    assert_string_equal(k, "t|abc");
    assert_true(kg_key_join(k, sizeof k, "a", "", "b", NULL));
    assert_string_equal(k, "a||b");
    assert_true(kg_key_join(k, sizeof k, "", "b", NULL)); /* an empty first part too */
    assert_string_equal(k, "|b");
    const char *same = "x";
    assert_true(kg_key_join(k, sizeof k, same, same, same, NULL));
    assert_string_equal(k, "x|x|x");
    assert_true(kg_key_join(k, sizeof k, "m", "1234", "5678", NULL)); /* 11 bytes + NUL */
    assert_string_equal(k, "m|1234|5678");
    assert_false(kg_key_join(k, sizeof k, "m", "1234", "56789", NULL)); /* one byte over */
    assert_string_equal(k, "");
    assert_false(kg_key_join(k, sizeof k, "t", "0123456789ab", NULL));
    assert_string_equal(k, "");
    assert_true(kg_key_join(k, sizeof k, "only", NULL));
    assert_string_equal(k, "only");
}

static void strlcpy_bounds(void **state)
{
    (void)state;
    char d[4];
    assert_true(kg_strlcpy(d, "abc", sizeof d));
    assert_string_equal(d, "abc");
    assert_false(kg_strlcpy(d, "abcd", sizeof d));
    assert_string_equal(d, "abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(fmt_int), cmocka_unit_test(key_join),
                                       cmocka_unit_test(strlcpy_bounds)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
