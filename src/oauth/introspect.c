/* SPDX-License-Identifier: Apache-2.0
 * Token introspection (RFC 7662) and revocation (RFC 7009). Both need client authentication. A
 * client may introspect or revoke its own tokens; other clients' tokens need the "introspect"
 * application permission on api://keygate (SPEC 4). A token the caller may not see is simply
 * inactive (RFC 7662 2.2), and revoking an unknown token succeeds (RFC 7009 2.2). */
#include <stdio.h>
#include <string.h>

#include "oauth/oauth.h"

static bool privileged(const struct kg_oreq *rq, const struct kg_client *c)
{
    struct kg_store *st = rq->srv->store;
    struct kg_api api;
    char perms[KG_LIST];
    if (st->ops->api_get(st, "api://keygate", &api) != KG_OK ||
        st->ops->app_permissions(st, c->app.client_id, api.id, perms) != KG_OK) {
        return false;
    }
    return kg_words_has(perms, "introspect", 10);
}

static bool is_refresh(const char *token)
{
    return strncmp(token, "kg_rt_", 6) == 0;
}

/* Looks up a live refresh token of this tenant. */
static bool refresh_lookup(const struct kg_oreq *rq, const char *token, struct kg_refresh *r)
{
    if (!kg_secret_valid("kg_rt_", kg_str_c(token))) {
        return false;
    }
    char h[KG_HASH_HEX];
    kg_store_hash_secret(token, strlen(token), h);
    struct kg_store *st = rq->srv->store;
    if (st->ops->refresh_get(st, h, r) != KG_OK) {
        return false;
    }
    kg_refresh_clear(r);
    return strcmp(r->tenant_id, rq->tenant->id) == 0;
}

static void copy_claim(struct kg_json *dst, const struct kg_json *claims, const char *k)
{
    const char *s = NULL;
    int64_t i = 0;
    if (kg_json_get_str(claims, k, 4096, &s) == KG_OK) {
        kg_json_set_str(dst, k, s);
    } else if (kg_json_get_int(claims, k, &i) == KG_OK) {
        kg_json_set_int(dst, k, i);
    }
}

/* What introspection and revocation share: client authentication, the token parameter, and
 * whether the client may act on other clients' tokens. */
static bool begin(const struct kg_oreq *rq, struct kg_client *c, const char **token, bool *priv,
                  struct kg_oout *out)
{
    memset(c, 0, sizeof *c);
    if (!kg_client_authenticate(rq, c, out)) {
        return false;
    }
    *token = kg_form_get(rq->form, "token");
    if (!*token) {
        return kg_oout_fail(out, KG_OE_TOKEN_MISSING, NULL);
    }
    *priv = privileged(rq, c);
    return true;
}

/* A client may act on its own tokens, or on any with the introspect permission. */
static bool may_see(const struct kg_json *claims, const struct kg_client *c, bool priv)
{
    const char *owner = NULL;
    return priv || (kg_json_get_str(claims, "client_id", KG_ID, &owner) == KG_OK &&
                    strcmp(owner, c->app.client_id) == 0);
}

bool kg_introspect(const struct kg_oreq *rq, struct kg_oout *out)
{
    struct kg_client c;
    const char *token = NULL;
    bool priv = false;
    if (!begin(rq, &c, &token, &priv, out)) {
        return false;
    }
    struct kg_json *b = kg_json_obj();
    out->body = b;
    if (is_refresh(token)) {
        struct kg_refresh r;
        bool live = refresh_lookup(rq, token, &r) && !r.used_at && !r.revoked_at &&
                    r.expires_at > rq->now && (priv || strcmp(r.client_id, c.app.client_id) == 0);
        kg_json_set_bool(b, "active", live);
        if (live) {
            kg_json_set_str(b, "token_type", "refresh_token");
            kg_json_set_str(b, "client_id", r.client_id);
            kg_json_set_str(b, "scope", r.scope);
            kg_json_set_str(b, "sub", r.user_oid);
            kg_json_set_int(b, "iat", r.created_at);
            kg_json_set_int(b, "exp", r.expires_at);
        }
        return true;
    }
    struct kg_json *claims = NULL;
    enum kg_rc rc = kg_access_token_verify(rq, kg_str_c(token), &claims, NULL);
    if (rc == KG_ERR_STORE) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    bool live = rc == KG_OK && may_see(claims, &c, priv);
    kg_json_set_bool(b, "active", live);
    if (live) {
        static const char *const copy[] = {"client_id", "sub", "aud", "iss", "exp",   "iat",
                                           "nbf",       "jti", "tid", "oid", "idtyp", NULL};
        for (int i = 0; copy[i]; i++) {
            copy_claim(b, claims, copy[i]);
        }
        const char *s = NULL;
        if (kg_json_get_str(claims, "scp", KG_LIST, &s) == KG_OK) {
            kg_json_set_str(b, "scope", s);
        }
        if (kg_json_get_str(claims, "preferred_username", KG_NAME, &s) == KG_OK) {
            kg_json_set_str(b, "username", s);
        }
        const struct kg_json *roles = NULL;
        if (kg_json_get_arr(claims, "roles", &roles) == KG_OK) {
            struct kg_json *rr = kg_json_arr();
            for (size_t i = 0; i < kg_json_arr_len(roles); i++) {
                if (kg_json_arr_str(roles, i, KG_NAME, &s) == KG_OK) {
                    kg_json_arr_add_str(rr, s);
                }
            }
            kg_json_set(b, "roles", rr);
        }
        kg_json_set_str(b, "token_type", "Bearer");
    }
    kg_json_free(claims);
    return true;
}

bool kg_revoke(const struct kg_oreq *rq, struct kg_oout *out)
{
    struct kg_client c;
    const char *token = NULL;
    bool priv = false;
    if (!begin(rq, &c, &token, &priv, out)) {
        return false;
    }
    struct kg_store *st = rq->srv->store;
    enum kg_rc rc = KG_OK;
    char target[KG_ID + 16] = "";
    if (is_refresh(token)) {
        struct kg_refresh r;
        if (refresh_lookup(rq, token, &r) && (priv || strcmp(r.client_id, c.app.client_id) == 0)) {
            rc = st->ops->family_revoke(st, r.family_id, rq->now);
            snprintf(target, sizeof target, "family:%s", r.family_id);
        }
    } else {
        struct kg_json *claims = NULL;
        rc = kg_access_token_verify(rq, kg_str_c(token), &claims, NULL);
        const char *jti = NULL;
        int64_t exp = 0;
        if (rc == KG_OK && kg_json_get_str(claims, "jti", KG_ID, &jti) == KG_OK &&
            kg_json_get_int(claims, "exp", &exp) == KG_OK && may_see(claims, &c, priv)) {
            rc = st->ops->jti_revoke(st, rq->tenant->id, jti, exp);
            snprintf(target, sizeof target, "jti:%s", jti);
        } else if (rc != KG_ERR_STORE) {
            rc = KG_OK; /* RFC 7009 2.2: invalid tokens do not cause an error */
        }
        kg_json_free(claims);
    }
    if (rc) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    if (target[0]) {
        struct kg_audit *a = kg_oout_audit(out, rq, "token.revoked", "success");
        kg_strlcpy(a->actor_type, "app", sizeof a->actor_type);
        kg_strlcpy(a->actor_id, c.app.client_id, sizeof a->actor_id);
        kg_strlcpy(a->target, target, sizeof a->target);
    }
    out->body = kg_json_obj();
    return true;
}
