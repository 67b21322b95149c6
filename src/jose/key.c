/* SPDX-License-Identifier: Apache-2.0
 * Signing keys: generation, thumbprint kids, sealing at rest; see jose.h. */
#include <cjose/cjose.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/encode.h"
#include "core/limits.h"
#include "jose/jose.h"
#include "jose/key_internal.h"

void kg_key_retain(struct kg_key *k)
{
    atomic_fetch_add(&k->refs, 1);
}

void kg_key_release(struct kg_key *k)
{
    if (k && atomic_fetch_sub(&k->refs, 1) == 1) {
        cjose_jwk_release(k->jwk);
        free(k);
    }
}

const char *kg_key_kid(const struct kg_key *k)
{
    return k->kid;
}

const char *kg_key_alg(const struct kg_key *k)
{
    return k->alg;
}

/* RFC 7638 3: SHA-256 over the required members in lexicographic order, no whitespace. */
static enum kg_rc thumbprint(const struct kg_json *pub, const char *alg, char kid[48])
{
    static const char *const rsa[] = {"e", "kty", "n", NULL};
    static const char *const ec[] = {"crv", "kty", "x", "y", NULL};
    const char *const *names = strcmp(alg, "RS256") == 0 ? rsa : ec;
    struct kg_json *canon = kg_json_obj();
    for (int i = 0; names[i]; i++) {
        const char *v = NULL;
        if (kg_json_get_str(pub, names[i], 4096, &v) != KG_OK) {
            kg_json_free(canon);
            return KG_ERR_CRYPTO;
        }
        kg_json_set_str(canon, names[i], v);
    }
    char *s = kg_json_dump(canon);
    uint8_t h[KG_SHA256_LEN];
    kg_sha256(s, strlen(s), h);
    kg_b64url_encode(h, sizeof h, kid);
    free(s);
    kg_json_free(canon);
    return KG_OK;
}

enum kg_rc kg_key_generate(const char *alg, const uint8_t master_key[32], char kid[48],
                           char **public_jwk, uint8_t **sealed, size_t *sealed_len,
                           struct kg_err *e)
{
    cjose_err cerr;
    cjose_jwk_t *jwk = NULL;
    static const uint8_t F4[] = {0x01, 0x00, 0x01};
    if (strcmp(alg, "RS256") == 0) {
        jwk = cjose_jwk_create_RSA_random(2048, F4, sizeof F4, &cerr);
    } else if (strcmp(alg, "ES256") == 0) {
        jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
    } else {
        return KG_FAIL(e, KG_ERR_INVALID, "unsupported signing algorithm %s", alg);
    }
    if (!jwk) {
        return KG_FAIL(e, KG_ERR_CRYPTO, "key generation: %s", cerr.message);
    }
    enum kg_rc rc = KG_ERR_CRYPTO;
    char *pub_s = cjose_jwk_to_json(jwk, false, &cerr);
    struct kg_json *pub = NULL;
    char *priv_s = NULL;
    if (!pub_s || kg_json_parse(pub_s, strlen(pub_s), 65536, true, &pub, e) != KG_OK) {
        KG_FAIL(e, KG_ERR_CRYPTO, "public JWK export failed");
        goto out;
    }
    if (thumbprint(pub, alg, kid) != KG_OK || !cjose_jwk_set_kid(jwk, kid, strlen(kid), &cerr)) {
        KG_FAIL(e, KG_ERR_CRYPTO, "thumbprint failed");
        goto out;
    }
    kg_json_set_str(pub, "kid", kid);
    kg_json_set_str(pub, "use", "sig");
    kg_json_set_str(pub, "alg", alg);
    priv_s = cjose_jwk_to_json(jwk, true, &cerr);
    if (!priv_s) {
        KG_FAIL(e, KG_ERR_CRYPTO, "private JWK export failed");
        goto out;
    }
    size_t n = strlen(priv_s);
    uint8_t *box = kg_malloc(n + KG_SEAL_OVERHEAD);
    if (kg_seal(master_key, kid, strlen(kid), priv_s, n, box) != KG_OK) {
        free(box);
        KG_FAIL(e, KG_ERR_CRYPTO, "sealing failed");
        goto out;
    }
    *public_jwk = kg_json_dump(pub);
    *sealed = box;
    *sealed_len = n + KG_SEAL_OVERHEAD;
    rc = KG_OK;
out:
    if (priv_s) {
        kg_wipe(priv_s, strlen(priv_s));
        free(priv_s);
    }
    free(pub_s);
    kg_json_free(pub);
    cjose_jwk_release(jwk);
    return rc;
}

enum kg_rc kg_key_unseal(const char *alg, const char *kid, const uint8_t master_key[32],
                         const uint8_t *sealed, size_t sealed_len, struct kg_key **out,
                         struct kg_err *e)
{
    if (sealed_len < KG_SEAL_OVERHEAD || sealed_len > 65536) {
        return KG_FAIL(e, KG_ERR_CRYPTO, "sealed key has a bad size");
    }
    size_t n = sealed_len - KG_SEAL_OVERHEAD;
    char *json = kg_malloc(n + 1);
    if (kg_unseal(master_key, kid, strlen(kid), sealed, sealed_len, (uint8_t *)json) != KG_OK) {
        free(json);
        return KG_FAIL(e, KG_ERR_CRYPTO, "cannot open signing key %s (wrong master key?)", kid);
    }
    json[n] = '\0';
    cjose_err cerr;
    cjose_jwk_t *jwk = cjose_jwk_import(json, n, &cerr);
    kg_wipe(json, n);
    free(json);
    if (!jwk) {
        return KG_FAIL(e, KG_ERR_CRYPTO, "signing key import: %s", cerr.message);
    }
    cjose_jwk_kty_t want = strcmp(alg, "RS256") == 0   ? CJOSE_JWK_KTY_RSA
                           : strcmp(alg, "ES256") == 0 ? CJOSE_JWK_KTY_EC
                                                       : CJOSE_JWK_KTY_OCT;
    if (want == CJOSE_JWK_KTY_OCT || cjose_jwk_get_kty(jwk, &cerr) != want) {
        cjose_jwk_release(jwk);
        return KG_FAIL(e, KG_ERR_CRYPTO, "signing key %s is not a %s key", kid, alg);
    }
    struct kg_key *k = kg_calloc(1, sizeof *k);
    atomic_init(&k->refs, 1);
    k->jwk = jwk;
    kg_strlcpy(k->kid, kid, sizeof k->kid);
    kg_strlcpy(k->alg, alg, sizeof k->alg);
    *out = k;
    return KG_OK;
}
