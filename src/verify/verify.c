/* SPDX-License-Identifier: Apache-2.0
 * The /verify decision, SPEC 6.3 in order; see verify.h.
 *  1. the credential: exactly one; a JWT (signature by its kid's tenant key, iss, exp/nbf with
 *     60 s skew, not revoked, audience = the API) or an API key (format and checksum before any
 *     store access, then by hash: not revoked or rotated away, not expired);
 *  2. the tenant the request names (the API's tenant header, or a {tenant} route parameter);
 *  3. the API's rules: x-api-caller-id for app tokens, a subscription key;
 *  4. the first route policy matching method and path (none: deny);
 *  5. the permission, from workspace membership and tenant roles (users), the key's role (API
 *     keys) or the application permissions in the token (apps);
 *  6. the rate limit, per API and principal.
 * Verified JWTs are remembered by their SHA-256 until they expire or the store's config stamp
 * moves (any revocation, role, membership or key change moves it), and allowed decisions whole
 * (verify/memo.c), so that the same request again skips the rules but not the rate limit. */
#include "verify/verify.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/map.h"
#include "jose/jose.h"
#include "oauth/oauth.h"
#include "server/lastused.h"
#include "verify/memo.h"
#include "verify/path.h"

#define MAX_CACHED 65536
#define SKEW 60

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
    return t->exp + SKEW <= n->now || t->stamp != n->stamp;
}

struct bucket {
    double tokens;
    int64_t last_ms;
    int64_t rate;
};

struct kg_verifier {
    pthread_mutex_t mu;
    struct kg_map *tokens;  /* sha256(jwt) -> struct packed_token */
    struct kg_map *buckets; /* api|tenant|principal type|subject -> struct bucket */
    struct kg_memo *memo;   /* allowed decisions */
};

struct kg_verifier *kg_verifier_new(void)
{
    struct kg_verifier *v = kg_calloc(1, sizeof *v);
    pthread_mutex_init(&v->mu, NULL);
    v->tokens = kg_map_new();
    v->buckets = kg_map_new();
    v->memo = kg_memo_new();
    return v;
}

void kg_verifier_free(struct kg_verifier *v)
{
    if (!v) {
        return;
    }
    kg_map_free(v->tokens, free);
    kg_map_free(v->buckets, free);
    kg_memo_free(v->memo);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

static void note(struct kg_vres *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct kg_vres *o, const char *fmt, ...)
{
    size_t l = strlen(o->explain);
    if (!o->explaining || l + 2 >= sizeof o->explain) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->explain + l, sizeof o->explain - l, fmt, ap);
    va_end(ap);
    l = strlen(o->explain);
    if (l + 2 < sizeof o->explain) {
        o->explain[l] = '\n';
        o->explain[l + 1] = '\0';
    }
}

static bool deny(struct kg_vres *o, enum kg_oerr e, const char *detail)
{
    o->err = e;
    kg_strlcpy(o->detail, detail ? detail : kg_oerr_info(e)->description, sizeof o->detail);
    note(o, "denied: %s", o->detail);
    return false;
}

