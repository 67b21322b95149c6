/* SPDX-License-Identifier: Apache-2.0
 * The /verify decision (SPEC 6): who the credential is, and whether it may make this request
 * of this API, by the rules of SPEC 6.3 in their order. No HTTP here (endpoints/verify.c reads
 * the headers and writes the answer); every store read goes through the caching store,
 * verified tokens are remembered by their hash until they expire or anything changes, and
 * allowed decisions by the credential's hash and the request (verify/memo.h). */
#ifndef KG_VERIFY_VERIFY_H
#define KG_VERIFY_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/str.h"
#include "oauth/errors.h"
#include "server/server.h"
#include "store/store.h"

/* What the gateway forwarded, already taken from the headers. */
struct kg_vreq {
    struct kg_server *srv;
    const char *method;          /* the original method */
    const char *path;            /* the original path, canonical */
    const char *api;             /* API identifier */
    struct kg_str authorization; /* KG_STR_NULL if absent */
    struct kg_str api_key;
    struct kg_str subscription_key;
    struct kg_str caller_id; /* x-api-caller-id */
    /* Any other header of the request (the API's tenant header); KG_STR_NULL if absent. */
    struct kg_str (*header)(const void *ctx, const char *name);
    const void *header_ctx;
    int64_t now;
    bool explain; /* record the checks made in out->explain (an operator asked) */
};

/* Who the request is, on success. */
struct kg_identity {
    char tenant_id[KG_ID];
    char subject[KG_ID];    /* user oid, service principal oid, or API key id */
    char principal_type[8]; /* user | app | apikey */
    char caller[KG_NAME];
    char roles[KG_LIST];
    char scopes[KG_LIST];
    char workspace_id[KG_ID];
    char credential_hash[KG_HASH_HEX];
};

struct kg_vres {
    enum kg_oerr err; /* KG_OE_NONE: allow */
    char detail[320];
    struct kg_identity id;
    int64_t retry_after;
    int64_t until; /* an allow stands by time alone until then (the credential's expiry) */
    bool explaining;
    char explain[2048]; /* the checks made, in order (only when asked) */
};

struct kg_verifier;
struct kg_verifier *kg_verifier_new(void);
void kg_verifier_free(struct kg_verifier *v);

/* Decides rq into out (which need not be initialised). */
void kg_verify(struct kg_verifier *v, const struct kg_vreq *rq, struct kg_vres *out);
/* An empty result: no error, no identity, empty strings (without clearing all 7 KB of it). */
void kg_vres_clear(struct kg_vres *o);
/* true if token is an access token for api://keygate carrying the verify:explain application
 * permission (an operator may then see the checks /verify made). */
bool kg_verify_operator(struct kg_verifier *v, struct kg_server *srv, struct kg_str token,
                        int64_t now);

/* true if one of the space-separated role patterns ("*", "*:read", "grids:*", "grids:read")
 * grants permission. */
bool kg_perm_granted(const char *patterns, const char *permission);

#endif
