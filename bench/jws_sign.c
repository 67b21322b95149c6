/* SPDX-License-Identifier: Apache-2.0
 * Micro-benchmark (not a test): time of one kg_jws_sign (cjose) per algorithm against one raw
 * OpenSSL EVP_DigestSign of the same key size on this machine, single thread. Evidence for or
 * against calling OpenSSL directly instead of cjose on the token path. */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/crypto.h"
#include "jose/jose.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double raw(const char *alg, int n)
{
    EVP_PKEY *k = strcmp(alg, "RS256") == 0 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    unsigned char msg[600], sig[512];
    memset(msg, 'a', sizeof msg);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        size_t sl = sizeof sig;
        EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k);
        EVP_DigestSign(c, sig, &sl, msg, sizeof msg);
        EVP_MD_CTX_free(c);
    }
    double us = (now() - t0) / n * 1e6;
    EVP_PKEY_free(k);
    return us;
}

/* What openssl speed does: one EVP_PKEY_CTX set up once, then SHA-256 and EVP_PKEY_sign per
 * signature (plus, for ES256, DER to the JWS's raw r||s). */
static double prepared(const char *alg, int n)
{
    bool rsa = strcmp(alg, "RS256") == 0;
    EVP_PKEY *k = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
    EVP_PKEY_sign_init(c);
    if (rsa) {
        EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING);
    }
    EVP_PKEY_CTX_set_signature_md(c, EVP_sha256());
    unsigned char msg[600], sig[512], dig[32], raw64[64];
    memset(msg, 'a', sizeof msg);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        size_t sl = sizeof sig;
        unsigned int dl = 0;
        EVP_Digest(msg, sizeof msg, dig, &dl, EVP_sha256(), NULL);
        EVP_PKEY_sign(c, sig, &sl, dig, dl);
        if (!rsa) {
            const unsigned char *p = sig;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sl);
            BN_bn2binpad(ECDSA_SIG_get0_r(es), raw64, 32);
            BN_bn2binpad(ECDSA_SIG_get0_s(es), raw64 + 32, 32);
            ECDSA_SIG_free(es);
        }
    }
    double us = (now() - t0) / n * 1e6;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(k);
    return us;
}

static double jose(const char *alg, int n)
{
    uint8_t master[32] = {1};
    char kid[48];
    char *pub = NULL;
    uint8_t *sealed = NULL;
    size_t sl = 0;
    struct kg_key *k = NULL;
    if (kg_key_generate(alg, master, kid, &pub, &sealed, &sl, NULL) ||
        kg_key_unseal(alg, kid, master, sealed, sl, &k, NULL)) {
        abort();
    }
    struct kg_json *claims = kg_json_obj();
    const char *names[] = {"iss", "aud", "sub", "oid", "tid", "azp", "client_id", "jti"};
    for (int i = 0; i < 8; i++) {
        kg_json_set_str(claims, names[i], "0123456789abcdef0123456789abcdef0123");
    }
    double t0 = now();
    for (int i = 0; i < n; i++) {
        char *jwt = NULL;
        kg_jws_sign(k, "at+jwt", claims, &jwt, NULL);
        free(jwt);
    }
    double us = (now() - t0) / n * 1e6;
    kg_json_free(claims);
    kg_key_release(k);
    free(pub);
    free(sealed);
    return us;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    printf("RS256: kg_jws_sign %.1f us   raw EVP_DigestSign %.1f us   prepared EVP_PKEY_sign %.1f "
           "us\n",
           jose("RS256", n), raw("RS256", n), prepared("RS256", n));
    printf("ES256: kg_jws_sign %.1f us   raw EVP_DigestSign %.1f us   prepared EVP_PKEY_sign %.1f "
           "us\n",
           jose("ES256", n * 10), raw("ES256", n * 10), prepared("ES256", n * 10));
    return 0;
}
