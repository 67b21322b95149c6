/* SPDX-License-Identifier: Apache-2.0
 * PKCE S256; see pkce.h. */
#include "oauth/pkce.h"

#include <string.h>

#include "core/crypto.h"
#include "core/encode.h"

bool kg_pkce_challenge_valid(const char *method, const char *challenge)
{
    if (!method || strcmp(method, "S256") != 0 || !challenge) { /* RFC 7636 4.2; no plain */
        return false;
    }
    size_t n = strlen(challenge);
    return n == 43 && kg_b64url_chars(challenge, n);
}

bool kg_pkce_verify(const char *verifier, const char *challenge)
{
    if (!verifier || !challenge) {
        return false;
    }
    size_t n = strlen(verifier);
    if (n < 43 || n > 128) { /* RFC 7636 4.1 */
        return false;
    }
    for (size_t i = 0; i < n; i++) { /* unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" */
        char c = verifier[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~')) {
            return false;
        }
    }
    uint8_t h[KG_SHA256_LEN];
    char enc[KG_B64URL_LEN(KG_SHA256_LEN) + 1];
    kg_sha256(verifier, n, h);
    size_t el = kg_b64url_encode(h, sizeof h, enc);
    return kg_ct_eq(enc, el, challenge, strlen(challenge)); /* RFC 7636 4.6 */
}
