/* SPDX-License-Identifier: Apache-2.0
 * The form-posting OAuth endpoints (token, devicecode, introspect, revoke): HTTP checks (POST only,
 * form content type, body cap, strict form parsing), then oauth/, then the RFC 6749 5.1/5.2
 * response with Cache-Control: no-store, the client-request-id echoed (COMPAT), WWW-Authenticate:
 * Basic only after Basic authentication, and audit events that are committed before the answer. */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "endpoints/endpoints.h"
#include "oauth/oauth.h"

static void correlation(const struct kg_req *req, char out[KG_MAX_CORRELATION_ID + 1])
{
    struct kg_str v = kg_req_query(req, "client-request-id");
    if (!v.p) {
        v = kg_req_header(req, "client-request-id", NULL);
    }
    out[0] = '\0';
    if (!v.p || v.n > KG_MAX_CORRELATION_ID) {
        return;
    }
    for (size_t i = 0; i < v.n; i++) {
        char c = v.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            return;
        }
    }
    memcpy(out, v.p, v.n);
    out[v.n] = '\0';
}

static void error_resp(const struct kg_req *req, struct kg_resp *resp, enum kg_oerr e,
                       const char *extra, const char *cid, bool basic)
{
    const struct kg_oerr_info *in = kg_oerr_info(e);
    struct kg_json *b = kg_oerr_body(e, extra && *extra ? extra : NULL, req->trace_id, cid,
                                     req->srv->cfg.public_url);
    kg_resp_json(resp, in->status, b, "no-store");
    kg_resp_add_header(resp, "Pragma", "no-cache");
    if (in->status == 401 && basic) { /* RFC 6749 5.2 */
        kg_resp_add_header(resp, "WWW-Authenticate", "Basic realm=\"keygate\"");
    }
    if (in->status == 405) {
        kg_resp_add_header(resp, "Allow", "POST");
    }
    atomic_fetch_add(&req->srv->metrics.token_errors, 1);
}

static void commit_failed(struct kg_resp *resp, const struct kg_req *req)
{
    char cid[KG_MAX_CORRELATION_ID + 1];
    correlation(req, cid);
    kg_resp_clear(resp);
    error_resp(req, resp, KG_OE_UNAVAILABLE, "The audit trail could not be written.", cid, false);
}

static bool form_content_type(struct kg_str ct)
{
    static const char T[] = "application/x-www-form-urlencoded";
    size_t n = sizeof T - 1;
    if (ct.n < n || !kg_str_case_eq_c((struct kg_str){ct.p, n}, T)) {
        return false;
    }
    return ct.n == n || ct.p[n] == ';' || ct.p[n] == ' ';
}

static enum kg_grant_kind grant_kind(const struct kg_form *f)
{
    const char *g = kg_form_get(f, "grant_type");
    if (g && strcmp(g, "password") == 0) {
        return KG_GRANT_PASSWORD;
    }
    if (g && strcmp(g, "refresh_token") == 0) {
        return KG_GRANT_REFRESH;
    }
    if (g && strcmp(g, "authorization_code") == 0) {
        return KG_GRANT_CODE;
    }
    if (g && strstr(g, "device_code")) {
        return KG_GRANT_DEVICE;
    }
    return KG_GRANT_CC;
}

/* Whether the request is run again on a worker thread: for argon2 (the password grant), and for
 * a write to the main store, which waits for its fsync (or a PostgreSQL round trip) before the
 * answer: every grant but client credentials (whose only record is an audit event, group
 * committed without holding a thread), revocation, device authorization. On an HTTP thread that
 * wait holds every connection the thread serves: bench/refresh.sh measured client credentials
 * falling from 4,000 to 1,050 grants/s (p99 136 ms) beside 670 refresh grants/s. */
static bool runs_on_worker(const char *which, const struct kg_form *f)
{
    if (strcmp(which, "token") == 0) {
        return grant_kind(f) != KG_GRANT_CC;
    }
    return strcmp(which, "revoke") == 0 || strcmp(which, "devicecode") == 0;
}

void kg_ep_oauth_form(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias,
                      const char *which)
{
    char cid[KG_MAX_CORRELATION_ID + 1];
    correlation(req, cid);
    if (cid[0]) {
        kg_resp_add_header(resp, "client-request-id", cid);
    }
    struct kg_form form = {0};
    struct kg_oout out;
    memset(&out, 0, sizeof out);
    struct kg_tenant t;
    enum kg_oerr early = KG_OE_NONE;
    size_t ct_count = 0;
    struct kg_str ct = kg_req_header(req, "Content-Type", &ct_count);

    if (strcmp(req->method, "POST") != 0) {
        early = KG_OE_METHOD;
    } else if (req->body_too_large) {
        early = KG_OE_BODY_TOO_LARGE;
    } else if (ct_count != 1 || !form_content_type(ct)) {
        early = KG_OE_CONTENT_TYPE;
    } else {
        struct kg_err e = {0};
        enum kg_rc rc = kg_form_parse(req->body, &form, &e);
        early = rc == KG_OK             ? KG_OE_NONE
                : rc == KG_ERR_TOO_LONG ? KG_OE_FIELD_TOO_LONG
                : rc == KG_ERR_CONFLICT ? KG_OE_REPEATED_PARAM
                                        : KG_OE_BAD_ENCODING;
    }
    if (early == KG_OE_NONE) {
        enum kg_rc rc = kg_tenant_resolve(req, alias, &t);
        early = rc == KG_OK          ? KG_OE_NONE
                : rc == KG_ERR_STORE ? KG_OE_UNAVAILABLE
                                     : KG_OE_TENANT_UNKNOWN;
    }
    if (early != KG_OE_NONE) {
        error_resp(req, resp, early, NULL, cid, false);
        kg_form_free(&form);
        return;
    }

    if (!req->on_worker && runs_on_worker(which, &form)) {
        resp->offload = true;
        kg_form_free(&form);
        return;
    }
    struct kg_oreq rq = {
        .srv = req->srv,
        .tenant = &t,
        .form = &form,
        .peer = req->peer,
        .trace_id = req->trace_id,
        .correlation_id = cid,
        .now = kg_now(),
    };
    rq.authorization = kg_req_header(req, "Authorization", &rq.authorization_count);
    bool ok = strcmp(which, "token") == 0        ? kg_token_request(&rq, &out)
              : strcmp(which, "revoke") == 0     ? kg_revoke(&rq, &out)
              : strcmp(which, "devicecode") == 0 ? kg_device_authorize(&rq, &out)
                                                 : kg_introspect(&rq, &out);
    char *body = ok ? kg_oout_take_body(&out) : NULL;
    if (ok && !body) {
        ok = kg_oout_fail(&out, KG_OE_SERVER_ERROR, "The response does not fit.");
    }
    if (ok) {
        kg_resp_set_body(resp, 200, "application/json", body);
        kg_resp_add_header(resp, "Cache-Control", "no-store");
        kg_resp_add_header(resp, "Pragma", "no-cache");
        if (strcmp(which, "token") == 0) {
            atomic_fetch_add(&req->srv->metrics.tokens[grant_kind(&form)], 1);
        }
    } else {
        error_resp(req, resp, out.err, out.err_extra, cid, out.basic_used);
    }
    for (size_t i = 0; i < out.naudit; i++) {
        struct kg_audit *a = kg_resp_audit(resp, req);
        *a = out.audit[i];
    }
    if (out.naudit) {
        resp->on_commit_failure = commit_failed;
    }
    kg_oout_clear(&out);
    kg_form_free(&form);
}
