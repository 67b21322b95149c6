/* SPDX-License-Identifier: Apache-2.0
 * GET discovery metadata and the JWKS of a tenant named by id or name. */
#include <stdio.h>

#include "endpoints/endpoints.h"
#include "server/server.h"
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
    /* A key published as "next" waits max-age before it signs (oauth/rotation.c), so every
     * cache that honours this header has it by then. */
    char cc[64];
    snprintf(cc, sizeof cc, "public, max-age=%lld", (long long)req->srv->cfg.jwks_max_age);
    kg_resp_json(resp, 200, doc, cc);
}
