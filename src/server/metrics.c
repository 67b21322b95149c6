/* SPDX-License-Identifier: Apache-2.0
 * Metrics counters and rendering; see metrics.h. */
#include "server/metrics.h"

#include "core/str.h"

/* Upper bounds of the latency buckets, microseconds. */
static const uint64_t BOUNDS[KG_LATENCY_BUCKETS] = {100,   250,   500,   1000,   2500,   5000,
                                                    10000, 25000, 50000, 100000, 250000, 1000000};

void kg_metrics_request(struct kg_metrics *m, int status, uint64_t us)
{
    int cls = status / 100;
    atomic_fetch_add(&m->requests[(cls >= 1 && cls <= 5) ? cls : 0], 1);
    int b = 0;
    while (b < KG_LATENCY_BUCKETS && us > BOUNDS[b]) {
        b++;
    }
    atomic_fetch_add(&m->latency[b], 1);
    atomic_fetch_add(&m->latency_sum_us, us);
}

void kg_metrics_batch(struct kg_metrics *m, size_t events, bool ok, uint64_t waited_us)
{
    atomic_fetch_add(&m->audit_batches, 1);
    atomic_fetch_add(&m->audit_gather_us, waited_us);
    if (!ok) {
        atomic_fetch_add(&m->audit_failures, 1);
        return;
    }
    atomic_fetch_add(&m->audit_events, events);
    uint_fast64_t cur = atomic_load(&m->audit_batch_max);
    while (events > cur && !atomic_compare_exchange_weak(&m->audit_batch_max, &cur, events)) {
    }
}

char *kg_metrics_render(struct kg_metrics *m)
{
    static const char *const grants[KG_GRANT_KINDS] = {
        "client_credentials", "password", "refresh_token", "authorization_code", "device_code"};
    struct kg_buf b;
    kg_buf_init(&b, 1 << 16);
    kg_buf_adds(&b, "# HELP keygate_http_requests_total HTTP responses by status class.\n"
                    "# TYPE keygate_http_requests_total counter\n");
    for (int i = 1; i <= 5; i++) {
        kg_buf_printf(&b, "keygate_http_requests_total{code=\"%dxx\"} %llu\n", i,
                      (unsigned long long)atomic_load(&m->requests[i]));
    }
    kg_buf_adds(&b, "# HELP keygate_http_request_duration_seconds Time to build a response.\n"
                    "# TYPE keygate_http_request_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (int i = 0; i < KG_LATENCY_BUCKETS; i++) {
        cum += atomic_load(&m->latency[i]);
        kg_buf_printf(&b, "keygate_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                      (double)BOUNDS[i] / 1e6, cum);
    }
    cum += atomic_load(&m->latency[KG_LATENCY_BUCKETS]);
    kg_buf_printf(&b, "keygate_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    kg_buf_printf(&b, "keygate_http_request_duration_seconds_sum %g\n",
                  (double)atomic_load(&m->latency_sum_us) / 1e6);
    kg_buf_printf(&b, "keygate_http_request_duration_seconds_count %llu\n", cum);
    kg_buf_adds(&b, "# HELP keygate_tokens_issued_total Access tokens issued by grant.\n"
                    "# TYPE keygate_tokens_issued_total counter\n");
    for (int i = 0; i < KG_GRANT_KINDS; i++) {
        kg_buf_printf(&b, "keygate_tokens_issued_total{grant=\"%s\"} %llu\n", grants[i],
                      (unsigned long long)atomic_load(&m->tokens[i]));
    }
    kg_buf_printf(&b,
                  "# TYPE keygate_token_errors_total counter\nkeygate_token_errors_total %llu\n"
                  "# TYPE keygate_audit_events_total counter\nkeygate_audit_events_total %llu\n"
                  "# TYPE keygate_audit_commits_total counter\nkeygate_audit_commits_total %llu\n"
                  "# TYPE keygate_audit_commit_failures_total counter\n"
                  "keygate_audit_commit_failures_total %llu\n"
                  "# TYPE keygate_audit_batch_max gauge\nkeygate_audit_batch_max %llu\n"
                  "# HELP keygate_audit_gather_seconds_total Time the audit writer waited for "
                  "more events before a commit.\n"
                  "# TYPE keygate_audit_gather_seconds_total counter\n"
                  "keygate_audit_gather_seconds_total %g\n"
                  "# TYPE keygate_offloaded_requests_total counter\n"
                  "keygate_offloaded_requests_total %llu\n"
                  "# HELP keygate_http_requests_in_flight Requests begun and not yet completed.\n"
                  "# TYPE keygate_http_requests_in_flight gauge\n"
                  "keygate_http_requests_in_flight %d\n"
                  "# HELP keygate_verify_decisions_total /verify answers by outcome.\n"
                  "# TYPE keygate_verify_decisions_total counter\n"
                  "keygate_verify_decisions_total{outcome=\"allowed\"} %llu\n"
                  "keygate_verify_decisions_total{outcome=\"denied\"} %llu\n",
                  (unsigned long long)atomic_load(&m->token_errors),
                  (unsigned long long)atomic_load(&m->audit_events),
                  (unsigned long long)atomic_load(&m->audit_batches),
                  (unsigned long long)atomic_load(&m->audit_failures),
                  (unsigned long long)atomic_load(&m->audit_batch_max),
                  (double)atomic_load(&m->audit_gather_us) / 1e6,
                  (unsigned long long)atomic_load(&m->offloaded), atomic_load(&m->in_flight),
                  (unsigned long long)atomic_load(&m->verify_allowed),
                  (unsigned long long)atomic_load(&m->verify_denied));
    return kg_buf_take(&b);
}
