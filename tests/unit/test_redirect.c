/* SPDX-License-Identifier: Apache-2.0
 * oauth/pkce (RFC 7636 appendix B vector, downgrade and malformed verifiers) and oauth/redirect
 * (the redirect URI attacks of issue 3: traversal, case, added query, other host, user info,
 * fragment; the loopback port rule of RFC 8252 7.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "oauth/pkce.h"
#include "oauth/redirect.h"

static void pkce(void **state)
{
    (void)state;
    const char *v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"; /* RFC 7636 appendix B */
    const char *c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    assert_true(kg_pkce_challenge_valid("S256", c));
    assert_true(kg_pkce_verify(v, c));
    assert_false(kg_pkce_challenge_valid("plain", c)); /* SPEC 12.2 */
    assert_false(kg_pkce_challenge_valid(NULL, c));
    assert_false(kg_pkce_challenge_valid("S256", "short"));
    assert_false(kg_pkce_challenge_valid("S256", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
    assert_false(kg_pkce_verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", c)); /* wrong */
    assert_false(kg_pkce_verify(c, c)); /* the challenge itself as verifier (plain downgrade) */
    assert_false(kg_pkce_verify("short", c));
    assert_false(kg_pkce_verify(NULL, c));
    assert_false(kg_pkce_verify(v, NULL));
    char longv[130];
    memset(longv, 'a', 129);
    longv[129] = '\0';
    assert_false(kg_pkce_verify(longv, c)); /* 129 > 128 */
    assert_false(kg_pkce_verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX%", c));
}

static void registration(void **state)
{
    (void)state;
    static const char *const good[] = {
        "https://app.example.com/cb",      "http://127.0.0.1/cb",
        "http://localhost:8080/cb",        "http://[::1]:3000/cb",
        "com.example.app:/oauth2redirect", "https://app.example.com/cb?x=1"};
    static const char *const bad[] = {"",
                                      "https://app.example.com/cb#frag",
                                      "http://app.example.com/cb",
                                      "https://user:pw@a.com/cb",
                                      "https://a.com/c b",
                                      "/relative",
                                      "javascript:alert(1)",
                                      "https://a.com/\x01",
                                      "ftp://a.com/cb",
                                      "data:text/html,x"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *why = NULL;
        assert_true(kg_redirect_valid(good[i], &why));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        assert_false(kg_redirect_valid(bad[i], &why));
        assert_non_null(why);
    }
}

static void matching(void **state)
{
    (void)state;
    const char *reg = "https://app.example.com/cb";
    assert_true(kg_redirect_match(reg, "https://app.example.com/cb"));
    static const char *const attacks[] = {"https://app.example.com/cb/../evil",
                                          "https://app.example.com/CB",
                                          "https://APP.example.com/cb",
                                          "https://app.example.com/cb?x=1",
                                          "https://evil.com/cb",
                                          "https://app.example.com.evil.com/cb",
                                          "https://user@app.example.com/cb",
                                          "https://app.example.com/cb#x",
                                          "https://app.example.com/cb/",
                                          "https://app.example.com:443/cb",
                                          "http://app.example.com/cb",
                                          "https://app.example.com/c",
                                          "https://app.example.com/cb%2F..",
                                          ""};
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        assert_false(kg_redirect_match(reg, attacks[i]));
    }
    /* RFC 8252 7.3: loopback matches on any port, and only the port may differ */
    assert_true(kg_redirect_match("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"));
    assert_true(kg_redirect_match("http://localhost:3000/cb", "http://localhost:51234/cb"));
    assert_true(kg_redirect_match("http://[::1]:1/cb", "http://[::1]:2/cb"));
    assert_false(kg_redirect_match("http://127.0.0.1/cb", "http://localhost:5/cb"));
    assert_false(kg_redirect_match("http://127.0.0.1/cb", "http://127.0.0.1:5/cb2"));
    assert_false(kg_redirect_match("http://127.0.0.1/cb", "http://127.0.0.1:/cb"));
    assert_false(kg_redirect_match("http://127.0.0.1/cb", "http://127.0.0.1:5x/cb"));
    assert_false(kg_redirect_match("http://127.0.0.1/cb", "http://127.0.0.1.evil.com:5/cb"));
    assert_false(kg_redirect_match("http://127.0.0.1/cb", "https://127.0.0.1:5/cb"));
    assert_false(kg_redirect_match("https://127.0.0.1/cb", "https://127.0.0.1:5/cb"));
    assert_true(
        kg_redirect_match_any("https://a.com/x http://127.0.0.1/cb", "http://127.0.0.1:9/cb"));
    assert_false(kg_redirect_match_any("https://a.com/x https://b.com/y", "https://b.com/x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pkce),
        cmocka_unit_test(registration),
        cmocka_unit_test(matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
