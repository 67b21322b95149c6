/* SPDX-License-Identifier: Apache-2.0
 * core/map: its keyed hash (SipHash-2-4's reference vectors), lookups after growth, and its bounded
 * memory (kg_map_make_room), which the throttle, /verify's token cache and rate-limit buckets and
 * the last-used writer share: nothing happens below the bound; at it, only the entries the caller
 * calls dead go, unless nearly every entry is live (less than a sixteenth would be freed), when the
 * map starts afresh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/map.h"
#include "core/siphash.h"
#include "core/str.h"

/* Values are ints; an entry is dead when its value is below *ctx. */
static bool below(const void *value, void *ctx)
{
    return *(const int *)value < *(int *)ctx;
}

static struct kg_map *map_of(int n, int first_value)
{
    struct kg_map *m = kg_map_new();
    for (int i = 0; i < n; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        int *v = kg_malloc(sizeof *v);
        *v = first_value + i;
        kg_map_put(m, k, v);
    }
    return m;
}

static void make_room(void **state)
{
    (void)state;
    int cut = 5;
    struct kg_map *m = map_of(10, 0); /* values 0..9: 0..4 are dead */
    kg_map_make_room(m, 11, below, &cut, free);
    assert_int_equal(kg_map_len(m), 10); /* below the bound: untouched */
    kg_map_make_room(m, 10, below, &cut, free);
    assert_int_equal(kg_map_len(m), 5); /* at it: the dead go, the live stay */
    assert_null(kg_map_get(m, "k4"));
    assert_int_equal(*(int *)kg_map_get(m, "k5"), 5);
    cut = 0;
    kg_map_make_room(m, 5, below, &cut, free);
    assert_int_equal(kg_map_len(m), 0); /* every entry live: afresh */
    kg_map_put(m, "again", kg_malloc(sizeof(int)));
    assert_int_equal(kg_map_len(m), 1);
    kg_map_free(m, free);

    m = map_of(3, 0);
    kg_map_make_room(m, 3, NULL, NULL, free); /* no notion of dead: afresh */
    assert_int_equal(kg_map_len(m), 0);
    kg_map_free(m, free);

    m = map_of(32, 0); /* a sixteenth of 32 is 2 */
    cut = 1;
    kg_map_make_room(m, 32, below, &cut, free);
    assert_int_equal(kg_map_len(m), 0); /* one dead of 32: afresh, not a scan per insert */
    kg_map_free(m, free);
    m = map_of(31, 0);
    kg_map_make_room(m, 32, below, &cut, free);
    assert_int_equal(kg_map_len(m), 31); /* below the bound, though nearly full: untouched */
    kg_map_free(m, free);
    m = map_of(32, 0);
    cut = 3;
    kg_map_make_room(m, 32, below, &cut, free);
    assert_int_equal(kg_map_len(m), 29); /* three dead: they go, the rest stay */
    kg_map_free(m, free);
}

/* The reference vectors of SipHash-2-4 (key 00..0f, message 00..n-1), and the map over many
 * keys: every one found, none invented, after growing. */
static void siphash_and_lookups(void **state)
{
    (void)state;
    uint8_t k[16], msg[64];
    for (int i = 0; i < 64; i++) {
        msg[i] = (uint8_t)i;
        k[i % 16] = (uint8_t)(i % 16);
    }
    assert_true(kg_siphash24(k, msg, 0) == 0x726fdb47dd0e0e31ull);
    assert_true(kg_siphash24(k, msg, 8) == 0x93f5f5799a932462ull);
    assert_true(kg_siphash24(k, msg, 15) == 0xa129ca6149be45e5ull);
    assert_true(kg_siphash24(k, msg, 63) == 0x958a324ceb064572ull);
    struct kg_map *m = map_of(5000, 0);
    assert_int_equal(kg_map_len(m), 5000);
    for (int i = 0; i < 5000; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        int *v = kg_map_get(m, key);
        assert_non_null(v);
        assert_int_equal(*v, i);
    }
    assert_null(kg_map_get(m, "k5000"));
    free(kg_map_del(m, "k42"));
    assert_null(kg_map_get(m, "k42"));
    assert_int_equal(kg_map_len(m), 4999);
    kg_map_free(m, free);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(make_room),
                                       cmocka_unit_test(siphash_and_lookups)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
