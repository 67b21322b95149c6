/* SPDX-License-Identifier: Apache-2.0
 * Rule 1 of the /verify decision (see steps.h): a bearer JWT (signature by its kid's tenant key,
 * iss, exp/nbf with 60 s skew, not revoked, audience = the API) or an API key (format and
 * checksum before any store access, then by hash: not revoked or rotated away, not expired)
 * into an identity. Verified JWTs are remembered by their SHA-256 until they expire or the
 * store's config stamp moves (any revocation, role, membership or key change moves it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "jose/jose.h"
#include "oauth/oauth.h"
#include "server/lastused.h"
#include "server/server.h"
#include "verify/steps.h"

struct token_entry {
    int64_t stamp;
    int64_t exp;
    char aud[KG_URI];
    struct kg_identity id;
};

/* A verified token as the cache keeps it: its strings packed. struct token_entry has room for
 * 2 KB of roles and 2 KB of scopes (4.7 KB in all); a token's are a few dozen bytes, so 65,536
 * remembered tokens take a few tens of megabytes instead of 300. */
struct packed_token {
    int64_t stamp;
    int64_t exp;
    char s[]; /* the strings of fields_of, in order, each NUL-terminated */
};

struct field {
    char *p;
    size_t size;
};

#define TOKEN_FIELDS 7

/* The strings of a token entry that the cache keeps. */
static void fields_of(struct token_entry *e, struct field f[TOKEN_FIELDS])
{
    struct kg_identity *id = &e->id;
    f[0] = (struct field){e->aud, sizeof e->aud};
    f[1] = (struct field){id->tenant_id, sizeof id->tenant_id};
    f[2] = (struct field){id->subject, sizeof id->subject};
    f[3] = (struct field){id->principal_type, sizeof id->principal_type};
    f[4] = (struct field){id->caller, sizeof id->caller};
    f[5] = (struct field){id->roles, sizeof id->roles};
    f[6] = (struct field){id->scopes, sizeof id->scopes};
}

static struct packed_token *pack(struct token_entry *e)
{
    struct field f[TOKEN_FIELDS];
    fields_of(e, f);
    size_t n = 0;
    for (int i = 0; i < TOKEN_FIELDS; i++) {
        n += strlen(f[i].p) + 1;
    }
    struct packed_token *t = kg_malloc(sizeof *t + n);
    t->stamp = e->stamp;
    t->exp = e->exp;
    char *o = t->s;
    for (int i = 0; i < TOKEN_FIELDS; i++) {
        size_t l = strlen(f[i].p) + 1;
        memcpy(o, f[i].p, l);
        o += l;
    }
    return t;
}

static void unpack(const struct packed_token *t, struct token_entry *e)
{
    memset(e, 0, sizeof *e);
    e->stamp = t->stamp;
    e->exp = t->exp;
    struct field f[TOKEN_FIELDS];
    fields_of(e, f);
    const char *s = t->s;
    for (int i = 0; i < TOKEN_FIELDS; i++) {
        kg_strlcpy(f[i].p, s, f[i].size);
        s += strlen(s) + 1;
    }
}

/* An entry that can no longer be used: its token has expired, or it was verified under an
 * older config stamp. */
struct token_now {
    int64_t now;
    int64_t stamp;
};
static bool unusable(const void *value, void *ctx)
{
    const struct packed_token *t = value;
    const struct token_now *n = ctx;
    return t->exp + KG_VERIFY_SKEW <= n->now || t->stamp != n->stamp;
}

static void words_of(const struct kg_json *claims, const char *k, char *out, size_t n)
{
    const struct kg_json *arr = NULL;
    out[0] = '\0';
    if (kg_json_get_arr(claims, k, &arr) != KG_OK) {
        return;
    }
    for (size_t i = 0; i < kg_json_arr_len(arr); i++) {
        const char *w = NULL;
        size_t l = strlen(out);
        if (kg_json_arr_str(arr, i, 256, &w) == KG_OK && !strchr(w, ' ') && l + strlen(w) + 2 < n) {
            snprintf(out + l, n - l, "%s%s", l ? " " : "", w);
        }
    }
}

static void copy_claim(const struct kg_json *c, const char *k, char *out, size_t n)
{
    const char *v = NULL;
    out[0] = '\0';
    if (kg_json_get_str(c, k, n - 1, &v) == KG_OK) {
        kg_strlcpy(out, v, n);
    }
}

