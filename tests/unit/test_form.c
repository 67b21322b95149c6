/* SPDX-License-Identifier: Apache-2.0
 * http/form and http/authz: caps at -1/0/+1, repeated parameters, empty values, Basic headers
 * raw and percent-encoded, hostile Authorization values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "http/authz.h"
#include "http/form.h"

static enum kg_rc parse(const char *s, struct kg_form *f)
{
    return kg_form_parse(kg_str_c(s), f, NULL);
}

static void basics(void **state)
{
    (void)state;
    struct kg_form f;
    assert_int_equal(parse("grant_type=client_credentials&scope=a%2Fb+c&empty=&flag", &f), KG_OK);
    assert_int_equal(f.n, 4);
    assert_string_equal(kg_form_get(&f, "grant_type"), "client_credentials");
    assert_string_equal(kg_form_get(&f, "scope"), "a/b c");
    assert_null(kg_form_get(&f, "empty")); /* RFC 6749 3.1: empty = absent */
    assert_null(kg_form_get(&f, "flag"));
    assert_null(kg_form_get(&f, "missing"));
    kg_form_free(&f);
    assert_int_equal(parse("", &f), KG_OK);
    assert_int_equal(f.n, 0);
    assert_int_equal(parse("a=1&&b=2&", &f), KG_OK);
    assert_int_equal(f.n, 2);
    kg_form_free(&f);
}

static void repeats_and_garbage(void **state)
{
    (void)state;
    struct kg_form f;
    assert_int_equal(parse("a=1&b=2&a=3", &f), KG_ERR_CONFLICT);
    assert_int_equal(f.n, 0);
    assert_int_equal(parse("a=%00", &f), KG_ERR_INVALID);
    assert_int_equal(parse("=x", &f), KG_ERR_INVALID);
    assert_int_equal(parse("a=%FF", &f), KG_ERR_INVALID);
    assert_int_equal(parse("a%3D=1", &f), KG_OK); /* name "a=" is fine, just unknown */
    kg_form_free(&f);
}

static void caps(void **state)
{
    (void)state;
    struct kg_form f;
    char *big = malloc(KG_MAX_FIELD_VALUE * 3 + 16);
    for (int delta = -1; delta <= 1; delta++) {
        size_t n = (size_t)(KG_MAX_FIELD_VALUE + delta);
        memcpy(big, "v=", 2);
        memset(big + 2, 'x', n);
        big[2 + n] = '\0';
        assert_int_equal(parse(big, &f), delta <= 0 ? KG_OK : KG_ERR_TOO_LONG);
        kg_form_free(&f);
    }
    for (int delta = -1; delta <= 1; delta++) {
        size_t n = (size_t)(KG_MAX_FIELD_NAME + delta);
        memset(big, 'n', n);
        memcpy(big + n, "=1", 3);
        assert_int_equal(parse(big, &f), delta <= 0 ? KG_OK : KG_ERR_TOO_LONG);
        kg_form_free(&f);
    }
    for (int delta = -1; delta <= 1; delta++) {
        int fields = KG_MAX_FORM_FIELDS + delta;
        size_t o = 0;
        for (int i = 0; i < fields; i++) {
            o += (size_t)snprintf(big + o, 16, "%sf%d=1", i ? "&" : "", i);
        }
        assert_int_equal(parse(big, &f), delta <= 0 ? KG_OK : KG_ERR_TOO_LONG);
        kg_form_free(&f);
    }
    free(big);
}

static char *basic_of(const char *creds)
{
    static char h[4200];
    char enc[4096];
    /* standard base64 with padding */
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(creds), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)creds[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)(unsigned char)creds[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)creds[i + 2];
        enc[o++] = T[v >> 18];
        enc[o++] = T[(v >> 12) & 63];
        enc[o++] = i + 1 < n ? T[(v >> 6) & 63] : '=';
        enc[o++] = i + 2 < n ? T[v & 63] : '=';
    }
    enc[o] = '\0';
    snprintf(h, sizeof h, "Basic %s", enc);
    return h;
}

static void basic_auth(void **state)
{
    (void)state;
    struct kg_basic b;
    assert_int_equal(kg_authz_basic_parse(kg_str_c(basic_of("id:sec:ret")), &b, NULL), KG_OK);
    assert_string_equal(b.user, "id");
    assert_string_equal(b.pass, "sec:ret");
    assert_false(b.has_decoded);
    assert_int_equal(kg_authz_basic_parse(kg_str_c(basic_of("%69d:a%2Bb")), &b, NULL), KG_OK);
    assert_true(b.has_decoded);
    assert_string_equal(b.user_dec, "id");
    assert_string_equal(b.pass_dec, "a+b");
    assert_int_equal(kg_authz_basic_parse(kg_str_c(basic_of("client:")), &b, NULL), KG_OK);
    assert_string_equal(b.pass, "");
    assert_true(kg_authz_is_basic(KG_STR("basic abc")));
    static const char *const bad[] = {
        "Basic", "Basic ", "Bearer x", "Basic !!!!", "Basic bm9jb2xvbg==", "Basic YQ", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_not_equal(kg_authz_basic_parse(kg_str_c(bad[i]), &b, NULL), KG_OK);
    }
    assert_int_not_equal(kg_authz_basic_parse(kg_str_c(basic_of("a\x01:b")), &b, NULL), KG_OK);
    char *long_creds = malloc(2000);
    memset(long_creds, 'a', 1999);
    long_creds[1999] = '\0';
    long_creds[5] = ':';
    assert_int_equal(kg_authz_basic_parse(kg_str_c(basic_of(long_creds)), &b, NULL),
                     KG_ERR_TOO_LONG);
    free(long_creds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basics),
        cmocka_unit_test(repeats_and_garbage),
        cmocka_unit_test(caps),
        cmocka_unit_test(basic_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
