/* SPDX-License-Identifier: Apache-2.0
 * The authorization_code grant (RFC 6749 4.1.3, RFC 7636 4.5-4.6, SPEC 4, 12.2-12.3): the code
 * must be this tenant's, issued to this client, unexpired, presented with the redirect_uri of
 * its request and the verifier of its challenge (a verifier without a stored challenge is a
 * downgrade and refused). It is consumed atomically together with the ids of what it will
 * produce, so that a replay revokes exactly those tokens. */
#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "oauth/pkce.h"
#include "oauth/oauth.h"

static bool replayed(const struct kg_oreq *rq, const struct kg_code *code, struct kg_oout *out)
{
    return kg_tokens_replayed(rq, &code->issued, code->user_oid, code->client_id,
                              "code.reuse_detected", KG_OE_CODE_REUSED, out);
}

/* Checks the request against the stored code; false with out->err set if it does not fit. */
static bool fits(const struct kg_oreq *rq, const struct kg_client *c, const struct kg_code *code,
                 struct kg_oout *out)
{
    if (strcmp(code->tenant_id, rq->tenant->id) != 0 ||
        strcmp(code->client_id, c->app.client_id) != 0) {
        return kg_oout_fail(out, KG_OE_CODE_INVALID, NULL); /* SPEC 12.5: no hint */
    }
    if (code->used_at) {
        return replayed(rq, code, out);
    }
    if (code->expires_at <= rq->now) {
        return kg_oout_fail(out, KG_OE_CODE_EXPIRED, NULL);
    }
    const char *ru = kg_form_get(rq->form, "redirect_uri");
    if (code->redirect_uri[0] && (!ru || strcmp(ru, code->redirect_uri) != 0)) {
        return kg_oout_fail(out, KG_OE_CODE_REDIRECT, NULL); /* RFC 6749 4.1.3 */
    }
    const char *verifier = kg_form_get(rq->form, "code_verifier");
    if (code->challenge[0]) {
        if (!verifier) {
            return kg_oout_fail(out, KG_OE_PKCE_MISSING, NULL);
        }
        if (!kg_pkce_verify(verifier, code->challenge)) {
            return kg_oout_fail(out, KG_OE_PKCE_FAILED, NULL);
        }
    } else if (verifier) {
        return kg_oout_fail(out, KG_OE_PKCE_UNEXPECTED, NULL);
    }
    return true;
}

bool kg_grant_code(const struct kg_oreq *rq, struct kg_oout *out)
{
    struct kg_client c;
    if (!kg_client_for_grant(rq, &c, "authorization_code", out)) {
        return false;
    }
    const char *value = kg_form_get(rq->form, "code");
    if (!value) {
        return kg_oout_fail(out, KG_OE_PARAM_MISSING, "code is required.");
    }
    if (!kg_secret_valid("kg_ac_", kg_str_c(value))) {
        return kg_oout_fail(out, KG_OE_CODE_INVALID, NULL); /* no store access (SPEC 9) */
    }
    struct kg_code code;
    char hash[KG_HASH_HEX];
    kg_store_hash_secret(value, strlen(value), hash);
    struct kg_store *st = rq->srv->store;
    enum kg_rc rc = st->ops->code_get(st, hash, &code);
    if (rc) {
        return kg_oout_fail(out, rc == KG_ERR_STORE ? KG_OE_UNAVAILABLE : KG_OE_CODE_INVALID, NULL);
    }
    if (!fits(rq, &c, &code, out)) {
        return false;
    }
    struct kg_user user;
    rc = st->ops->user_get(st, rq->tenant->id, code.user_oid, &user);
    if (rc) {
        return kg_oout_fail(out, rc == KG_ERR_STORE ? KG_OE_UNAVAILABLE : KG_OE_USER_GONE, NULL);
    }
    if (user.disabled) {
        return kg_oout_fail(out, KG_OE_USER_GONE, NULL);
    }
    struct kg_scope sc;
    if (!kg_scope_parse(rq, code.scope, &sc, out)) {
        return false;
    }
    struct kg_subject sub = {.is_user = true,
                             .user = &user,
                             .auth_time = code.auth_time,
                             .nonce = code.nonce,
                             .sid = code.sid};
    if (st->ops->principal_roles(st, rq->tenant->id, user.oid, sub.roles) != KG_OK) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    struct kg_issued is;
    kg_tokens_plan(rq, &c, &sc, &is);
    rc = st->ops->code_redeem(st, hash, rq->now, &is);
    if (rc == KG_ERR_CONFLICT) { /* redeemed concurrently: this is the replay */
        if (st->ops->code_get(st, hash, &code) != KG_OK) {
            return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
        }
        return replayed(rq, &code, out);
    }
    if (rc) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    return kg_tokens_for_user(rq, &c, &sc, &sub, &is, "authorization_code", out);
}