static bool store_failed(struct kg_vres *o)
{
    return deny(o, KG_OE_V_UNAVAILABLE, NULL);
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
        return deny(o, KG_OE_V_INVALID, "The token is not a well-formed signed JWT.");
    }
    struct kg_signing_key key;
    enum kg_rc rc = st->ops->signing_key_get(st, kid, &key);
    if (rc) {
        return rc == KG_ERR_STORE ? store_failed(o)
                                  : deny(o, KG_OE_V_INVALID, "The token's signing key is unknown.");
    }
    struct kg_tenant t;
    rc = st->ops->tenant_get(st, key.tenant_id, &t);
    kg_signing_key_clear(&key);
    if (rc) {
        return rc == KG_ERR_STORE ? store_failed(o) : deny(o, KG_OE_V_INVALID, NULL);
    }
    struct kg_oreq orq = {.srv = rq->srv, .tenant = &t, .now = rq->now};
    struct kg_json *claims = NULL;
    struct kg_err err = {0};
    rc = kg_tenant_jwt_verify(&orq, jwt, &claims, &err);
    if (rc) {
        return rc == KG_ERR_STORE ? store_failed(o)
                                  : deny(o, KG_OE_V_INVALID,
                                         "The token's signature or issuer "
                                         "does not verify.");
    }
    note(o, "token: signature by kid %s of tenant %s verified, issuer ok", kid, t.id);
    bool ok = false;
    const char *jti = NULL, *idtyp = NULL;
    rc = kg_jwt_check_times(claims, rq->now, SKEW, NULL);
    if (rc == KG_ERR_DENIED) {
        deny(o, KG_OE_V_EXPIRED,
             "The access token has expired (or is not valid yet); refresh "
             "it and retry.");
    } else if (rc || kg_json_get_str(claims, "jti", KG_ID - 1, &jti) != KG_OK ||
               kg_json_get_str(claims, "idtyp", 8, &idtyp) != KG_OK ||
               kg_json_get_int(claims, "exp", &e->exp) != KG_OK) {
        deny(o, KG_OE_V_INVALID, "The token is not a keygate access token.");
    } else if ((rc = st->ops->jti_revoked(st, jti)) != KG_ERR_NOT_FOUND) {
        if (rc == KG_OK) {
            deny(o, KG_OE_V_REVOKED, "The access token has been revoked; sign in again.");
        } else {
            store_failed(o);
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
        ok = id->subject[0] != '\0' || deny(o, KG_OE_V_INVALID, NULL);
    }
    kg_json_free(claims);
    return ok;
}

/* hash: the token's, if already computed (else NULL). */
static bool from_jwt(struct kg_verifier *v, const struct kg_vreq *rq, struct kg_str jwt,
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
    if (c && c->stamp == stamp && c->exp + SKEW > rq->now) {
        unpack(c, &e);
        cached = true;
    }
    pthread_mutex_unlock(&v->mu);
    if (cached) {
        note(o, "token: verified earlier (cached until it expires or anything changes)");
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
            kg_map_make_room(v->tokens, MAX_CACHED, unusable, &at, free);
            free(kg_map_put(v->tokens, h, n));
            pthread_mutex_unlock(&v->mu);
        }
    }
    if (e.exp + SKEW <= rq->now) {
        return deny(o, KG_OE_V_EXPIRED, NULL);
    }
    if (strcmp(e.aud, rq->api) != 0) {
        return deny(o, KG_OE_V_AUDIENCE, NULL);
    }
    o->id = e.id;
    o->until = e.exp + SKEW;
    kg_strlcpy(o->id.credential_hash, h, sizeof o->id.credential_hash);
    note(o, "token: %s %s of tenant %s, audience ok", o->id.principal_type, o->id.subject,
         o->id.tenant_id);
    return true;
}

