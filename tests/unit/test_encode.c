/* SPDX-License-Identifier: Apache-2.0
 * core/encode: base64url (RFC 4648 10 vectors), strict decoding, form decoding with hostile
 * input, UTF-8 validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/encode.h"

static void b64url_vectors(void **state)
{
    (void)state;
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char enc[16];
        kg_b64url_encode((const uint8_t *)in[i], strlen(in[i]), enc);
        assert_string_equal(enc, out[i]);
        uint8_t dec[16];
        size_t n = 0;
        assert_int_equal(kg_b64url_decode(kg_str_c(out[i]), dec, sizeof dec, &n), KG_OK);
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(dec, in[i], n);
    }
    uint8_t all[3] = {0xfb, 0xff, 0xfe};
    char enc[8];
    kg_b64url_encode(all, 3, enc);
    assert_string_equal(enc, "-__-");
}

static void b64url_hostile(void **state)
{
    (void)state;
    uint8_t out[8];
    size_t n;
    assert_int_equal(kg_b64url_decode(KG_STR("Zg=="), out, sizeof out, &n), KG_ERR_INVALID);
    assert_int_equal(kg_b64url_decode(KG_STR("Z"), out, sizeof out, &n), KG_ERR_INVALID);
    assert_int_equal(kg_b64url_decode(KG_STR("Zh"), out, sizeof out, &n), KG_ERR_INVALID);
    assert_int_equal(kg_b64url_decode(KG_STR("Zm+v"), out, sizeof out, &n), KG_ERR_INVALID);
    assert_int_equal(kg_b64url_decode((struct kg_str){"Zm\0v", 4}, out, sizeof out, &n),
                     KG_ERR_INVALID);
    /* output cap: -1/0/+1 around 6 bytes */
    assert_int_equal(kg_b64url_decode(KG_STR("Zm9vYmFy"), out, 5, &n), KG_ERR_TOO_LONG);
    assert_int_equal(kg_b64url_decode(KG_STR("Zm9vYmFy"), out, 6, &n), KG_OK);
    assert_int_equal(kg_b64url_decode(KG_STR("Zm9vYmFy"), out, 7, &n), KG_OK);
}

static void b64_std(void **state)
{
    (void)state;
    uint8_t out[32];
    size_t n;
    assert_int_equal(kg_b64_decode(KG_STR("dXNlcjpwYXNz"), out, sizeof out, &n), KG_OK);
    assert_memory_equal(out, "user:pass", 9);
    assert_int_equal(kg_b64_decode(KG_STR("dXNlcjpwYXM="), out, sizeof out, &n), KG_OK);
    assert_int_equal(n, 8);
    assert_int_equal(kg_b64_decode(KG_STR("dXNlcjpwYXM"), out, sizeof out, &n), KG_ERR_INVALID);
    assert_int_equal(kg_b64_decode(KG_STR("dXNl-jpw"), out, sizeof out, &n), KG_ERR_INVALID);
}

static void form_decoding(void **state)
{
    (void)state;
    char out[64];
    size_t n;
    assert_int_equal(kg_form_decode(KG_STR("a+b%20c%2B"), out, &n), KG_OK);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "a b c+", 6);
    assert_int_equal(kg_form_decode(KG_STR("%C3%A9"), out, &n), KG_OK); /* é */
    static const char *const bad[] = {"%00",       "%0",           "%",      "%zz",   "%C3%28",
                                      "%ED%A0%80", "%F4%90%80%80", "%C0%AF", "a%01b", "%7F"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(kg_form_decode(kg_str_c(bad[i]), out, &n), KG_ERR_INVALID);
    }
}

static void utf8(void **state)
{
    (void)state;
    assert_true(kg_utf8_valid("héllo\tx", strlen("héllo\tx")));
    assert_false(kg_utf8_valid("\xc3", 1));
    assert_false(kg_utf8_valid("\xe0\x80\xaf", 3)); /* overlong */
    assert_false(kg_utf8_valid("a\0b", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(b64url_vectors), cmocka_unit_test(b64url_hostile),
        cmocka_unit_test(b64_std),        cmocka_unit_test(form_decoding),
        cmocka_unit_test(utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
