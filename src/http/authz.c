/* SPDX-License-Identifier: Apache-2.0
 * Authorization header parsing; see authz.h. */
#include "http/authz.h"

#include <string.h>

#include "core/crypto.h"
#include "core/encode.h"

bool kg_authz_is_basic(struct kg_str h)
{
    return h.n >= 6 && kg_str_case_eq_c((struct kg_str){h.p, 6}, "Basic ");
}

static bool copy_part(const char *p, size_t n, char *dst, size_t cap)
{
    if (n >= cap || memchr(p, '\0', n)) {
        return false;
    }
    memcpy(dst, p, n);
    dst[n] = '\0';
    return true;
}

static bool form_dec(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    char tmp[KG_MAX_CLIENT_SECRET + 1];
    if (kg_form_decode(kg_str_c(in), tmp, &n) != KG_OK || n >= cap) {
        return false;
    }
    memcpy(out, tmp, n);
    out[n] = '\0';
    kg_wipe(tmp, sizeof tmp);
    return true;
}

enum kg_rc kg_authz_basic_parse(struct kg_str h, struct kg_basic *out, struct kg_err *e)
{
    memset(out, 0, sizeof *out);
    if (!kg_authz_is_basic(h)) {
        return KG_FAIL(e, KG_ERR_INVALID, "authorization: not Basic");
    }
    struct kg_str b64 = {h.p + 6, h.n - 6};
    while (b64.n && b64.p[0] == ' ') {
        b64.p++;
        b64.n--;
    }
    while (b64.n && b64.p[b64.n - 1] == ' ') {
        b64.n--;
    }
    enum { CAP = KG_MAX_CLIENT_ID + KG_MAX_CLIENT_SECRET * 3 + 2 };
    if (b64.n > (CAP + 2) / 3 * 4) {
        return KG_FAIL(e, KG_ERR_TOO_LONG, "authorization: Basic credentials too long");
    }
    uint8_t raw[CAP];
    size_t n = 0;
    if (kg_b64_decode(b64, raw, sizeof raw, &n) != KG_OK) {
        return KG_FAIL(e, KG_ERR_INVALID, "authorization: bad base64");
    }
    const uint8_t *colon = memchr(raw, ':', n);
    enum kg_rc rc = KG_OK;
    if (!colon) {
        rc = KG_FAIL(e, KG_ERR_INVALID, "authorization: no colon");
        goto out;
    }
    size_t ulen = (size_t)(colon - raw);
    if (!copy_part((const char *)raw, ulen, out->user, sizeof out->user) ||
        !copy_part((const char *)colon + 1, n - ulen - 1, out->pass, sizeof out->pass) ||
        !kg_utf8_valid(out->user, strlen(out->user)) ||
        !kg_utf8_valid(out->pass, strlen(out->pass))) {
        rc = KG_FAIL(e, KG_ERR_INVALID, "authorization: bad Basic credentials");
        goto out;
    }
    if (form_dec(out->user, out->user_dec, sizeof out->user_dec) &&
        form_dec(out->pass, out->pass_dec, sizeof out->pass_dec) &&
        (strcmp(out->user, out->user_dec) != 0 || strcmp(out->pass, out->pass_dec) != 0)) {
        out->has_decoded = true;
    }
out:
    kg_wipe(raw, sizeof raw);
    if (rc) {
        kg_basic_wipe(out);
    }
    return rc;
}

void kg_basic_wipe(struct kg_basic *b)
{
    kg_wipe(b, sizeof *b);
}
