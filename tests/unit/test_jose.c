/* SPDX-License-Identifier: Apache-2.0
 * jose/: key generation and sealing, sign/verify round trips for RS256 and ES256, and the
 * attacks of RFC 8725: alg none, HMAC with the public key, header-supplied keys, alg/kid
 * confusion, tampering, duplicate members, oversize and malformed tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/encode.h"
#include "core/limits.h"
#include "jose/jose.h"

static uint8_t MASTER[32] = {1, 2, 3};

struct fixture {
    struct kg_key *rs, *es;
    char *rs_pub;
};

static struct kg_key *make(const char *alg, char **pub_out)
{
    char kid[48];
    char *pub = NULL;
    uint8_t *sealed = NULL;
    size_t n = 0;
    assert_int_equal(kg_key_generate(alg, MASTER, kid, &pub, &sealed, &n, NULL), KG_OK);
    assert_int_equal(strlen(kid), 43);
    assert_null(strstr(pub, "\"d\""));
    struct kg_key *k = NULL;
    uint8_t wrong[32] = {9};
    assert_int_equal(kg_key_unseal(alg, kid, wrong, sealed, n, &k, NULL), KG_ERR_CRYPTO);
    sealed[n - 1] ^= 1; /* tampered box */
    assert_int_equal(kg_key_unseal(alg, kid, MASTER, sealed, n, &k, NULL), KG_ERR_CRYPTO);
    sealed[n - 1] ^= 1;
    assert_int_equal(kg_key_unseal(alg, "otherkid", MASTER, sealed, n, &k, NULL), KG_ERR_CRYPTO);
    assert_int_equal(kg_key_unseal(alg, kid, MASTER, sealed, n, &k, NULL), KG_OK);
    free(sealed);
    if (pub_out) {
        *pub_out = pub;
    } else {
        free(pub);
    }
    return k;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->rs = make("RS256", &f->rs_pub);
    f->es = make("ES256", NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    kg_key_release(f->rs);
    kg_key_release(f->es);
    free(f->rs_pub);
    free(f);
    return 0;
}

__attribute__((noinline)) static char *sign(struct kg_key *k)
{
    struct kg_json *c = kg_json_obj();
    kg_json_set_str(c, "iss", "https://x/t/v2.0");
    kg_json_set_int(c, "exp", 2000000000);
    kg_json_set_int(c, "nbf", 1000);
    char *jwt = NULL;
    assert_int_equal(kg_jws_sign(k, "at+jwt", c, &jwt, NULL), KG_OK);
    kg_json_free(c);
    return jwt;
}

/* Changes one character of the payload segment. */
static void flip_payload_char(char *jwt)
{
    char *p = strchr(jwt, '.') + 3;
    *p = *p == 'A' ? 'B' : 'A';
}

static void round_trip(void **state)
{
    struct fixture *f = *state;
    struct kg_key *keys[2] = {f->rs, f->es};
    for (int i = 0; i < 2; i++) {
        char *jwt = sign(keys[i]);
        char kid[48], alg[16];
        assert_int_equal(kg_jwt_peek(kg_str_c(jwt), kid, alg, NULL), KG_OK);
        assert_string_equal(kid, kg_key_kid(keys[i]));
        assert_string_equal(alg, kg_key_alg(keys[i]));
        struct kg_json *claims = NULL;
        assert_int_equal(kg_jwt_verify(kg_str_c(jwt), keys[i], &claims, NULL), KG_OK);
        assert_int_equal(kg_jwt_check_times(claims, 1500, 60, NULL), KG_OK);
        assert_int_equal(kg_jwt_check_times(claims, 2000000061, 60, NULL), KG_ERR_DENIED);
        assert_int_equal(kg_jwt_check_times(claims, 900, 60, NULL), KG_ERR_DENIED);
        kg_json_free(claims);
        /* the other key does not verify it */
        assert_int_not_equal(kg_jwt_verify(kg_str_c(jwt), keys[1 - i], &claims, NULL), KG_OK);
        /* tampered payload */
        flip_payload_char(jwt);
        assert_int_not_equal(kg_jwt_verify(kg_str_c(jwt), keys[i], &claims, NULL), KG_OK);
        free(jwt);
    }
}

