/* SPDX-License-Identifier: Apache-2.0
 * Canonical forwarded paths and route patterns; see path.h. */
#include "verify/path.h"

#include <string.h>

#include "core/encode.h"

/* Characters that must never arrive percent-encoded in a canonical path. */
static bool must_not_encode(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '/' || c == '\\' || c == 0;
}

bool kg_path_canonical(struct kg_str uri, char *out, size_t n)
{
    if (!uri.p || uri.n == 0 || uri.p[0] != '/') {
        return false;
    }
    size_t len = 0;
    while (len < uri.n && uri.p[len] != '?' && uri.p[len] != '#') {
        len++;
    }
    if (len >= n || len > KG_MAX_VERIFY_PATH) {
        return false;
    }
    size_t seg_start = 1;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)uri.p[i] : '/';
        if (i > 0 && c == '/') {
            size_t sl = i - seg_start;
            const char *seg = uri.p + seg_start;
            bool last = i == len;
            if ((sl == 0 && !last) || (sl == 1 && seg[0] == '.') ||
                (sl == 2 && seg[0] == '.' && seg[1] == '.')) {
                return false; /* "//", ".", ".." */
            }
            seg_start = i + 1;
            continue;
        }
        if (c < 0x21 || c >= 0x7f || c == ';' || c == '\\') {
            return false;
        }
        if (c == '%') {
            if (i + 2 >= len) {
                return false;
            }
            int h = kg_hex_value(uri.p[i + 1]), l = kg_hex_value(uri.p[i + 2]);
            if (h < 0 || l < 0 || must_not_encode(h * 16 + l)) {
                return false;
            }
        }
    }
    memcpy(out, uri.p, len);
    out[len] = '\0';
    return true;
}

/* Next segment of s at *pos (after the leading '/'); false at the end. */
static bool next_seg(const char *s, size_t *pos, const char **seg, size_t *sl)
{
    if (s[*pos] != '/') {
        return false;
    }
    size_t start = *pos + 1, e = start;
    while (s[e] && s[e] != '/') {
        e++;
    }
    *seg = s + start;
    *sl = e - start;
    *pos = e;
    return true;
}

bool kg_route_match(const char *pattern, const char *path, struct kg_route_params *p)
{
    size_t pp = 0, xp = 0;
    p->n = 0;
    for (;;) {
        const char *ps = NULL, *xs = NULL;
        size_t pl = 0, xl = 0;
        bool more_p = next_seg(pattern, &pp, &ps, &pl);
        bool more_x = next_seg(path, &xp, &xs, &xl);
        if (!more_p || !more_x) {
            return !more_p && !more_x && pattern[pp] == '\0' && path[xp] == '\0';
        }
        if (pl == 1 && ps[0] == '*') {
            if (xl == 0) {
                return false;
            }
        } else if (pl >= 2 && ps[0] == '{' && ps[pl - 1] == '}') {
            if (xl == 0 || xl >= sizeof p->value[0] || pl - 2 >= sizeof p->name[0] ||
                p->n == KG_MAX_ROUTE_PARAMS) {
                return false;
            }
            memcpy(p->name[p->n], ps + 1, pl - 2);
            p->name[p->n][pl - 2] = '\0';
            memcpy(p->value[p->n], xs, xl);
            p->value[p->n][xl] = '\0';
            p->n++;
        } else if (pl != xl || memcmp(ps, xs, pl) != 0) {
            return false;
        }
    }
}

const char *kg_route_param(const struct kg_route_params *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->name[i], name) == 0) {
            return p->value[i];
        }
    }
    return NULL;
}

bool kg_route_pattern_valid(const char *pattern)
{
    char buf[KG_MAX_VERIFY_PATH + 1];
    if (!pattern || pattern[0] != '/' || strlen(pattern) > 500) {
        return false;
    }
    /* braces and '*' are pattern syntax; the rest must be a canonical path */
    size_t n = strlen(pattern), params = 0;
    char tmp[512];
    for (size_t i = 0; i < n; i++) {
        char c = pattern[i];
        tmp[i] = (c == '{' || c == '}' || c == '*') ? 'x' : c;
        params += c == '{';
    }
    tmp[n] = '\0';
    return params <= KG_MAX_ROUTE_PARAMS && kg_path_canonical(kg_str_c(tmp), buf, sizeof buf) &&
           !strchr(pattern, '?');
}
