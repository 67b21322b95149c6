/* SPDX-License-Identifier: Apache-2.0
 * The /device page (RFC 8628 3.3, SPEC 3, 5): the user types the code their device shows, signs
 * in to the device code's tenant (or uses their session there), and allows or declines. Wrong
 * codes are throttled per IP (SPEC 12.9); every form carries the browser's CSRF token; the
 * consent is always asked here, since the user must confirm which device they are letting in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "endpoints/endpoints.h"
#include "endpoints/signin.h"
#include "oauth/authorize.h"
#include "oauth/device.h"
#include "oauth/throttle.h"
#include "web/html.h"

struct dev {
    const struct kg_req *req;
    struct kg_resp *resp;
    struct kg_form form;
    struct kg_browser br;
    struct kg_tenant t;
    struct kg_oreq rq;
    struct kg_oout out;
    struct kg_device d;
    struct kg_app app;
    struct kg_authz az; /* only its scope: for the consent words */
    char code[KG_USER_CODE_LEN + 1];
};

static void page(struct dev *x, struct kg_page *pg)
{
    memset(pg, 0, sizeof *pg);
    pg->org = x->t.display_name;
    pg->action = "/device";
    pg->csrf = x->br.csrf;
    if (x->code[0]) {
        kg_fields_add(&pg->hidden, "user_code", x->code);
    }
}

static void show_code(struct dev *x, const char *prefill, const char *error)
{
    struct kg_page pg;
    page(x, &pg);
    pg.hidden.n = 0;
    pg.org = NULL;
    struct kg_buf b;
    kg_buf_init(&b, KG_HTML_MAX);
    kg_page_device_code(&b, &pg, prefill, error);
    kg_signin_send(x->resp, error ? 400 : 200, &b);
}

static void show_login(struct dev *x, const char *username, const char *error)
{
    struct kg_page pg;
    page(x, &pg);
    struct kg_buf b;
    kg_buf_init(&b, KG_HTML_MAX);
    kg_page_login(&b, &pg, x->app.name, username, error);
    kg_signin_send(x->resp, error ? 401 : 200, &b);
}

static void show_consent(struct dev *x, const struct kg_user *u)
{
    struct kg_page pg;
    page(x, &pg);
    char words[KG_LIST], shown[KG_USER_CODE_LEN + 2], note[160];
    kg_authz_consent_words(&x->az, words);
    kg_user_code_display(x->code, shown);
    snprintf(note, sizeof note,
             "Only allow this if you started the sign-in on your device "
             "and it shows the code %s.",
             shown);
    const struct kg_scope *sc = &x->az.scope;
    struct kg_buf b;
    kg_buf_init(&b, KG_HTML_MAX);
    kg_page_consent(&b, &pg, x->app.name, kg_signin_user_label(u), words,
                    sc->has_api ? sc->api.identifier : NULL, sc->has_api ? sc->api.name : NULL,
                    note);
    kg_signin_send(x->resp, 200, &b);
}

static void message(struct dev *x, const char *title, const char *text)
{
    struct kg_buf b;
    kg_buf_init(&b, KG_HTML_MAX);
    kg_page_message(&b, x->t.display_name, title, text);
    kg_signin_send(x->resp, 200, &b);
}

/* Finds the pending device code the user typed, with its tenant, client and scope. Shows the
 * code page with an error (and counts a failure) when there is none. */
static bool lookup(struct dev *x)
{
    char slot[64];
    snprintf(slot, sizeof slot, "device:%s", x->req->peer);
    struct kg_throttle *th = x->req->srv->throttle;
    int64_t now = kg_now();
    if (kg_throttle_wait(th, slot, KG_THROTTLE_DEVICE_FAILURES, now)) {
        show_code(x, NULL, "Too many wrong codes. Wait a few minutes, then try again.");
        return false;
    }
    const char *typed = kg_form_get(&x->form, "user_code");
    struct kg_store *st = x->req->srv->store;
    enum kg_rc rc = KG_ERR_NOT_FOUND;
    if (kg_user_code_normalize(typed, x->code)) {
        rc = st->ops->device_by_user_code(st, x->code, &x->d);
    }
    if (rc == KG_ERR_STORE) {
        kg_signin_error_page(x->req, x->resp, NULL, KG_OE_UNAVAILABLE);
        return false;
    }
    if (rc || strcmp(x->d.status, "pending") != 0 || x->d.expires_at <= now) {
        kg_throttle_fail(th, slot, now);
        x->code[0] = '\0';
        show_code(x, typed, "That code is not valid or has expired. Check it and try again.");
        return false;
    }
    rc = st->ops->tenant_get(st, x->d.tenant_id, &x->t);
    if (!rc) {
        rc = st->ops->app_get(st, x->d.tenant_id, x->d.client_id, &x->app);
    }
    kg_signin_oreq(x->req, &x->t, &x->form, &x->rq);
    x->rq.now = now;
    if (rc || !kg_scope_parse(&x->rq, x->d.scope, &x->az.scope, &x->out)) {
        kg_signin_error_page(x->req, x->resp, NULL, KG_OE_UNAVAILABLE);
        return false;
    }
    return true;
}

