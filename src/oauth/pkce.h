/* SPDX-License-Identifier: Apache-2.0
 * PKCE (RFC 7636): checking a code challenge when it is stored and a code verifier when it is
 * redeemed. Only S256 exists here; "plain" is refused (SPEC 12.2). Pure functions. */
#ifndef KG_OAUTH_PKCE_H
#define KG_OAUTH_PKCE_H

#include <stdbool.h>

/* RFC 7636 4.2 and 4.3: method must be "S256" and challenge 43 base64url characters (the
 * encoding of a SHA-256). */
bool kg_pkce_challenge_valid(const char *method, const char *challenge);
/* RFC 7636 4.1 and 4.6: the verifier is 43..128 unreserved characters and
 * BASE64URL(SHA256(verifier)) equals the challenge (compared in constant time). */
bool kg_pkce_verify(const char *verifier, const char *challenge);

#endif
