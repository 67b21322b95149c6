/* SPDX-License-Identifier: Apache-2.0
 * Minting: access tokens (RFC 9068 profile, SPEC 4 claims), ID tokens (OIDC Core 2, COMPAT) and
 * the token response (RFC 6749 5.1 plus the members MSAL needs), and new refresh token families.
 * Signing uses the tenant's active key from the keyring; nothing here writes to disk except a
 * new refresh family. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/encode.h"
#include "oauth/keyring.h"
#include "oauth/oauth.h"

void kg_issuer(const struct kg_server *srv, const struct kg_tenant *t, char *out, size_t n)
{
    snprintf(out, n, "%s/%s/v2.0", srv->cfg.public_url, t->id);
}

int64_t kg_tokens_lifetime(const struct kg_oreq *rq, const struct kg_client *c)
{
    int64_t l = c->app.token_lifetime > 0 ? c->app.token_lifetime : rq->tenant->token_lifetime;
    return l > 0 ? l : 3600;
}

/* The scp claim of a user token: delegated API scopes, or for .default every scope the API
 * offers (consent arrives with interactive sign-in), or the OIDC scopes when no API was named. */
static void user_scp(const struct kg_scope *sc, char *out, size_t n)
{
    if (sc->has_api) {
        kg_strlcpy(out, sc->api_default ? sc->api.scopes : sc->api_scopes, n);
        return;
    }
    snprintf(out, n, "%s%s%s", sc->openid ? "openid " : "", sc->profile ? "profile " : "",
             sc->email ? "email " : "");
    size_t l = strlen(out);
    if (l && out[l - 1] == ' ') {
        out[l - 1] = '\0';
    }
}

/* Signs the claims in w (closing the object) with the tenant's active key. */
static bool sign(const struct kg_oreq *rq, const char *typ, struct kg_jw *w, char **jwt,
                 struct kg_oout *out)
{
    struct kg_key *key = NULL;
    struct kg_err e = {0};
    size_t n = kg_jw_end(w);
    enum kg_rc rc =
        n ? kg_keyring_active(rq->srv->keys, rq->tenant->id, &key, &e) : KG_ERR_TOO_LONG;
    if (rc == KG_OK) {
        rc = kg_jws_sign_raw(key, typ, w->p, n, jwt, &e);
        kg_key_release(key);
    }
    if (rc) {
        return kg_oout_fail(out, rc == KG_ERR_STORE ? KG_OE_UNAVAILABLE : KG_OE_SERVER_ERROR, NULL);
    }
    return true;
}

static void identity_claims(struct kg_jw *c, const struct kg_user *u, bool email)
{
    kg_jw_str(c, "name", u->display_name[0] ? u->display_name : u->username);
    kg_jw_str(c, "preferred_username", u->username);
    if (email && u->email[0]) {
        kg_jw_str(c, "email", u->email);
    }
}

bool kg_tokens_mint(const struct kg_oreq *rq, const struct kg_client *c, const struct kg_scope *sc,
                    const struct kg_subject *sub, char jti[KG_ID], int64_t *exp_out,
                    struct kg_oout *out)
{
    char iss[700];
    kg_issuer(rq->srv, rq->tenant, iss, sizeof iss);
    int64_t now = rq->now, life = kg_tokens_lifetime(rq, c), exp = now + life;
    const char *subject = sub->is_user ? sub->user->oid : c->app.sp_oid;
    if (!jti[0]) {
        kg_uuid4(jti);
    }

