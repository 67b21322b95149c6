/* SPDX-License-Identifier: Apache-2.0
 * Cookie parsing and formatting; see cookie.h. */
#include "web/cookie.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/limits.h"

/* RFC 6265 4.1.1 cookie-octet. */
static bool octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
           (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

bool kg_cookie_get(struct kg_str h, const char *name, char *out, size_t n)
{
    if (!h.p || h.n > KG_MAX_COOKIE_HEADER || n == 0) {
        return false;
    }
    size_t name_n = strlen(name), pairs = 0;
    bool found = false;
    const char *p = h.p, *end = h.p + h.n;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (++pairs > KG_MAX_COOKIES) {
            return false;
        }
        if (eq && (size_t)(eq - p) == name_n && memcmp(p, name, name_n) == 0) {
            if (found) {
                return false; /* the same name twice: could be a planted cookie */
            }
            const char *v = eq + 1, *ve = stop;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
                ve--;
            }
            if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
                v++;
                ve--;
            }
            size_t vn = (size_t)(ve - v);
            if (vn == 0 || vn >= n) {
                return false;
            }
            for (size_t i = 0; i < vn; i++) {
                if (!octet((unsigned char)v[i])) {
                    return false;
                }
            }
            memcpy(out, v, vn);
            out[vn] = '\0';
            found = true;
        }
        p = semi ? semi + 1 : end;
    }
    return found;
}

void kg_cookie_format(char *out, size_t n, const char *name, const char *value, int64_t max_age)
{
    char age[48] = "";
    if (max_age >= 0) {
        snprintf(age, sizeof age, "; Max-Age=%" PRId64, max_age);
    }
    snprintf(out, n, "%s=%s; Path=/; Secure; HttpOnly; SameSite=Lax%s", name, value, age);
}
