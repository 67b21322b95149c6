/* SPDX-License-Identifier: Apache-2.0
 * The client_credentials grant (RFC 6749 4.4, SPEC 4): confidential clients only; scope
 * {API}/.default; the token's roles are the application permissions granted to the client's
 * service principal. No row is written for the token itself, only its audit event (group
 * commit). When scope is absent (seed 003's curl) and the client holds permissions on exactly
 * one API, that API is meant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth/oauth.h"

/* The one API on which the client holds application permissions, for a request without scope. */
static bool implied_scope(const struct kg_oreq *rq, const struct kg_client *c, char *scope,
                          size_t n, struct kg_oout *out)
{
    struct kg_store *st = rq->srv->store;
    struct kg_api *apis = NULL;
    size_t na = 0, found = 0;
    if (st->ops->api_list(st, &apis, &na) != KG_OK) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    for (size_t i = 0; i < na; i++) {
        char perms[KG_LIST];
        if (st->ops->app_permissions(st, c->app.client_id, apis[i].id, perms) == KG_OK &&
            perms[0]) {
            if (found++ == 0) {
                snprintf(scope, n, "%s/.default", apis[i].identifier);
            }
        }
    }
    free(apis);
    if (found != 1) {
        return kg_oout_fail(out, KG_OE_SCOPE_DEFAULT_REQUIRED, NULL);
    }
    return true;
}

bool kg_grant_client_credentials(const struct kg_oreq *rq, struct kg_oout *out)
{
    struct kg_client c;
    memset(&c, 0, sizeof c);
    if (!kg_client_authenticate(rq, &c, out)) {
        return false;
    }
    if (c.app.is_public) {
        return kg_oout_fail(out, KG_OE_PUBLIC_CLIENT_CC, NULL);
    }
    if (!kg_client_allows(&c.app, "client_credentials")) {
        return kg_oout_fail(out, KG_OE_GRANT_NOT_ALLOWED, NULL);
    }
    char implied[KG_URI + 16];
    const char *scope = kg_form_get(rq->form, "scope");
    if (!scope) {
        if (!implied_scope(rq, &c, implied, sizeof implied, out)) {
            return false;
        }
        scope = implied;
    }
    struct kg_scope sc;
    if (!kg_scope_parse(rq, scope, &sc, out)) {
        return false;
    }
    /* SPEC 4: exactly {API}/.default, nothing else */
    if (!sc.has_api || !sc.api_default || sc.api_scopes[0] || sc.openid || sc.profile || sc.email ||
        sc.offline_access) {
        return kg_oout_fail(out, KG_OE_SCOPE_DEFAULT_REQUIRED, NULL);
    }
    struct kg_subject sub;
    memset(&sub, 0, sizeof sub);
    struct kg_store *st = rq->srv->store;
    if (st->ops->app_permissions(st, c.app.client_id, sc.api.id, sub.roles) != KG_OK) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    char jti[KG_ID] = "";
    int64_t exp = 0;
    if (!kg_tokens_mint(rq, &c, &sc, &sub, jti, &exp, out)) {
        return false;
    }
    struct kg_audit *a = kg_oout_audit(out, rq, "token.issued", "success");
    kg_strlcpy(a->actor_type, "app", sizeof a->actor_type);
    kg_strlcpy(a->actor_id, c.app.client_id, sizeof a->actor_id);
    kg_strlcpy(a->target, sc.api.identifier, sizeof a->target);
    snprintf(a->detail, sizeof a->detail, "grant=client_credentials jti=%s", jti);
    return true;
}
