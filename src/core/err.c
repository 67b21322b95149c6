/* SPDX-License-Identifier: Apache-2.0
 * Filling struct kg_err. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>

enum kg_rc kg_err_set(struct kg_err *e, enum kg_rc rc, const char *file, int line, const char *fmt,
                      ...)
{
    if (!e) {
        return rc;
    }
    e->rc = rc;
    e->file = file;
    e->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
    return rc;
}

const char *kg_rc_name(enum kg_rc rc)
{
    switch (rc) {
    case KG_OK: return "ok";
    case KG_ERR_INVALID: return "invalid";
    case KG_ERR_TOO_LONG: return "too_long";
    case KG_ERR_NOT_FOUND: return "not_found";
    case KG_ERR_CONFLICT: return "conflict";
    case KG_ERR_DENIED: return "denied";
    case KG_ERR_STORE: return "store";
    case KG_ERR_CRYPTO: return "crypto";
    case KG_ERR_INTERNAL: return "internal";
    }
    return "unknown";
}
