/* SPDX-License-Identifier: Apache-2.0
 * Verifying an access token of a tenant (RFC 9068 4, RFC 8725, SPEC 12.4): the key comes from
 * the tenant's own key set by kid; iss must be the tenant's issuer; exp/nbf with 60 s skew; a
 * revoked jti is refused. */
#include <stdlib.h>
#include <string.h>

#include "oauth/keyring.h"
#include "oauth/oauth.h"

#define KG_SKEW 60

enum kg_rc kg_tenant_jwt_verify(const struct kg_oreq *rq, struct kg_str jwt,
                                struct kg_json **claims_out, struct kg_err *e)
{
    char kid[48], alg[16];
    enum kg_rc rc = kg_jwt_peek(jwt, kid, alg, e);
    if (rc) {
        return rc;
    }
    struct kg_key *key = NULL;
    rc = kg_keyring_by_kid(rq->srv->keys, rq->tenant->id, kid, &key, e);
    if (rc) {
        return rc == KG_ERR_STORE ? rc : KG_FAIL(e, KG_ERR_INVALID, "unknown kid");
    }
    struct kg_json *claims = NULL;
    rc = kg_jwt_verify(jwt, key, &claims, e);
    kg_key_release(key);
    if (rc) {
        return rc;
    }
    char iss[700];
    kg_issuer(rq->srv, rq->tenant, iss, sizeof iss);
    const char *got = NULL;
    if (kg_json_get_str(claims, "iss", sizeof iss, &got) != KG_OK || strcmp(got, iss) != 0) {
        kg_json_free(claims);
        return KG_FAIL(e, KG_ERR_INVALID, "iss mismatch");
    }
    *claims_out = claims;
    return KG_OK;
}

enum kg_rc kg_access_token_verify(const struct kg_oreq *rq, struct kg_str jwt,
                                  struct kg_json **claims_out, struct kg_err *e)
{
    struct kg_json *claims = NULL;
    const char *jti = NULL;
    enum kg_rc rc = kg_tenant_jwt_verify(rq, jwt, &claims, e);
    if (rc) {
        return rc;
    }
    rc = kg_jwt_check_times(claims, rq->now, KG_SKEW, e);
    if (rc) {
        goto out;
    }
    if (kg_json_get_str(claims, "jti", KG_ID, &jti) != KG_OK) {
        rc = KG_FAIL(e, KG_ERR_INVALID, "jti missing");
        goto out;
    }
    rc = rq->srv->store->ops->jti_revoked(rq->srv->store, jti);
    if (rc == KG_OK) {
        rc = KG_FAIL(e, KG_ERR_DENIED, "revoked");
        goto out;
    }
    if (rc != KG_ERR_NOT_FOUND) {
        goto out;
    }
    rc = KG_OK;
    *claims_out = claims;
    claims = NULL;
out:
    kg_json_free(claims);
    return rc;
}