    char buf[8192];
    struct kg_jw at;
    kg_jw_begin(&at, buf, sizeof buf);
    kg_jw_str(&at, "iss", iss);
    kg_jw_str(&at, "aud", sc->has_api ? sc->api.identifier : c->app.client_id);
    kg_jw_str(&at, "sub", subject);
    kg_jw_str(&at, "oid", subject);
    kg_jw_str(&at, "tid", rq->tenant->id);
    kg_jw_str(&at, "azp", c->app.client_id);
    kg_jw_str(&at, "client_id", c->app.client_id);
    kg_jw_int(&at, "iat", now);
    kg_jw_int(&at, "nbf", now);
    kg_jw_int(&at, "exp", exp);
    kg_jw_str(&at, "jti", jti);
    kg_jw_str(&at, "ver", "2.0");
    kg_jw_str(&at, "idtyp", sub->is_user ? "user" : "app");
    if (sub->is_user) {
        char scp[KG_LIST];
        user_scp(sc, scp, sizeof scp);
        kg_jw_str(&at, "scp", scp);
    }
    if (sub->roles[0]) {
        kg_jw_words(&at, "roles", sub->roles);
    }
    if (sub->is_user) {
        identity_claims(&at, sub->user, true);
    }
    char *access = NULL;
    if (!sign(rq, "at+jwt", &at, &access, out)) {
        return false;
    }

    struct kg_jw *body = kg_oout_tokens(out);
    kg_jw_str(body, "token_type", "Bearer");
    kg_jw_str(body, "scope", sc->requested);
    kg_jw_int(body, "expires_in", life);
    kg_jw_int(body, "ext_expires_in", life);
    if (life > 7200) { /* COMPAT: MSAL refreshes proactively after refresh_in */
        kg_jw_int(body, "refresh_in", life / 2);
    }
    kg_jw_str(body, "access_token", access);
    free(access);

    if (sub->is_user && sc->openid) { /* OIDC Core 2; COMPAT "ID token" */
        struct kg_jw id;
        kg_jw_begin(&id, buf, sizeof buf);
        kg_jw_str(&id, "iss", iss);
        kg_jw_str(&id, "aud", c->app.client_id);
        kg_jw_str(&id, "sub", subject);
        kg_jw_str(&id, "oid", subject);
        kg_jw_str(&id, "tid", rq->tenant->id);
        kg_jw_int(&id, "iat", now);
        kg_jw_int(&id, "nbf", now);
        kg_jw_int(&id, "exp", exp);
        kg_jw_str(&id, "ver", "2.0");
        kg_jw_int(&id, "auth_time", sub->auth_time);
        if (sub->nonce && sub->nonce[0]) { /* only when sent (COMPAT) */
            kg_jw_str(&id, "nonce", sub->nonce);
        }
        if (sub->sid && sub->sid[0]) {
            kg_jw_str(&id, "sid", sub->sid);
        }
        identity_claims(&id, sub->user, sc->email);
        char *idt = NULL;
        if (!sign(rq, "JWT", &id, &idt, out)) {
            return false;
        }
        kg_jw_str(body, "id_token", idt);
        free(idt);
    }
    const char *ci = kg_form_get(rq->form, "client_info");
    if (sub->is_user && ci && strcmp(ci, "1") == 0) { /* COMPAT: MSAL's account key */
        char info[200], enc[300];
        snprintf(info, sizeof info, "{\"uid\":\"%s\",\"utid\":\"%s\"}", subject, rq->tenant->id);
        kg_b64url_encode((const uint8_t *)info, strlen(info), enc);
        kg_jw_str(body, "client_info", enc);
    }
    kg_jw_int(body, "created_at", now);
    *exp_out = exp;
    return true;
}

void kg_tokens_add_refresh_members(struct kg_oout *out, const char *token, int64_t lifetime)
{
    kg_jw_str(&out->tokens, "refresh_token", token);
    kg_jw_int(&out->tokens, "refresh_token_expires_in", lifetime);
}