static char *forge(const char *header, const char *payload, const char *sig)
{
    char *out = malloc(8192);
    char h[1024], p[2048];
    kg_b64url_encode((const uint8_t *)header, strlen(header), h);
    kg_b64url_encode((const uint8_t *)payload, strlen(payload), p);
    snprintf(out, 8192, "%s.%s.%s", h, p, sig);
    return out;
}

static void attacks(void **state)
{
    struct fixture *f = *state;
    const char *kid = kg_key_kid(f->rs);
    char hdr[256];
    struct kg_json *claims = NULL;
    const char *payload = "{\"iss\":\"x\",\"exp\":2000000000}";

    snprintf(hdr, sizeof hdr, "{\"alg\":\"none\",\"kid\":\"%s\"}", kid);
    char *t = forge(hdr, payload, "AAAA");
    assert_int_equal(kg_jwt_verify(kg_str_c(t), f->rs, &claims, NULL), KG_ERR_INVALID);
    free(t);

    /* HS256 "signed" with the public key as the HMAC secret */
    snprintf(hdr, sizeof hdr, "{\"alg\":\"HS256\",\"kid\":\"%s\"}", kid);
    t = forge(hdr, payload, "");
    unsigned char mac[32];
    unsigned int ml = 0;
    size_t signing_len = strlen(t) - 1;
    HMAC(EVP_sha256(), f->rs_pub, (int)strlen(f->rs_pub), (const unsigned char *)t, signing_len,
         mac, &ml);
    char sig[64];
    kg_b64url_encode(mac, ml, sig);
    strcat(t, sig); /* test code */
    assert_int_equal(kg_jwt_verify(kg_str_c(t), f->rs, &claims, NULL), KG_ERR_INVALID);
    free(t);

    static const char *const header_keys[] = {"jwk", "jku", "x5u", "x5c", "crit"};
    for (int i = 0; i < 5; i++) {
        snprintf(hdr, sizeof hdr, "{\"alg\":\"RS256\",\"kid\":\"%s\",\"%s\":\"x\"}", kid,
                 header_keys[i]);
        t = forge(hdr, payload, "AAAA");
        char k2[48], a2[16];
        assert_int_equal(kg_jwt_peek(kg_str_c(t), k2, a2, NULL), KG_ERR_INVALID);
        free(t);
    }
    /* duplicate members, in header and in claims */
    snprintf(hdr, sizeof hdr, "{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"%s\"}", kid);
    t = forge(hdr, payload, "AAAA");
    char k2[48], a2[16];
    assert_int_equal(kg_jwt_peek(kg_str_c(t), k2, a2, NULL), KG_ERR_INVALID);
    free(t);
    /* ES256 header on an RSA key: alg comes from the key */
    snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid);
    t = forge(hdr, payload, "AAAA");
    assert_int_equal(kg_jwt_verify(kg_str_c(t), f->rs, &claims, NULL), KG_ERR_INVALID);
    free(t);
    /* typ other than JWT/at+jwt */
    snprintf(hdr, sizeof hdr, "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"dpop+jwt\"}", kid);
    t = forge(hdr, payload, "AAAA");
    assert_int_equal(kg_jwt_peek(kg_str_c(t), k2, a2, NULL), KG_ERR_INVALID);
    free(t);
}

static void malformed(void **state)
{
    (void)state;
    char kid[48], alg[16];
    static const char *const bad[] = {"",     ".",      "..",          "a.b",         "a.b.c.d",
                                      "a..c", "!!.b.c", "eyJ.eyJ.sig", "e30.e30.AAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(kg_jwt_peek(kg_str_c(bad[i]), kid, alg, NULL), KG_ERR_INVALID);
    }
    char *big = malloc(KG_MAX_JWT + 2);
    memset(big, 'a', KG_MAX_JWT + 1);
    big[KG_MAX_JWT + 1] = '\0';
    assert_int_equal(kg_jwt_peek(kg_str_c(big), kid, alg, NULL), KG_ERR_INVALID);
    free(big);
}

