/* SPDX-License-Identifier: Apache-2.0
 * The device authorization grant (RFC 8628, SPEC 4, COMPAT "device code"): the device
 * authorization endpoint, user codes, and the token endpoint's device_code grant with
 * authorization_pending, slow_down (only to a client polling faster than the interval),
 * expired_token and access_denied. A device code is consumed atomically; a replay revokes what it
 * produced. The user's side is the /device page (endpoints/device.c). */
#include "oauth/device.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/limits.h"
#include "oauth/oauth.h"

static const char ALPHABET[] = "BCDFGHJKLMNPQRSTVWXZ";

void kg_user_code_new(char out[KG_USER_CODE_LEN + 1])
{
    size_t i = 0;
    while (i < KG_USER_CODE_LEN) {
        uint8_t r[16];
        kg_random(r, sizeof r);
        for (size_t j = 0; j < sizeof r && i < KG_USER_CODE_LEN; j++) {
            if (r[j] < 240) { /* 240 = 12 * 20: no modulo bias */
                out[i++] = ALPHABET[r[j] % 20];
            }
        }
    }
    out[KG_USER_CODE_LEN] = '\0';
}

bool kg_user_code_normalize(const char *in, char out[KG_USER_CODE_LEN + 1])
{
    size_t n = 0;
    if (!in || strlen(in) > 32) {
        return false;
    }
    for (const char *p = in; *p; p++) {
        char c = *p;
        if (c == '-' || c == ' ') {
            continue;
        }
        if (c >= 'a' && c <= 'z') {
            c = (char)(c - 'a' + 'A');
        }
        if (n == KG_USER_CODE_LEN || !strchr(ALPHABET, c) || c == '\0') {
            return false;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return n == KG_USER_CODE_LEN;
}

void kg_user_code_display(const char *code, char out[KG_USER_CODE_LEN + 2])
{
    snprintf(out, KG_USER_CODE_LEN + 2, "%.4s-%.4s", code, code + 4);
}

static const char *const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

bool kg_device_authorize(const struct kg_oreq *rq, struct kg_oout *out)
{
    struct kg_client c;
    if (!kg_client_for_grant(rq, &c, DEVICE_GRANT, out)) {
        return false;
    }
    const char *scope = kg_form_get(rq->form, "scope");
    if (!scope) {
        return kg_oout_fail(out, KG_OE_PARAM_MISSING, "scope is required.");
    }
    struct kg_scope sc;
    if (!kg_scope_parse(rq, scope, &sc, out)) {
        return false;
    }
    char device_code[KG_SECRET_MAX];
    struct kg_device d;
    memset(&d, 0, sizeof d);
    kg_secret_new("kg_dc_", device_code);
    kg_store_hash_secret(device_code, strlen(device_code), d.hash);
    kg_strlcpy(d.tenant_id, rq->tenant->id, sizeof d.tenant_id);
    kg_strlcpy(d.client_id, c.app.client_id, sizeof d.client_id);
    kg_strlcpy(d.scope, sc.requested, sizeof d.scope);
    d.created_at = rq->now;
    d.expires_at = rq->now + KG_DEVICE_LIFETIME;
    d.interval = KG_DEVICE_INTERVAL;
    struct kg_store *st = rq->srv->store;
    enum kg_rc rc = KG_ERR_CONFLICT;
    for (int i = 0; i < 4 && rc == KG_ERR_CONFLICT; i++) { /* a user code already in use */
        kg_user_code_new(d.user_code);
        rc = st->ops->device_create(st, &d);
    }
    if (rc) {
        kg_wipe(device_code, sizeof device_code);
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    char shown[KG_USER_CODE_LEN + 2], uri[600], complete[700], msg[900];
    kg_user_code_display(d.user_code, shown);
    snprintf(uri, sizeof uri, "%s/device", rq->srv->cfg.public_url);
    snprintf(complete, sizeof complete, "%s?user_code=%s", uri, shown);
    snprintf(msg, sizeof msg,
             "To sign in, use a web browser to open the page %s and enter the code %s to "
             "authenticate.",
             uri, shown);
    struct kg_json *b = kg_json_obj();
    kg_json_set_str(b, "device_code", device_code);
    kg_json_set_str(b, "user_code", shown);
    kg_json_set_str(b, "verification_uri", uri);
    kg_json_set_str(b, "verification_uri_complete", complete);
    kg_json_set_int(b, "expires_in", KG_DEVICE_LIFETIME);
    kg_json_set_int(b, "interval", KG_DEVICE_INTERVAL);
    kg_json_set_str(b, "message", msg);
    kg_wipe(device_code, sizeof device_code);
    kg_oout_clear(out);
    out->body = b;
    struct kg_audit *a = kg_oout_audit(out, rq, "device.code_issued", "success");
    kg_strlcpy(a->actor_type, "app", sizeof a->actor_type);
    kg_strlcpy(a->actor_id, c.app.client_id, sizeof a->actor_id);
    kg_strlcpy(a->target, sc.requested, sizeof a->target);
    return true;
}

static bool replayed(const struct kg_oreq *rq, const struct kg_device *d, struct kg_oout *out)
{
    return kg_tokens_replayed(rq, &d->issued, d->user_oid, d->client_id,
                              "device_code.reuse_detected", KG_OE_DEVICE_REUSED, out);
}

/* The state of the device code as the poll sees it; true only when approved. */
static bool poll_state(const struct kg_oreq *rq, const struct kg_device *d, int64_t now_ms,
                       struct kg_oout *out)
{
    if (strcmp(d->status, "consumed") == 0) {
        return replayed(rq, d, out);
    }
    if (d->expires_at <= rq->now) {
        return kg_oout_fail(out, KG_OE_DEVICE_EXPIRED, NULL);
    }
    if (strcmp(d->status, "denied") == 0) {
        return kg_oout_fail(out, KG_OE_DEVICE_DENIED, NULL);
    }
    if (strcmp(d->status, "approved") == 0) {
        return true;
    }
    /* RFC 8628 3.5; a second of slack for clients that poll at exactly the interval */
    if (d->last_poll_ms && now_ms - d->last_poll_ms < d->interval * 1000 - 1000) {
        return kg_oout_fail(out, KG_OE_DEVICE_SLOW_DOWN, NULL);
    }
    return kg_oout_fail(out, KG_OE_DEVICE_PENDING, NULL);
}

bool kg_grant_device(const struct kg_oreq *rq, struct kg_oout *out)
{
    struct kg_client c;
    if (!kg_client_for_grant(rq, &c, DEVICE_GRANT, out)) {
        return false;
    }
    const char *value = kg_form_get(rq->form, "device_code");
    if (!value) {
        return kg_oout_fail(out, KG_OE_PARAM_MISSING, "device_code is required.");
    }
    if (!kg_secret_valid("kg_dc_", kg_str_c(value))) {
        return kg_oout_fail(out, KG_OE_DEVICE_INVALID, NULL);
    }
    char hash[KG_HASH_HEX];
    kg_store_hash_secret(value, strlen(value), hash);
    struct kg_store *st = rq->srv->store;
    struct kg_device d;
    int64_t now_ms = kg_now_ms();
    enum kg_rc rc = st->ops->device_poll(st, hash, now_ms, &d);
    if (rc) {
        return kg_oout_fail(out, rc == KG_ERR_STORE ? KG_OE_UNAVAILABLE : KG_OE_DEVICE_INVALID,
                            NULL);
    }
    if (strcmp(d.tenant_id, rq->tenant->id) != 0 || strcmp(d.client_id, c.app.client_id) != 0) {
        return kg_oout_fail(out, KG_OE_DEVICE_INVALID, NULL);
    }
    if (!poll_state(rq, &d, now_ms, out)) {
        return false;
    }
    struct kg_user user;
    rc = st->ops->user_get(st, rq->tenant->id, d.user_oid, &user);
    if (rc || user.disabled) {
        return kg_oout_fail(out, rc == KG_ERR_STORE ? KG_OE_UNAVAILABLE : KG_OE_USER_GONE, NULL);
    }
    struct kg_scope sc;
    if (!kg_scope_parse(rq, d.scope, &sc, out)) {
        return false;
    }
    struct kg_subject sub = {.is_user = true, .user = &user, .auth_time = d.auth_time};
    if (st->ops->principal_roles(st, rq->tenant->id, user.oid, sub.roles) != KG_OK) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    struct kg_issued is;
    kg_tokens_plan(rq, &c, &sc, &is);
    rc = st->ops->device_redeem(st, hash, &is);
    if (rc == KG_ERR_CONFLICT) {
        if (st->ops->device_poll(st, hash, now_ms, &d) != KG_OK) {
            return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
        }
        return replayed(rq, &d, out);
    }
    if (rc) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    return kg_tokens_for_user(rq, &c, &sc, &sub, &is, "device_code", out);
}