/* hash: the key's, if already computed (else NULL). */
static bool from_key(const struct kg_vreq *rq, struct kg_str key, const char *hash,
                     struct kg_api_key *k, struct kg_role *role, struct kg_vres *o)
{
    if (!kg_secret_valid("kg_key_", key)) { /* SPEC 9: refused without touching the store */
        return deny(o, KG_OE_V_INVALID, "The API key is malformed or its checksum is wrong.");
    }
    note(o, "api key: format and checksum ok");
    char h[KG_HASH_HEX];
    if (hash) {
        kg_strlcpy(h, hash, sizeof h);
    } else {
        kg_store_hash_secret(key.p, key.n, h);
    }
    struct kg_store *st = rq->srv->store;
    enum kg_rc rc = st->ops->apikey_by_hash(st, h, k);
    if (rc) {
        return rc == KG_ERR_STORE ? store_failed(o)
                                  : deny(o, KG_OE_V_INVALID, "The API key is not known.");
    }
    if (k->revoked_at && k->revoked_at <= rq->now) {
        return deny(o, KG_OE_V_REVOKED,
                    "The API key has been revoked or rotated; use its "
                    "replacement.");
    }
    if (k->expires_at && k->expires_at <= rq->now) {
        return deny(o, KG_OE_V_EXPIRED, "The API key has expired; create a new one.");
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
        return rc == KG_ERR_STORE ? store_failed(o) : deny(o, KG_OE_V_INVALID, NULL);
    }
    struct kg_identity *id = &o->id;
    kg_strlcpy(id->tenant_id, k->tenant_id, sizeof id->tenant_id);
    kg_strlcpy(id->subject, k->id, sizeof id->subject);
    kg_strlcpy(id->principal_type, "apikey", sizeof id->principal_type);
    kg_strlcpy(id->roles, role->name, sizeof id->roles);
    kg_strlcpy(id->workspace_id, k->workspace_id, sizeof id->workspace_id);
    kg_strlcpy(id->credential_hash, h, sizeof id->credential_hash);
    snprintf(id->caller, sizeof id->caller, "apikey:%.100s", k->name);
    note(o, "api key: %s (%s) of tenant %s, workspace %s, role %s", k->id, k->name, k->tenant_id,
         k->workspace_id, role->name);
    kg_lastused_note(rq->srv->lastused, k->id, rq->now);
    return true;
}

/* Rule 2: the tenant the request names. */
static bool tenant_named(const struct kg_vreq *rq, const struct kg_api *api,
                         const struct kg_route_params *params, struct kg_vres *o)
{
    struct kg_store *st = rq->srv->store;
    const char *named[2] = {NULL, NULL};
    char hv[KG_NAME];
    struct kg_str th = KG_STR_NULL;
    if (api->tenant_header[0] && rq->header) {
        th = rq->header(rq->header_ctx, api->tenant_header);
    }
    if (api->tenant_header[0]) {
        if (!th.p) {
            char d[200];
            snprintf(d, sizeof d, "This API requires the %s header naming your tenant.",
                     api->tenant_header);
            return deny(o, KG_OE_V_TENANT_HEADER, d);
        }
        if (th.n >= sizeof hv) {
            return deny(o, KG_OE_V_TENANT_MISMATCH, NULL);
        }
        memcpy(hv, th.p, th.n);
        hv[th.n] = '\0';
        named[0] = hv;
    }
    named[1] = params ? kg_route_param(params, "tenant") : NULL;
    for (int i = 0; i < 2; i++) {
        if (!named[i]) {
            continue;
        }
        struct kg_tenant t;
        enum kg_rc rc = st->ops->tenant_get(st, named[i], &t);
        if (rc == KG_ERR_STORE) {
            return store_failed(o);
        }
        if (rc || strcmp(t.id, o->id.tenant_id) != 0) {
            return deny(o, KG_OE_V_TENANT_MISMATCH, NULL);
        }
        note(o, "tenant: %s named by the request matches", named[i]);
    }
    return true;
}

static bool email_like(struct kg_str s)
{
    if (s.n < 3 || s.n > 254) {
        return false;
    }
    const char *at = memchr(s.p, '@', s.n);
    if (!at || at == s.p || at == s.p + s.n - 1) {
        return false;
    }
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == '<' || c == '>') {
            return false;
        }
    }
    return true;
}

/* Rule 3: the API's own rules. */
static bool api_rules(const struct kg_vreq *rq, const struct kg_api *api, struct kg_vres *o)
{
    if (api->require_caller_id && strcmp(o->id.principal_type, "app") == 0) {
        if (!email_like(rq->caller_id)) {
            return deny(o, KG_OE_V_CALLER_ID, NULL);
        }
        note(o, "caller: %s", o->id.caller);
    }
    if (api->require_subscription_key) {
        struct kg_store *st = rq->srv->store;
        if (!rq->subscription_key.p || !kg_secret_valid("kg_sub_", rq->subscription_key)) {
            return deny(o, KG_OE_V_SUBSCRIPTION, NULL);
        }
        char h[KG_HASH_HEX];
        kg_store_hash_secret(rq->subscription_key.p, rq->subscription_key.n, h);
        struct kg_subscription sub;
        enum kg_rc rc = st->ops->subscription_by_hash(st, h, &sub);
        if (rc == KG_ERR_STORE) {
            return store_failed(o);
        }
        if (rc || strcmp(sub.tenant_id, o->id.tenant_id) != 0 || strcmp(sub.api_id, api->id) != 0) {
            return deny(o, KG_OE_V_SUBSCRIPTION, NULL);
        }
        note(o, "subscription: %s (%s) ok", sub.id, sub.name);
    }
    return true;
}

