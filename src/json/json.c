/* SPDX-License-Identifier: Apache-2.0
 * jansson behind keygate's JSON API; see json.h. struct kg_json is jansson's json_t. */
#include "json/json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/str.h"

#define J(x) ((json_t *)(x))
#define CJ(x) ((const json_t *)(x))

static struct kg_json *K(json_t *j)
{
    if (!j) { /* jansson only fails on allocation */
        kg_malloc((size_t)-1 / 2);
    }
    return (struct kg_json *)j;
}

struct kg_json *kg_json_obj(void)
{
    return K(json_object());
}

struct kg_json *kg_json_arr(void)
{
    return K(json_array());
}

void kg_json_free(struct kg_json *j)
{
    if (j) {
        json_decref(J(j));
    }
}

/* Strings are validated UTF-8 before they get here; one that is not becomes U+FFFD rather
 * than an allocation-failure abort. */
static json_t *str_new(const char *v, size_t n)
{
    json_t *s = json_stringn(v, n);
    return s ? s : J(K(json_string("\xef\xbf\xbd")));
}

void kg_json_set_str(struct kg_json *o, const char *k, const char *v)
{
    json_object_set_new(J(o), k, str_new(v, strlen(v)));
}

void kg_json_set_int(struct kg_json *o, const char *k, int64_t v)
{
    json_object_set_new(J(o), k, J(K(json_integer((json_int_t)v))));
}

void kg_json_set_bool(struct kg_json *o, const char *k, bool v)
{
    json_object_set_new(J(o), k, json_boolean(v));
}

void kg_json_set(struct kg_json *o, const char *k, struct kg_json *v)
{
    json_object_set_new(J(o), k, J(v));
}

void kg_json_arr_add_str(struct kg_json *a, const char *v)
{
    json_array_append_new(J(a), str_new(v, strlen(v)));
}

void kg_json_arr_add_int(struct kg_json *a, int64_t v)
{
    json_array_append_new(J(a), J(K(json_integer((json_int_t)v))));
}

void kg_json_arr_add(struct kg_json *a, struct kg_json *v)
{
    json_array_append_new(J(a), J(v));
}

size_t kg_json_arr_len(const struct kg_json *a)
{
    return json_array_size(CJ(a));
}

char *kg_json_dump(const struct kg_json *j)
{
    char *s = json_dumps(CJ(j), JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!s) {
        kg_malloc((size_t)-1 / 2);
    }
    return s;
}

char *kg_json_dump_pretty(const struct kg_json *j)
{
    char *s = json_dumps(CJ(j), JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!s) {
        kg_malloc((size_t)-1 / 2);
    }
    return s;
}

/* Depth check before jansson recurses: count brackets outside strings. */
static bool depth_ok(const char *p, size_t n)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_str = false;
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > KG_MAX_JSON_DEPTH) {
                return false;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return true;
}

enum kg_rc kg_json_parse(const char *p, size_t n, size_t max, bool want_object,
                         struct kg_json **out, struct kg_err *e)
{
    if (n > max) {
        return KG_FAIL(e, KG_ERR_TOO_LONG, "json: %zu bytes exceeds %zu", n, max);
    }
    if (!depth_ok(p, n)) {
        return KG_FAIL(e, KG_ERR_TOO_LONG, "json: nesting deeper than %d", KG_MAX_JSON_DEPTH);
    }
    json_error_t je;
    json_t *j = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        return KG_FAIL(e, KG_ERR_INVALID, "json: %s at %d", je.text, je.position);
    }
    if (want_object && !json_is_object(j)) {
        json_decref(j);
        return KG_FAIL(e, KG_ERR_INVALID, "json: top level is not an object");
    }
    *out = (struct kg_json *)j;
    return KG_OK;
}

static json_t *member(const struct kg_json *j, const char *k)
{
    json_t *v = json_is_object(CJ(j)) ? json_object_get(CJ(j), k) : NULL;
    return (v && !json_is_null(v)) ? v : NULL;
}

enum kg_rc kg_json_get_str(const struct kg_json *j, const char *k, size_t max, const char **out)
{
    json_t *v = member(j, k);
    if (!v) {
        return KG_ERR_NOT_FOUND;
    }
    if (!json_is_string(v)) {
        return KG_ERR_INVALID;
    }
    if (json_string_length(v) > max) {
        return KG_ERR_TOO_LONG;
    }
    *out = json_string_value(v);
    return KG_OK;
}

enum kg_rc kg_json_get_int(const struct kg_json *j, const char *k, int64_t *out)
{
    json_t *v = member(j, k);
    if (!v) {
        return KG_ERR_NOT_FOUND;
    }
    if (!json_is_integer(v)) {
        return KG_ERR_INVALID;
    }
    *out = (int64_t)json_integer_value(v);
    return KG_OK;
}

enum kg_rc kg_json_get_arr(const struct kg_json *j, const char *k, const struct kg_json **out)
{
    json_t *v = member(j, k);
    if (!v) {
        return KG_ERR_NOT_FOUND;
    }
    if (!json_is_array(v)) {
        return KG_ERR_INVALID;
    }
    *out = (const struct kg_json *)v;
    return KG_OK;
}

bool kg_json_has(const struct kg_json *j, const char *k)
{
    return json_is_object(CJ(j)) && json_object_get(CJ(j), k) != NULL;
}

enum kg_rc kg_json_arr_str(const struct kg_json *a, size_t i, size_t max, const char **out)
{
    json_t *v = json_array_get(CJ(a), i);
    if (!v || !json_is_string(v)) {
        return KG_ERR_INVALID;
    }
    if (json_string_length(v) > max) {
        return KG_ERR_TOO_LONG;
    }
    *out = json_string_value(v);
    return KG_OK;
}

size_t kg_json_obj_len(const struct kg_json *o)
{
    return json_object_size(CJ(o));
}

const char *kg_json_key_at(const struct kg_json *o, size_t i)
{
    const char *k;
    json_t *v;
    size_t n = 0;
    json_object_foreach((json_t *)(uintptr_t)o, k, v)
    {
        if (n++ == i) {
            return k;
        }
    }
    return NULL;
}
