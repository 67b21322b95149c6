/* SPDX-License-Identifier: Apache-2.0
 * JOSE for keygate, on cjose: signing keys (generation, RFC 7638 thumbprint kid, public JWK for
 * the JWKS, private JWK sealed with AES-256-GCM under the master key), JWS compact signing, and
 * strict JWT verification (RFC 8725): the algorithm comes from the key and never the header;
 * "none", HMAC and header-supplied keys (jwk, jku, x5u, x5c) and crit are refused; header and
 * claims are decoded through json/ with duplicate members refused. Pure: no store, no HTTP. */
#ifndef KG_JOSE_JOSE_H
#define KG_JOSE_JOSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/str.h"
#include "json/json.h"

struct kg_key; /* a usable signing/verification key (refcounted) */

/* Generates a key for alg ("RS256": RSA-2048, "ES256": P-256). Writes its kid (RFC 7638
 * thumbprint, base64url, 43 chars + NUL), its public JWK JSON (owned, with use/alg/kid) and its
 * private JWK sealed under master_key with the kid as associated data (owned). */
enum kg_rc kg_key_generate(const char *alg, const uint8_t master_key[32], char kid[48],
                           char **public_jwk, uint8_t **sealed, size_t *sealed_len,
                           struct kg_err *e);
/* Opens a sealed private key. The result is owned (kg_key_release). */
enum kg_rc kg_key_unseal(const char *alg, const char *kid, const uint8_t master_key[32],
                         const uint8_t *sealed, size_t sealed_len, struct kg_key **out,
                         struct kg_err *e);
void kg_key_retain(struct kg_key *k);
void kg_key_release(struct kg_key *k);
const char *kg_key_kid(const struct kg_key *k);
const char *kg_key_alg(const struct kg_key *k);

/* Signs claims as a compact JWS with header {alg, kid, typ}. Returns an owned string. */
enum kg_rc kg_jws_sign(struct kg_key *k, const char *typ, const struct kg_json *claims, char **out,
                       struct kg_err *e);
/* The same for claims already serialised as a JSON object (payload[0..n)). */
enum kg_rc kg_jws_sign_raw(struct kg_key *k, const char *typ, const char *payload, size_t n,
                           char **out, struct kg_err *e);

/* Splits and decodes a compact JWT's header (strictly checked, see above). Returns the kid
 * (copied into kid) and the header's alg. Does not verify. */
enum kg_rc kg_jwt_peek(struct kg_str jwt, char kid[48], char alg[16], struct kg_err *e);
/* Verifies the signature with k (whose alg must equal the header's) and returns the claims
 * (owned). Checks nothing else: callers check iss/aud/exp with kg_jwt_check_times. */
enum kg_rc kg_jwt_verify(struct kg_str jwt, struct kg_key *k, struct kg_json **claims,
                         struct kg_err *e);
/* exp/nbf/iat against now with skew seconds of tolerance. KG_ERR_DENIED when expired or
 * not yet valid; KG_ERR_INVALID when exp is missing or not a number. */
enum kg_rc kg_jwt_check_times(const struct kg_json *claims, int64_t now, int64_t skew,
                              struct kg_err *e);

#endif
