/* SPDX-License-Identifier: Apache-2.0
 * verify/: canonical forwarded paths (every trick refused), route patterns, role patterns,
 * trusted-proxy lists, the forwarded-header conventions with hostile header sets, and the
 * decision cache's keys and header checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "verify/forwarded.h"
#include "verify/memo.h"
#include "verify/path.h"
#include "verify/verify.h"

static bool canon(const char *in, char *out)
{
    return kg_path_canonical(kg_str_c(in), out, KG_MAX_VERIFY_PATH + 1);
}

static void paths(void **state)
{
    (void)state;
    char out[KG_MAX_VERIFY_PATH + 1];
    assert_true(canon("/apm/grids/g1/limits?x=1#f", out));
    assert_string_equal(out, "/apm/grids/g1/limits");
    assert_true(canon("/", out));
    assert_true(canon("/a/", out));
    assert_true(canon("/a%20b/%C3%A9", out)); /* reserved/other bytes may be encoded */
    assert_true(canon("/a?../../x", out));
    assert_string_equal(out, "/a");
    static const char *const bad[] = {
        "",       "a/b",    "//a",   "/a//b", "/a/./b",       "/a/../b", "/..",
        "/.",     "/a/..",  "/a;b",  "/a\\b", "/%2e%2e/x",    "/%2E/x",  "/a%2fb",
        "/a%2Fb", "/a%5cb", "/a%00", "/%41",  "/a%7e",        "/a%",     "/a%4",
        "/a%zz",  "/a b",   "/a\tb", "/\x01", "/caf\xc3\xa9", "/a%2d",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (canon(bad[i], out)) {
            fail_msg("accepted %s", bad[i]);
        }
    }
    /* the length cap at -1/0/+1 */
    char big[KG_MAX_VERIFY_PATH + 3];
    big[0] = '/';
    memset(big + 1, 'a', sizeof big - 2);
    big[KG_MAX_VERIFY_PATH] = '\0';
    assert_true(canon(big, out)); /* 2048 bytes */
    big[KG_MAX_VERIFY_PATH] = 'a';
    big[KG_MAX_VERIFY_PATH + 1] = '\0';
    assert_false(canon(big, out)); /* 2049 */
}

static void routes(void **state)
{
    (void)state;
    struct kg_route_params p;
    assert_true(kg_route_match("/apm/grids/{grid}/limits", "/apm/grids/g-1/limits", &p));
    assert_string_equal(kg_route_param(&p, "grid"), "g-1");
    assert_null(kg_route_param(&p, "other"));
    assert_true(kg_route_match("/a/*/c", "/a/b/c", &p));
    assert_true(kg_route_match("/", "/", &p));
    assert_false(kg_route_match("/a/*/c", "/a/c", &p));
    assert_false(kg_route_match("/a/*", "/a/", &p));
    assert_false(kg_route_match("/apm/grids/{grid}/limits", "/apm/grids/g/limits/x", &p));
    assert_false(kg_route_match("/apm/grids/{grid}/limits", "/apm/grids/g/limits/", &p));
    assert_false(kg_route_match("/apm/status", "/APM/status", &p));
    assert_false(kg_route_match("/apm/status", "/apm/statu", &p));
    assert_false(kg_route_match("/apm/status", "/apm/statuses", &p));
    assert_true(kg_route_pattern_valid("/apm/grids/{grid}/limits"));
    assert_true(kg_route_pattern_valid("/a/*"));
    assert_false(kg_route_pattern_valid("apm"));
    assert_false(kg_route_pattern_valid("/a/../b"));
    assert_false(kg_route_pattern_valid("/a?b"));
    assert_false(kg_route_pattern_valid(NULL));
}

