/* SPDX-License-Identifier: Apache-2.0
 * The authorization endpoint (SPEC 3, 5; RFC 6749 4.1; OIDC Core 3.1.2), GET and POST. One
 * request at a time, with no server-side pending state: the authorization request travels in
 * the hidden fields of the login and consent forms and is validated again at every step.
 *  1. An unknown client or an unregistered redirect URI gets an error page, never a redirect.
 *  2. Other errors go back to the client (error, error_description, state).
 *  3. Without a usable session (none, prompt=login, older than max_age, another login_hint):
 *     the login page, or login_required for prompt=none.
 *  4. Without consent to every scope asked (or with prompt=consent): the consent page, or
 *     consent_required for prompt=none.
 *  5. A code, with state, session_state and (when asked) client_info, in the response mode
 *     asked: query, fragment or form_post.
 * The pages' forms (kg_action = login | consent) carry a CSRF token bound to the browser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/encode.h"
#include "endpoints/endpoints.h"
#include "endpoints/signin.h"
#include "oauth/authorize.h"
#include "web/html.h"

struct flow {
    const struct kg_req *req;
    struct kg_resp *resp;
    struct kg_tenant t;
    struct kg_form form;
    struct kg_browser br;
    struct kg_oreq rq;
    struct kg_oout out;
    struct kg_authz az;
    char action[96]; /* this endpoint's path, for the forms */
};

/* Sends the answer to the client's redirect URI in the response mode of the request. */
static void answer(struct flow *f, const struct kg_fields *p)
{
    const struct kg_authz *az = &f->az;
    if (az->mode == KG_MODE_FORM_POST) {
        uint8_t r[16];
        char nonce[32];
        kg_random(r, sizeof r);
        kg_b64url_encode(r, sizeof r, nonce);
        struct kg_buf b;
        kg_buf_init(&b, KG_HTML_MAX);
        kg_page_form_post(&b, az->redirect_uri, p, nonce);
        kg_page_send(f->resp, 200, &b, nonce);
        return;
    }
    struct kg_buf u;
    kg_buf_init(&u, KG_MAX_REDIRECT_URI + 8192);
    kg_buf_adds(&u, az->redirect_uri);
    char sep = az->mode == KG_MODE_FRAGMENT ? '#' : strchr(az->redirect_uri, '?') ? '&' : '?';
    for (size_t i = 0; i < p->n; i++) {
        kg_buf_add(&u, i == 0 ? &sep : "&", 1);
        kg_url_encode(&u, p->name[i]);
        kg_buf_add(&u, "=", 1);
        kg_url_encode(&u, p->value[i]);
    }
    kg_resp_set_body(f->resp, 302, NULL, NULL);
    kg_resp_add_header(f->resp, "Location", u.p);
    kg_resp_add_header(f->resp, "Cache-Control", "no-store");
    kg_resp_add_header(f->resp, "Referrer-Policy", "no-referrer");
    kg_buf_free(&u);
}

/* RFC 6749 4.1.2.1: the error goes back to the client. */
static void answer_error(struct flow *f, enum kg_oerr e)
{
    const struct kg_oerr_info *in = kg_oerr_info(e);
    char desc[400], uri[600];
    snprintf(desc, sizeof desc, "KG%d: %s%s%s Trace ID: %s", in->code, in->description,
             f->out.err_extra[0] ? " " : "", f->out.err_extra, f->req->trace_id);
    snprintf(uri, sizeof uri, "%s/errors/%d", f->req->srv->cfg.public_url, in->code);
    struct kg_fields p = {0};
    kg_fields_add(&p, "error", in->error);
    kg_fields_add(&p, "error_description", desc);
    kg_fields_add(&p, "error_uri", uri);
    if (f->az.has_state) {
        kg_fields_add(&p, "state", f->az.state);
    }
    answer(f, &p);
}

static void page_ctx(struct flow *f, struct kg_page *pg)
{
    memset(pg, 0, sizeof *pg);
    pg->org = f->t.display_name;
    pg->action = f->action;
    pg->csrf = f->br.csrf;
    kg_signin_hidden(&f->form, &pg->hidden);
}

