/* SPDX-License-Identifier: Apache-2.0
 * Cookies (RFC 6265): reading one by name from a bounded Cookie header, and the Set-Cookie
 * value of keygate's own cookies, always Secure, HttpOnly, SameSite=Lax, Path=/ (SPEC 5). */
#ifndef KG_WEB_COOKIE_H
#define KG_WEB_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

/* Finds cookie name in header (the Cookie header's value) and copies its value into out.
 * false when absent, when the header is over KG_MAX_COOKIE_HEADER or has over KG_MAX_COOKIES
 * pairs, when the name appears twice (ambiguous: refused), or when the value does not fit or
 * has characters outside RFC 6265's cookie-octet. */
bool kg_cookie_get(struct kg_str header, const char *name, char *out, size_t n);
/* The Set-Cookie value: max_age < 0 for a browser-session cookie, 0 to delete. */
void kg_cookie_format(char *out, size_t n, const char *name, const char *value, int64_t max_age);

#endif