static void role_patterns(void **state)
{
    (void)state;
    assert_true(kg_perm_granted("*", "grids:read"));
    assert_true(kg_perm_granted("*:read *:write", "limits:write"));
    assert_true(kg_perm_granted("grids:*", "grids:delete"));
    assert_true(kg_perm_granted("a:b grids:read", "grids:read"));
    assert_false(kg_perm_granted("*:read", "grids:write"));
    assert_false(kg_perm_granted("grids:*", "limits:read"));
    assert_false(kg_perm_granted("grids:rea", "grids:read"));
    assert_false(kg_perm_granted("grids:read", "grids:rea"));
    assert_false(kg_perm_granted("", "grids:read"));
    assert_false(kg_perm_granted("*", ""));
    assert_false(kg_perm_granted("*:*x", "a:b"));
    assert_true(kg_perm_granted("*:*", "a:b"));
    assert_true(kg_perm_granted("introspect", "introspect"));
    assert_false(kg_perm_granted("*:read", "introspect"));
}

static void proxies(void **state)
{
    (void)state;
    const char *list = "127.0.0.0/8, ::1/128,10.1.2.0/23";
    assert_true(kg_ip_list_valid(list));
    assert_true(kg_ip_trusted(list, "127.0.0.1"));
    assert_true(kg_ip_trusted(list, "127.255.0.9"));
    assert_true(kg_ip_trusted(list, "::1"));
    assert_true(kg_ip_trusted(list, "::ffff:127.0.0.1"));
    assert_true(kg_ip_trusted(list, "10.1.3.200"));
    assert_false(kg_ip_trusted(list, "10.1.4.1"));
    assert_false(kg_ip_trusted(list, "128.0.0.1"));
    assert_false(kg_ip_trusted(list, "::2"));
    assert_false(kg_ip_trusted(list, "unknown"));
    assert_false(kg_ip_trusted("", "127.0.0.1"));
    assert_false(kg_ip_list_valid("10.0.0.0/33"));
    assert_false(kg_ip_list_valid("10.0.0.0/"));
    assert_false(kg_ip_list_valid("host.example"));
    assert_false(kg_ip_list_valid("10.0.0.0/8,"));
}

static struct kg_kv kv(const char *n, const char *v)
{
    return (struct kg_kv){kg_str_c(n), kg_str_c(v)};
}

static void forwarded(void **state)
{
    (void)state;
    struct kg_original o;
    struct kg_kv h[4];
    h[0] = kv("X-Original-URI", "/apm/status?x=1");
    h[1] = kv("X-Original-Method", "PUT");
    assert_int_equal(kg_forwarded_original(h, 2, "GET", KG_STR(""), true, &o), KG_OE_NONE);
    assert_string_equal(o.path, "/apm/status");
    assert_string_equal(o.method, "PUT");
    assert_int_equal(kg_forwarded_original(h, 2, "GET", KG_STR(""), false, &o),
                     KG_OE_V_UNTRUSTED_PROXY);
    h[0] = kv("x-forwarded-uri", "/a");
    h[1] = kv("X-Forwarded-Method", "get"); /* lowercase method refused */
    assert_int_equal(kg_forwarded_original(h, 2, "GET", KG_STR(""), true, &o), KG_OE_V_BAD_URI);
    h[1] = kv("X-Forwarded-Uri", "/b"); /* sent twice */
    assert_int_equal(kg_forwarded_original(h, 2, "GET", KG_STR(""), true, &o), KG_OE_V_BAD_URI);
    h[0] = kv("X-Forwarded-Uri", "/a");
    h[1] = kv("X-Original-URI", "/b"); /* conventions disagree */
    assert_int_equal(kg_forwarded_original(h, 2, "GET", KG_STR(""), true, &o), KG_OE_V_BAD_URI);
    h[1] = kv("X-Original-URI", "/a"); /* agree */
    assert_int_equal(kg_forwarded_original(h, 2, "GET", KG_STR(""), true, &o), KG_OE_NONE);
    assert_int_equal(kg_forwarded_original(h, 2, "GET", KG_STR("/c"), true, &o),
                     KG_OE_V_BAD_URI); /* and a path after /verify too */
    assert_int_equal(kg_forwarded_original(NULL, 0, "DELETE", KG_STR("/x/y"), false, &o),
                     KG_OE_NONE);
    assert_string_equal(o.path, "/x/y");
    assert_string_equal(o.method, "DELETE");
    assert_int_equal(kg_forwarded_original(NULL, 0, "GET", KG_STR(""), true, &o), KG_OE_V_BAD_URI);
    h[0] = kv("Forwarded", "for=1.2.3.4");
    assert_int_equal(kg_forwarded_original(h, 1, "GET", KG_STR("/x"), false, &o),
                     KG_OE_V_UNTRUSTED_PROXY);
}

