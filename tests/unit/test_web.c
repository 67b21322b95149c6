/* SPDX-License-Identifier: Apache-2.0
 * web/ and the sign-in helpers: cookie parsing with hostile headers (caps, duplicates, bad
 * octets, quoting), HTML escaping of every dangerous character, the page template refusing to
 * emit a dynamic value raw, user codes, consent word sets, and the URL encoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/limits.h"
#include "oauth/authorize.h"
#include "oauth/device.h"
#include "web/cookie.h"
#include "web/html.h"

static bool get(const char *header, const char *name, char *out, size_t n)
{
    return kg_cookie_get(kg_str_c(header), name, out, n);
}

static void cookies(void **state)
{
    (void)state;
    char v[64];
    assert_true(get("a=1; kg_b=xyz; c=3", "kg_b", v, sizeof v));
    assert_string_equal(v, "xyz");
    assert_true(get("kg_b=\"quoted\"", "kg_b", v, sizeof v));
    assert_string_equal(v, "quoted");
    assert_true(get("kg_b=x ", "kg_b", v, sizeof v));
    assert_false(get("kg_bb=1; xkg_b=2", "kg_b", v, sizeof v)); /* no prefix matches */
    assert_false(get("kg_b=1; kg_b=2", "kg_b", v, sizeof v));   /* planted duplicate */
    assert_false(get("kg_b=", "kg_b", v, sizeof v));
    assert_false(get("kg_b=a,b", "kg_b", v, sizeof v));
    assert_false(get("kg_b=a\\b", "kg_b", v, sizeof v));
    assert_false(get("kg_b=a\x01", "kg_b", v, sizeof v));
    assert_false(get("kg_b", "kg_b", v, sizeof v));
    assert_false(kg_cookie_get(KG_STR_NULL, "kg_b", v, sizeof v));
    /* value length: fits exactly, one too many */
    char h[200];
    snprintf(h, sizeof h, "kg_b=%064d", 0);
    assert_false(get(h, "kg_b", v, sizeof v));
    snprintf(h, sizeof h, "kg_b=%063d", 0);
    assert_true(get(h, "kg_b", v, sizeof v));
    /* header and pair caps */
    char *big = malloc(KG_MAX_COOKIE_HEADER + 2);
    memset(big, 'a', KG_MAX_COOKIE_HEADER + 1);
    memcpy(big, "kg_b=1;", 7);
    big[KG_MAX_COOKIE_HEADER + 1] = '\0';
    assert_false(get(big, "kg_b", v, sizeof v));
    big[KG_MAX_COOKIE_HEADER] = '\0';
    assert_true(get(big, "kg_b", v, sizeof v));
    free(big);
    struct kg_buf many;
    kg_buf_init(&many, 1 << 16);
    for (int i = 0; i < KG_MAX_COOKIES; i++) {
        kg_buf_printf(&many, "c%d=1; ", i);
    }
    kg_buf_adds(&many, "kg_b=1");
    assert_false(get(many.p, "kg_b", v, sizeof v)); /* 33 pairs */
    kg_buf_free(&many);
    char sc[200];
    kg_cookie_format(sc, sizeof sc, "kg_b", "v", -1);
    assert_string_equal(sc, "kg_b=v; Path=/; Secure; HttpOnly; SameSite=Lax");
    kg_cookie_format(sc, sizeof sc, "s", "x", 0);
    assert_non_null(strstr(sc, "Max-Age=0"));
}

static void escaping(void **state)
{
    (void)state;
    struct kg_buf b;
    kg_buf_init(&b, 4096);
    kg_html_esc(&b, "<script>\"a\" & 'b'</script>");
    assert_string_equal(b.p, "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;");
    kg_buf_free(&b);
    kg_buf_init(&b, 4096);
    kg_html(&b, "<p title=\"%s\">%s 100%%</p>", "\" onmouseover=\"x", "<b>");
    assert_string_equal(b.p, "<p title=\"&quot; onmouseover=&quot;x\">&lt;b&gt; 100%</p>");
    kg_buf_free(&b);
    kg_buf_init(&b, 4096);
    kg_html(&b, "%d %s", "x"); /* only %s is a value; anything else stays literal */
    assert_string_equal(b.p, "%d x");
    kg_buf_free(&b);
}

static void user_codes(void **state)
{
    (void)state;
    char c[KG_USER_CODE_LEN + 1], d[KG_USER_CODE_LEN + 2], n[KG_USER_CODE_LEN + 1];
    for (int i = 0; i < 200; i++) {
        kg_user_code_new(c);
        assert_int_equal(strlen(c), 8);
        assert_int_equal(strspn(c, "BCDFGHJKLMNPQRSTVWXZ"), 8);
        kg_user_code_display(c, d);
        assert_int_equal(d[4], '-');
        assert_true(kg_user_code_normalize(d, n));
        assert_string_equal(n, c);
    }
    assert_true(kg_user_code_normalize("bcdf-ghjk", n));
    assert_string_equal(n, "BCDFGHJK");
    assert_true(kg_user_code_normalize(" BCDF GHJK ", n));
    assert_false(kg_user_code_normalize("BCDF-GHJ", n));   /* 7 */
    assert_false(kg_user_code_normalize("BCDF-GHJKL", n)); /* 9 */
    assert_false(kg_user_code_normalize("BCDF-GHJA", n));  /* a vowel */
    assert_false(kg_user_code_normalize("BCDF-GHJ0", n));  /* a digit */
    assert_false(kg_user_code_normalize("BCDF\xc3\xa9GHJK", n));
    assert_false(kg_user_code_normalize(NULL, n));
    assert_false(kg_user_code_normalize("---------------------------------BCDFGHJK", n));
}

static void words(void **state)
{
    (void)state;
    assert_true(kg_words_cover("openid profile api://x/a", "profile openid"));
    assert_true(kg_words_cover("openid", ""));
    assert_false(kg_words_cover("openid profile", "openid email"));
    assert_false(kg_words_cover("api://x/ab", "api://x/a"));
    char out[KG_LIST];
    kg_words_union("openid profile", "email openid api://x/a", out);
    assert_string_equal(out, "openid profile email api://x/a");
    kg_words_union("", "a  b", out);
    assert_string_equal(out, "a b");
}

static void url_encoding(void **state)
{
    (void)state;
    struct kg_buf b;
    kg_buf_init(&b, 1024);
    kg_url_encode(&b, "a b&c=d#e\r\nf~_.-/\xc3\xa9");
    assert_string_equal(b.p, "a%20b%26c%3Dd%23e%0D%0Af~_.-%2F%C3%A9");
    kg_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cookies), cmocka_unit_test(escaping),     cmocka_unit_test(user_codes),
        cmocka_unit_test(words),   cmocka_unit_test(url_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
