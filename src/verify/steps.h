/* SPDX-License-Identifier: Apache-2.0
 * What the parts of the /verify decision share (verify.c: the rules in order; credential.c: a
 * JWT or an API key into an identity; rate.c: the rate limit): the verifier's state, and how a
 * step records the reason of a denial and, for X-Keygate-Explain, what it checked. Internal to
 * src/verify. */
#ifndef KG_VERIFY_STEPS_H
#define KG_VERIFY_STEPS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/map.h"
#include "store/store.h"
#include "verify/memo.h"
#include "verify/verify.h"

/* Entries each cache of the verifier holds at most (verified tokens, rate-limit buckets). */
#define KG_VERIFY_MAX_CACHED 65536
/* Clock skew allowed on exp and nbf, seconds. */
#define KG_VERIFY_SKEW 60

struct kg_verifier {
    pthread_mutex_t mu;
    struct kg_map *tokens;  /* sha256(jwt) -> struct packed_token (credential.c) */
    struct kg_map *buckets; /* api|tenant|principal type|subject -> struct bucket (rate.c) */
    struct kg_memo *memo;   /* allowed decisions */
};

/* Adds a line to the explanation when the request asked for one (X-Keygate-Explain). */
void kg_vnote(struct kg_vres *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records the denial (detail: NULL for the error's own description); returns false. */
bool kg_vdeny(struct kg_vres *o, enum kg_oerr e, const char *detail);
/* The store did not answer: 503, never an allow; returns false. */
bool kg_vstore_failed(struct kg_vres *o);

/* Rule 1 for a bearer token: its identity into o (hash: the token's SHA-256 if already
 * computed, else NULL). A token verified earlier under the same config stamp comes from the
 * verifier's cache. */
bool kg_verify_jwt(struct kg_verifier *v, const struct kg_vreq *rq, struct kg_str jwt,
                   const char *hash, struct kg_vres *o);
/* Rule 1 for an API key: the key, its role and its identity (hash as for kg_verify_jwt). */
bool kg_verify_api_key(const struct kg_vreq *rq, struct kg_str key, const char *hash,
                       struct kg_api_key *k, struct kg_role *role, struct kg_vres *o);
/* Rule 6: whether the principal is within rate (per second) for the API; sets retry_after. */
bool kg_verify_within_rate(struct kg_verifier *v, const struct kg_vreq *rq, int64_t rate,
                           struct kg_vres *o);

#endif
