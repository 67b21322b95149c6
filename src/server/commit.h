/* SPDX-License-Identifier: Apache-2.0
 * Group commit of audit events. Request threads hand over events with a completion callback and
 * do not wait; one writer thread commits everything queued in a single transaction and then
 * calls every callback (from the writer thread) with the result. A response that carries a
 * token is released only from that callback, so no token a client received is missing from the
 * audit trail after a crash, and no token costs a synchronous disk write of its own. */
#ifndef KG_SERVER_COMMIT_H
#define KG_SERVER_COMMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "server/metrics.h"
#include "store/store.h"

struct kg_committer;

typedef void (*kg_commit_done_fn)(void *arg, enum kg_rc rc);

struct kg_committer *kg_committer_new(struct kg_store *store, struct kg_metrics *m);
/* Queues copies of ev[0..n); done(arg, rc) runs once they are committed (or failed). Blocks
 * only when KG_MAX_COMMIT_QUEUE events are already waiting. Thread-safe. */
void kg_committer_submit(struct kg_committer *c, const struct kg_audit *ev, size_t n,
                         kg_commit_done_fn done, void *arg);
/* Whether the audit trail takes writes: true unless the last commit failed, and then only if a
 * probe write made now, from the calling thread, succeeds (/readyz: a node that no load balancer
 * sends requests to finds out by itself that its disk or database works again). True for NULL. */
bool kg_committer_working(struct kg_committer *c);
/* Commits what is queued, stops the writer and frees. NULL is a no-op. */
void kg_committer_free(struct kg_committer *c);

#endif