bool kg_tokens_add_refresh(const struct kg_oreq *rq, const struct kg_client *c,
                           const struct kg_scope *sc, const struct kg_subject *sub, const char *jti,
                           int64_t exp, const char *family_id, struct kg_oout *out)
{
    char token[KG_SECRET_MAX];
    kg_secret_new("kg_rt_", token);
    struct kg_refresh r;
    memset(&r, 0, sizeof r);
    kg_store_hash_secret(token, strlen(token), r.hash);
    kg_strlcpy(r.tenant_id, rq->tenant->id, sizeof r.tenant_id);
    if (family_id && family_id[0]) {
        kg_strlcpy(r.family_id, family_id, sizeof r.family_id);
    } else {
        kg_uuid4(r.family_id);
    }
    kg_strlcpy(r.client_id, c->app.client_id, sizeof r.client_id);
    kg_strlcpy(r.user_oid, sub->user->oid, sizeof r.user_oid);
    kg_strlcpy(r.scope, sc->requested, sizeof r.scope);
    kg_strlcpy(r.access_jti, jti, sizeof r.access_jti);
    r.access_exp = exp;
    r.auth_time = sub->auth_time;
    r.created_at = rq->now;
    r.expires_at = rq->now + rq->srv->cfg.refresh_lifetime;
    struct kg_store *st = rq->srv->store;
    if (st->ops->refresh_create(st, &r) != KG_OK) {
        kg_wipe(token, sizeof token);
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    kg_tokens_add_refresh_members(out, token, rq->srv->cfg.refresh_lifetime);
    kg_wipe(token, sizeof token);
    return true;
}

bool kg_tokens_for_user(const struct kg_oreq *rq, const struct kg_client *c,
                        const struct kg_scope *sc, const struct kg_subject *sub,
                        const struct kg_issued *issued, const char *grant, struct kg_oout *out)
{
    char jti[KG_ID] = "";
    if (issued) {
        kg_strlcpy(jti, issued->access_jti, sizeof jti);
    }
    int64_t exp = 0;
    if (!kg_tokens_mint(rq, c, sc, sub, jti, &exp, out)) {
        return false;
    }
    if (sc->offline_access &&
        !kg_tokens_add_refresh(rq, c, sc, sub, jti, exp, issued ? issued->family_id : NULL, out)) {
        return false;
    }
    struct kg_audit *a = kg_oout_audit(out, rq, "token.issued", "success");
    kg_strlcpy(a->actor_type, "user", sizeof a->actor_type);
    kg_strlcpy(a->actor_id, sub->user->oid, sizeof a->actor_id);
    kg_strlcpy(a->caller_id, sub->user->username, sizeof a->caller_id);
    kg_strlcpy(a->target, sc->has_api ? sc->api.identifier : c->app.client_id, sizeof a->target);
    snprintf(a->detail, sizeof a->detail, "grant=%s client=%s jti=%s", grant, c->app.client_id,
             jti);
    return true;
}

bool kg_tokens_replayed(const struct kg_oreq *rq, const struct kg_issued *issued,
                        const char *user_oid, const char *client_id, const char *action,
                        enum kg_oerr err, struct kg_oout *out)
{
    struct kg_store *st = rq->srv->store;
    if (st->ops->issued_revoke(st, rq->tenant->id, issued, rq->now) != KG_OK) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    struct kg_audit *a = kg_oout_audit(out, rq, action, "denied");
    kg_strlcpy(a->actor_type, "user", sizeof a->actor_type);
    kg_strlcpy(a->actor_id, user_oid, sizeof a->actor_id);
    kg_strlcpy(a->target, client_id, sizeof a->target);
    snprintf(a->detail, sizeof a->detail, "revoked jti=%s family=%s", issued->access_jti,
             issued->family_id);
    return kg_oout_fail(out, err, NULL);
}

void kg_tokens_plan(const struct kg_oreq *rq, const struct kg_client *c, const struct kg_scope *sc,
                    struct kg_issued *is)
{
    memset(is, 0, sizeof *is);
    kg_uuid4(is->access_jti);
    is->access_exp = rq->now + kg_tokens_lifetime(rq, c);
    if (sc->offline_access) {
        kg_uuid4(is->family_id);
    }
}
