/* SPDX-License-Identifier: Apache-2.0
 * /verify and /verify/{original path} (SPEC 6): the forward-auth endpoint nginx
 * (auth_request), Traefik (ForwardAuth) and Envoy (ext_authz) call for every API request.
 * Reads the original request (verify/forwarded.c) and the credentials, asks verify/verify.c,
 * and answers 200 with the identity headers, or a problem+json (401 with the RFC 6750
 * challenge, 403, 429 with Retry-After, 503) that is also an audit event. An operator's
 * X-Keygate-Explain credential adds the checks made to the problem. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/encode.h"
#include "core/limits.h"
#include "core/log.h"
#include "endpoints/endpoints.h"
#include "json/json.h"
#include "verify/forwarded.h"
#include "verify/verify.h"

static struct kg_str header_of(const void *ctx, const char *name)
{
    size_t n = 0;
    struct kg_str v = kg_req_header(ctx, name, &n);
    return n == 1 ? v : KG_STR_NULL;
}

static void problem(const struct kg_req *req, struct kg_resp *resp, const struct kg_vres *r,
                    bool explain)
{
    const struct kg_oerr_info *in = kg_oerr_info(r->err);
    char type[600];
    snprintf(type, sizeof type, "%s/errors/%d", req->srv->cfg.public_url, in->code);
    struct kg_json *p = kg_json_obj();
    kg_json_set_str(p, "type", type);
    kg_json_set_str(p, "title", in->error);
    kg_json_set_int(p, "status", in->status);
    kg_json_set_str(p, "detail", r->detail[0] ? r->detail : in->description);
    kg_json_set_int(p, "code", in->code);
    kg_json_set_str(p, "trace_id", req->trace_id);
    if (explain) {
        kg_json_set_str(p, "explain", r->explain);
    }
    kg_resp_set_body(resp, in->status, "application/problem+json", kg_json_dump(p));
    kg_json_free(p);
    kg_resp_add_header(resp, "Cache-Control", "no-store");
    if (in->status == 401) { /* RFC 6750 3 */
        char h[400];
        if (r->err == KG_OE_V_MISSING) {
            snprintf(h, sizeof h, "Bearer realm=\"keygate\"");
        } else {
            snprintf(h, sizeof h,
                     "Bearer realm=\"keygate\", error=\"invalid_token\", "
                     "error_description=\"%s\"",
                     in->error);
        }
        kg_resp_add_header(resp, "WWW-Authenticate", h);
    }
    if (r->retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%lld", (long long)r->retry_after);
        kg_resp_add_header(resp, "Retry-After", ra);
    }
    struct kg_audit *a = kg_resp_audit(resp, req);
    resp->audit_behind = true; /* a denial grants nothing: it need not wait for the trail */
    kg_strlcpy(a->tenant_id, r->id.tenant_id, sizeof a->tenant_id);
    kg_strlcpy(a->actor_type, r->id.principal_type[0] ? r->id.principal_type : "anonymous",
               sizeof a->actor_type);
    kg_strlcpy(a->actor_id, r->id.subject, sizeof a->actor_id);
    kg_strlcpy(a->caller_id, r->id.caller, sizeof a->caller_id);
    kg_strlcpy(a->action, "verify.denied", sizeof a->action);
    snprintf(a->target, sizeof a->target, "%d", in->code);
    kg_strlcpy(a->outcome, "denied", sizeof a->outcome);
    kg_strlcpy(a->detail, r->detail, sizeof a->detail);
}