/* Rule 4: the first matching route. */
static const struct kg_route *route_of(const struct kg_vreq *rq, const struct kg_route *rs,
                                       size_t n, struct kg_route_params *params)
{
    for (size_t i = 0; i < n; i++) {
        const struct kg_route *r = &rs[i];
        if ((strcmp(r->method, "*") == 0 || strcmp(r->method, rq->method) == 0) &&
            kg_route_match(r->pattern, rq->path, params)) {
            return r;
        }
    }
    return NULL;
}

/* The roles of the tenant that grant perm, for an actionable detail. */
static void roles_granting(struct kg_store *st, const char *tenant_id, const char *perm, char *out,
                           size_t n)
{
    struct kg_role *roles = NULL;
    size_t nr = 0;
    out[0] = '\0';
    if (st->ops->roles_list(st, tenant_id, &roles, &nr) != KG_OK) {
        return;
    }
    for (size_t i = 0; i < nr; i++) {
        if (kg_perm_granted(roles[i].permissions, perm)) {
            size_t l = strlen(out);
            snprintf(out + l, n - l, "%s%s", l ? " or " : "", roles[i].name);
        }
    }
    free(roles);
}

static bool permission_denied(const struct kg_vreq *rq, const char *perm, struct kg_vres *o)
{
    char who[300], d[sizeof o->detail];
    roles_granting(rq->srv->store, o->id.tenant_id, perm, who, sizeof who);
    if (who[0]) {
        snprintf(d, sizeof d,
                 "The %s permission is required for this operation; the %s role has "
                 "it.",
                 perm, who);
    } else {
        snprintf(d, sizeof d, "The %s permission is required for this operation.", perm);
    }
    return deny(o, KG_OE_V_PERMISSION, d);
}

/* The permission patterns of the named tenant roles (space-separated names). */
static enum kg_rc tenant_role_patterns(struct kg_store *st, const char *tenant_id,
                                       const char *names, char *out, size_t n)
{
    struct kg_role *roles = NULL;
    size_t nr = 0;
    out[0] = '\0';
    enum kg_rc rc = st->ops->roles_list(st, tenant_id, &roles, &nr);
    for (size_t i = 0; rc == KG_OK && i < nr; i++) {
        if (kg_words_has(names, roles[i].name, strlen(roles[i].name))) {
            size_t l = strlen(out);
            snprintf(out + l, n - l, "%s%s", l ? " " : "", roles[i].permissions);
        }
    }
    free(roles);
    return rc;
}

