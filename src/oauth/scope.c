/* SPDX-License-Identifier: Apache-2.0
 * The scope parameter (RFC 6749 3.3, SPEC 4): space-separated; OIDC scopes; and resource scopes
 * "{API}/{value}" where {API} is a registered API identifier (or, as with Azure, a bare id that
 * is registered as api://{id}) and {value} is ".default" or a delegated scope the API offers.
 * Every resource scope must name the same API. */
#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "oauth/oauth.h"

static bool token_ok(const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++) { /* RFC 6749 3.3 scope-token: %x21 / %x23-5B / %x5D-7E */
        unsigned char c = (unsigned char)t[i];
        if (c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e) {
            return false;
        }
    }
    return n > 0;
}

static bool lookup_api(const struct kg_oreq *rq, const char *res, struct kg_api *api,
                       struct kg_oout *out)
{
    struct kg_store *st = rq->srv->store;
    enum kg_rc rc = st->ops->api_get(st, res, api);
    if (rc == KG_ERR_NOT_FOUND && !strstr(res, "://")) {
        char alt[KG_URI + 8];
        snprintf(alt, sizeof alt, "api://%s", res);
        rc = st->ops->api_get(st, alt, api);
    }
    if (rc == KG_ERR_NOT_FOUND) {
        return kg_oout_fail(out, KG_OE_SCOPE_UNKNOWN_API, NULL);
    }
    if (rc) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    return true;
}

bool kg_scope_parse(const struct kg_oreq *rq, const char *scope, struct kg_scope *sc,
                    struct kg_oout *out)
{
    memset(sc, 0, sizeof *sc);
    size_t len = strlen(scope);
    if (len > KG_MAX_SCOPE_LEN) {
        return kg_oout_fail(out, KG_OE_FIELD_TOO_LONG, "scope is too long.");
    }
    memcpy(sc->requested, scope, len + 1);
    char res_seen[KG_URI] = "";
    size_t count = 0, o = 0;
    const char *p = scope;
    while (*p) {
        if (*p == ' ') {
            p++;
            continue;
        }
        const char *sp = strchr(p, ' ');
        size_t n = sp ? (size_t)(sp - p) : strlen(p);
        const char *t = p;
        p += n;
        if (++count > KG_MAX_SCOPES) {
            return kg_oout_fail(out, KG_OE_FIELD_TOO_LONG, "Too many scopes.");
        }
        if (!token_ok(t, n)) {
            return kg_oout_fail(out, KG_OE_SCOPE_INVALID, NULL);
        }
#define IS(w) (n == sizeof(w) - 1 && memcmp(t, w, n) == 0)
        if (IS("openid")) {
            sc->openid = true;
            continue;
        }
        if (IS("profile")) {
            sc->profile = true;
            continue;
        }
        if (IS("email")) {
            sc->email = true;
            continue;
        }
        if (IS("offline_access")) {
            sc->offline_access = true;
            continue;
        }
#undef IS
        const char *slash = NULL;
        for (const char *q = t + n; q > t; q--) {
            if (q[-1] == '/') {
                slash = q - 1;
                break;
            }
        }
        if (!slash || slash == t || slash == t + n - 1 || (size_t)(slash - t) >= KG_URI) {
            return kg_oout_fail(out, KG_OE_SCOPE_INVALID, "Scopes are {API}/{scope}.");
        }
        char res[KG_URI];
        memcpy(res, t, (size_t)(slash - t));
        res[slash - t] = '\0';
        const char *val = slash + 1;
        size_t vn = (size_t)(t + n - val);
        if (!res_seen[0]) {
            if (!lookup_api(rq, res, &sc->api, out)) {
                return false;
            }
            kg_strlcpy(res_seen, res, sizeof res_seen);
            sc->has_api = true;
        } else if (strcmp(res_seen, res) != 0) {
            return kg_oout_fail(out, KG_OE_SCOPE_TWO_APIS, NULL);
        }
        if (vn == 8 && memcmp(val, ".default", 8) == 0) {
            sc->api_default = true;
            continue;
        }
        if (!kg_words_has(sc->api.scopes, val, vn)) {
            char extra[160];
            snprintf(extra, sizeof extra, "%.80s does not offer the scope %.*s.",
                     sc->api.identifier, (int)(vn > 60 ? 60 : vn), val);
            return kg_oout_fail(out, KG_OE_SCOPE_INVALID, extra);
        }
        if (!kg_words_has(sc->api_scopes, val, vn) && o + vn + 2 < sizeof sc->api_scopes) {
            if (o) {
                sc->api_scopes[o++] = ' ';
            }
            memcpy(sc->api_scopes + o, val, vn);
            o += vn;
            sc->api_scopes[o] = '\0';
        }
    }
    return true;
}