/* Verifies a JWT from scratch into e. */
static bool jwt_fresh(const struct kg_vreq *rq, struct kg_str jwt, struct token_entry *e,
                      struct kg_vres *o)
{
    struct kg_store *st = rq->srv->store;
    char kid[48], alg[16];
    if (jwt.n > KG_MAX_JWT || kg_jwt_peek(jwt, kid, alg, NULL) != KG_OK) {
        return kg_vdeny(o, KG_OE_V_INVALID, "The token is not a well-formed signed JWT.");
    }
    struct kg_signing_key key;
    enum kg_rc rc = st->ops->signing_key_get(st, kid, &key);
    if (rc) {
        return rc == KG_ERR_STORE
                   ? kg_vstore_failed(o)
                   : kg_vdeny(o, KG_OE_V_INVALID, "The token's signing key is unknown.");
    }
    struct kg_tenant t;
    rc = st->ops->tenant_get(st, key.tenant_id, &t);
    kg_signing_key_clear(&key);
    if (rc) {
        return rc == KG_ERR_STORE ? kg_vstore_failed(o) : kg_vdeny(o, KG_OE_V_INVALID, NULL);
    }
    struct kg_oreq orq = {.srv = rq->srv, .tenant = &t, .now = rq->now};
    struct kg_json *claims = NULL;
    struct kg_err err = {0};
    rc = kg_tenant_jwt_verify(&orq, jwt, &claims, &err);
    if (rc) {
        return rc == KG_ERR_STORE ? kg_vstore_failed(o)
                                  : kg_vdeny(o, KG_OE_V_INVALID,
                                             "The token's signature or issuer "
                                             "does not verify.");
    }
    kg_vnote(o, "token: signature by kid %s of tenant %s verified, issuer ok", kid, t.id);
    bool ok = false;
    const char *jti = NULL, *idtyp = NULL;
    rc = kg_jwt_check_times(claims, rq->now, KG_VERIFY_SKEW, NULL);
    if (rc == KG_ERR_DENIED) {
        kg_vdeny(o, KG_OE_V_EXPIRED,
                 "The access token has expired (or is not valid yet); refresh "
                 "it and retry.");
    } else if (rc || kg_json_get_str(claims, "jti", KG_ID - 1, &jti) != KG_OK ||
               kg_json_get_str(claims, "idtyp", 8, &idtyp) != KG_OK ||
               kg_json_get_int(claims, "exp", &e->exp) != KG_OK) {
        kg_vdeny(o, KG_OE_V_INVALID, "The token is not a keygate access token.");
    } else if ((rc = st->ops->jti_revoked(st, jti)) != KG_ERR_NOT_FOUND) {
        if (rc == KG_OK) {
            kg_vdeny(o, KG_OE_V_REVOKED, "The access token has been revoked; sign in again.");
        } else {
            kg_vstore_failed(o);
        }
    } else {
        struct kg_identity *id = &e->id;
        kg_strlcpy(id->tenant_id, t.id, sizeof id->tenant_id);
        copy_claim(claims, "oid", id->subject, sizeof id->subject);
        kg_strlcpy(id->principal_type, strcmp(idtyp, "app") == 0 ? "app" : "user",
                   sizeof id->principal_type);
        /* accountable: the user; for an application, its client id until x-api-caller-id */
        copy_claim(claims, strcmp(idtyp, "app") == 0 ? "azp" : "preferred_username", id->caller,
                   sizeof id->caller);
        words_of(claims, "roles", id->roles, sizeof id->roles);
        copy_claim(claims, "scp", id->scopes, sizeof id->scopes);
        copy_claim(claims, "aud", e->aud, sizeof e->aud);
        ok = id->subject[0] != '\0' || kg_vdeny(o, KG_OE_V_INVALID, NULL);
    }
    kg_json_free(claims);
    return ok;
}

