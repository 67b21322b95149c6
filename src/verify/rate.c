/* SPDX-License-Identifier: Apache-2.0
 * Rule 6 of the /verify decision (see steps.h): the rate limit, a token bucket per API and
 * principal. */
#include <math.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/str.h"
#include "verify/steps.h"

struct bucket {
    double tokens;
    int64_t last_ms;
    int64_t rate;
};

/* A bucket idle long enough to have refilled holds nothing a new one would not. */
static bool refilled(const void *value, void *now_ms)
{
    const struct bucket *b = value;
    return (double)(*(int64_t *)now_ms - b->last_ms) * (double)b->rate / 1000.0 + b->tokens >=
           (double)b->rate;
}

/* Rule 6: a token bucket (rate per second, burst of one second's worth) per API and principal:
 * an API key, an application, a user. A new token for the same application or user shares its
 * bucket, so fetching tokens does not reset a limit. Buckets are per node. */
bool kg_verify_within_rate(struct kg_verifier *v, const struct kg_vreq *rq, int64_t rate,
                           struct kg_vres *o)
{
    if (rate <= 0) {
        return true;
    }
    char k[KG_URI + 2 * KG_ID + 16];
    if (!kg_key_join(k, sizeof k, rq->api, o->id.tenant_id, o->id.principal_type, o->id.subject,
                     NULL)) {
        return kg_vdeny(o, KG_OE_V_RATE_LIMITED, NULL); /* cannot happen: every part is bounded */
    }
    int64_t now_ms = kg_now_ms();
    bool ok;
    pthread_mutex_lock(&v->mu);
    struct bucket *b = kg_map_get(v->buckets, k);
    if (!b) {
        kg_map_make_room(v->buckets, KG_VERIFY_MAX_CACHED, refilled, &now_ms, free);
        b = kg_malloc(sizeof *b);
        b->tokens = (double)rate;
        b->last_ms = now_ms;
        kg_map_put(v->buckets, k, b);
    }
    b->rate = rate;
    b->tokens += (double)(now_ms - b->last_ms) * (double)rate / 1000.0;
    if (b->tokens > (double)rate) {
        b->tokens = (double)rate;
    }
    b->last_ms = now_ms;
    ok = b->tokens >= 1.0;
    if (ok) {
        b->tokens -= 1.0;
    } else {
        o->retry_after = (int64_t)ceil((1.0 - b->tokens) / (double)rate);
        if (o->retry_after < 1) {
            o->retry_after = 1;
        }
    }
    pthread_mutex_unlock(&v->mu);
    return ok || kg_vdeny(o, KG_OE_V_RATE_LIMITED, NULL);
}
