/* SPDX-License-Identifier: Apache-2.0
 * The one door for JSON (the only module that includes <jansson.h>). Decoding is bounded: a size
 * cap, a nesting-depth cap checked before jansson parses, duplicate members refused
 * (SPEC 12.4), and typed getters that tell missing, wrong type and too long apart. Building is a
 * thin owned-tree API whose dump is compact and deterministic in insertion order. */
#ifndef KG_JSON_JSON_H
#define KG_JSON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct kg_json; /* a JSON value; owned by whoever created it or took it */

struct kg_json *kg_json_obj(void);
struct kg_json *kg_json_arr(void);
void kg_json_free(struct kg_json *j);
/* Setters copy strings; kg_json_set/arr_add take ownership of v. */
void kg_json_set_str(struct kg_json *o, const char *k, const char *v);
void kg_json_set_int(struct kg_json *o, const char *k, int64_t v);
void kg_json_set_bool(struct kg_json *o, const char *k, bool v);
void kg_json_set(struct kg_json *o, const char *k, struct kg_json *v);
void kg_json_arr_add_str(struct kg_json *a, const char *v);
void kg_json_arr_add(struct kg_json *a, struct kg_json *v);
void kg_json_arr_add_int(struct kg_json *a, int64_t v);
size_t kg_json_arr_len(const struct kg_json *a);
/* Compact serialisation, owned by the caller (free()). */
char *kg_json_dump(const struct kg_json *j);
/* Pretty serialisation for people (CLI output). */
char *kg_json_dump_pretty(const struct kg_json *j);

/* Parses exactly n bytes (no NUL needed). Fails with KG_ERR_TOO_LONG past max bytes or
 * KG_MAX_JSON_DEPTH, KG_ERR_INVALID on syntax errors, duplicates, or a non-object top level
 * when want_object. */
enum kg_rc kg_json_parse(const char *p, size_t n, size_t max, bool want_object,
                         struct kg_json **out, struct kg_err *e);
/* Getters on an object. KG_ERR_NOT_FOUND if absent (or null), KG_ERR_INVALID if another type,
 * KG_ERR_TOO_LONG if a string exceeds max bytes. *out points into j. */
enum kg_rc kg_json_get_str(const struct kg_json *j, const char *k, size_t max, const char **out);
enum kg_rc kg_json_get_int(const struct kg_json *j, const char *k, int64_t *out);
enum kg_rc kg_json_get_arr(const struct kg_json *j, const char *k, const struct kg_json **out);
bool kg_json_has(const struct kg_json *j, const char *k);
/* Element i of an array as a string (KG_ERR_INVALID if not a string). */
enum kg_rc kg_json_arr_str(const struct kg_json *a, size_t i, size_t max, const char **out);
/* Member iteration: returns the key of member i or NULL past the end. */
const char *kg_json_key_at(const struct kg_json *o, size_t i);
size_t kg_json_obj_len(const struct kg_json *o);

/* A streaming JSON object writer for hot paths (token claims and responses): appends into a
 * bounded buffer with escaping, no tree and no allocation per member. Members are written in
 * call order; the caller never repeats a key. */
struct kg_jw {
    char *p;
    size_t n, cap;
    bool first;
    bool failed; /* ran out of room: the result is unusable */
};

void kg_jw_begin(struct kg_jw *w, char *buf, size_t cap);
void kg_jw_str(struct kg_jw *w, const char *k, const char *v);
void kg_jw_int(struct kg_jw *w, const char *k, int64_t v);
/* A JSON array of the space-separated words of list (roles, permissions). */
void kg_jw_words(struct kg_jw *w, const char *k, const char *list);
/* Closes the object; returns its length, or 0 if it did not fit. */
size_t kg_jw_end(struct kg_jw *w);

#endif
