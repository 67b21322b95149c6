/* SPDX-License-Identifier: Apache-2.0
 * GET discovery metadata and the JWKS of a tenant named by id or name. */
#include "endpoints/endpoints.h"
#include "oauth/discovery.h"

static bool tenant(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias,
                   struct kg_tenant *t)
{
    enum kg_rc rc = kg_tenant_resolve(req, alias, t);
    if (rc == KG_OK) {
        return true;
    }
    if (rc == KG_ERR_STORE) {
        kg_problem(resp, req, 503, 9000, "unavailable", "Service Unavailable",
                   "The store is unavailable; retry shortly.");
    } else {
        kg_problem(resp, req, 404, 1010, "tenant-not-found", "Not Found",
                   "The tenant named in the URL is not known.");
    }
    return false;
}

void kg_ep_discovery(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias)
{
    struct kg_tenant t;
    if (tenant(req, resp, alias, &t)) {
        kg_resp_json(resp, 200, kg_discovery_doc(req->srv, &t), "public, max-age=3600");
    }
}

void kg_ep_jwks(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias)
{
    struct kg_tenant t;
    if (!tenant(req, resp, alias, &t)) {
        return;
    }
    struct kg_json *doc = NULL;
    if (kg_jwks_doc(req->srv, &t, &doc) != KG_OK) {
        kg_problem(resp, req, 503, 9000, "unavailable", "Service Unavailable",
                   "The store is unavailable; retry shortly.");
        return;
    }
    /* Short enough that a key published as "next" reaches caches before it signs. */
    kg_resp_json(resp, 200, doc, "public, max-age=300");
}
