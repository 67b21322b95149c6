/* SPDX-License-Identifier: Apache-2.0
 * JWS compact signing and strict JWT verification (RFC 7515, RFC 7519, RFC 8725); see jose.h.
 * cjose does the signature arithmetic; the header and the claims are checked here first, so
 * that nothing cjose would accept (duplicate members, header keys, alg confusion) gets through. */
#include <cjose/cjose.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/limits.h"
#include "jose/jose.h"
#include "jose/key_internal.h"

enum kg_rc kg_jws_sign_raw(struct kg_key *k, const char *typ, const char *payload, size_t n,
                           char **out, struct kg_err *e)
{
    cjose_err cerr;
    enum kg_rc rc = KG_ERR_CRYPTO;
    cjose_jws_t *jws = NULL;
    cjose_header_t *h = cjose_header_new(&cerr);
    if (!h || !cjose_header_set(h, CJOSE_HDR_ALG, k->alg, &cerr) ||
        !cjose_header_set(h, CJOSE_HDR_KID, k->kid, &cerr) ||
        !cjose_header_set(h, "typ", typ, &cerr)) {
        KG_FAIL(e, KG_ERR_CRYPTO, "jws header: %s", cerr.message);
        goto out;
    }
    jws = cjose_jws_sign(k->jwk, h, (const uint8_t *)payload, n, &cerr);
    const char *ser = NULL;
    if (!jws || !cjose_jws_export(jws, &ser, &cerr)) {
        KG_FAIL(e, KG_ERR_CRYPTO, "jws sign: %s", cerr.message);
        goto out;
    }
    *out = kg_strdup(ser);
    rc = KG_OK;
out:
    cjose_jws_release(jws);
    cjose_header_release(h);
    return rc;
}

enum kg_rc kg_jws_sign(struct kg_key *k, const char *typ, const struct kg_json *claims, char **out,
                       struct kg_err *e)
{
    char *payload = kg_json_dump(claims);
    enum kg_rc rc = kg_jws_sign_raw(k, typ, payload, strlen(payload), out, e);
    free(payload);
    return rc;
}

/* Splits a compact JWS into its three base64url segments. */
static enum kg_rc split(struct kg_str jwt, struct kg_str seg[3], struct kg_err *e)
{
    if (jwt.n == 0 || jwt.n > KG_MAX_JWT) {
        return KG_FAIL(e, KG_ERR_INVALID, "jwt: size %zu", jwt.n);
    }
    const char *p = jwt.p, *end = jwt.p + jwt.n;
    for (int i = 0; i < 3; i++) {
        const char *dot = i < 2 ? memchr(p, '.', (size_t)(end - p)) : end;
        if (!dot) {
            return KG_FAIL(e, KG_ERR_INVALID, "jwt: not three segments");
        }
        seg[i] = (struct kg_str){p, (size_t)(dot - p)};
        if (seg[i].n == 0) {
            return KG_FAIL(e, KG_ERR_INVALID, "jwt: empty segment");
        }
        p = dot + 1;
    }
    if (memchr(seg[2].p, '.', seg[2].n)) {
        return KG_FAIL(e, KG_ERR_INVALID, "jwt: more than three segments");
    }
    return KG_OK;
}

static enum kg_rc decode_json(struct kg_str seg, size_t max, struct kg_json **out, struct kg_err *e)
{
    uint8_t *buf = kg_malloc(max);
    size_t n = 0;
    enum kg_rc rc = kg_b64url_decode(seg, buf, max, &n);
    if (rc) {
        free(buf);
        return KG_FAIL(e, KG_ERR_INVALID, "jwt: bad base64url");
    }
    rc = kg_json_parse((const char *)buf, n, max, true, out, e);
    free(buf);
    return rc;
}

/* RFC 8725 3.1, 3.10: the header names the key by kid only; anything that would let the token
 * choose its own key or algorithm is refused. */