/* Rule 5. */
static bool permitted(const struct kg_vreq *rq, const struct kg_route *r,
                      const struct kg_route_params *params, const struct kg_api_key *key,
                      const struct kg_role *key_role, struct kg_vres *o)
{
    struct kg_store *st = rq->srv->store;
    struct kg_workspace ws;
    bool has_ws = false;
    if (r->workspace_param[0]) {
        const char *w = kg_route_param(params, r->workspace_param);
        enum kg_rc rc = w ? st->ops->workspace_get(st, o->id.tenant_id, w, &ws) : KG_ERR_NOT_FOUND;
        if (rc == KG_ERR_STORE) {
            return store_failed(o);
        }
        if (rc) {
            return deny(o, KG_OE_V_NOT_MEMBER, "You are not a member of this workspace.");
        }
        has_ws = true;
        note(o, "workspace: %s (%s)", ws.id, ws.name);
    }
    const char *perm = r->permission;
    if (strcmp(o->id.principal_type, "apikey") == 0) {
        if (has_ws && strcmp(ws.id, key->workspace_id) != 0) {
            return deny(o, KG_OE_V_OTHER_WORKSPACE, NULL);
        }
        return kg_perm_granted(key_role->permissions, perm) || permission_denied(rq, perm, o);
    }
    char patterns[KG_LIST * 2] = "";
    bool member = false;
    if (has_ws) {
        struct kg_role mr;
        enum kg_rc rc = st->ops->member_role(st, o->id.tenant_id, ws.id, o->id.subject, &mr);
        if (rc == KG_ERR_STORE) {
            return store_failed(o);
        }
        if (rc == KG_OK) {
            member = true;
            kg_strlcpy(patterns, mr.permissions, sizeof patterns);
            kg_strlcpy(o->id.workspace_id, ws.id, sizeof o->id.workspace_id);
            note(o, "member of the workspace as %s", mr.name);
        }
    }
    if (strcmp(o->id.principal_type, "app") == 0) {
        /* the application permissions in the token are exact grants */
        if (kg_words_has(o->id.roles, perm, strlen(perm)) || kg_perm_granted(patterns, perm)) {
            return true;
        }
        char d[sizeof o->detail];
        snprintf(d, sizeof d,
                 "The application has not been granted the %s permission of this "
                 "API.",
                 perm);
        return deny(o, KG_OE_V_APP_PERMISSION, d);
    }
    char names[KG_LIST], tp[KG_LIST * 2];
    enum kg_rc rc = st->ops->principal_roles(st, o->id.tenant_id, o->id.subject, names);
    if (!rc) {
        rc = tenant_role_patterns(st, o->id.tenant_id, names, tp, sizeof tp);
    }
    if (rc) {
        return store_failed(o);
    }
    kg_strlcpy(o->id.roles, names, sizeof o->id.roles);
    if (kg_perm_granted(patterns, perm) || kg_perm_granted(tp, perm)) {
        if (has_ws) {
            kg_strlcpy(o->id.workspace_id, ws.id, sizeof o->id.workspace_id);
        }
        return true;
    }
    if (has_ws && !member) {
        char d[sizeof o->detail];
        snprintf(d, sizeof d, "You are not a member of workspace %s.", ws.name);
        return deny(o, KG_OE_V_NOT_MEMBER, d);
    }
    return permission_denied(rq, perm, o);
}

/* A bucket idle long enough to have refilled holds nothing a new one would not. */
static bool refilled(const void *value, void *now_ms)
{
    const struct bucket *b = value;
    return (double)(*(int64_t *)now_ms - b->last_ms) * (double)b->rate / 1000.0 + b->tokens >=
           (double)b->rate;
}

/* Rule 6: a token bucket (rate per second, burst of one second's worth) per API and principal:
 * an API key, an application, a user. A new token for the same application or user shares its
 * bucket, so fetching tokens does not reset a limit. Buckets are per node. */
static bool within_rate(struct kg_verifier *v, const struct kg_vreq *rq, int64_t rate,
                        struct kg_vres *o)
{
    if (rate <= 0) {
        return true;
    }
    char k[KG_URI + 2 * KG_ID + 16];
    if (!kg_key_join(k, sizeof k, rq->api, o->id.tenant_id, o->id.principal_type, o->id.subject,
                     NULL)) {
        return deny(o, KG_OE_V_RATE_LIMITED, NULL); /* cannot happen: every part is bounded */
    }
    int64_t now_ms = kg_now_ms();
    bool ok;
    pthread_mutex_lock(&v->mu);
    struct bucket *b = kg_map_get(v->buckets, k);
    if (!b) {
        kg_map_make_room(v->buckets, MAX_CACHED, refilled, &now_ms, free);
        b = kg_malloc(sizeof *b);
        b->tokens = (double)rate;
        b->last_ms = now_ms;
        kg_map_put(v->buckets, k, b);
    }
    b->rate = rate;
    b->tokens += (double)(now_ms - b->last_ms) * (double)rate / 1000.0;
    if (b->tokens > (double)rate) {
        b->tokens = (double)rate;
    }
    b->last_ms = now_ms;
    ok = b->tokens >= 1.0;
    if (ok) {
        b->tokens -= 1.0;
    } else {
        o->retry_after = (int64_t)ceil((1.0 - b->tokens) / (double)rate);
        if (o->retry_after < 1) {
            o->retry_after = 1;
        }
    }
    pthread_mutex_unlock(&v->mu);
    return ok || deny(o, KG_OE_V_RATE_LIMITED, NULL);
}

