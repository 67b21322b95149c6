/* SPDX-License-Identifier: Apache-2.0
 * Shared pieces of the sign-in endpoints; see signin.h. */
#include "endpoints/signin.h"

#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "endpoints/endpoints.h"
#include "oauth/authorize.h"
#include "web/html.h"

bool kg_signin_tenant(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias,
                      struct kg_tenant *t)
{
    enum kg_rc rc = kg_tenant_resolve(req, alias, t);
    if (rc) {
        kg_signin_error_page(req, resp, NULL,
                             rc == KG_ERR_STORE ? KG_OE_UNAVAILABLE : KG_OE_TENANT_UNKNOWN);
    }
    return rc == KG_OK;
}

bool kg_signin_method_ok(const struct kg_req *req, struct kg_resp *resp)
{
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "POST") == 0) {
        return true;
    }
    kg_problem(resp, req, 405, 405, "Method Not Allowed", "Use GET or POST.");
    kg_resp_add_header(resp, "Allow", "GET, POST");
    return false;
}

void kg_signin_oreq(const struct kg_req *req, const struct kg_tenant *t, const struct kg_form *form,
                    struct kg_oreq *rq)
{
    *rq = (struct kg_oreq){.srv = req->srv,
                           .tenant = t,
                           .form = form,
                           .peer = req->peer,
                           .trace_id = req->trace_id,
                           .correlation_id = "",
                           .now = kg_now()};
}

const char *kg_signin_begin(const struct kg_req *req, struct kg_resp *resp,
                            const struct kg_tenant *t, struct kg_browser *br, struct kg_form *form,
                            struct kg_oreq *rq, bool *done)
{
    *done = true;
    kg_browser_init(req, resp, br);
    if (!kg_signin_params(req, form)) {
        kg_signin_error_page(req, resp, t ? t->display_name : NULL, KG_OE_AZ_BAD_REQUEST);
        return NULL;
    }
    kg_signin_oreq(req, t, form, rq);
    const char *action = kg_form_get(form, "kg_action");
    if (action && (strcmp(req->method, "POST") != 0 ||
                   !kg_browser_csrf_ok(br, kg_form_get(form, "kg_csrf")))) {
        kg_signin_error_page(req, resp, t ? t->display_name : NULL, KG_OE_AZ_CSRF);
        return NULL;
    }
    *done = false;
    return action;
}

static bool form_content_type(const struct kg_req *req)
{
    size_t n = 0;
    struct kg_str ct = kg_req_header(req, "Content-Type", &n);
    return n == 1 && kg_str_starts(ct, "application/x-www-form-urlencoded");
}

bool kg_signin_params(const struct kg_req *req, struct kg_form *form)
{
    memset(form, 0, sizeof *form);
    if (strcmp(req->method, "POST") == 0) {
        return !req->body_too_large && form_content_type(req) &&
               kg_form_parse(req->body, form, NULL) == KG_OK;
    }
    if (req->nquery >= KG_MAX_QUERY) {
        return false; /* the server stopped collecting: there were too many */
    }
    struct kg_buf q;
    kg_buf_init(&q, KG_MAX_FORM_BODY);
    bool ok = true;
    for (size_t i = 0; i < req->nquery && ok; i++) {
        const struct kg_kv *kv = &req->query[i];
        ok = (i == 0 || kg_buf_add(&q, "&", 1) == KG_OK) &&
             kg_buf_add(&q, kv->name.p, kv->name.n) == KG_OK && kg_buf_add(&q, "=", 1) == KG_OK &&
             (!kv->value.p || kg_buf_add(&q, kv->value.p, kv->value.n) == KG_OK);
    }
    ok = ok && kg_form_parse((struct kg_str){q.p ? q.p : "", q.n}, form, NULL) == KG_OK;
    kg_buf_free(&q);
    return ok;
}