static void show_login(struct flow *f, const char *username, const char *error)
{
    struct kg_page pg;
    page_ctx(f, &pg);
    struct kg_buf b;
    kg_buf_init(&b, KG_HTML_MAX);
    kg_page_login(&b, &pg, f->az.client.app.name, username, error);
    kg_signin_send(f->resp, error ? 401 : 200, &b);
}

static void show_consent(struct flow *f, const struct kg_user *u, const char *words)
{
    struct kg_page pg;
    page_ctx(f, &pg);
    struct kg_buf b;
    kg_buf_init(&b, KG_HTML_MAX);
    const struct kg_scope *sc = &f->az.scope;
    kg_page_consent(&b, &pg, f->az.client.app.name, kg_signin_user_label(u), words,
                    sc->has_api ? sc->api.identifier : NULL, sc->has_api ? sc->api.name : NULL,
                    "You can change your mind later by signing out.");
    kg_signin_send(f->resp, 200, &b);
}

static void client_info(const struct kg_user *u, const char *tid, char *out)
{
    char info[200];
    snprintf(info, sizeof info, "{\"uid\":\"%s\",\"utid\":\"%s\"}", u->oid, tid);
    kg_b64url_encode((const uint8_t *)info, strlen(info), out);
}

/* Steps 4 and 5 for a signed-in user. consented: the consent form was just allowed. */
static void finish(struct flow *f, const struct kg_session *s, const struct kg_user *u,
                   bool consented)
{
    struct kg_store *st = f->req->srv->store;
    char need[KG_LIST], have[KG_LIST];
    kg_authz_consent_words(&f->az, need);
    if (st->ops->consent_get(st, f->t.id, u->oid, f->az.client.app.client_id, have) != KG_OK) {
        kg_signin_error_page(f->req, f->resp, f->t.display_name, KG_OE_UNAVAILABLE);
        return;
    }
    if (consented) {
        char merged[KG_LIST];
        kg_words_union(have, need, merged);
        if (st->ops->consent_put(st, f->t.id, u->oid, f->az.client.app.client_id, merged,
                                 f->rq.now) != KG_OK) {
            kg_signin_error_page(f->req, f->resp, f->t.display_name, KG_OE_UNAVAILABLE);
            return;
        }
        struct kg_audit *a = kg_oout_audit(&f->out, &f->rq, "consent.granted", "success");
        kg_strlcpy(a->actor_type, "user", sizeof a->actor_type);
        kg_strlcpy(a->actor_id, u->oid, sizeof a->actor_id);
        kg_strlcpy(a->target, f->az.client.app.client_id, sizeof a->target);
        kg_strlcpy(a->detail, need, sizeof a->detail);
    } else if (f->az.prompt_consent || !kg_words_cover(have, need)) {
        if (f->az.prompt_none) {
            answer_error(f, KG_OE_AZ_CONSENT_REQUIRED);
        } else {
            show_consent(f, u, need);
        }
        return;
    }
    char code[KG_SECRET_MAX], info[400];
    if (!kg_authz_issue_code(&f->rq, &f->az, u, s->sid, s->auth_time, code, &f->out)) {
        kg_signin_error_page(f->req, f->resp, f->t.display_name, f->out.err);
        return;
    }
    struct kg_fields p = {0};
    kg_fields_add(&p, "code", code);
    if (f->az.has_state) {
        kg_fields_add(&p, "state", f->az.state);
    }
    kg_fields_add(&p, "session_state", s->sid);
    if (f->az.client_info) { /* COMPAT: MSAL builds its account from it */
        client_info(u, f->t.id, info);
        kg_fields_add(&p, "client_info", info);
    }
    answer(f, &p);
    kg_wipe(code, sizeof code);
}

/* A session is usable unless prompt=login, max_age has passed, or login_hint names someone
 * else (OIDC Core 3.1.2.1). */
static bool usable(const struct flow *f, const struct kg_session *s, const struct kg_user *u)
{
    if (f->az.prompt_login) {
        return false;
    }
    if (f->az.max_age >= 0 && f->rq.now - s->auth_time > f->az.max_age) {
        return false;
    }
    if (f->az.login_hint[0]) {
        char key[KG_NAME * 2];
        if (!kg_username_key(f->az.login_hint, key, sizeof key) ||
            strcmp(key, u->username_key) != 0) {
            return false;
        }
    }
    return true;
}

