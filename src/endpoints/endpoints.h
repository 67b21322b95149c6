/* SPDX-License-Identifier: Apache-2.0
 * HTTP-facing endpoints: each turns a struct kg_req into a struct kg_resp by calling oauth/ (or
 * the store for health), one endpoint per file. kg_dispatch routes by method and path. */
#ifndef KG_ENDPOINTS_ENDPOINTS_H
#define KG_ENDPOINTS_ENDPOINTS_H

#include "http/http.h"
#include "store/store.h"

/* Routes req and fills resp. Never fails: every problem becomes an error response. */
void kg_dispatch(const struct kg_req *req, struct kg_resp *resp);

/* problem+json (RFC 9457) with keygate's stable type URI and code. */
void kg_problem(struct kg_resp *resp, const struct kg_req *req, int status, int code,
                const char *title, const char *detail);
/* 503 problem: the store did not answer (never allow or answer from guesswork). */
void kg_problem_unavailable(struct kg_resp *resp, const struct kg_req *req);
/* JSON body with status and optional Cache-Control. body is consumed. */
struct kg_json;
void kg_resp_json(struct kg_resp *resp, int status, struct kg_json *body,
                  const char *cache_control);

/* Resolves a tenant alias (id or name) from a raw path segment. KG_ERR_NOT_FOUND if unknown or
 * malformed, KG_ERR_STORE if the store failed. */
enum kg_rc kg_tenant_resolve(const struct kg_req *req, struct kg_str alias, struct kg_tenant *out);
/* kg_tenant_resolve, answering the 404 or 503 problem itself when it fails. */
bool kg_tenant_or_problem(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias,
                          struct kg_tenant *out);

void kg_ep_health(const struct kg_req *req, struct kg_resp *resp);
void kg_ep_ready(const struct kg_req *req, struct kg_resp *resp);
void kg_ep_metrics(const struct kg_req *req, struct kg_resp *resp);
void kg_ep_discovery(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias);
void kg_ep_jwks(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias);
/* The form endpoints of oauth/: which = "token" | "introspect" | "revoke". */
void kg_ep_oauth_form(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias,
                      const char *which);
/* Interactive sign-in (SPEC 3, 5): authorize with its login and consent pages, logout, the
 * device page, and the pages' stylesheet. */
void kg_ep_authorize(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias);
void kg_ep_logout(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias);
void kg_ep_device(const struct kg_req *req, struct kg_resp *resp);
void kg_ep_stylesheet(const struct kg_req *req, struct kg_resp *resp);
/* rest: the raw path after "/verify" ("" or "/..."). */
void kg_ep_verify(const struct kg_req *req, struct kg_resp *resp, struct kg_str rest);
void kg_ep_userinfo(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias);
void kg_ep_tenant_lookup(const struct kg_req *req, struct kg_resp *resp, struct kg_str name);
void kg_ep_userrealm(const struct kg_req *req, struct kg_resp *resp, struct kg_str upn);
void kg_ep_error_doc(const struct kg_req *req, struct kg_resp *resp, struct kg_str code);

#endif