/* See steps.h. */
bool kg_verify_jwt(struct kg_verifier *v, const struct kg_vreq *rq, struct kg_str jwt,
                   const char *hash, struct kg_vres *o)
{
    char h[KG_HASH_HEX];
    if (hash) {
        kg_strlcpy(h, hash, sizeof h);
    } else {
        kg_store_hash_secret(jwt.p, jwt.n, h);
    }
    int64_t stamp = 0;
    bool stamp_ok = kg_store_stamp(rq->srv->store, &stamp);
    struct token_entry e;
    bool cached = false;
    pthread_mutex_lock(&v->mu);
    const struct packed_token *c = stamp_ok ? kg_map_get(v->tokens, h) : NULL;
    if (c && c->stamp == stamp && c->exp + KG_VERIFY_SKEW > rq->now) {
        unpack(c, &e);
        cached = true;
    }
    pthread_mutex_unlock(&v->mu);
    if (cached) {
        kg_vnote(o, "token: verified earlier (cached until it expires or anything changes)");
    } else {
        memset(&e, 0, sizeof e);
        if (!jwt_fresh(rq, jwt, &e, o)) {
            return false;
        }
        e.stamp = stamp;
        if (stamp_ok) {
            struct packed_token *n = pack(&e);
            struct token_now at = {rq->now, stamp};
            pthread_mutex_lock(&v->mu);
            kg_map_make_room(v->tokens, KG_VERIFY_MAX_CACHED, unusable, &at, free);
            free(kg_map_put(v->tokens, h, n));
            pthread_mutex_unlock(&v->mu);
        }
    }
    if (e.exp + KG_VERIFY_SKEW <= rq->now) {
        return kg_vdeny(o, KG_OE_V_EXPIRED, NULL);
    }
    if (strcmp(e.aud, rq->api) != 0) {
        return kg_vdeny(o, KG_OE_V_AUDIENCE, NULL);
    }
    o->id = e.id;
    o->until = e.exp + KG_VERIFY_SKEW;
    kg_strlcpy(o->id.credential_hash, h, sizeof o->id.credential_hash);
    kg_vnote(o, "token: %s %s of tenant %s, audience ok", o->id.principal_type, o->id.subject,
             o->id.tenant_id);
    return true;
}

/* See steps.h. */
bool kg_verify_api_key(const struct kg_vreq *rq, struct kg_str key, const char *hash,
                       struct kg_api_key *k, struct kg_role *role, struct kg_vres *o)
{
    if (!kg_secret_valid("kg_key_", key)) { /* SPEC 9: refused without touching the store */
        return kg_vdeny(o, KG_OE_V_INVALID, "The API key is malformed or its checksum is wrong.");
    }
    kg_vnote(o, "api key: format and checksum ok");
    char h[KG_HASH_HEX];
    if (hash) {
        kg_strlcpy(h, hash, sizeof h);
    } else {
        kg_store_hash_secret(key.p, key.n, h);
    }
    struct kg_store *st = rq->srv->store;
    enum kg_rc rc = st->ops->apikey_by_hash(st, h, k);
    if (rc) {
        return rc == KG_ERR_STORE ? kg_vstore_failed(o)
                                  : kg_vdeny(o, KG_OE_V_INVALID, "The API key is not known.");
    }
    if (k->revoked_at && k->revoked_at <= rq->now) {
        return kg_vdeny(o, KG_OE_V_REVOKED,
                        "The API key has been revoked or rotated; use its "
                        "replacement.");
    }
    if (k->expires_at && k->expires_at <= rq->now) {
        return kg_vdeny(o, KG_OE_V_EXPIRED, "The API key has expired; create a new one.");
    }
    /* a rotated key stays valid until its overlap ends: the decision stands until then */
    if (k->revoked_at && k->revoked_at < o->until) {
        o->until = k->revoked_at;
    }
    if (k->expires_at && k->expires_at < o->until) {
        o->until = k->expires_at;
    }
    rc = st->ops->role_by_id(st, k->tenant_id, k->role_id, role);
    if (rc) {
        return rc == KG_ERR_STORE ? kg_vstore_failed(o) : kg_vdeny(o, KG_OE_V_INVALID, NULL);
    }
    struct kg_identity *id = &o->id;
    kg_strlcpy(id->tenant_id, k->tenant_id, sizeof id->tenant_id);
    kg_strlcpy(id->subject, k->id, sizeof id->subject);
    kg_strlcpy(id->principal_type, "apikey", sizeof id->principal_type);
    kg_strlcpy(id->roles, role->name, sizeof id->roles);
    kg_strlcpy(id->workspace_id, k->workspace_id, sizeof id->workspace_id);
    kg_strlcpy(id->credential_hash, h, sizeof id->credential_hash);
    snprintf(id->caller, sizeof id->caller, "apikey:%.100s", k->name);
    kg_vnote(o, "api key: %s (%s) of tenant %s, workspace %s, role %s", k->id, k->name,
             k->tenant_id, k->workspace_id, role->name);
    kg_lastused_note(rq->srv->lastused, k->id, rq->now);
    return true;
}
