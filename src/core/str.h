/* SPDX-License-Identifier: Apache-2.0
 * The two string types of keygate: struct kg_str, a view (pointer + length, never assumed to be
 * NUL-terminated), and struct kg_buf, an owning buffer created with a maximum size that fails
 * past it. Also the out-of-memory policy: allocation failure aborts (safe because every size an
 * attacker controls is checked against limits.h first). */
#ifndef KG_CORE_STR_H
#define KG_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct kg_str {
    const char *p;
    size_t n;
};

#define KG_STR(lit) ((struct kg_str){(lit), sizeof(lit) - 1})
#define KG_STR_NULL ((struct kg_str){NULL, 0})

struct kg_str kg_str_c(const char *s); /* view of a C string; NULL gives KG_STR_NULL */
bool kg_str_eq(struct kg_str a, struct kg_str b);
bool kg_str_eq_c(struct kg_str a, const char *b);
bool kg_str_case_eq_c(struct kg_str a, const char *b); /* ASCII case-insensitive */
bool kg_str_starts(struct kg_str a, const char *prefix);
/* true if the space-separated list contains the word w[0..n) (permissions, scopes, grants). */
bool kg_words_has(const char *list, const char *w, size_t n);

struct kg_buf {
    char *p;
    size_t n;   /* bytes used; p[n] is always NUL when p != NULL */
    size_t cap; /* allocated */
    size_t max; /* hard maximum of n */
};

void kg_buf_init(struct kg_buf *b, size_t max);
void kg_buf_free(struct kg_buf *b);
enum kg_rc kg_buf_add(struct kg_buf *b, const void *p, size_t n);
enum kg_rc kg_buf_adds(struct kg_buf *b, const char *s);
enum kg_rc kg_buf_printf(struct kg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Transfers the buffer's memory to the caller (NUL-terminated) and resets b. */
char *kg_buf_take(struct kg_buf *b);

void *kg_malloc(size_t n);
void *kg_calloc(size_t count, size_t n);
void *kg_realloc(void *p, size_t n);
char *kg_strdup(const char *s);
/* Copies at most dst_size-1 bytes and always NUL-terminates; returns false if truncated. */
bool kg_strlcpy(char *dst, const char *src, size_t dst_size);
/* Writes the decimal digits of v at out (no NUL; at most 20 bytes) and returns how many. */
size_t kg_fmt_int(char *out, int64_t v);
/* Writes the parts (a NULL-terminated list of C strings) into out, each after the first
 * preceded by '|', NUL-terminated: a cache key. Returns false, with out unusable, if they do not
 * all fit in n bytes (a truncated key could name another entry). */
bool kg_key_join(char *out, size_t n, const char *first, ...) __attribute__((sentinel));

#endif
