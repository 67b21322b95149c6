/* SPDX-License-Identifier: Apache-2.0
 * Strict, bounded encoders and decoders; see encode.h. */
#include "core/encode.h"

#include <string.h>

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char B64STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t kg_b64url_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = B64URL[v >> 18];
        out[o++] = B64URL[(v >> 12) & 63];
        out[o++] = B64URL[(v >> 6) & 63];
        out[o++] = B64URL[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = B64URL[v >> 18];
        out[o++] = B64URL[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = B64URL[v >> 18];
        out[o++] = B64URL[(v >> 12) & 63];
        out[o++] = B64URL[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

static int val(const char *alpha, char c)
{
    const char *p = memchr(alpha, c, 64);
    return (p && c) ? (int)(p - alpha) : -1;
}

static enum kg_rc decode(const char *alpha, const char *s, size_t n, uint8_t *out, size_t out_max,
                         size_t *out_len)
{
    if (n % 4 == 1) {
        return KG_ERR_INVALID;
    }
    size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (need > out_max) {
        return KG_ERR_TOO_LONG;
    }
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = val(alpha, s[i]);
        if (v < 0) {
            return KG_ERR_INVALID;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) { /* non-canonical: leftover bits must be zero */
        return KG_ERR_INVALID;
    }
    *out_len = o;
    return KG_OK;
}

enum kg_rc kg_b64url_decode(struct kg_str in, uint8_t *out, size_t out_max, size_t *out_len)
{
    return decode(B64URL, in.p, in.n, out, out_max, out_len);
}

enum kg_rc kg_b64_decode(struct kg_str in, uint8_t *out, size_t out_max, size_t *out_len)
{
    size_t n = in.n;
    if (n % 4 != 0) {
        return KG_ERR_INVALID;
    }
    if (n && in.p[n - 1] == '=') {
        n--;
        if (n && in.p[n - 1] == '=') {
            n--;
        }
    }
    return decode(B64STD, in.p, n, out, out_max, out_len);
}

void kg_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char H[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = H[in[i] >> 4];
        out[2 * i + 1] = H[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int kg_hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int kg_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
                return 0;
            }
            i++;
            continue;
        }
        size_t len;
        unsigned cp;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n) {
            return 0;
        }
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
            return 0; /* overlong or surrogate or out of range */
        }
        i += len;
    }
    return 1;
}

enum kg_rc kg_form_decode(struct kg_str in, char *out, size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < in.n; i++) {
        char c = in.p[i];
        if (c == '+') {
            out[o++] = ' ';
        } else if (c == '%') {
            if (i + 2 >= in.n) {
                return KG_ERR_INVALID;
            }
            int hi = kg_hex_value(in.p[i + 1]), lo = kg_hex_value(in.p[i + 2]);
            if (hi < 0 || lo < 0) {
                return KG_ERR_INVALID;
            }
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = c;
        }
    }
    if (!kg_utf8_valid(out, o)) {
        return KG_ERR_INVALID;
    }
    *out_len = o;
    return KG_OK;
}

void kg_url_encode(struct kg_buf *b, const char *s)
{
    static const char HEX[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            kg_buf_add(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', HEX[c >> 4], HEX[c & 15]};
            kg_buf_add(b, e, 3);
        }
    }
}

bool kg_b64url_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}
