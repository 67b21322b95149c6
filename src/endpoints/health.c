/* SPDX-License-Identifier: Apache-2.0
 * /healthz (the process answers), /readyz (the store answers, the audit trail takes writes and
 * the server is not stopping), /metrics (Prometheus). */
#include "endpoints/endpoints.h"
#include "json/json.h"
#include "server/commit.h"
#include "server/server.h"

void kg_ep_health(const struct kg_req *req, struct kg_resp *resp)
{
    (void)req;
    struct kg_json *b = kg_json_obj();
    kg_json_set_str(b, "status", "ok");
    kg_resp_json(resp, 200, b, "no-store");
}

void kg_ep_ready(const struct kg_req *req, struct kg_resp *resp)
{
    struct kg_store *st = req->srv->store;
    struct kg_json *b = kg_json_obj();
    bool ok = false;
    if (req->stopping) { /* the SIGTERM drain: take this node out */
        kg_json_set_str(b, "status", "stopping");
    } else {
        /* a trail that takes no writes makes every token a 503: not ready */
        bool audit_ok = kg_committer_working(req->srv->commit);
        ok = audit_ok && st->ops->ping(st) == KG_OK;
        kg_json_set_str(b, "status", ok ? "ready" : "unavailable");
        kg_json_set_str(b, "audit", audit_ok ? "ok" : "failing");
    }
    kg_json_set_str(b, "store", st->ops->name);
    kg_resp_json(resp, ok ? 200 : 503, b, "no-store");
}

void kg_ep_metrics(const struct kg_req *req, struct kg_resp *resp)
{
    kg_resp_set_body(resp, 200, "text/plain; version=0.0.4", kg_metrics_render(&req->srv->metrics));
    kg_resp_add_header(resp, "Cache-Control", "no-store");
}
