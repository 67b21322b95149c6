/* SPDX-License-Identifier: Apache-2.0
 * http/http: the request accessors, and the response's header values, which live in the
 * response's own buffer until it is full and are allocated past it (run under ASan/LSan in the
 * sanitizer build, so a value freed twice, or never, fails). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

static void header_lookup(void **state)
{
    (void)state;
    struct kg_req r = {0};
    r.headers[r.nheaders++] = (struct kg_kv){KG_STR("Authorization"), KG_STR("Bearer a")};
    r.headers[r.nheaders++] = (struct kg_kv){KG_STR("api-key"), KG_STR("k1")};
    r.headers[r.nheaders++] = (struct kg_kv){KG_STR("AUTHORIZATION"), KG_STR("Bearer b")};
    size_t n = 0;
    struct kg_str v = kg_req_header(&r, "authorization", &n);
    assert_int_equal(n, 2); /* both, whatever their case: a doubled credential is seen */
    assert_true(kg_str_eq_c(v, "Bearer a"));
    v = kg_req_header(&r, "API-Key", &n);
    assert_int_equal(n, 1);
    assert_true(kg_str_eq_c(v, "k1"));
    v = kg_req_header(&r, "Cookie", &n);
    assert_int_equal(n, 0);
    assert_null(v.p);
}

/* A value of n bytes made of the letter c. */
static const char *value_of(char c, size_t n)
{
    static char buf[8][1200];
    static int next;
    char *v = buf[next++ % 8];
    memset(v, c, n);
    v[n] = '\0';
    return v;
}

static void header_values(void **state)
{
    (void)state;
    struct kg_resp *r = calloc(1, sizeof *r);
    assert_non_null(r);
    for (int round = 0; round < 2; round++) { /* the second on the cleared response */
        /* 12 values of 300 bytes: the first six fit in the buffer, the rest are allocated */
        char name[16];
        for (int i = 0; i < 12; i++) {
            snprintf(name, sizeof name, "X-H%d", i);
            kg_resp_add_header(r, name, value_of((char)('a' + i), 300));
        }
        assert_int_equal(r->nheaders, 12);
        assert_false(r->headers[0].heap);
        assert_true(r->headers[11].heap);
        for (int i = 0; i < 12; i++) {
            assert_string_equal(r->headers[i].value, value_of((char)('a' + i), 300));
        }
        /* replacing: an allocated value by a short one, a buffered one by a long one */
        kg_resp_add_header(r, "X-H11", "short");
        kg_resp_add_header(r, "X-H0", value_of('z', 1100));
        kg_resp_add_header(r, "X-H5", "");
        assert_int_equal(r->nheaders, 12);
        assert_string_equal(r->headers[11].value, "short");
        assert_string_equal(r->headers[0].value, value_of('z', 1100));
        assert_string_equal(r->headers[5].value, "");
        for (int i = 1; i < 11; i++) {
            if (i != 5) {
                assert_string_equal(r->headers[i].value, value_of((char)('a' + i), 300));
            }
        }
        kg_resp_set_body(r, 200, "text/plain", strdup("body"));
        kg_resp_clear(r);
        assert_int_equal(r->nheaders, 0);
        assert_int_equal(r->hbuf_used, 0);
        assert_null(r->body);
        assert_int_equal(r->status, 0);
    }
    /* a value larger than the whole buffer */
    kg_resp_add_header(r, "X-Big", value_of('q', 1100));
    kg_resp_add_header(r, "X-Big2", value_of('r', 1100));
    assert_false(r->headers[0].heap);
    assert_true(r->headers[1].heap);
    assert_string_equal(r->headers[1].value, value_of('r', 1100));
    kg_resp_clear(r);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_lookup),
        cmocka_unit_test(header_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
