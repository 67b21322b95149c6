/* SPDX-License-Identifier: Apache-2.0
 * Signing-key rotation without downtime (SPEC 9): a new key is published as "next" (in the
 * JWKS) first, and becomes active only once every cache of the JWKS has had time to fetch it
 * (min_age = the JWKS max-age); the key it replaces stays published until the last token it
 * signed has expired. Used by keygate signing-key rotate and by the server's schedule. */
#include <string.h>

#include "jose/jose.h"
#include "oauth/keyring.h"

enum kg_rc kg_signing_rotate(struct kg_store *st, const uint8_t master[32],
                             const struct kg_tenant *t, int64_t now, int64_t min_age,
                             bool *promoted, int64_t *ready_at, char new_kid[48], struct kg_err *e)
{
    struct kg_signing_key k;
    memset(&k, 0, sizeof k);
    enum kg_rc rc = kg_key_generate(t->signing_alg, master, k.kid, &k.public_jwk, &k.private_sealed,
                                    &k.private_sealed_len, e);
    if (rc) {
        return rc;
    }
    kg_strlcpy(k.tenant_id, t->id, sizeof k.tenant_id);
    kg_strlcpy(k.alg, t->signing_alg, sizeof k.alg);
    rc = st->ops->signing_key_rotate(st, t->id, &k, now, min_age, now + KG_MAX_TOKEN_LIFETIME + 60,
                                     promoted, ready_at);
    kg_strlcpy(new_kid, k.kid, 48);
    kg_signing_key_clear(&k);
    if (rc && rc != KG_ERR_CONFLICT) {
        return KG_FAIL(e, rc, "the signing keys of %s could not be rotated", t->name);
    }
    return rc;
}
