/* SPDX-License-Identifier: Apache-2.0
 * What the sign-in endpoints (authorize, device, logout) share: reading their parameters,
 * the signed-in user of a browser, the login form's POST, error pages, and handing their audit
 * events to the group committer. */
#ifndef KG_ENDPOINTS_SIGNIN_H
#define KG_ENDPOINTS_SIGNIN_H

#include "http/form.h"
#include "http/http.h"
#include "oauth/oauth.h"
#include "web/browser.h"
#include "web/pages.h"

/* The tenant named by alias, or an error page (unknown tenant, store unavailable) and false. */
bool kg_signin_tenant(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias,
                      struct kg_tenant *t);
/* GET and POST only: otherwise answers 405 and returns false. */
bool kg_signin_method_ok(const struct kg_req *req, struct kg_resp *resp);
/* The oauth/ view of a sign-in request of tenant t with parameters form. */
void kg_signin_oreq(const struct kg_req *req, const struct kg_tenant *t, const struct kg_form *form,
                    struct kg_oreq *rq);
/* The start of every sign-in page request: the browser binding, the parameters and the oauth/
 * view. Returns the kg_action (NULL for none), or answers itself and sets *done: a malformed
 * request, or a form action that is not a POST carrying this browser's CSRF token. */
const char *kg_signin_begin(const struct kg_req *req, struct kg_resp *resp,
                            const struct kg_tenant *t, struct kg_browser *br, struct kg_form *form,
                            struct kg_oreq *rq, bool *done);
/* The request's parameters: the query string of a GET, the form body of a POST. false if they
 * are malformed (repeated, too long, badly encoded) or a POST is not a form. */
bool kg_signin_params(const struct kg_req *req, struct kg_form *form);
/* true if this is a POST whose kg_action is one that checks a password (it must run on a
 * worker thread: argon2). */
bool kg_signin_is_password_post(const struct kg_req *req);
/* The signed-in user of tenant_id in this browser: KG_OK, KG_ERR_NOT_FOUND, KG_ERR_STORE. */
enum kg_rc kg_signin_current(const struct kg_req *req, const char *tenant_id, struct kg_session *s,
                             struct kg_user *u);
/* The login form's POST: checks username and password (throttled) and starts a session.
 * false with out->err set. */
bool kg_signin_login(const struct kg_req *req, struct kg_resp *resp, const struct kg_oreq *rq,
                     struct kg_session *s, struct kg_user *u, struct kg_oout *out);
/* Every parameter but the pages' own (kg_*, username, password, user_code) as hidden fields. */
void kg_signin_hidden(const struct kg_form *form, struct kg_fields *h);
/* An error page for e, with its description, code and trace id. */
void kg_signin_error_page(const struct kg_req *req, struct kg_resp *resp, const char *org,
                          enum kg_oerr e);
/* Sends a rendered page. */
void kg_signin_send(struct kg_resp *resp, int status, struct kg_buf *page);
/* Moves out's audit events onto resp (committed before it leaves; a 503 page if that fails). */
void kg_signin_audit(const struct kg_req *req, struct kg_resp *resp, struct kg_oout *out);
/* The user's display name or user name. */
const char *kg_signin_user_label(const struct kg_user *u);

#endif
