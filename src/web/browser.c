/* SPDX-License-Identifier: Apache-2.0
 * Browser binding, CSRF tokens and sessions; see browser.h. */
#include "web/browser.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/crypto.h"
#include "core/encode.h"
#include "core/limits.h"
#include "server/server.h"
#include "web/cookie.h"

#define BINDING_COOKIE "kg_b"
#define SESSION_PREFIX "kg_s_"

static bool b64url_token(const char *s, size_t want)
{
    return strlen(s) == want && kg_b64url_chars(s, want);
}

static void csrf_of(const struct kg_server *srv, const char *binding, char out[48])
{
    uint8_t key[KG_SHA256_LEN], mac[KG_SHA256_LEN];
    static const char label[] = "keygate-csrf-v1";
    kg_hmac_sha256(srv->cfg.master_key, label, sizeof label - 1, key);
    kg_hmac_sha256(key, binding, strlen(binding), mac);
    kg_b64url_encode(mac, sizeof mac, out);
    kg_wipe(key, sizeof key);
}

static void set_cookie(struct kg_resp *resp, const char *name, const char *value, int64_t age)
{
    char c[256];
    kg_cookie_format(c, sizeof c, name, value, age);
    kg_resp_add_header(resp, "Set-Cookie", c);
}

void kg_browser_init(const struct kg_req *req, struct kg_resp *resp, struct kg_browser *b)
{
    struct kg_str h = kg_req_header(req, "Cookie", NULL);
    if (!kg_cookie_get(h, BINDING_COOKIE, b->binding, sizeof b->binding) ||
        !b64url_token(b->binding, 43)) {
        uint8_t r[32];
        kg_random(r, sizeof r);
        kg_b64url_encode(r, sizeof r, b->binding);
        set_cookie(resp, BINDING_COOKIE, b->binding, -1);
    }
    csrf_of(req->srv, b->binding, b->csrf);
}

bool kg_browser_csrf_ok(const struct kg_browser *b, const char *token)
{
    return token && kg_ct_eq(token, strlen(token), b->csrf, strlen(b->csrf));
}

static void session_cookie_name(const char *tenant_id, char out[64])
{
    snprintf(out, 64, SESSION_PREFIX "%s", tenant_id);
}

enum kg_rc kg_browser_session(const struct kg_req *req, const char *tenant_id,
                              struct kg_session *out)
{
    char name[64], value[KG_SECRET_MAX];
    session_cookie_name(tenant_id, name);
    struct kg_str h = kg_req_header(req, "Cookie", NULL);
    if (!kg_cookie_get(h, name, value, sizeof value) ||
        !kg_secret_valid("kg_ss_", kg_str_c(value))) {
        return KG_ERR_NOT_FOUND;
    }
    char hash[KG_HASH_HEX];
    kg_store_hash_secret(value, strlen(value), hash);
    kg_wipe(value, sizeof value);
    struct kg_store *st = req->srv->store;
    enum kg_rc rc = st->ops->session_get(st, hash, out);
    if (rc) {
        return rc;
    }
    int64_t now = (int64_t)time(NULL);
    if (strcmp(out->tenant_id, tenant_id) != 0 || out->ended_at || out->expires_at <= now) {
        return KG_ERR_NOT_FOUND;
    }
    return KG_OK;
}

enum kg_rc kg_browser_session_start(const struct kg_req *req, struct kg_resp *resp,
                                    const char *tenant_id, const char *user_oid, int64_t now,
                                    struct kg_session *out)
{
    char value[KG_SECRET_MAX], name[64];
    kg_secret_new("kg_ss_", value);
    memset(out, 0, sizeof *out);
    kg_store_hash_secret(value, strlen(value), out->hash);
    kg_uuid4(out->sid);
    kg_strlcpy(out->tenant_id, tenant_id, sizeof out->tenant_id);
    kg_strlcpy(out->user_oid, user_oid, sizeof out->user_oid);
    out->auth_time = now;
    out->created_at = now;
    out->expires_at = now + KG_SESSION_LIFETIME;
    struct kg_store *st = req->srv->store;
    enum kg_rc rc = st->ops->session_create(st, out);
    if (rc == KG_OK) {
        session_cookie_name(tenant_id, name);
        set_cookie(resp, name, value, KG_SESSION_LIFETIME);
    }
    kg_wipe(value, sizeof value);
    return rc;
}

void kg_browser_session_end(const struct kg_req *req, struct kg_resp *resp, const char *tenant_id,
                            int64_t now)
{
    struct kg_session s;
    if (kg_browser_session(req, tenant_id, &s) == KG_OK) {
        req->srv->store->ops->session_end(req->srv->store, s.hash, now);
    }
    char name[64];
    session_cookie_name(tenant_id, name);
    set_cookie(resp, name, "x", 0);
}

void kg_page_send(struct kg_resp *resp, int status, struct kg_buf *page, const char *script_nonce)
{
    char csp[256];
    snprintf(csp, sizeof csp,
             "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
             "frame-ancestors 'none'%s%s%s",
             script_nonce ? "; script-src 'nonce-" : "", script_nonce ? script_nonce : "",
             script_nonce ? "'" : "");
    kg_resp_set_body(resp, status, "text/html; charset=utf-8", kg_buf_take(page));
    kg_resp_add_header(resp, "Cache-Control", "no-store");
    kg_resp_add_header(resp, "Content-Security-Policy", csp);
    kg_resp_add_header(resp, "X-Frame-Options", "DENY");
    kg_resp_add_header(resp, "Referrer-Policy", "no-referrer");
}
