/* SPDX-License-Identifier: Apache-2.0
 * The original request behind a forward-auth call, and trusted proxies; see forwarded.h. */
#include "verify/forwarded.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool starts_ci(struct kg_str s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.n >= n && kg_str_case_eq_c((struct kg_str){s.p, n}, prefix);
}

/* The one value of header name; *bad when it is sent more than once. */
static struct kg_str one(const struct kg_kv *h, size_t n, const char *name, bool *bad)
{
    struct kg_str v = KG_STR_NULL;
    for (size_t i = 0; i < n; i++) {
        if (kg_str_case_eq_c(h[i].name, name)) {
            *bad |= v.p != NULL;
            v = h[i].value;
        }
    }
    return v;
}

static bool method_ok(struct kg_str m)
{
    if (m.n == 0 || m.n >= 16) {
        return false;
    }
    for (size_t i = 0; i < m.n; i++) {
        if (m.p[i] < 'A' || m.p[i] > 'Z') {
            return false;
        }
    }
    return true;
}

enum kg_oerr kg_forwarded_original(const struct kg_kv *headers, size_t nheaders, const char *method,
                                   struct kg_str rest, bool trusted, struct kg_original *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < nheaders; i++) {
        if (!trusted && (starts_ci(headers[i].name, "X-Forwarded-") ||
                         starts_ci(headers[i].name, "X-Original-") ||
                         kg_str_case_eq_c(headers[i].name, "Forwarded"))) {
            return KG_OE_V_UNTRUSTED_PROXY;
        }
    }
    bool bad = false;
    struct kg_str fm = one(headers, nheaders, "X-Forwarded-Method", &bad);
    struct kg_str fu = one(headers, nheaders, "X-Forwarded-Uri", &bad);
    struct kg_str om = one(headers, nheaders, "X-Original-Method", &bad);
    struct kg_str ou = one(headers, nheaders, "X-Original-URI", &bad);
    if (bad || (fu.p && ou.p && !kg_str_eq(fu, ou)) || (fm.p && om.p && !kg_str_eq(fm, om))) {
        return KG_OE_V_BAD_URI;
    }
    struct kg_str uri = fu.p ? fu : ou.p ? ou : rest;
    if ((fu.p || ou.p) && rest.n > 0) {
        return KG_OE_V_BAD_URI; /* two conventions at once */
    }
    struct kg_str m = fm.p ? fm : om.p ? om : kg_str_c(method);
    if (!uri.p || uri.n == 0 || !method_ok(m) ||
        !kg_path_canonical(uri, out->path, sizeof out->path)) {
        return KG_OE_V_BAD_URI;
    }
    memcpy(out->method, m.p, m.n);
    out->method[m.n] = '\0';
    return KG_OE_NONE;
}

/* Parses "ADDR" or "ADDR/BITS" into family, 16 address bytes and prefix length. */
static bool cidr(const char *s, size_t n, int *family, unsigned char a[16], int *bits)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf) {
        return false;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
    }
    memset(a, 0, 16);
    if (inet_pton(AF_INET, buf, a) == 1) {
        *family = AF_INET;
        *bits = 32;
    } else if (inet_pton(AF_INET6, buf, a) == 1) {
        *family = AF_INET6;
        *bits = 128;
    } else {
        return false;
    }
    if (slash) {
        char *end = NULL;
        long b = strtol(slash + 1, &end, 10);
        if (!end || *end || slash[1] == '\0' || b < 0 || b > *bits) {
            return false;
        }
        *bits = (int)b;
    }
    return true;
}

static bool in_prefix(const unsigned char *a, const unsigned char *net, int bits)
{
    for (int i = 0; i < bits / 8; i++) {
        if (a[i] != net[i]) {
            return false;
        }
    }
    int r = bits % 8;
    if (r) {
        unsigned char mask = (unsigned char)(0xff << (8 - r));
        return (a[bits / 8] & mask) == (net[bits / 8] & mask);
    }
    return true;
}

/* Calls fn on each entry of the list; false if one is malformed. */
static bool each(const char *list, bool (*fn)(int, const unsigned char *, int, void *), void *ctx,
                 bool *hit)
{
    *hit = false;
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        while (n && *p == ' ') {
            p++;
            n--;
        }
        int fam = 0, bits = 0;
        unsigned char net[16];
        if (!cidr(p, n, &fam, net, &bits) || (c && c[1] == '\0')) {
            return false;
        }
        *hit |= fn(fam, net, bits, ctx);
        p = c ? c + 1 : NULL;
    }
    return true;
}

struct probe {
    int family;
    unsigned char a[16];
};

static bool contains(int fam, const unsigned char *net, int bits, void *ctx)
{
    const struct probe *p = ctx;
    return fam == p->family && in_prefix(p->a, net, bits);
}

bool kg_ip_trusted(const char *list, const char *ip)
{
    struct probe p;
    memset(&p, 0, sizeof p);
    if (inet_pton(AF_INET, ip, p.a) == 1) {
        p.family = AF_INET;
    } else if (inet_pton(AF_INET6, ip, p.a) == 1) {
        p.family = AF_INET6;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(p.a, mapped, 12) == 0) { /* ::ffff:a.b.c.d is IPv4 */
            memmove(p.a, p.a + 12, 4);
            memset(p.a + 4, 0, 12);
            p.family = AF_INET;
        }
    } else {
        return false;
    }
    bool hit = false;
    return each(list, contains, &p, &hit) && hit;
}

static bool nothing(int fam, const unsigned char *net, int bits, void *ctx)
{
    (void)fam;
    (void)net;
    (void)bits;
    (void)ctx;
    return false;
}

bool kg_ip_list_valid(const char *list)
{
    bool hit;
    return list && each(list, nothing, NULL, &hit);
}