/* The one credential a request presents, found without the store. */
struct credential {
    char kind;        /* 'b' a bearer token, 'k' an API key; 0: none usable (err says why) */
    struct kg_str s;  /* the token or the key */
    enum kg_oerr err; /* when kind is 0 */
    const char *detail;
};

static void credential_of(const struct kg_vreq *rq, struct credential *c)
{
    memset(c, 0, sizeof *c);
    bool has_auth = rq->authorization.p != NULL, has_key = rq->api_key.p != NULL;
    struct kg_str a = has_auth ? rq->authorization : rq->api_key;
    if (!has_auth && !has_key) {
        c->err = KG_OE_V_MISSING;
    } else if (has_auth && has_key) {
        c->err = KG_OE_V_TWO_CREDENTIALS;
    } else if (a.n == 0 || a.n > KG_MAX_AUTH_HEADER) {
        c->err = KG_OE_V_INVALID;
    } else if (has_auth && a.n > 7 && kg_str_case_eq_c((struct kg_str){a.p, 7}, "Bearer ")) {
        c->kind = 'b';
        c->s = (struct kg_str){a.p + 7, a.n - 7};
    } else if (memchr(a.p, ' ', a.n)) { /* another scheme: Basic, Digest, ... */
        c->err = KG_OE_V_INVALID;
        c->detail = "Use Authorization: Bearer <token>, or an API key.";
    } else {
        c->kind = 'k';
        c->s = a;
    }
}

/* The decision cache (verify/memo.h): the request's key, and the stamp read before anything
 * else, so that an entry can never be tagged newer than what it was decided from. */
struct memo_ctx {
    bool on;
    int64_t stamp;
    char hash[KG_HASH_HEX]; /* the credential's */
    char key[KG_MEMO_KEY];
    struct kg_memo_header header;
    struct kg_memo_reader reader;
    struct kg_vreq rq; /* the request, its header reads recorded */
};

/* True if the request was answered from the decision cache (the rate limit applied). */
static bool remembered(struct kg_verifier *v, const struct kg_vreq *rq, const struct credential *c,
                       struct memo_ctx *m, struct kg_vres *o)
{
    m->on = c->kind && !rq->explain && kg_store_stamp(rq->srv->store, &m->stamp);
    if (!m->on) {
        return false;
    }
    kg_store_hash_secret(c->s.p, c->s.n, m->hash);
    m->on = kg_memo_key(rq, c->kind, m->hash, m->key);
    int64_t rate = 0;
    char key_id[KG_ID];
    bool found = m->on && kg_memo_get(v->memo, m->key, m->stamp, rq, &o->id, &rate, key_id);
    if (found) {
        if (key_id[0]) {
            kg_lastused_note(rq->srv->lastused, key_id, rq->now);
        }
        within_rate(v, rq, rate, o);
    }
    if (m->on && !found) { /* decide with the header reads recorded */
        m->reader = (struct kg_memo_reader){rq->header, rq->header_ctx, &m->header};
        m->rq = *rq;
        m->rq.header = kg_memo_read_header;
        m->rq.header_ctx = &m->reader;
    }
    return found;
}

static void remember(struct kg_verifier *v, const struct memo_ctx *m, const struct kg_vreq *rq,
                     const struct kg_api_key *key, int64_t rate, const struct kg_vres *o)
{
    if (!m->on) {
        return;
    }
    kg_memo_put(v->memo, m->key, m->stamp, rq->now, o->until, &m->header, &o->id, rate,
                strcmp(o->id.principal_type, "apikey") == 0 ? key->id : "");
}

