/* SPDX-License-Identifier: Apache-2.0
 * GET discovery metadata and the JWKS of a tenant named by id or name. */
#include "endpoints/endpoints.h"
#include "oauth/discovery.h"

void kg_ep_discovery(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias)
{
    struct kg_tenant t;
    if (kg_tenant_or_problem(req, resp, alias, &t)) {
        kg_resp_json(resp, 200, kg_discovery_doc(req->srv, &t), "public, max-age=3600");
    }
}

void kg_ep_jwks(const struct kg_req *req, struct kg_resp *resp, struct kg_str alias)
{
    struct kg_tenant t;
    if (!kg_tenant_or_problem(req, resp, alias, &t)) {
        return;
    }
    struct kg_json *doc = NULL;
    if (kg_jwks_doc(req->srv, &t, &doc) != KG_OK) {
        kg_problem_unavailable(resp, req);
        return;
    }
    /* Short enough that a key published as "next" reaches caches before it signs. */
    kg_resp_json(resp, 200, doc, "public, max-age=300");
}