bool kg_signin_is_password_post(const struct kg_req *req)
{
    if (strcmp(req->method, "POST") != 0 || !form_content_type(req)) {
        return false;
    }
    struct kg_form f;
    bool yes = false;
    if (kg_form_parse(req->body, &f, NULL) == KG_OK) {
        const char *a = kg_form_get(&f, "kg_action");
        yes = a && strcmp(a, "login") == 0;
        kg_form_free(&f);
    }
    return yes;
}

enum kg_rc kg_signin_current(const struct kg_req *req, const char *tenant_id, struct kg_session *s,
                             struct kg_user *u)
{
    enum kg_rc rc = kg_browser_session(req, tenant_id, s);
    if (rc) {
        return rc;
    }
    struct kg_store *st = req->srv->store;
    rc = st->ops->user_get(st, tenant_id, s->user_oid, u);
    if (rc == KG_OK && u->disabled) {
        rc = KG_ERR_NOT_FOUND;
    }
    return rc;
}

bool kg_signin_login(const struct kg_req *req, struct kg_resp *resp, const struct kg_oreq *rq,
                     struct kg_session *s, struct kg_user *u, struct kg_oout *out)
{
    const char *username = kg_form_get(rq->form, "username");
    const char *password = kg_form_get(rq->form, "password");
    if (!username || !password) {
        return kg_oout_fail(out, KG_OE_BAD_CREDENTIALS, NULL);
    }
    if (!kg_signin_password(rq, username, password, u, out)) {
        return false;
    }
    if (kg_browser_session_start(req, resp, rq->tenant->id, u->oid, rq->now, s) != KG_OK) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    struct kg_audit *a = kg_oout_audit(out, rq, "signin.succeeded", "success");
    kg_strlcpy(a->actor_type, "user", sizeof a->actor_type);
    kg_strlcpy(a->actor_id, u->oid, sizeof a->actor_id);
    kg_strlcpy(a->caller_id, u->username, sizeof a->caller_id);
    kg_strlcpy(a->target, s->sid, sizeof a->target);
    kg_strlcpy(a->detail, "page=login", sizeof a->detail);
    return true;
}

void kg_signin_hidden(const struct kg_form *form, struct kg_fields *h)
{
    for (size_t i = 0; i < form->n; i++) {
        const char *n = form->f[i].name;
        if (strncmp(n, "kg_", 3) == 0 || strcmp(n, "username") == 0 || strcmp(n, "password") == 0 ||
            strcmp(n, "user_code") == 0) {
            continue;
        }
        kg_fields_add(h, n, form->f[i].value);
    }
}

void kg_signin_send(struct kg_resp *resp, int status, struct kg_buf *page)
{
    kg_page_send(resp, status, page, NULL);
}

void kg_signin_error_page(const struct kg_req *req, struct kg_resp *resp, const char *org,
                          enum kg_oerr e)
{
    const struct kg_oerr_info *in = kg_oerr_info(e);
    struct kg_buf b;
    kg_buf_init(&b, KG_HTML_MAX);
    const char *title = in->status == 503 ? "Try again shortly" : "Sign-in cannot continue";
    kg_page_error(&b, org, title, in->description, in->code, req->trace_id);
    kg_signin_send(resp, in->status, &b);
}

static void commit_failed(struct kg_resp *resp, const struct kg_req *req)
{
    kg_resp_clear(resp);
    kg_signin_error_page(req, resp, NULL, KG_OE_UNAVAILABLE);
}

void kg_signin_audit(const struct kg_req *req, struct kg_resp *resp, struct kg_oout *out)
{
    for (size_t i = 0; i < out->naudit; i++) {
        *kg_resp_audit(resp, req) = out->audit[i];
    }
    if (out->naudit) {
        resp->on_commit_failure = commit_failed;
    }
    out->naudit = 0;
}

const char *kg_signin_user_label(const struct kg_user *u)
{
    return u->display_name[0] ? u->display_name : u->username;
}
