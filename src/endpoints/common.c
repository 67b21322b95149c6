/* SPDX-License-Identifier: Apache-2.0
 * Helpers every endpoint shares: JSON and problem responses, tenant resolution. */
#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "endpoints/endpoints.h"
#include "json/json.h"
#include "server/server.h"

void kg_resp_json(struct kg_resp *resp, int status, struct kg_json *body, const char *cache_control)
{
    kg_resp_set_body(resp, status, "application/json", kg_json_dump(body));
    kg_json_free(body);
    if (cache_control) {
        kg_resp_add_header(resp, "Cache-Control", cache_control);
    }
}

void kg_problem(struct kg_resp *resp, const struct kg_req *req, int status, int code,
                const char *title, const char *detail)
{
    char type[600];
    snprintf(type, sizeof type, "%s/errors/%d", req->srv->cfg.public_url, code);
    struct kg_json *p = kg_json_obj();
    kg_json_set_str(p, "type", type);
    kg_json_set_str(p, "title", title);
    kg_json_set_int(p, "status", status);
    kg_json_set_str(p, "detail", detail);
    kg_json_set_int(p, "code", code);
    kg_json_set_str(p, "trace_id", req->trace_id);
    kg_resp_set_body(resp, status, "application/problem+json", kg_json_dump(p));
    kg_json_free(p);
    kg_resp_add_header(resp, "Cache-Control", "no-store");
}

enum kg_rc kg_tenant_resolve(const struct kg_req *req, struct kg_str alias, struct kg_tenant *out)
{
    char a[KG_MAX_TENANT_ALIAS + 1];
    if (alias.n == 0 || alias.n > KG_MAX_TENANT_ALIAS) {
        return KG_ERR_NOT_FOUND;
    }
    for (size_t i = 0; i < alias.n; i++) {
        char c = alias.p[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c + 32); /* names are lowercase slugs; ids lowercase UUIDs */
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.')) {
            return KG_ERR_NOT_FOUND;
        }
        a[i] = c;
    }
    a[alias.n] = '\0';
    struct kg_store *st = req->srv->store;
    return st->ops->tenant_get(st, a, out);
}

void kg_problem_unavailable(struct kg_resp *resp, const struct kg_req *req)
{
    kg_problem(resp, req, 503, 9000, "Service Unavailable",
               "The store is unavailable; retry shortly.");
}

bool kg_tenant_or_problem(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias,
                          struct kg_tenant *out)
{
    enum kg_rc rc = kg_tenant_resolve(req, alias, out);
    if (rc == KG_OK) {
        return true;
    }
    if (rc == KG_ERR_STORE) {
        kg_problem_unavailable(resp, req);
    } else {
        kg_problem(resp, req, 404, 1010, "Not Found", "The tenant named in the URL is not known.");
    }
    return false;
}