static const char *tenant_value; /* X-Tenant-ID of the request being looked up */
static struct kg_str tenant_header(const void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "X-Tenant-ID") == 0 ? kg_str_c(tenant_value) : KG_STR_NULL;
}

static void memo(void **state)
{
    (void)state;
    struct kg_memo *m = kg_memo_new();
    struct kg_vreq rq = {.method = "GET", .path = "/t/1", .api = "api://t", .now = 1000};
    rq.header = tenant_header;
    char key[KG_MEMO_KEY], other[KG_MEMO_KEY];
    assert_true(kg_memo_key(&rq, 'k', "h1", key));
    /* every input is part of the key, and the parts cannot run into each other */
    assert_true(kg_memo_key(&rq, 'b', "h1", other));
    assert_string_not_equal(key, other);
    struct kg_vreq r2 = rq;
    r2.caller_id = KG_STR("");
    assert_true(kg_memo_key(&r2, 'k', "h1", other));
    assert_string_not_equal(key, other); /* an empty caller id is not an absent one */
    r2 = rq;
    r2.path = "/t/1:4:GET";
    r2.method = "";
    assert_true(kg_memo_key(&r2, 'k', "h1", other));
    assert_string_not_equal(key, other);
    char long_path[KG_MEMO_KEY];
    memset(long_path, 'p', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    r2 = rq;
    r2.path = long_path;
    assert_false(kg_memo_key(&r2, 'k', "h1", other)); /* too long: never remembered */
    /* a decision that read X-Tenant-ID = contoso */
    struct kg_memo_header h = {0};
    struct kg_memo_reader reader = {tenant_header, NULL, &h};
    tenant_value = "contoso";
    kg_memo_read_header(&reader, "X-Tenant-ID");
    struct kg_identity id = {.tenant_id = "t1", .subject = "k1", .principal_type = "apikey"};
    kg_memo_put(m, key, 7, 1000, 2000, &h, &id, 5, "k1");
    struct kg_identity got;
    int64_t rate = 0;
    char key_id[KG_ID];
    assert_true(kg_memo_get(m, key, 7, &rq, &got, &rate, key_id));
    assert_string_equal(got.subject, "k1");
    assert_string_equal(key_id, "k1");
    assert_int_equal(rate, 5);
    /* another stamp, the end of its time, another header value, no header: not used */
    assert_false(kg_memo_get(m, key, 8, &rq, &got, &rate, key_id));
    rq.now = 2000;
    assert_false(kg_memo_get(m, key, 7, &rq, &got, &rate, key_id));
    rq.now = 1999;
    tenant_value = "fabrikam";
    assert_false(kg_memo_get(m, key, 7, &rq, &got, &rate, key_id));
    assert_string_equal(got.subject, ""); /* nothing of the remembered decision is left */
    assert_string_equal(got.tenant_id, "");
    assert_string_equal(key_id, "");
    tenant_value = NULL;
    assert_false(kg_memo_get(m, key, 7, &rq, &got, &rate, key_id));
    tenant_value = "contoso";
    assert_true(kg_memo_get(m, key, 7, &rq, &got, &rate, key_id));
    /* a decision that read two headers is not remembered */
    struct kg_memo_header two = {0};
    struct kg_memo_reader r3 = {tenant_header, NULL, &two};
    kg_memo_read_header(&r3, "X-Tenant-ID");
    kg_memo_read_header(&r3, "X-Other");
    assert_true(kg_memo_key(&rq, 'b', "h2", other));
    kg_memo_put(m, other, 7, 1000, 2000, &two, &id, 0, "");
    assert_false(kg_memo_get(m, other, 7, &rq, &got, &rate, key_id));
    kg_memo_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths),   cmocka_unit_test(routes),    cmocka_unit_test(role_patterns),
        cmocka_unit_test(proxies), cmocka_unit_test(forwarded), cmocka_unit_test(memo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
