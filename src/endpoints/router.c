/* SPDX-License-Identifier: Apache-2.0
 * Routing by method and path segments (SPEC 3). Paths are raw (not percent-decoded) and split on
 * '/'; a path with an empty, "." or ".." segment, or too many segments, matches nothing. */
#include <string.h>

#include "core/limits.h"
#include "endpoints/endpoints.h"
#include "server/server.h"

#define MAX_SEG 8

static size_t split(struct kg_str path, struct kg_str seg[MAX_SEG], bool *ok)
{
    size_t n = 0;
    *ok = path.n > 0 && path.n <= KG_MAX_PATH && path.p[0] == '/';
    if (!*ok) {
        return 0;
    }
    const char *p = path.p + 1, *end = path.p + path.n;
    while (p <= end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *stop = slash ? slash : end;
        struct kg_str s = {p, (size_t)(stop - p)};
        if (!slash && s.n == 0 && n > 0) {
            break; /* one trailing slash */
        }
        if (n == MAX_SEG || s.n == 0 || kg_str_eq_c(s, ".") || kg_str_eq_c(s, "..")) {
            *ok = false;
            return 0;
        }
        seg[n++] = s;
        if (!slash) {
            break;
        }
        p = slash + 1;
    }
    return n;
}

static bool is(struct kg_str s, const char *lit)
{
    return kg_str_eq_c(s, lit);
}

static void not_found(const struct kg_req *req, struct kg_resp *resp)
{
    kg_problem(resp, req, 404, 404, "Not Found", "There is nothing at this URL.");
}

static bool get_only(const struct kg_req *req, struct kg_resp *resp)
{
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) {
        return true;
    }
    kg_problem(resp, req, 405, 405, "Method Not Allowed", "This URL accepts only GET.");
    kg_resp_add_header(resp, "Allow", "GET, HEAD");
    return false;
}

/* /verify and /verify/{anything}: the rest is the original path (Envoy), checked there. */
static bool verify_path(struct kg_str p, struct kg_str *rest)
{
    static const char V[] = "/verify";
    size_t n = sizeof V - 1;
    if (p.n < n || memcmp(p.p, V, n) != 0 || (p.n > n && p.p[n] != '/')) {
        return false;
    }
    *rest = (struct kg_str){p.p + n, p.n - n};
    return true;
}

void kg_dispatch(const struct kg_req *req, struct kg_resp *resp)
{
    struct kg_str s[MAX_SEG], rest;
    bool ok;
    if (verify_path(req->path, &rest)) {
        kg_store_sync(req->srv->store);
        kg_ep_verify(req, resp, rest);
        return;
    }
    size_t n = split(req->path, s, &ok);
    if (!ok || n == 0) {
        not_found(req, resp);
        return;
    }
    kg_store_sync(req->srv->store); /* once per request: see changes made anywhere */
    if (n == 1 && is(s[0], "healthz")) {
        kg_ep_health(req, resp);
    } else if (n == 1 && is(s[0], "readyz")) {
        kg_ep_ready(req, resp);
    } else if (n == 1 && is(s[0], "metrics")) {
        kg_ep_metrics(req, resp);
    } else if (n == 3 && is(s[0], "tenants") && is(s[1], "lookup")) {
        if (get_only(req, resp)) {
            kg_ep_tenant_lookup(req, resp, s[2]);
        }
    } else if (n == 3 && is(s[0], "common") && is(s[1], "userrealm")) {
        if (get_only(req, resp)) {
            kg_ep_userrealm(req, resp, s[2]);
        }
    } else if (n == 2 && is(s[0], "errors")) {
        kg_ep_error_doc(req, resp, s[1]);
    } else if (n == 4 && is(s[1], "v2.0") && is(s[2], ".well-known") &&
               is(s[3], "openid-configuration")) {
        if (get_only(req, resp)) {
            kg_ep_discovery(req, resp, s[0]);
        }
    } else if (n == 3 && is(s[1], ".well-known") && is(s[2], "openid-configuration")) {
        if (get_only(req, resp)) {
            kg_ep_discovery(req, resp, s[0]);
        }
    } else if (n == 5 && is(s[0], "auth") && is(s[2], "default") && is(s[3], ".well-known") &&
               is(s[4], "openid-configuration")) {
        if (get_only(req, resp)) {
            kg_ep_discovery(req, resp, s[1]);
        }
    } else if (n == 4 && is(s[1], "discovery") && is(s[2], "v2.0") && is(s[3], "keys")) {
        if (get_only(req, resp)) {
            kg_ep_jwks(req, resp, s[0]);
        }
    } else if (n == 4 && is(s[1], "oauth2") && is(s[2], "v2.0") &&
               (is(s[3], "token") || is(s[3], "introspect") || is(s[3], "revoke") ||
                is(s[3], "devicecode"))) {
        const char *which = is(s[3], "token")        ? "token"
                            : is(s[3], "revoke")     ? "revoke"
                            : is(s[3], "devicecode") ? "devicecode"
                                                     : "introspect";
        kg_ep_oauth_form(req, resp, s[0], which);
    } else if (n == 4 && is(s[1], "oauth2") && is(s[2], "v2.0") && is(s[3], "authorize")) {
        kg_ep_authorize(req, resp, s[0]);
    } else if (n == 4 && is(s[1], "oauth2") && is(s[2], "v2.0") && is(s[3], "logout")) {
        kg_ep_logout(req, resp, s[0]);
    } else if (n == 1 && is(s[0], "device")) {
        kg_ep_device(req, resp);
    } else if (n == 2 && is(s[0], "assets") && is(s[1], "keygate.css")) {
        if (get_only(req, resp)) {
            kg_ep_stylesheet(req, resp);
        }
    } else if (n == 3 && is(s[1], "oidc") && is(s[2], "userinfo")) {
        kg_ep_userinfo(req, resp, s[0]);
    } else if (n == 5 && is(s[0], "auth") && is(s[2], "default") && is(s[3], "oauth2") &&
               is(s[4], "token")) {
        kg_ep_oauth_form(req, resp, s[1], "token");
    } else {
        not_found(req, resp);
    }
}
