/* SPDX-License-Identifier: Apache-2.0
 * The plain request and response that handlers see instead of libmicrohttpd (which only
 * http/server.c includes), so endpoints, unit tests and fuzzers run without a socket. */
#ifndef KG_HTTP_HTTP_H
#define KG_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/str.h"
#include "store/store.h"

#define KG_MAX_HEADERS 64
#define KG_MAX_QUERY 32
#define KG_MAX_RESP_HEADERS 16
/* Room in a response for its header values: every response has a few (identity headers, cache
 * and auth directives), and copying them here costs no allocation. One that does not fit is
 * allocated. */
#define KG_RESP_HEADER_BYTES 2048

struct kg_kv {
    struct kg_str name;
    struct kg_str value;
};

struct kg_server;

struct kg_req {
    struct kg_server *srv;
    const char *method;
    struct kg_str path; /* raw (not percent-decoded), without the query */
    struct kg_kv headers[KG_MAX_HEADERS];
    size_t nheaders;
    bool too_many_headers;
    struct kg_kv query[KG_MAX_QUERY]; /* raw name/value pairs of the query string */
    size_t nquery;
    struct kg_str body;
    bool body_too_large;
    char peer[48];     /* client IP address */
    bool peer_trusted; /* peer is one of --trusted-proxies: its X-Forwarded-* may be believed */
    char trace_id[36];
    bool on_worker; /* dispatched again on a worker thread after the endpoint asked (offload) */
    /* The SIGTERM drain had begun when this request was dispatched (or its held response was
     * resumed): read once, so /readyz's "stopping" and the Connection: close agree. */
    bool stopping;
};

struct kg_resp_header {
    char name[48];
    char *value; /* in the response's hbuf, or allocated when heap */
    bool heap;
};

struct kg_resp {
    int status;
    char *body; /* owned, may be NULL */
    size_t body_len;
    const char *content_type;
    struct kg_resp_header headers[KG_MAX_RESP_HEADERS];
    size_t nheaders;
    /* Audit events that must be committed before the response is sent (group commit). If the
     * commit fails, on_commit_failure rewrites the response (e.g. to a 503). */
    struct kg_audit *audit;
    size_t naudit;
    void (*on_commit_failure)(struct kg_resp *r, const struct kg_req *req);
    /* The events need not hold the response: they are committed after it leaves, and a failed
     * commit changes nothing. For answers that grant nothing (a /verify denial), so that nothing
     * a client holds can be missing from the trail after a crash. */
    bool audit_behind;
    /* The endpoint asks to be run again on a worker thread (argon2 and other slow work must
     * not occupy the threads that serve every other request). Only honoured once. */
    bool offload;
    size_t hbuf_used;
    /* Last, so that kg_resp_clear need not zero it (only hbuf_used bytes are ever read). */
    char hbuf[KG_RESP_HEADER_BYTES];
};

/* First header with this name (ASCII case-insensitive); KG_STR_NULL if absent. Sets *count to
 * the number of headers with the name when count is not NULL. */
struct kg_str kg_req_header(const struct kg_req *r, const char *name, size_t *count);
/* Raw query value; KG_STR_NULL if absent. */
struct kg_str kg_req_query(const struct kg_req *r, const char *name);

void kg_resp_set_body(struct kg_resp *r, int status, const char *content_type, char *body);
/* Adds the header, or replaces the value of one already added under the same name. */
void kg_resp_add_header(struct kg_resp *r, const char *name, const char *value);
/* Appends an audit event to be group-committed before the response leaves. */
struct kg_audit *kg_resp_audit(struct kg_resp *r, const struct kg_req *req);
/* Frees what the response owns and empties it (for reuse, or before it goes). */
void kg_resp_clear(struct kg_resp *r);

#endif
