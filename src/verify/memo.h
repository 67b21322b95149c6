/* SPDX-License-Identifier: Apache-2.0
 * The decision cache of /verify (SPEC 6): an allowed request's outcome, remembered under its
 * credential's hash and every other input the decision read, so that the same credential making
 * the same request again is answered without redoing the rules.
 *
 * An entry is used only while (1) the store's config stamp is the one it was decided under (any
 * revocation, rotation, role, membership, route or deletion moves it), (2) the time is before
 * the earliest moment the decision could change by time alone (the key's expiry or revocation
 * time, the token's expiry), and (3) the one request header the decision read, if any (an API's
 * tenant header), has the same value. The rate limit and the last-used note are not part of it:
 * they are applied to every request. Denials are never remembered. Bounded in entries; an entry
 * holds the identity's strings packed. */
#ifndef KG_VERIFY_MEMO_H
#define KG_VERIFY_MEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "verify/verify.h"

/* Room for a memo key: credential hash, API, method, path, caller id, subscription key hash. */
#define KG_MEMO_KEY 1024

/* The request header a decision read (through kg_vreq.header), for the entry to be checked
 * against. */
struct kg_memo_header {
    int reads;     /* how many times the decision asked; only 0 or 1 can be remembered */
    char name[64]; /* the header asked for */
    bool present;
    char value[KG_NAME];
    bool fits; /* name and value fitted */
};

struct kg_memo;
struct kg_memo *kg_memo_new(void);
void kg_memo_free(struct kg_memo *m);

/* The key for a request presenting credential hash cred_hash as kind ('b' a bearer token, 'k' an
 * API key). False if the request's parts do not fit (it is then decided afresh every time). */
bool kg_memo_key(const struct kg_vreq *rq, char kind, const char *cred_hash, char out[KG_MEMO_KEY]);

/* True if key was allowed under stamp and the decision still holds at rq->now for rq; then id
 * is who it is, *rate the rate limit to apply (0: none) and key_id the API key used ("" for a
 * token), for its last-used time. If false, id holds nothing of a remembered decision. */
bool kg_memo_get(struct kg_memo *m, const char *key, int64_t stamp, const struct kg_vreq *rq,
                 struct kg_identity *id, int64_t *rate, char key_id[KG_ID]);

/* Remembers an allowed decision made under stamp at now, valid before until (unix seconds),
 * having read the header h. Does nothing if h says the decision read more than one header or
 * one too long. */
void kg_memo_put(struct kg_memo *m, const char *key, int64_t stamp, int64_t now, int64_t until,
                 const struct kg_memo_header *h, const struct kg_identity *id, int64_t rate,
                 const char *key_id);

/* The header reader a decision is given so that what it reads is recorded in h: wraps
 * rq->header. */
struct kg_memo_reader {
    struct kg_str (*header)(const void *ctx, const char *name);
    const void *header_ctx;
    struct kg_memo_header *h;
};
struct kg_str kg_memo_read_header(const void *reader, const char *name);

#endif
