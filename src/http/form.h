/* SPDX-License-Identifier: Apache-2.0
 * application/x-www-form-urlencoded bodies and query strings as RFC 6749 uses them: bounded
 * field count, name and value sizes (limits.h), strict percent-decoding (no %00, valid UTF-8),
 * repeated parameters refused (RFC 6749 3.1), and empty values treated as absent. */
#ifndef KG_HTTP_FORM_H
#define KG_HTTP_FORM_H

#include "core/err.h"
#include "core/limits.h"
#include "core/str.h"

struct kg_form_field {
    char *name;
    char *value;
    size_t value_len;
};

struct kg_form {
    size_t n;
    struct kg_form_field f[KG_MAX_FORM_FIELDS];
};

/* Parses in into out (owned strings; kg_form_free). On failure out is empty and e says why:
 * KG_ERR_TOO_LONG for caps, KG_ERR_INVALID for syntax/encoding, KG_ERR_CONFLICT for a repeat. */
enum kg_rc kg_form_parse(struct kg_str in, struct kg_form *out, struct kg_err *e);
/* The decoded value, or NULL if absent or empty. */
const char *kg_form_get(const struct kg_form *f, const char *name);
void kg_form_free(struct kg_form *f);

#endif
