/* SPDX-License-Identifier: Apache-2.0
 * The refresh_token grant with rotation (RFC 6749 6, RFC 9700 4.14, SPEC 4, seed 001):
 *  - every use returns a new pair and invalidates the used refresh token and the access token
 *    issued with it, in one store transaction (consumed atomically);
 *  - presenting the immediately previous token again within the grace window returns the same
 *    new pair: the successor response is kept sealed (AES-256-GCM) under a key derived from the
 *    old token itself, so only its holder can open it and the store never holds it in clear;
 *  - any other reuse revokes the family and every access token it produced, with an audit event;
 *  - refresh tokens are bound to their client and tenant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "oauth/oauth.h"

static void grace_key(const char *token, uint8_t key[32])
{
    char buf[KG_SECRET_MAX + 32];
    int n = snprintf(buf, sizeof buf, "keygate-grace-v1:%s", token);
    kg_sha256(buf, (size_t)n, key);
    kg_wipe(buf, sizeof buf);
}

/* RFC 6749 6: the requested scope must not include any scope not originally granted. */
static bool within(const char *requested, const char *original)
{
    for (const char *p = requested; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        const char *sp = strchr(p, ' ');
        size_t n = sp ? (size_t)(sp - p) : strlen(p);
        if (!kg_words_has(original, p, n)) {
            return false;
        }
        p += n;
    }
    return true;
}

/* Opens the sealed successor response of r. KG_ERR_CRYPTO if it cannot be opened. */
static enum kg_rc open_grace(const struct kg_refresh *r, const char *token, struct kg_json **out)
{
    uint8_t key[32];
    grace_key(token, key);
    size_t n = r->grace_len - KG_SEAL_OVERHEAD;
    char *body = kg_malloc(n + 1);
    enum kg_rc rc =
        kg_unseal(key, r->hash, strlen(r->hash), r->grace, r->grace_len, (uint8_t *)body);
    kg_wipe(key, sizeof key);
    if (rc == KG_OK) {
        body[n] = '\0';
        rc = kg_json_parse(body, n, n, true, out, NULL);
    }
    kg_wipe(body, n);
    free(body);
    return rc;
}

/* Within the grace window, r's successor response is returned again, but only while that
 * successor is still current: r must be the *immediately* previous token. */
static bool grace_successor(const struct kg_oreq *rq, const struct kg_refresh *r, const char *token,
                            struct kg_json **body)
{
    if (rq->now - r->used_at > rq->srv->cfg.refresh_grace_seconds ||
        r->grace_len <= KG_SEAL_OVERHEAD || open_grace(r, token, body) != KG_OK) {
        return false;
    }
    const char *next = NULL;
    struct kg_refresh succ;
    char h[KG_HASH_HEX];
    bool current = false;
    if (kg_json_get_str(*body, "refresh_token", KG_SECRET_MAX, &next) == KG_OK) {
        kg_store_hash_secret(next, strlen(next), h);
        struct kg_store *st = rq->srv->store;
        if (st->ops->refresh_get(st, h, &succ) == KG_OK) {
            current = !succ.used_at && !succ.revoked_at;
            kg_refresh_clear(&succ);
        }
    }
    if (!current) {
        kg_json_free(*body);
        *body = NULL;
    }
    return current;
}

static bool reuse_detected(const struct kg_oreq *rq, const struct kg_refresh *r,
                           struct kg_oout *out)
{
    struct kg_store *st = rq->srv->store;
    if (st->ops->family_revoke(st, r->family_id, rq->now) != KG_OK) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    struct kg_audit *a = kg_oout_audit(out, rq, "refresh_token.reuse_detected", "denied");
    kg_strlcpy(a->actor_type, "user", sizeof a->actor_type);
    kg_strlcpy(a->actor_id, r->user_oid, sizeof a->actor_id);
    kg_strlcpy(a->target, r->family_id, sizeof a->target);
    snprintf(a->detail, sizeof a->detail, "family revoked; client=%s", r->client_id);
    return kg_oout_fail(out, KG_OE_RT_REUSED, NULL);
}

/* Mints the successor pair of r and rotates it in the store. KG_ERR_CONFLICT if r was
 * consumed concurrently. */
