/* SPDX-License-Identifier: Apache-2.0
 * Client authentication at the token, introspection and revocation endpoints (RFC 6749 2.3,
 * SPEC 4): a confidential client must use exactly the method it is registered for; using the
 * other one, or both, is invalid_client. Basic credentials are tried raw first, then
 * form-decoded (COMPAT). Secrets are stored as SHA-256 and compared in constant time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "http/authz.h"
#include "oauth/oauth.h"

static bool id_chars_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > KG_MAX_CLIENT_ID) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return true;
}

/* Any unexpired stored secret whose hash equals the candidate's. */
static bool secret_matches(struct kg_store *st, const char *client_id, const char *secret,
                           int64_t now)
{
    if (!kg_secret_valid("kg_sec_", kg_str_c(secret))) {
        return false; /* malformed: refused without touching the store (SPEC 9) */
    }
    char h[KG_HASH_HEX];
    kg_store_hash_secret(secret, strlen(secret), h);
    struct kg_secret_rec *recs = NULL;
    size_t n = 0;
    bool ok = false;
    if (st->ops->secret_list(st, client_id, &recs, &n) == KG_OK) {
        for (size_t i = 0; i < n; i++) {
            bool live = recs[i].expires_at == 0 || recs[i].expires_at > now;
            /* evaluate every entry: no early exit that would time the match position */
            ok |= live & kg_ct_eq(h, strlen(h), recs[i].hash, strlen(recs[i].hash));
        }
    }
    free(recs);
    return ok;
}

bool kg_client_allows(const struct kg_app *app, const char *grant)
{
    return kg_words_has(app->grants, grant, strlen(grant));
}

bool kg_client_for_grant(const struct kg_oreq *rq, struct kg_client *c, const char *grant,
                         struct kg_oout *out)
{
    memset(c, 0, sizeof *c);
    if (!kg_client_authenticate(rq, c, out)) {
        return false;
    }
    if (!kg_client_allows(&c->app, grant)) {
        return kg_oout_fail(out, KG_OE_GRANT_NOT_ALLOWED, NULL);
    }
    return true;
}

bool kg_client_authenticate(const struct kg_oreq *rq, struct kg_client *c, struct kg_oout *out)
{
    const char *form_id = kg_form_get(rq->form, "client_id");
    const char *form_secret = kg_form_get(rq->form, "client_secret");
    if (kg_form_get(rq->form, "client_assertion") ||
        kg_form_get(rq->form, "client_assertion_type")) {
        return kg_oout_fail(out, KG_OE_CLIENT_AUTH_METHOD, "private_key_jwt is not supported.");
    }
    struct kg_basic basic;
    const char *id = NULL;
    const char *candidates[2] = {NULL, NULL};
    bool ok = false;
    memset(&basic, 0, sizeof basic);

    if (rq->authorization.p) {
        out->basic_used = kg_authz_is_basic(rq->authorization);
        if (rq->authorization_count > 1) {
            kg_oout_fail(out, KG_OE_CLIENT_AUTH_MULTIPLE, "Two Authorization headers.");
            goto out;
        }
        if (!out->basic_used || kg_authz_basic_parse(rq->authorization, &basic, NULL) != KG_OK) {
            out->basic_used = true;
            kg_oout_fail(out, KG_OE_CLIENT_AUTH_FAILED, "The Authorization header is malformed.");
            goto out;
        }
        if (form_secret) {
            kg_oout_fail(out, KG_OE_CLIENT_AUTH_MULTIPLE, NULL);
            goto out;
        }
        id = basic.user;
        if (basic.pass[0]) {
            c->method = "client_secret_basic";
            candidates[0] = basic.pass;
            candidates[1] = basic.has_decoded ? basic.pass_dec : NULL;
        } else {
            c->method = "none"; /* Basic with an empty password: a public client (COMPAT) */
        }
        if (form_id && strcmp(form_id, id) != 0 &&
            !(basic.has_decoded && strcmp(form_id, basic.user_dec) == 0)) {
            kg_oout_fail(out, KG_OE_CLIENT_AUTH_MULTIPLE, "client_id differs from Basic user.");
            goto out;
        }
    } else if (form_secret) {
        if (!form_id) {
            kg_oout_fail(out, KG_OE_CLIENT_ID_MISSING, NULL);
            goto out;
        }
        id = form_id;
        c->method = "client_secret_post";
        candidates[0] = form_secret;
    } else if (form_id) {
        id = form_id;
        c->method = "none";
    } else {
        kg_oout_fail(out, KG_OE_CLIENT_ID_MISSING, NULL);
        goto out;
    }

    struct kg_store *st = rq->srv->store;
    enum kg_rc rc = KG_ERR_NOT_FOUND;
    if (id_chars_ok(id)) {
        rc = st->ops->app_get(st, rq->tenant->id, id, &c->app);
    }
    if (rc == KG_ERR_NOT_FOUND && basic.has_decoded && id_chars_ok(basic.user_dec)) {
        id = basic.user_dec;
        rc = st->ops->app_get(st, rq->tenant->id, id, &c->app);
    }
    if (rc == KG_ERR_STORE) {
        kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
        goto out;
    }
    if (rc) { /* unknown here, or of another tenant: the same answer (SPEC 12.5) */
        kg_oout_fail(out, KG_OE_CLIENT_AUTH_FAILED, NULL);
        goto out;
    }
    if (c->app.is_public) {
        if (strcmp(c->method, "none") != 0) {
            kg_oout_fail(out, KG_OE_CLIENT_AUTH_METHOD, "A public client sends no secret.");
            goto out;
        }
        ok = true;
        goto out;
    }
    if (strcmp(c->method, "none") == 0) {
        kg_oout_fail(out, KG_OE_CLIENT_AUTH_MISSING, NULL);
        goto out;
    }
    if (strcmp(c->method, c->app.auth_method) != 0) {
        char extra[96];
        snprintf(extra, sizeof extra, "It is registered for %s.", c->app.auth_method);
        kg_oout_fail(out, KG_OE_CLIENT_AUTH_METHOD, extra);
        goto out;
    }
    for (int i = 0; i < 2 && !ok; i++) {
        ok = candidates[i] && secret_matches(st, c->app.client_id, candidates[i], rq->now);
    }
    if (!ok) {
        kg_oout_fail(out, KG_OE_CLIENT_AUTH_FAILED, NULL);
    }
out:
    kg_basic_wipe(&basic);
    return ok;
}
