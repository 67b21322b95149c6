/* SPDX-License-Identifier: Apache-2.0
 * json/: the one door: size and depth caps at -1/0/+1, duplicate members refused, typed getters
 * telling missing, wrong type and too long apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "json/json.h"

static enum kg_rc parse(const char *s, struct kg_json **j)
{
    return kg_json_parse(s, strlen(s), 4096, true, j, NULL);
}

static void getters(void **state)
{
    (void)state;
    struct kg_json *j = NULL;
    assert_int_equal(parse("{\"s\":\"abc\",\"i\":5,\"n\":null,\"a\":[\"x\",1]}", &j), KG_OK);
    const char *s;
    int64_t i;
    const struct kg_json *a;
    assert_int_equal(kg_json_get_str(j, "s", 3, &s), KG_OK);
    assert_int_equal(kg_json_get_str(j, "s", 2, &s), KG_ERR_TOO_LONG);
    assert_int_equal(kg_json_get_str(j, "i", 10, &s), KG_ERR_INVALID);
    assert_int_equal(kg_json_get_str(j, "n", 10, &s), KG_ERR_NOT_FOUND);
    assert_int_equal(kg_json_get_str(j, "zz", 10, &s), KG_ERR_NOT_FOUND);
    assert_int_equal(kg_json_get_int(j, "i", &i), KG_OK);
    assert_int_equal(i, 5);
    assert_int_equal(kg_json_get_arr(j, "a", &a), KG_OK);
    assert_int_equal(kg_json_arr_str(a, 0, 5, &s), KG_OK);
    assert_int_equal(kg_json_arr_str(a, 1, 5, &s), KG_ERR_INVALID);
    kg_json_free(j);
}

static void hostile(void **state)
{
    (void)state;
    struct kg_json *j = NULL;
    assert_int_equal(parse("{\"a\":1,\"a\":2}", &j), KG_ERR_INVALID);
    assert_int_equal(parse("[1]", &j), KG_ERR_INVALID);
    assert_int_equal(parse("{\"a\":\"\\u0000\"}", &j), KG_ERR_INVALID);
    assert_int_equal(parse("{\"a\":", &j), KG_ERR_INVALID);
    assert_int_equal(parse("{\"a\":\"\xff\"}", &j), KG_ERR_INVALID);
    char deep[256];
    for (int d = KG_MAX_JSON_DEPTH - 1; d <= KG_MAX_JSON_DEPTH + 1; d++) {
        size_t o = 0;
        deep[o++] = '{';
        deep[o++] = '"';
        deep[o++] = 'a';
        deep[o++] = '"';
        deep[o++] = ':';
        for (int k = 1; k < d; k++) {
            deep[o++] = '[';
        }
        deep[o++] = '1';
        for (int k = 1; k < d; k++) {
            deep[o++] = ']';
        }
        deep[o++] = '}';
        deep[o] = '\0';
        enum kg_rc rc = parse(deep, &j);
        assert_int_equal(rc, d <= KG_MAX_JSON_DEPTH ? KG_OK : KG_ERR_TOO_LONG);
        if (rc == KG_OK) {
            kg_json_free(j);
        }
    }
    char *big = malloc(5000);
    memset(big, ' ', 4999);
    big[0] = '{';
    big[4998] = '}';
    big[4999] = '\0';
    assert_int_equal(kg_json_parse(big, 4096, 4096, true, &j, NULL), KG_ERR_INVALID);
    assert_int_equal(kg_json_parse(big, 4097, 4096, true, &j, NULL), KG_ERR_TOO_LONG);
    free(big);
}

static void building(void **state)
{
    (void)state;
    struct kg_json *o = kg_json_obj();
    kg_json_set_str(o, "b", "x\"y");
    kg_json_set_int(o, "a", -1);
    kg_json_set_str(o, "bad", "\xff"); /* invalid UTF-8 never aborts */
    char *s = kg_json_dump(o);
    assert_string_equal(s, "{\"b\":\"x\\\"y\",\"a\":-1,\"bad\":\"\xef\xbf\xbd\"}");
    free(s);
    kg_json_free(o);
}

static void writer(void **state)
{
    (void)state;
    char buf[128];
    struct kg_jw w;
    kg_jw_begin(&w, buf, sizeof buf);
    kg_jw_str(&w, "s", "a\"b\\c\n\x01");
    kg_jw_int(&w, "i", -42);
    kg_jw_words(&w, "r", "x:read  y:write");
    kg_jw_words(&w, "e", "");
    size_t n = kg_jw_end(&w);
    assert_string_equal(buf, "{\"s\":\"a\\\"b\\\\c\\u000a\\u0001\",\"i\":-42,"
                             "\"r\":[\"x:read\",\"y:write\"],\"e\":[]}");
    assert_int_equal(n, strlen(buf));
    /* what it writes, json/ reads back */
    struct kg_json *j = NULL;
    assert_int_equal(kg_json_parse(buf, n, sizeof buf, true, &j, NULL), KG_OK);
    kg_json_free(j);
    /* the cap at -1/0/+1: {"k":"vvvv"} is 12 bytes plus NUL */
    for (size_t cap = 12; cap <= 14; cap++) {
        kg_jw_begin(&w, buf, cap);
        kg_jw_str(&w, "k", "vvvv");
        assert_int_equal(kg_jw_end(&w), cap >= 13 ? 12 : 0);
    }
}

/* The escaping a string must get (RFC 8259 7), byte by byte: the reference for the writer. */
static size_t escaped(const char *v, char *out)
{
    size_t o = 0;
    out[o++] = '"';
    for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
        if (*c == '"' || *c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)*c;
        } else if (*c < 0x20 || *c == 0x7f) {
            o += (size_t)snprintf(out + o, 8, "\\u%04x", *c);
        } else {
            out[o++] = (char)*c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}

/* Every byte value at every position of strings around the writer's 8-byte steps. */
static void writer_escapes_everywhere(void **state)
{
    (void)state;
    for (size_t len = 1; len <= 19; len++) {
        for (size_t pos = 0; pos < len; pos++) {
            for (int b = 1; b < 256; b++) {
                char v[24], want[200], buf[256];
                memset(v, 'a' + (int)(pos % 26), len);
                v[len] = '\0';
                v[pos] = (char)b;
                if (b == 0x41 && len > 3) {
                    v[len - 1] = '"'; /* two to escape */
                }
                struct kg_jw w;
                kg_jw_begin(&w, buf, sizeof buf);
                kg_jw_str(&w, "k", v);
                size_t n = kg_jw_end(&w);
                size_t m = escaped(v, want);
                assert_int_equal(n, 6 + m); /* {"k":...} */
                assert_memory_equal(buf + 5, want, m);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(getters),
        cmocka_unit_test(hostile),
        cmocka_unit_test(building),
        cmocka_unit_test(writer),
        cmocka_unit_test(writer_escapes_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