static void on_request(struct flow *f)
{
    struct kg_session s;
    struct kg_user u;
    enum kg_rc rc = kg_signin_current(f->req, f->t.id, &s, &u);
    if (rc == KG_ERR_STORE) {
        kg_signin_error_page(f->req, f->resp, f->t.display_name, KG_OE_UNAVAILABLE);
        return;
    }
    if (rc == KG_OK && usable(f, &s, &u)) {
        finish(f, &s, &u, false);
    } else if (f->az.prompt_none) {
        answer_error(f, KG_OE_AZ_LOGIN_REQUIRED);
    } else {
        show_login(f, f->az.login_hint, NULL);
    }
}

static void on_login(struct flow *f)
{
    struct kg_session s;
    struct kg_user u;
    if (kg_signin_login(f->req, f->resp, &f->rq, &s, &u, &f->out)) {
        finish(f, &s, &u, false);
        return;
    }
    if (f->out.err == KG_OE_UNAVAILABLE) {
        kg_signin_error_page(f->req, f->resp, f->t.display_name, KG_OE_UNAVAILABLE);
        return;
    }
    show_login(f, kg_form_get(&f->form, "username"), kg_oerr_info(f->out.err)->description);
}

static void on_consent(struct flow *f)
{
    struct kg_session s;
    struct kg_user u;
    enum kg_rc rc = kg_signin_current(f->req, f->t.id, &s, &u);
    if (rc) {
        if (rc == KG_ERR_STORE) {
            kg_signin_error_page(f->req, f->resp, f->t.display_name, KG_OE_UNAVAILABLE);
        } else {
            show_login(f, NULL, "Your session has ended. Sign in again.");
        }
        return;
    }
    const char *d = kg_form_get(&f->form, "kg_consent");
    if (!d || strcmp(d, "allow") != 0) {
        struct kg_audit *a = kg_oout_audit(&f->out, &f->rq, "consent.declined", "denied");
        kg_strlcpy(a->actor_type, "user", sizeof a->actor_type);
        kg_strlcpy(a->actor_id, u.oid, sizeof a->actor_id);
        kg_strlcpy(a->target, f->az.client.app.client_id, sizeof a->target);
        answer_error(f, KG_OE_AZ_ACCESS_DENIED);
        return;
    }
    finish(f, &s, &u, true);
}

static void run(struct flow *f)
{
    const struct kg_req *req = f->req;
    bool done = false;
    const char *action = kg_signin_begin(req, f->resp, &f->t, &f->br, &f->form, &f->rq, &done);
    if (done) {
        return;
    }
    bool redirectable = false;
    if (!kg_authz_parse(&f->rq, &f->az, &redirectable, &f->out)) {
        if (redirectable) {
            answer_error(f, f->out.err);
        } else {
            kg_signin_error_page(req, f->resp, f->t.display_name, f->out.err);
        }
        return;
    }
    if (!action) {
        on_request(f);
    } else if (strcmp(action, "login") == 0) {
        on_login(f);
    } else if (strcmp(action, "consent") == 0) {
        on_consent(f);
    } else {
        kg_signin_error_page(req, f->resp, f->t.display_name, KG_OE_AZ_BAD_REQUEST);
    }
}

void kg_ep_authorize(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias)
{
    if (!kg_signin_method_ok(req, resp)) {
        return;
    }
    if (!req->on_worker && kg_signin_is_password_post(req)) {
        resp->offload = true; /* argon2 runs on a worker thread */
        return;
    }
    struct flow *f = kg_calloc(1, sizeof *f);
    f->req = req;
    f->resp = resp;
    if (kg_signin_tenant(req, resp, alias, &f->t)) {
        snprintf(f->action, sizeof f->action, "/%s/oauth2/v2.0/authorize", f->t.id);
        run(f);
        kg_signin_audit(req, resp, &f->out);
    }
    kg_form_free(&f->form);
    kg_oout_clear(&f->out);
    free(f);
}