static enum kg_rc rotate(const struct kg_oreq *rq, const struct kg_client *c,
                         const struct kg_refresh *r, const char *token, const char *req_scope,
                         struct kg_oout *out)
{
    struct kg_store *st = rq->srv->store;
    struct kg_user user;
    enum kg_rc rc = st->ops->user_get(st, rq->tenant->id, r->user_oid, &user);
    if (rc == KG_ERR_STORE) {
        kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
        return rc;
    }
    if (rc || user.disabled) {
        kg_oout_fail(out, KG_OE_USER_GONE, NULL);
        return KG_ERR_DENIED;
    }
    if (req_scope && !within(req_scope, r->scope)) {
        kg_oout_fail(out, KG_OE_SCOPE_WIDENED, NULL);
        return KG_ERR_DENIED;
    }
    struct kg_scope sc;
    if (!kg_scope_parse(rq, req_scope ? req_scope : r->scope, &sc, out)) {
        return KG_ERR_DENIED;
    }
    struct kg_subject sub = {.is_user = true, .user = &user, .auth_time = r->auth_time};
    if (st->ops->principal_roles(st, rq->tenant->id, user.oid, sub.roles) != KG_OK) {
        kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
        return KG_ERR_STORE;
    }
    struct kg_refresh next = *r;
    next.grace = NULL;
    next.grace_len = 0;
    next.used_at = 0;
    next.access_jti[0] = '\0'; /* a new access token */
    int64_t exp = 0;
    if (!kg_tokens_mint(rq, c, &sc, &sub, next.access_jti, &exp, out)) {
        return KG_ERR_DENIED;
    }
    char token2[KG_SECRET_MAX];
    kg_secret_new("kg_rt_", token2);
    kg_store_hash_secret(token2, strlen(token2), next.hash);
    next.access_exp = exp;
    next.created_at = rq->now;
    next.expires_at = rq->now + rq->srv->cfg.refresh_lifetime;
    kg_tokens_add_refresh_members(out, token2, rq->srv->cfg.refresh_lifetime);
    kg_wipe(token2, sizeof token2);

    const char *body = kg_oout_close(out); /* the response is also the grace answer */
    if (!body) {
        kg_oout_fail(out, KG_OE_SERVER_ERROR, NULL);
        return KG_ERR_TOO_LONG;
    }
    size_t n = strlen(body);
    uint8_t *grace = kg_malloc(n + KG_SEAL_OVERHEAD);
    uint8_t key[32];
    grace_key(token, key);
    rc = kg_seal(key, r->hash, strlen(r->hash), body, n, grace);
    kg_wipe(key, sizeof key);
    if (rc == KG_OK) {
        rc = st->ops->refresh_rotate(st, r->hash, &next, grace, n + KG_SEAL_OVERHEAD, rq->now);
    }
    free(grace);
    if (rc) {
        kg_oout_fail(out, rc == KG_ERR_CONFLICT ? KG_OE_RT_REUSED : KG_OE_UNAVAILABLE, NULL);
        return rc;
    }
    struct kg_audit *a = kg_oout_audit(out, rq, "token.issued", "success");
    kg_strlcpy(a->actor_type, "user", sizeof a->actor_type);
    kg_strlcpy(a->actor_id, user.oid, sizeof a->actor_id);
    kg_strlcpy(a->caller_id, user.username, sizeof a->caller_id);
    kg_strlcpy(a->target, sc.has_api ? sc.api.identifier : c->app.client_id, sizeof a->target);
    snprintf(a->detail, sizeof a->detail, "grant=refresh_token family=%s jti=%s", r->family_id,
             next.access_jti);
    return KG_OK;
}

bool kg_grant_refresh(const struct kg_oreq *rq, struct kg_oout *out)
{
    struct kg_client c;
    if (!kg_client_for_grant(rq, &c, "refresh_token", out)) {
        return false;
    }
    const char *token = kg_form_get(rq->form, "refresh_token");
    if (!token) {
        return kg_oout_fail(out, KG_OE_PARAM_MISSING, "refresh_token is required.");
    }
    if (!kg_secret_valid("kg_rt_", kg_str_c(token))) {
        return kg_oout_fail(out, KG_OE_RT_INVALID, NULL); /* no store access (SPEC 9) */
    }
    char hash[KG_HASH_HEX];
    kg_store_hash_secret(token, strlen(token), hash);
    struct kg_store *st = rq->srv->store;
    for (int attempt = 0; attempt < 2; attempt++) {
        struct kg_refresh r;
        enum kg_rc rc = st->ops->refresh_get(st, hash, &r);
        if (rc == KG_ERR_STORE) {
            return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
        }
        bool ok = false;
        if (rc || strcmp(r.tenant_id, rq->tenant->id) != 0) {
            kg_oout_fail(out, KG_OE_RT_INVALID, NULL);
        } else if (strcmp(r.client_id, c.app.client_id) != 0) {
            kg_oout_fail(out, KG_OE_RT_OTHER_CLIENT, NULL);
        } else if (r.revoked_at) {
            kg_oout_fail(out, KG_OE_RT_REVOKED, NULL);
        } else if (r.used_at) {
            struct kg_json *body = NULL;
            ok = grace_successor(rq, &r, token, &body) ? (out->body = body, true)
                                                       : reuse_detected(rq, &r, out);
        } else if (r.expires_at <= rq->now) {
            kg_oout_fail(out, KG_OE_RT_EXPIRED, NULL);
        } else {
            rc = rotate(rq, &c, &r, token, kg_form_get(rq->form, "scope"), out);
            if (rc == KG_ERR_CONFLICT && attempt == 0) { /* raced another use: look again */
                out->err = KG_OE_NONE;
                kg_refresh_clear(&r);
                continue;
            }
            ok = rc == KG_OK;
        }
        kg_refresh_clear(&r);
        return ok;
    }
    return false;
}