static enum kg_rc check_header(const struct kg_json *h, char kid[48], char alg[16],
                               struct kg_err *e)
{
    static const char *const banned[] = {"jwk", "jku", "x5u", "x5c", "crit", NULL};
    for (int i = 0; banned[i]; i++) {
        if (kg_json_has(h, banned[i])) {
            return KG_FAIL(e, KG_ERR_INVALID, "jwt: header member %s refused", banned[i]);
        }
    }
    const char *a = NULL, *k = NULL, *typ = NULL;
    if (kg_json_get_str(h, "alg", 15, &a) != KG_OK) {
        return KG_FAIL(e, KG_ERR_INVALID, "jwt: alg missing");
    }
    if (strcmp(a, "RS256") != 0 && strcmp(a, "ES256") != 0) {
        return KG_FAIL(e, KG_ERR_INVALID, "jwt: alg %s refused", a);
    }
    if (kg_json_get_str(h, "kid", 47, &k) != KG_OK) {
        return KG_FAIL(e, KG_ERR_INVALID, "jwt: kid missing");
    }
    enum kg_rc trc = kg_json_get_str(h, "typ", 32, &typ);
    if (trc == KG_OK) {
        if (strcmp(typ, "JWT") != 0 && strcmp(typ, "at+jwt") != 0 &&
            strcmp(typ, "application/at+jwt") != 0) {
            return KG_FAIL(e, KG_ERR_INVALID, "jwt: typ refused");
        }
    } else if (trc != KG_ERR_NOT_FOUND) {
        return KG_FAIL(e, KG_ERR_INVALID, "jwt: typ malformed");
    }
    kg_strlcpy(kid, k, 48);
    kg_strlcpy(alg, a, 16);
    return KG_OK;
}

enum kg_rc kg_jwt_peek(struct kg_str jwt, char kid[48], char alg[16], struct kg_err *e)
{
    struct kg_str seg[3];
    struct kg_json *h = NULL;
    enum kg_rc rc = split(jwt, seg, e);
    if (rc) {
        return rc;
    }
    rc = decode_json(seg[0], 1024, &h, e);
    if (rc) {
        return KG_FAIL(e, KG_ERR_INVALID, "jwt: header is not a JSON object");
    }
    rc = check_header(h, kid, alg, e);
    kg_json_free(h);
    return rc;
}

enum kg_rc kg_jwt_verify(struct kg_str jwt, struct kg_key *k, struct kg_json **claims,
                         struct kg_err *e)
{
    char kid[48], alg[16];
    enum kg_rc rc = kg_jwt_peek(jwt, kid, alg, e);
    if (rc) {
        return rc;
    }
    if (strcmp(alg, k->alg) != 0 || strcmp(kid, k->kid) != 0) { /* RFC 8725 3.1 */
        return KG_FAIL(e, KG_ERR_INVALID, "jwt: alg or kid does not match the key");
    }
    cjose_err cerr;
    cjose_jws_t *jws = cjose_jws_import(jwt.p, jwt.n, &cerr);
    if (!jws) {
        return KG_FAIL(e, KG_ERR_INVALID, "jwt: %s", cerr.message);
    }
    bool ok = cjose_jws_verify(jws, k->jwk, &cerr);
    cjose_jws_release(jws);
    if (!ok) {
        return KG_FAIL(e, KG_ERR_INVALID, "jwt: bad signature");
    }
    struct kg_str seg[3];
    split(jwt, seg, e);
    return decode_json(seg[1], KG_MAX_JWT, claims, e);
}

enum kg_rc kg_jwt_check_times(const struct kg_json *claims, int64_t now, int64_t skew,
                              struct kg_err *e)
{
    int64_t exp = 0, nbf = 0;
    if (kg_json_get_int(claims, "exp", &exp) != KG_OK) {
        return KG_FAIL(e, KG_ERR_INVALID, "jwt: exp missing");
    }
    if (now > exp + skew) {
        return KG_FAIL(e, KG_ERR_DENIED, "jwt: expired");
    }
    enum kg_rc rc = kg_json_get_int(claims, "nbf", &nbf);
    if (rc == KG_ERR_INVALID) {
        return KG_FAIL(e, KG_ERR_INVALID, "jwt: nbf malformed");
    }
    if (rc == KG_OK && now + skew < nbf) {
        return KG_FAIL(e, KG_ERR_DENIED, "jwt: not yet valid");
    }
    return KG_OK;
}
