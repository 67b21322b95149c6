/* SPDX-License-Identifier: Apache-2.0
 * The token endpoint's dispatch on grant_type (RFC 6749 4, SPEC 4). */
#include <string.h>

#include "oauth/oauth.h"

bool kg_token_request(const struct kg_oreq *rq, struct kg_oout *out)
{
    const char *g = kg_form_get(rq->form, "grant_type");
    if (!g) {
        return kg_oout_fail(out, KG_OE_GRANT_MISSING, NULL);
    }
    if (strcmp(g, "client_credentials") == 0) {
        return kg_grant_client_credentials(rq, out);
    }
    if (strcmp(g, "password") == 0) {
        return kg_grant_password(rq, out);
    }
    if (strcmp(g, "refresh_token") == 0) {
        return kg_grant_refresh(rq, out);
    }
    if (strcmp(g, "authorization_code") == 0) {
        return kg_grant_code(rq, out);
    }
    /* COMPAT: msal-node sends the bare word */
    if (strcmp(g, "urn:ietf:params:oauth:grant-type:device_code") == 0 ||
        strcmp(g, "device_code") == 0) {
        return kg_grant_device(rq, out);
    }
    return kg_oout_fail(out, KG_OE_UNSUPPORTED_GRANT, NULL);
}
