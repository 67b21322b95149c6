/* SPDX-License-Identifier: Apache-2.0
 * The OIDC userinfo endpoint (OIDC Core 5.3), GET and POST: a user access token of this tenant
 * as a Bearer header, or for POST as the access_token form field (RFC 6750 2.1, 2.2; exactly
 * one). Answers the user's claims, read fresh from the store so that a disabled or deleted user
 * gets nothing; sub is the same as in the ID token for the same client (COMPAT). Failures carry
 * the RFC 6750 3 challenge in WWW-Authenticate. */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "endpoints/endpoints.h"
#include "http/form.h"
#include "json/json.h"
#include "oauth/oauth.h"

/* RFC 6750 3: 401 (or 403 for insufficient_scope) with the challenge; error may be NULL when
 * the request carried no credentials at all (RFC 6750 3.1). */
static void challenge(const struct kg_req *req, struct kg_resp *resp, int status, const char *error,
                      const char *description)
{
    char h[300];
    if (error) {
        snprintf(h, sizeof h, "Bearer realm=\"keygate\", error=\"%s\", error_description=\"%s\"",
                 error, description);
    } else {
        snprintf(h, sizeof h, "Bearer realm=\"keygate\"");
    }
    struct kg_json *b = kg_json_obj();
    kg_json_set_str(b, "error", error ? error : "invalid_request");
    kg_json_set_str(b, "error_description", description);
    kg_json_set_str(b, "trace_id", req->trace_id);
    kg_resp_json(resp, status, b, "no-store");
    kg_resp_add_header(resp, "WWW-Authenticate", h);
}

/* The token from the Authorization header or the form body; NULL with *why set if absent or
 * ambiguous. */
static const char *bearer_of(const struct kg_req *req, struct kg_form *form, const char **why)
{
    size_t n = 0;
    struct kg_str h = kg_req_header(req, "Authorization", &n);
    const char *from_form = NULL;
    struct kg_str ct = kg_req_header(req, "Content-Type", NULL);
    if (strcmp(req->method, "POST") == 0 && req->body.n &&
        kg_str_starts(ct, "application/x-www-form-urlencoded")) {
        if (kg_form_parse(req->body, form, NULL) == KG_OK) {
            from_form = kg_form_get(form, "access_token");
        }
    }
    if (n > 1 || (n == 1 && from_form)) {
        *why = "Send the access token exactly once.";
        return NULL;
    }
    if (from_form) {
        return from_form;
    }
    if (n == 0) {
        *why = NULL;
        return NULL;
    }
    if (h.n < 8 || !kg_str_case_eq_c((struct kg_str){h.p, 7}, "Bearer ") || h.n - 7 > KG_MAX_JWT) {
        *why = "The Authorization header must be Bearer <access token>.";
        return NULL;
    }
    return h.p + 7; /* NUL-terminated: MHD header values are C strings */
}

void kg_ep_userinfo(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias)
{
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0) {
        kg_problem(resp, req, 405, 405, "Method Not Allowed", "userinfo accepts GET and POST.");
        kg_resp_add_header(resp, "Allow", "GET, POST");
        return;
    }
    struct kg_tenant t;
    if (!kg_tenant_or_problem(req, resp, alias, &t)) {
        return;
    }
    struct kg_form form = {0};
    const char *why = NULL;
    const char *token = bearer_of(req, &form, &why);
    if (!token) {
        challenge(req, resp, why ? 400 : 401, why ? "invalid_request" : NULL,
                  why ? why : "An access token is required.");
        kg_form_free(&form);
        return;
    }
    struct kg_oreq rq = {.srv = req->srv, .tenant = &t, .now = kg_now()};
    struct kg_json *claims = NULL;
    enum kg_rc rc = kg_access_token_verify(&rq, kg_str_c(token), &claims, NULL);
    kg_form_free(&form);
    if (rc == KG_ERR_STORE) {
        kg_problem_unavailable(resp, req);
        return;
    }
    if (rc) {
        challenge(req, resp, 401, "invalid_token",
                  rc == KG_ERR_DENIED ? "The access token is expired or revoked."
                                      : "The access token is not valid here.");
        return;
    }
    const char *idtyp = NULL, *oid = NULL;
    if (kg_json_get_str(claims, "idtyp", 8, &idtyp) != KG_OK || strcmp(idtyp, "user") != 0 ||
        kg_json_get_str(claims, "oid", KG_ID, &oid) != KG_OK) {
        kg_json_free(claims);
        challenge(req, resp, 403, "insufficient_scope",
                  "userinfo needs a token issued to a signed-in user.");
        return;
    }
    struct kg_user u;
    struct kg_store *st = req->srv->store;
    rc = st->ops->user_get(st, t.id, oid, &u);
    kg_json_free(claims);
    if (rc == KG_ERR_STORE) {
        kg_problem_unavailable(resp, req);
        return;
    }
    if (rc || u.disabled) {
        challenge(req, resp, 401, "invalid_token", "The user no longer exists or is disabled.");
        return;
    }
    struct kg_json *b = kg_json_obj();
    kg_json_set_str(b, "sub", u.oid);
    kg_json_set_str(b, "oid", u.oid);
    kg_json_set_str(b, "tid", t.id);
    kg_json_set_str(b, "name", u.display_name[0] ? u.display_name : u.username);
    kg_json_set_str(b, "preferred_username", u.username);
    if (u.email[0]) {
        kg_json_set_str(b, "email", u.email);
    }
    kg_resp_json(resp, 200, b, "no-store");
}