static void allow(const struct kg_req *req, struct kg_resp *resp, const struct kg_vreq *vq,
                  const struct kg_vres *r)
{
    const struct kg_identity *id = &r->id;
    kg_resp_set_body(resp, 200, NULL, NULL);
    kg_resp_add_header(resp, "X-Auth-Tenant", id->tenant_id);
    kg_resp_add_header(resp, "X-Auth-Subject", id->subject);
    kg_resp_add_header(resp, "X-Auth-Principal-Type", id->principal_type);
    kg_resp_add_header(resp, "X-Auth-Caller", id->caller);
    kg_resp_add_header(resp, "X-Auth-Roles", id->roles);
    kg_resp_add_header(resp, "X-Auth-Scopes", id->scopes);
    kg_resp_add_header(resp, "X-Auth-Workspace", id->workspace_id);
    kg_resp_add_header(resp, "Cache-Control", "no-store");
    if (req->srv->cfg.access_log) {
        kg_log(KG_LOG_INFO, req->trace_id, "verify.allowed", "tenant", id->tenant_id, "subject",
               id->subject, "type", id->principal_type, "caller", id->caller, "method", vq->method,
               "path", vq->path, "api", vq->api, NULL);
    }
}

/* The api query parameter (form-decoded) or the default API. */
static bool api_of(const struct kg_req *req, char *out, size_t n)
{
    struct kg_str q = kg_req_query(req, "api");
    if (!q.p) {
        return kg_strlcpy(out, req->srv->cfg.default_api, n);
    }
    size_t len = 0;
    if (q.n >= n || kg_form_decode(q, out, &len) != KG_OK) {
        return false;
    }
    out[len] = '\0';
    return true;
}

void kg_ep_verify(const struct kg_req *req, struct kg_resp *resp, struct kg_str rest)
{
    struct kg_vres res; /* 7 KB: on the stack, not a large allocation per request */
    struct kg_vres *r = &res;
    kg_vres_clear(r);
    struct kg_original orig;
    char api[KG_MAX_API_URI + 1];
    size_t nauth = 0, nkey = 0;
    struct kg_vreq vq = {.srv = req->srv, .header = header_of, .header_ctx = req};
    vq.authorization = kg_req_header(req, "Authorization", &nauth);
    vq.api_key = kg_req_header(req, "API-Key", &nkey);
    r->err = kg_forwarded_original(req->headers, req->nheaders, req->method, rest,
                                   req->peer_trusted, &orig);
    if (r->err == KG_OE_NONE && (nauth > 1 || nkey > 1)) {
        r->err = KG_OE_V_TWO_CREDENTIALS;
    }
    if (r->err == KG_OE_NONE && !api_of(req, api, sizeof api)) {
        r->err = KG_OE_V_UNKNOWN_API;
    }
    if (r->err != KG_OE_NONE) {
        problem(req, resp, r, false);
        return;
    }
    vq.method = orig.method;
    vq.path = orig.path;
    vq.api = api;
    vq.subscription_key = header_of(req, "Ocp-Apim-Subscription-Key");
    vq.caller_id = header_of(req, "x-api-caller-id");
    vq.now = kg_now();
    struct kg_str ex = header_of(req, "X-Keygate-Explain");
    vq.explain = ex.p != NULL; /* the notes are kept only if asked; shown only to an operator */
    /* On an event thread, with a store whose reads wait on the network, decide from the caches
     * only; if the store had to be read, decide again on a worker thread (the first answer is
     * discarded: nothing was counted, sent or audited, and the rate-limit bucket is only taken
     * after every read). SQLite's reads are local and mostly from the page cache: handing them
     * to a worker costs more CPU than it saves (measured: bench/verify.sh, docs/scaling.md). */
    bool cached_only = !req->on_worker && req->srv->store->ops->reads_wait;
    if (cached_only) {
        kg_store_cached_only_begin();
    }
    kg_verify(req->srv->verifier, &vq, r);
    bool explain = r->err != KG_OE_NONE && ex.p &&
                   kg_verify_operator(req->srv->verifier, req->srv, ex, vq.now);
    if (cached_only && kg_store_cached_only_end()) {
        resp->offload = true;
    } else if (r->err == KG_OE_NONE) {
        allow(req, resp, &vq, r);
        atomic_fetch_add(&req->srv->metrics.verify_allowed, 1);
    } else {
        problem(req, resp, r, explain);
        atomic_fetch_add(&req->srv->metrics.verify_denied, 1);
    }
}