static void secrets(void **state)
{
    (void)state;
    char s[KG_SECRET_MAX];
    kg_secret_new("kg_sec_", s);
    assert_int_equal(strlen(s), 7 + KG_SECRET_BODY + KG_SECRET_CHECK);
    assert_true(kg_secret_valid("kg_sec_", kg_str_c(s)));
    assert_false(kg_secret_valid("kg_rt_", kg_str_c(s)));
    s[10] = s[10] == 'A' ? 'B' : 'A'; /* one character off: checksum fails */
    assert_false(kg_secret_valid("kg_sec_", kg_str_c(s)));
    assert_false(kg_secret_valid("kg_sec_", KG_STR("kg_sec_short")));
    assert_true(kg_ct_eq("abc", 3, "abc", 3));
    assert_false(kg_ct_eq("abc", 3, "abd", 3));
    assert_false(kg_ct_eq("abc", 3, "ab", 2));
    assert_false(kg_ct_eq(NULL, 0, NULL, 0)); /* missing never matches */
    uint8_t key[32] = {7}, box[64], back[36];
    assert_int_equal(kg_seal(key, "ad", 2, "secret", 6, box), KG_OK);
    assert_int_equal(kg_unseal(key, "ad", 2, box, 6 + KG_SEAL_OVERHEAD, back), KG_OK);
    assert_memory_equal(back, "secret", 6);
    assert_int_equal(kg_unseal(key, "xx", 2, box, 6 + KG_SEAL_OVERHEAD, back), KG_ERR_CRYPTO);
}

/* A sealed key opened under the other algorithm is refused, not used to sign. */
static void signer_alg_must_match_key(void **state)
{
    (void)state;
    const char *algs[2] = {"RS256", "ES256"};
    for (int i = 0; i < 2; i++) {
        char kid[48];
        char *pub = NULL;
        uint8_t *sealed = NULL;
        size_t n = 0;
        struct kg_key *k = NULL;
        assert_int_equal(kg_key_generate(algs[i], MASTER, kid, &pub, &sealed, &n, NULL), KG_OK);
        assert_int_equal(kg_key_unseal(algs[1 - i], kid, MASTER, sealed, n, &k, NULL),
                         KG_ERR_CRYPTO);
        assert_null(k);
        free(pub);
        free(sealed);
    }
}

struct signing_thread {
    struct kg_key *k;
    int bad;
};

static void *sign_many(void *arg)
{
    struct signing_thread *t = arg;
    for (int i = 0; i < 50; i++) {
        char *jwt = NULL;
        struct kg_json *claims = NULL;
        char payload[64];
        int n = snprintf(payload, sizeof payload, "{\"i\":%d}", i);
        if (kg_jws_sign_raw(t->k, "JWT", payload, (size_t)n, &jwt, NULL) != KG_OK ||
            kg_jwt_verify(kg_str_c(jwt), t->k, &claims, NULL) != KG_OK) {
            t->bad++;
        }
        kg_json_free(claims);
        free(jwt);
    }
    return NULL;
}

/* One key signs from several threads at once (its signer pools contexts): every token verifies. */
static void signing_from_threads(void **state)
{
    (void)state;
    struct kg_key *keys[2] = {make("RS256", NULL), make("ES256", NULL)};
    for (int j = 0; j < 2; j++) {
        pthread_t th[12];
        struct signing_thread t[12];
        for (int i = 0; i < 12; i++) {
            t[i] = (struct signing_thread){keys[j], 0};
            assert_int_equal(pthread_create(&th[i], NULL, sign_many, &t[i]), 0);
        }
        for (int i = 0; i < 12; i++) {
            pthread_join(th[i], NULL);
            assert_int_equal(t[i].bad, 0);
        }
        kg_key_release(keys[j]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(attacks),
        cmocka_unit_test(malformed),
        cmocka_unit_test(secrets),
        cmocka_unit_test(signer_alg_must_match_key),
        cmocka_unit_test(signing_from_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
