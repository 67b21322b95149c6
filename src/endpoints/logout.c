/* SPDX-License-Identifier: Apache-2.0
 * RP-initiated logout (OIDC RP-Initiated Logout 1.0, SPEC 3): ends the browser's session of the
 * tenant and deletes its cookie, then redirects to post_logout_redirect_uri only if it is
 * registered for the client (named by client_id or by the aud of a valid id_token_hint) -
 * otherwise it shows a signed-out page. Without an id_token_hint of the signed-in user, the
 * user confirms first (a CSRF-protected form), so a third-party page cannot sign anyone out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/encode.h"
#include "endpoints/endpoints.h"
#include "endpoints/signin.h"
#include "oauth/redirect.h"
#include "web/html.h"

struct logout {
    const struct kg_req *req;
    struct kg_resp *resp;
    struct kg_tenant t;
    struct kg_form form;
    struct kg_browser br;
    struct kg_oreq rq;
    struct kg_app app;
    bool have_app;
    char hint_sub[KG_ID]; /* sub of a valid id_token_hint, "" if none */
};

/* The client and the subject of a valid id_token_hint. */
static void read_hint(struct logout *l)
{
    const char *hint = kg_form_get(&l->form, "id_token_hint");
    struct kg_json *claims = NULL;
    const char *aud = NULL, *sub = NULL;
    if (hint && kg_tenant_jwt_verify(&l->rq, kg_str_c(hint), &claims, NULL) == KG_OK) {
        if (kg_json_get_str(claims, "sub", KG_ID - 1, &sub) == KG_OK) {
            kg_strlcpy(l->hint_sub, sub, sizeof l->hint_sub);
        }
        if (kg_json_get_str(claims, "aud", KG_ID - 1, &aud) != KG_OK) {
            aud = NULL;
        }
    }
    const char *cid = kg_form_get(&l->form, "client_id");
    const char *want = cid ? cid : aud;
    if (want && (!aud || strcmp(want, aud) == 0) && strlen(want) < KG_ID) {
        struct kg_store *st = l->req->srv->store;
        l->have_app = st->ops->app_get(st, l->t.id, want, &l->app) == KG_OK;
    }
    kg_json_free(claims);
}

static void signed_out(struct logout *l, const char *uri)
{
    if (uri) {
        struct kg_buf u;
        kg_buf_init(&u, KG_MAX_REDIRECT_URI + KG_MAX_STATE * 3 + 16);
        kg_buf_adds(&u, uri);
        const char *state = kg_form_get(&l->form, "state");
        if (state && strlen(state) <= KG_MAX_STATE) {
            kg_buf_adds(&u, strchr(uri, '?') ? "&state=" : "?state=");
            kg_url_encode(&u, state);
        }
        kg_resp_set_body(l->resp, 302, NULL, NULL);
        kg_resp_add_header(l->resp, "Location", u.p);
        kg_resp_add_header(l->resp, "Cache-Control", "no-store");
        kg_buf_free(&u);
        return;
    }
    struct kg_buf b;
    kg_buf_init(&b, KG_HTML_MAX);
    kg_page_message(&b, l->t.display_name, "You have signed out", "You can close this window.");
    kg_signin_send(l->resp, 200, &b);
}

static void run(struct logout *l)
{
    const struct kg_req *req = l->req;
    bool done = false;
    const char *action = kg_signin_begin(req, l->resp, &l->t, &l->br, &l->form, &l->rq, &done);
    if (done) {
        return;
    }
    if (action && strcmp(action, "logout") != 0) {
        kg_signin_error_page(req, l->resp, l->t.display_name, KG_OE_AZ_BAD_REQUEST);
        return;
    }
    bool confirmed = action != NULL;
    read_hint(l);
    const char *uri = kg_form_get(&l->form, "post_logout_redirect_uri");
    if (uri && (!l->have_app || strlen(uri) > KG_MAX_REDIRECT_URI ||
                !kg_redirect_match_any(l->app.redirect_uris, uri))) {
        kg_signin_error_page(req, l->resp, l->t.display_name, KG_OE_AZ_REDIRECT_UNREGISTERED);
        return;
    }
    struct kg_session s;
    struct kg_user u;
    enum kg_rc rc = kg_signin_current(req, l->t.id, &s, &u);
    if (rc == KG_ERR_STORE) {
        kg_signin_error_page(req, l->resp, l->t.display_name, KG_OE_UNAVAILABLE);
        return;
    }
    bool hint_matches = l->hint_sub[0] && rc == KG_OK && strcmp(l->hint_sub, u.oid) == 0;
    if (rc == KG_OK && !confirmed && !hint_matches) {
        struct kg_page pg;
        memset(&pg, 0, sizeof pg);
        char action_path[96];
        snprintf(action_path, sizeof action_path, "/%s/oauth2/v2.0/logout", l->t.id);
        pg.org = l->t.display_name;
        pg.action = action_path;
        pg.csrf = l->br.csrf;
        kg_signin_hidden(&l->form, &pg.hidden);
        struct kg_buf b;
        kg_buf_init(&b, KG_HTML_MAX);
        kg_page_logout_confirm(&b, &pg, u.username);
        kg_signin_send(l->resp, 200, &b);
        return;
    }
    if (rc == KG_OK) {
        struct kg_audit *a = kg_resp_audit(l->resp, req);
        kg_strlcpy(a->tenant_id, l->t.id, sizeof a->tenant_id);
        kg_strlcpy(a->actor_type, "user", sizeof a->actor_type);
        kg_strlcpy(a->actor_id, u.oid, sizeof a->actor_id);
        kg_strlcpy(a->caller_id, u.username, sizeof a->caller_id);
        kg_strlcpy(a->action, "signout", sizeof a->action);
        kg_strlcpy(a->target, s.sid, sizeof a->target);
        kg_strlcpy(a->outcome, "success", sizeof a->outcome);
    }
    kg_browser_session_end(req, l->resp, l->t.id, l->rq.now);
    signed_out(l, uri);
}

void kg_ep_logout(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias)
{
    if (!kg_signin_method_ok(req, resp)) {
        return;
    }
    struct logout *l = kg_calloc(1, sizeof *l);
    l->req = req;
    l->resp = resp;
    if (kg_signin_tenant(req, resp, alias, &l->t)) {
        run(l);
    }
    kg_form_free(&l->form);
    free(l);
}
