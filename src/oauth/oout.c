/* SPDX-License-Identifier: Apache-2.0
 * Outcome helpers shared by the grants. */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/limits.h"
#include "oauth/oauth.h"

void kg_oout_clear(struct kg_oout *out)
{
    kg_json_free(out->body);
    out->body = NULL;
    if (out->tokens.p) {
        kg_wipe(out->tokens.p, out->tokens.n); /* bearer tokens */
        free(out->tokens.p);
    }
    memset(&out->tokens, 0, sizeof out->tokens);
    out->tokens_closed = false;
}

bool kg_oout_fail(struct kg_oout *out, enum kg_oerr e, const char *extra)
{
    out->err = e;
    kg_strlcpy(out->err_extra, extra ? extra : "", sizeof out->err_extra);
    kg_oout_clear(out);
    return false;
}

struct kg_jw *kg_oout_tokens(struct kg_oout *out)
{
    kg_oout_clear(out);
    kg_jw_begin(&out->tokens, kg_malloc(KG_MAX_TOKEN_RESPONSE), KG_MAX_TOKEN_RESPONSE);
    return &out->tokens;
}

const char *kg_oout_close(struct kg_oout *out)
{
    if (out->tokens.p && !out->tokens_closed) {
        out->tokens_closed = true;
        kg_jw_end(&out->tokens);
    }
    return out->tokens.p && !out->tokens.failed ? out->tokens.p : NULL;
}

char *kg_oout_take_body(struct kg_oout *out)
{
    char *s = NULL;
    if (out->tokens.p) {
        if (kg_oout_close(out)) {
            s = out->tokens.p;
            out->tokens.p = NULL;
        }
    } else if (out->body) {
        s = kg_json_dump(out->body);
    }
    kg_oout_clear(out);
    return s;
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
