/* SPDX-License-Identifier: Apache-2.0
 * Role patterns against a permission (SPEC 2 "role"); see verify.h. */
#include <string.h>

#include "verify/verify.h"

static bool one(const char *pat, size_t pn, const char *perm)
{
    size_t n = strlen(perm);
    if (pn == 1 && pat[0] == '*') {
        return true;
    }
    if (pn == n && memcmp(pat, perm, n) == 0) {
        return true;
    }
    const char *pc = memchr(pat, ':', pn), *xc = strchr(perm, ':');
    if (!pc || !xc) {
        return false;
    }
    size_t pr = (size_t)(pc - pat), xr = (size_t)(xc - perm);
    bool res = (pr == 1 && pat[0] == '*') || (pr == xr && memcmp(pat, perm, pr) == 0);
    size_t pa = pn - pr - 1, xa = n - xr - 1;
    bool act = (pa == 1 && pc[1] == '*') || (pa == xa && memcmp(pc + 1, xc + 1, pa) == 0);
    return res && act;
}

bool kg_perm_granted(const char *patterns, const char *permission)
{
    if (!permission || !*permission) {
        return false;
    }
    for (const char *w = patterns; w && *w;) {
        const char *sp = strchr(w, ' ');
        size_t n = sp ? (size_t)(sp - w) : strlen(w);
        if (n && one(w, n, permission)) {
            return true;
        }
        w = sp ? sp + 1 : w + n;
    }
    return false;
}
