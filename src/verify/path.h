/* SPDX-License-Identifier: Apache-2.0
 * The forwarded request's path as /verify matches it (SPEC 6.1, 6.3 rule 4, 12.6): only a
 * canonical path is accepted, so no spelling of a path can reach a route another spelling would
 * not; and route patterns ("/apm/grids/{workspace}/limits", "*" for one segment). Pure
 * functions. */
#ifndef KG_VERIFY_PATH_H
#define KG_VERIFY_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/str.h"

#define KG_MAX_VERIFY_PATH 2048
#define KG_MAX_ROUTE_PARAMS 8

/* Copies the path of uri (the query and fragment dropped) into out if it is canonical: starts
 * with '/', no empty segment but a trailing one, no "." or ".." segment, no ';' or '\\', no control
 * or non-ASCII byte, and no percent-encoding of an unreserved character, '/', '\\', '.' or NUL (RFC
 * 3986 6.2.2). */
bool kg_path_canonical(struct kg_str uri, char *out, size_t n);

struct kg_route_params {
    size_t n;
    char name[KG_MAX_ROUTE_PARAMS][64];
    char value[KG_MAX_ROUTE_PARAMS][256];
};

/* true if path (canonical) matches pattern segment for segment: a literal segment matches
 * itself exactly (case-sensitive), "*" any one segment, "{name}" any one segment and captures
 * it. A trailing slash is a segment difference. */
bool kg_route_match(const char *pattern, const char *path, struct kg_route_params *p);
/* The captured value of name, or NULL. */
const char *kg_route_param(const struct kg_route_params *p, const char *name);
/* true if pattern is a valid route pattern (for registration). */
bool kg_route_pattern_valid(const char *pattern);

#endif
