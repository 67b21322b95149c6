/* SPDX-License-Identifier: Apache-2.0
 * A byte-level form parser; see form.h. */
#include "http/form.h"

#include <stdlib.h>
#include <string.h>

#include "core/encode.h"

void kg_form_free(struct kg_form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->f[i].name);
        if (f->f[i].value) {
            /* values may be secrets (client_secret, password, tokens) */
            memset(f->f[i].value, 0, f->f[i].value_len);
        }
        free(f->f[i].value);
    }
    f->n = 0;
}

static enum kg_rc decode_part(struct kg_str raw, size_t max, char **out, size_t *len)
{
    if (raw.n > max * 3) { /* even fully escaped it cannot fit */
        return KG_ERR_TOO_LONG;
    }
    char *d = kg_malloc(raw.n + 1);
    size_t n = 0;
    if (kg_form_decode(raw, d, &n) != KG_OK) {
        free(d);
        return KG_ERR_INVALID;
    }
    if (n > max) {
        free(d);
        return KG_ERR_TOO_LONG;
    }
    d[n] = '\0';
    *out = d;
    *len = n;
    return KG_OK;
}

enum kg_rc kg_form_parse(struct kg_str in, struct kg_form *out, struct kg_err *e)
{
    out->n = 0;
    const char *p = in.p, *end = in.p + in.n;
    enum kg_rc rc = KG_OK;
    while (in.n && p <= end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        struct kg_str pair = {p, (size_t)(stop - p)};
        p = stop + 1;
        if (pair.n == 0) {
            if (!amp) {
                break;
            }
            continue; /* "a=1&&b=2" */
        }
        const char *eq = memchr(pair.p, '=', pair.n);
        struct kg_str name = {pair.p, eq ? (size_t)(eq - pair.p) : pair.n};
        struct kg_str value =
            eq ? (struct kg_str){eq + 1, (size_t)(pair.p + pair.n - eq - 1)} : KG_STR_NULL;
        if (out->n == KG_MAX_FORM_FIELDS) {
            rc = KG_FAIL(e, KG_ERR_TOO_LONG, "form: more than %d fields", KG_MAX_FORM_FIELDS);
            goto fail;
        }
        struct kg_form_field *f = &out->f[out->n];
        size_t nlen = 0;
        rc = decode_part(name, KG_MAX_FIELD_NAME, &f->name, &nlen);
        if (rc) {
            KG_FAIL(e, rc, "form: bad field name");
            goto fail;
        }
        if (nlen == 0) {
            free(f->name);
            rc = KG_FAIL(e, KG_ERR_INVALID, "form: empty field name");
            goto fail;
        }
        rc = decode_part(value, KG_MAX_FIELD_VALUE, &f->value, &f->value_len);
        if (rc) {
            free(f->name);
            KG_FAIL(e, rc, "form: bad value of %s", rc == KG_ERR_TOO_LONG ? "a field" : "a field");
            goto fail;
        }
        for (size_t i = 0; i < out->n; i++) {
            if (strcmp(out->f[i].name, f->name) == 0) { /* RFC 6749 3.1 */
                out->n++;
                rc = KG_FAIL(e, KG_ERR_CONFLICT, "form: repeated parameter %s", f->name);
                goto fail;
            }
        }
        out->n++;
        if (!amp) {
            break;
        }
    }
    return KG_OK;
fail:
    kg_form_free(out);
    return rc;
}

const char *kg_form_get(const struct kg_form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->f[i].name, name) == 0) {
            return f->f[i].value_len ? f->f[i].value : NULL; /* RFC 6749 3.1 */
        }
    }
    return NULL;
}
