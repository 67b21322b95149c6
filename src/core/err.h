/* SPDX-License-Identifier: Apache-2.0
 * Result codes and the error record every fallible function may fill in. The record separates
 * what a client may see (the RFC error string and a description) from what only the log sees. */
#ifndef KG_CORE_ERR_H
#define KG_CORE_ERR_H

enum kg_rc {
    KG_OK = 0,
    KG_ERR_INVALID,   /* malformed input */
    KG_ERR_TOO_LONG,  /* input past a cap of limits.h */
    KG_ERR_NOT_FOUND, /* no such thing (in this tenant) */
    KG_ERR_CONFLICT,  /* unique constraint, already consumed */
    KG_ERR_DENIED,    /* authentication or authorization refused */
    KG_ERR_STORE,     /* the store failed or is unreachable */
    KG_ERR_CRYPTO,    /* a cryptographic primitive failed */
    KG_ERR_INTERNAL,  /* a bug or resource failure */
};

struct kg_err {
    enum kg_rc rc;
    const char *file;
    int line;
    char detail[256]; /* for the log only; never contains secrets */
};

/* Fills *e (if not NULL) and evaluates to rc. */
#define KG_FAIL(e, code, ...) kg_err_set((e), (code), __FILE__, __LINE__, __VA_ARGS__)

enum kg_rc kg_err_set(struct kg_err *e, enum kg_rc rc, const char *file, int line, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
const char *kg_rc_name(enum kg_rc rc);

#endif
