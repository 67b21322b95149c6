/* SPDX-License-Identifier: Apache-2.0
 * What the gateway says the original request was (SPEC 6.1, 12.6): the method and path from
 * X-Forwarded-Method/-Uri (Traefik), X-Original-Method/-URI (nginx), or the path after /verify
 * (Envoy path_prefix); forwarded headers of any kind count only from a trusted proxy; a header
 * sent twice, or two conventions that disagree, are refused. Also the trusted-proxy list
 * ("127.0.0.0/8,::1/128"). Pure functions over the request's headers. */
#ifndef KG_VERIFY_FORWARDED_H
#define KG_VERIFY_FORWARDED_H

#include <stdbool.h>

#include "http/http.h"
#include "oauth/errors.h"
#include "verify/path.h"

struct kg_original {
    char method[16];
    char path[KG_MAX_VERIFY_PATH + 1]; /* canonical */
};

/* rest: the request path after "/verify" ("" or "/..."). KG_OE_NONE or the problem. */
enum kg_oerr kg_forwarded_original(const struct kg_kv *headers, size_t nheaders, const char *method,
                                   struct kg_str rest, bool trusted, struct kg_original *out);
/* true if ip (textual IPv4 or IPv6) is inside one of the comma-separated CIDRs of list. */
bool kg_ip_trusted(const char *list, const char *ip);
/* true if list is a valid comma-separated list of CIDRs or addresses. */
bool kg_ip_list_valid(const char *list);

#endif
