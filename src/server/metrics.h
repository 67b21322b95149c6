/* SPDX-License-Identifier: Apache-2.0
 * Process-wide counters (lock-free atomics) and their Prometheus text exposition. */
#ifndef KG_SERVER_METRICS_H
#define KG_SERVER_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KG_LATENCY_BUCKETS 12

enum kg_grant_kind {
    KG_GRANT_CC,
    KG_GRANT_PASSWORD,
    KG_GRANT_REFRESH,
    KG_GRANT_CODE,
    KG_GRANT_DEVICE,
    KG_GRANT_KINDS
};

struct kg_metrics {
    atomic_uint_fast64_t requests[6]; /* by status class: [1]=1xx .. [5]=5xx, [0] other */
    atomic_uint_fast64_t latency[KG_LATENCY_BUCKETS + 1];
    atomic_uint_fast64_t latency_sum_us;
    atomic_uint_fast64_t tokens[KG_GRANT_KINDS];
    atomic_uint_fast64_t token_errors;
    atomic_uint_fast64_t verify_allowed;
    atomic_uint_fast64_t verify_denied;
    atomic_uint_fast64_t audit_events;
    atomic_uint_fast64_t audit_batches;
    atomic_uint_fast64_t audit_failures;
    atomic_uint_fast64_t audit_batch_max;
    atomic_uint_fast64_t audit_gather_us; /* the writer's waits for fuller batches */
    atomic_uint_fast64_t offloaded;       /* requests run on a worker thread */
    atomic_int in_flight; /* requests begun (head read), not completed: what a drain waits for */
};

void kg_metrics_request(struct kg_metrics *m, int status, uint64_t micros);
/* One audit commit of events, after the writer waited waited_us to gather them. */
void kg_metrics_batch(struct kg_metrics *m, size_t events, bool ok, uint64_t waited_us);
/* Prometheus text format 0.0.4; owned string. */
char *kg_metrics_render(struct kg_metrics *m);

#endif
