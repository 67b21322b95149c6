/* SPDX-License-Identifier: Apache-2.0
 * Accessors for struct kg_req and builders for struct kg_resp. */
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

struct kg_str kg_req_header(const struct kg_req *r, const char *name, size_t *count)
{
    struct kg_str v = KG_STR_NULL;
    size_t c = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (kg_str_case_eq_c(r->headers[i].name, name)) {
            if (c++ == 0) {
                v = r->headers[i].value;
            }
        }
    }
    if (count) {
        *count = c;
    }
    return v;
}

struct kg_str kg_req_query(const struct kg_req *r, const char *name)
{
    for (size_t i = 0; i < r->nquery; i++) {
        if (kg_str_eq_c(r->query[i].name, name)) {
            return r->query[i].value;
        }
    }
    return KG_STR_NULL;
}

void kg_resp_set_body(struct kg_resp *r, int status, const char *content_type, char *body)
{
    free(r->body);
    r->status = status;
    r->content_type = content_type;
    r->body = body;
    r->body_len = body ? strlen(body) : 0;
}

/* Sets header h's value: a copy in the response's own buffer while there is room, else
 * allocated. */
static void set_value(struct kg_resp *r, struct kg_resp_header *h, const char *value)
{
    size_t n = strlen(value) + 1;
    if (n <= sizeof r->hbuf - r->hbuf_used) {
        h->value = memcpy(r->hbuf + r->hbuf_used, value, n);
        h->heap = false;
        r->hbuf_used += n;
    } else {
        h->value = kg_strdup(value);
        h->heap = true;
    }
}

void kg_resp_add_header(struct kg_resp *r, const char *name, const char *value)
{
    for (size_t i = 0; i < r->nheaders; i++) { /* replace */
        if (strcmp(r->headers[i].name, name) == 0) {
            if (r->headers[i].heap) {
                free(r->headers[i].value);
            }
            set_value(r, &r->headers[i], value);
            return;
        }
    }
    if (r->nheaders == KG_MAX_RESP_HEADERS) {
        abort(); /* a programming error: raise KG_MAX_RESP_HEADERS */
    }
    kg_strlcpy(r->headers[r->nheaders].name, name, sizeof r->headers[0].name);
    set_value(r, &r->headers[r->nheaders], value);
    r->nheaders++;
}

struct kg_audit *kg_resp_audit(struct kg_resp *r, const struct kg_req *req)
{
    r->audit = kg_realloc(r->audit, (r->naudit + 1) * sizeof *r->audit);
    struct kg_audit *a = &r->audit[r->naudit++];
    memset(a, 0, sizeof *a);
    a->time_ms = kg_now_ms();
    if (req) {
        kg_strlcpy(a->client_ip, req->peer, sizeof a->client_ip);
        kg_strlcpy(a->trace_id, req->trace_id, sizeof a->trace_id);
    }
    return a;
}

void kg_resp_clear(struct kg_resp *r)
{
    free(r->body);
    for (size_t i = 0; i < r->nheaders; i++) {
        if (r->headers[i].heap) {
            free(r->headers[i].value);
        }
    }
    free(r->audit);
    memset(r, 0, offsetof(struct kg_resp, hbuf));
}