static void decide(struct dev *x, const struct kg_user *u, bool allow)
{
    struct kg_store *st = x->req->srv->store;
    enum kg_rc rc = st->ops->device_decide(st, x->code, allow, u->oid, x->rq.now, x->rq.now);
    if (rc == KG_ERR_CONFLICT) {
        show_code(x, NULL, "That code has just been used or has expired.");
        return;
    }
    if (rc) {
        kg_signin_error_page(x->req, x->resp, x->t.display_name, KG_OE_UNAVAILABLE);
        return;
    }
    struct kg_audit *a =
        kg_oout_audit(&x->out, &x->rq, allow ? "device.approved" : "device.declined",
                      allow ? "success" : "denied");
    kg_strlcpy(a->actor_type, "user", sizeof a->actor_type);
    kg_strlcpy(a->actor_id, u->oid, sizeof a->actor_id);
    kg_strlcpy(a->caller_id, u->username, sizeof a->caller_id);
    kg_strlcpy(a->target, x->app.client_id, sizeof a->target);
    if (allow) {
        char need[KG_LIST], have[KG_LIST] = "", merged[KG_LIST];
        kg_authz_consent_words(&x->az, need);
        if (st->ops->consent_get(st, x->t.id, u->oid, x->app.client_id, have) == KG_OK) {
            kg_words_union(have, need, merged);
            st->ops->consent_put(st, x->t.id, u->oid, x->app.client_id, merged, x->rq.now);
        }
        message(x, "You're signed in",
                "Your device is signed in now. You can close this window and return to it.");
    } else {
        message(x, "Sign-in declined", "Your device was not signed in. You can close this window.");
    }
}

static void run(struct dev *x)
{
    const struct kg_req *req = x->req;
    bool done = false;
    const char *action = kg_signin_begin(req, x->resp, NULL, &x->br, &x->form, &x->rq, &done);
    if (done) {
        return;
    }
    if (!action) {
        const char *pre = kg_form_get(&x->form, "user_code");
        show_code(x, pre && strlen(pre) <= 32 ? pre : NULL, NULL);
        return;
    }
    if (!lookup(x)) {
        return;
    }
    struct kg_session s;
    struct kg_user u;
    if (strcmp(action, "login") == 0) {
        if (kg_signin_login(req, x->resp, &x->rq, &s, &u, &x->out)) {
            show_consent(x, &u);
        } else if (x->out.err == KG_OE_UNAVAILABLE) {
            kg_signin_error_page(req, x->resp, x->t.display_name, KG_OE_UNAVAILABLE);
        } else {
            show_login(x, kg_form_get(&x->form, "username"), kg_oerr_info(x->out.err)->description);
        }
        return;
    }
    enum kg_rc rc = kg_signin_current(req, x->t.id, &s, &u);
    if (rc == KG_ERR_STORE) {
        kg_signin_error_page(req, x->resp, x->t.display_name, KG_OE_UNAVAILABLE);
    } else if (rc) {
        show_login(x, NULL, strcmp(action, "consent") == 0 ? "Sign in again to continue." : NULL);
    } else if (strcmp(action, "consent") == 0) {
        const char *d = kg_form_get(&x->form, "kg_consent");
        decide(x, &u, d && strcmp(d, "allow") == 0);
    } else {
        show_consent(x, &u);
    }
}

void kg_ep_device(const struct kg_req *req, struct kg_resp *resp)
{
    if (!kg_signin_method_ok(req, resp)) {
        return;
    }
    if (!req->on_worker && kg_signin_is_password_post(req)) {
        resp->offload = true;
        return;
    }
    struct dev *x = kg_calloc(1, sizeof *x);
    x->req = req;
    x->resp = resp;
    run(x);
    kg_signin_audit(req, resp, &x->out);
    kg_form_free(&x->form);
    kg_oout_clear(&x->out);
    free(x);
}

void kg_ep_stylesheet(const struct kg_req *req, struct kg_resp *resp)
{
    (void)req;
    kg_resp_set_body(resp, 200, "text/css; charset=utf-8", kg_strdup(kg_web_css));
    kg_resp_add_header(resp, "Cache-Control", "public, max-age=86400");
}
