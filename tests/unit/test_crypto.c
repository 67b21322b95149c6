/* SPDX-License-Identifier: Apache-2.0
 * core/crypto: the shape of random identifiers (UUID version 4, RFC 9562 5.4) and trace ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/crypto.h"

static void uuid4_shape(void **state)
{
    (void)state;
    char a[KG_UUID_LEN + 1], b[KG_UUID_LEN + 1];
    for (int round = 0; round < 200; round++) {
        memset(a, 'x', sizeof a);
        kg_uuid4(a);
        assert_int_equal(strlen(a), KG_UUID_LEN);
        for (int i = 0; i < KG_UUID_LEN; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                assert_int_equal(a[i], '-');
            } else {
                assert_non_null(strchr("0123456789abcdef", a[i]));
            }
        }
        assert_int_equal(a[14], '4');           /* version */
        assert_non_null(strchr("89ab", a[19])); /* variant 10xx */
    }
    kg_uuid4(b);
    assert_string_not_equal(a, b);
}

static void trace_id_shape(void **state)
{
    (void)state;
    char t[33];
    kg_trace_id(t);
    assert_int_equal(strlen(t), 32);
    assert_int_equal(strspn(t, "0123456789abcdef"), 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(uuid4_shape),
                                       cmocka_unit_test(trace_id_shape)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
