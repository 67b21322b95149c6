/* SPDX-License-Identifier: Apache-2.0
 * The resource-owner password grant (RFC 6749 4.3, seed 002): enabled per application; scope
 * required; the credentials are checked by kg_signin_password (throttled, no hint whether the
 * user exists). */
#include <stdio.h>
#include <string.h>

#include "oauth/authorize.h"

bool kg_grant_password(const struct kg_oreq *rq, struct kg_oout *out)
{
    struct kg_client c;
    if (!kg_client_for_grant(rq, &c, "password", out)) {
        return false;
    }
    const char *username = kg_form_get(rq->form, "username");
    const char *password = kg_form_get(rq->form, "password");
    const char *scope = kg_form_get(rq->form, "scope");
    if (!username || !password) {
        return kg_oout_fail(out, KG_OE_PARAM_MISSING, "username and password are required.");
    }
    if (!scope) { /* COMPAT: password grant without scope is invalid_request */
        return kg_oout_fail(out, KG_OE_PARAM_MISSING, "scope is required.");
    }
    struct kg_scope sc;
    if (!kg_scope_parse(rq, scope, &sc, out)) {
        return false;
    }
    struct kg_user user;
    if (!kg_signin_password(rq, username, password, &user, out)) {
        return false;
    }
    struct kg_store *st = rq->srv->store;

    struct kg_subject sub;
    memset(&sub, 0, sizeof sub);
    sub.is_user = true;
    sub.user = &user;
    sub.auth_time = rq->now;
    if (st->ops->principal_roles(st, rq->tenant->id, user.oid, sub.roles) != KG_OK) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    return kg_tokens_for_user(rq, &c, &sc, &sub, NULL, "password", out);
}