void kg_vres_clear(struct kg_vres *o)
{
    struct kg_identity *id = &o->id;
    o->err = KG_OE_NONE;
    o->detail[0] = '\0';
    id->tenant_id[0] = id->subject[0] = id->principal_type[0] = id->caller[0] = '\0';
    id->roles[0] = id->scopes[0] = id->workspace_id[0] = id->credential_hash[0] = '\0';
    o->retry_after = 0;
    o->until = INT64_MAX;
    o->explaining = false;
    o->explain[0] = '\0';
}

void kg_verify(struct kg_verifier *v, const struct kg_vreq *rq, struct kg_vres *o)
{
    kg_vres_clear(o);
    o->explaining = rq->explain;
    struct credential cred;
    credential_of(rq, &cred);
    struct memo_ctx mc;
    struct memo_ctx *m = &mc;
    memset(&m->header, 0, sizeof m->header);
    if (remembered(v, rq, &cred, m, o)) {
        return;
    }
    if (m->on) {
        rq = &m->rq;
    }
    struct kg_store *st = rq->srv->store;
    struct kg_api api;
    enum kg_rc rc = rq->api && rq->api[0] ? st->ops->api_get(st, rq->api, &api) : KG_ERR_NOT_FOUND;
    if (rc) {
        rc == KG_ERR_STORE ? store_failed(o) : deny(o, KG_OE_V_UNKNOWN_API, NULL);
        return;
    }
    note(o, "request: %s %s for %s", rq->method, rq->path, api.identifier);
    struct kg_api_key key;
    struct kg_role key_role;
    memset(&key, 0, sizeof key);
    memset(&key_role, 0, sizeof key_role);
    const char *hash = m->on ? m->hash : NULL;
    if (!cred.kind) {
        deny(o, cred.err, cred.detail);
        return;
    }
    if (!(cred.kind == 'b' ? from_jwt(v, rq, cred.s, hash, o)
                           : from_key(rq, cred.s, hash, &key, &key_role, o))) {
        return;
    }
    /* seed 002: an application (or key) names the accountable person; a user is their own */
    if (strcmp(o->id.principal_type, "user") != 0 && email_like(rq->caller_id)) {
        snprintf(o->id.caller, sizeof o->id.caller, "%.*s", (int)rq->caller_id.n, rq->caller_id.p);
    }
    struct kg_route *routes = NULL;
    size_t nroutes = 0;
    rc = st->ops->routes(st, api.id, &routes, &nroutes);
    if (rc) {
        store_failed(o);
        return;
    }
    struct kg_route_params params;
    const struct kg_route *r = route_of(rq, routes, nroutes, &params);
    if (!tenant_named(rq, &api, r ? &params : NULL, o) || !api_rules(rq, &api, o)) {
        free(routes);
        return;
    }
    if (!r) {
        deny(o, KG_OE_V_NO_ROUTE, NULL);
    } else {
        note(o, "route: %s %s needs %s", r->method, r->pattern, r->permission);
        if (permitted(rq, r, &params, &key, &key_role, o)) {
            note(o, "permission %s granted", r->permission);
            int64_t rate = key.rate_limit > 0 ? key.rate_limit : api.rate_limit;
            remember(v, m, rq, &key, rate, o);
            if (within_rate(v, rq, rate, o)) {
                note(o, "allowed");
            }
        }
    }
    free(routes);
}

bool kg_verify_operator(struct kg_verifier *v, struct kg_server *srv, struct kg_str token,
                        int64_t now)
{
    struct kg_vreq rq = {.srv = srv, .api = "api://keygate", .now = now};
    struct kg_vres o;
    memset(&o, 0, sizeof o);
    return from_jwt(v, &rq, token, NULL, &o) && strcmp(o.id.principal_type, "app") == 0 &&
           kg_words_has(o.id.roles, "verify:explain", strlen("verify:explain"));
}
