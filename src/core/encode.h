/* SPDX-License-Identifier: Apache-2.0
 * Byte encodings used on the wire: base64url without padding (JOSE, RFC 4648 5), standard
 * base64 decoding (HTTP Basic, RFC 7617), hex, and form/percent decoding (WHATWG
 * application/x-www-form-urlencoded). Decoders are strict and bounded by the output size. */
#ifndef KG_CORE_ENCODE_H
#define KG_CORE_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/str.h"

/* Writes base64url (no padding) of in into out, NUL-terminated; out must hold
 * KG_B64URL_LEN(n)+1 bytes. Returns the length written. */
#define KG_B64URL_LEN(n) (((n)*4 + 2) / 3)
size_t kg_b64url_encode(const uint8_t *in, size_t n, char *out);
/* true if s[0..n) is only base64url characters ([A-Za-z0-9_-]). */
bool kg_b64url_chars(const char *s, size_t n);
/* Strict base64url decode (no padding, no whitespace). Fails on bad characters, non-canonical
 * trailing bits, or if the result would exceed out_max. */
enum kg_rc kg_b64url_decode(struct kg_str in, uint8_t *out, size_t out_max, size_t *out_len);
/* Standard base64 with padding (RFC 4648 4), as in HTTP Basic. */
enum kg_rc kg_b64_decode(struct kg_str in, uint8_t *out, size_t out_max, size_t *out_len);
/* The value of one hex digit (either case), or -1. */
int kg_hex_value(char c);
/* Lowercase hex; out holds 2n+1. */
void kg_hex_encode(const uint8_t *in, size_t n, char *out);
/* Form decoding: '+' is a space, %XX a byte. Refuses malformed escapes, %00 and raw NUL, and
 * invalid UTF-8 in the result. out must hold in.n bytes (the result is never longer). */
enum kg_rc kg_form_decode(struct kg_str in, char *out, size_t *out_len);
/* Appends s percent-encoded: everything but RFC 3986 unreserved characters is %XX (so CR, LF,
 * '&', '#' and '=' in a value can never split a URL or a header). */
void kg_url_encode(struct kg_buf *b, const char *s);
/* true if s is valid UTF-8 without NUL and without C0 controls other than TAB/LF/CR. */
int kg_utf8_valid(const char *s, size_t n);

#endif
