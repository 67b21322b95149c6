/* SPDX-License-Identifier: Apache-2.0
 * Outcome helpers shared by the grants. */
#include <string.h>

#include "core/clock.h"
#include "oauth/oauth.h"

bool kg_oout_fail(struct kg_oout *out, enum kg_oerr e, const char *extra)
{
    out->err = e;
    kg_strlcpy(out->err_extra, extra ? extra : "", sizeof out->err_extra);
    kg_json_free(out->body);
    out->body = NULL;
    return false;
}

struct kg_audit *kg_oout_audit(struct kg_oout *out, const struct kg_oreq *rq, const char *action,
                               const char *outcome)
{
    if (out->naudit == KG_OUT_AUDIT) {
        out->naudit--; /* keep the last: it is the outcome */
    }
    struct kg_audit *a = &out->audit[out->naudit++];
    memset(a, 0, sizeof *a);
    a->time_ms = kg_now_ms();
    kg_strlcpy(a->tenant_id, rq->tenant ? rq->tenant->id : "", sizeof a->tenant_id);
    kg_strlcpy(a->action, action, sizeof a->action);
    kg_strlcpy(a->outcome, outcome, sizeof a->outcome);
    kg_strlcpy(a->client_ip, rq->peer ? rq->peer : "", sizeof a->client_ip);
    kg_strlcpy(a->trace_id, rq->trace_id ? rq->trace_id : "", sizeof a->trace_id);
    kg_strlcpy(a->actor_type, "anonymous", sizeof a->actor_type);
    return a;
}
