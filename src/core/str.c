/* SPDX-License-Identifier: Apache-2.0
 * Views, bounded buffers and the abort-on-OOM allocators. */
#include "core/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
    fputs("keygate: out of memory\n", stderr);
    abort();
}

void *kg_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        oom();
    }
    return p;
}

void *kg_calloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p) {
        oom();
    }
    return p;
}

void *kg_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        oom();
    }
    return q;
}

char *kg_strdup(const char *s)
{
    size_t n = strlen(s);
    char *d = kg_malloc(n + 1);
    memcpy(d, s, n + 1);
    return d;
}

bool kg_strlcpy(char *dst, const char *src, size_t dst_size)
{
    size_t n = strlen(src);
    bool fits = n < dst_size;
    if (!fits) {
        n = dst_size - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return fits;
}

size_t kg_fmt_int(char *out, int64_t v)
{
    char d[24];
    size_t n = 0, o = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        d[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        out[o++] = '-';
    }
    while (n) {
        out[o++] = d[--n];
    }
    return o;
}

bool kg_key_join(char *out, size_t n, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    size_t o = 0;
    bool fits = true;
    size_t parts = 0;
    for (const char *p = first; p && fits; p = va_arg(ap, const char *)) {
        size_t l = strlen(p), sep = parts++ ? 1 : 0;
        fits = o + sep + l < n;
        if (fits) {
            if (sep) {
                out[o++] = '|';
            }
            memcpy(out + o, p, l);
            o += l;
        }
    }
    va_end(ap);
    if (n) {
        out[fits ? o : 0] = '\0';
    }
    return fits;
}

struct kg_str kg_str_c(const char *s)
{
    if (!s) {
        return KG_STR_NULL;
    }
    return (struct kg_str){s, strlen(s)};
}

bool kg_str_eq(struct kg_str a, struct kg_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool kg_str_eq_c(struct kg_str a, const char *b)
{
    return kg_str_eq(a, kg_str_c(b));
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

bool kg_str_case_eq_c(struct kg_str a, const char *b)
{
    size_t n = strlen(b);
    if (a.n != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (lower((unsigned char)a.p[i]) != lower((unsigned char)b[i])) {
            return false;
        }
    }
    return true;
}

bool kg_str_starts(struct kg_str a, const char *prefix)
{
    size_t n = strlen(prefix);
    return a.n >= n && memcmp(a.p, prefix, n) == 0;
}

bool kg_words_has(const char *list, const char *w, size_t n)
{
    const char *p = list;
    while (*p) {
        const char *sp = strchr(p, ' ');
        size_t len = sp ? (size_t)(sp - p) : strlen(p);
        if (len == n && memcmp(p, w, n) == 0) {
            return true;
        }
        p += len + (sp ? 1 : 0);
    }
    return false;
}

void kg_buf_init(struct kg_buf *b, size_t max)
{
    b->p = NULL;
    b->n = 0;
    b->cap = 0;
    b->max = max;
}

void kg_buf_free(struct kg_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

enum kg_rc kg_buf_add(struct kg_buf *b, const void *p, size_t n)
{
    if (n > b->max - b->n) {
        return KG_ERR_TOO_LONG;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1) {
            cap *= 2;
        }
        if (cap > b->max + 1) {
            cap = b->max + 1;
        }
        b->p = kg_realloc(b->p, cap);
        b->cap = cap;
    }
    if (n) {
        memcpy(b->p + b->n, p, n);
    }
    b->n += n;
    b->p[b->n] = '\0';
    return KG_OK;
}

enum kg_rc kg_buf_adds(struct kg_buf *b, const char *s)
{
    return kg_buf_add(b, s, strlen(s));
}

enum kg_rc kg_buf_printf(struct kg_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return KG_ERR_INTERNAL;
    }
    if ((size_t)n < sizeof small) {
        return kg_buf_add(b, small, (size_t)n);
    }
    char *big = kg_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    enum kg_rc rc = kg_buf_add(b, big, (size_t)n);
    free(big);
    return rc;
}

char *kg_buf_take(struct kg_buf *b)
{
    if (!b->p) {
        kg_buf_add(b, "", 0);
    }
    char *p = b->p;
    b->p = NULL;
    b->n = b->cap = 0;
    return p;
}
