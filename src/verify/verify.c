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
 * Rule 1 is credential.c, rule 6 rate.c (verify/steps.h). Allowed decisions are remembered
 * whole (verify/memo.c), so that the same request again skips the rules but not the rate limit.
 */
#include "verify/verify.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/map.h"
#include "oauth/oauth.h"
#include "server/lastused.h"
#include "verify/memo.h"
#include "verify/path.h"
#include "verify/steps.h"

void kg_vnote(struct kg_vres *o, const char *fmt, ...)
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

bool kg_vdeny(struct kg_vres *o, enum kg_oerr e, const char *detail)
{
    o->err = e;
    kg_strlcpy(o->detail, detail ? detail : kg_oerr_info(e)->description, sizeof o->detail);
    kg_vnote(o, "denied: %s", o->detail);
    return false;
}

bool kg_vstore_failed(struct kg_vres *o)
{
    return kg_vdeny(o, KG_OE_V_UNAVAILABLE, NULL);
}

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
            return kg_vdeny(o, KG_OE_V_TENANT_HEADER, d);
        }
        if (th.n >= sizeof hv) {
            return kg_vdeny(o, KG_OE_V_TENANT_MISMATCH, NULL);
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
            return kg_vstore_failed(o);
        }
        if (rc || strcmp(t.id, o->id.tenant_id) != 0) {
            return kg_vdeny(o, KG_OE_V_TENANT_MISMATCH, NULL);
        }
        kg_vnote(o, "tenant: %s named by the request matches", named[i]);
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
            return kg_vdeny(o, KG_OE_V_CALLER_ID, NULL);
        }
        kg_vnote(o, "caller: %s", o->id.caller);
    }
    if (api->require_subscription_key) {
        struct kg_store *st = rq->srv->store;
        if (!rq->subscription_key.p || !kg_secret_valid("kg_sub_", rq->subscription_key)) {
            return kg_vdeny(o, KG_OE_V_SUBSCRIPTION, NULL);
        }
        char h[KG_HASH_HEX];
        kg_store_hash_secret(rq->subscription_key.p, rq->subscription_key.n, h);
        struct kg_subscription sub;
        enum kg_rc rc = st->ops->subscription_by_hash(st, h, &sub);
        if (rc == KG_ERR_STORE) {
            return kg_vstore_failed(o);
        }
        if (rc || strcmp(sub.tenant_id, o->id.tenant_id) != 0 || strcmp(sub.api_id, api->id) != 0) {
            return kg_vdeny(o, KG_OE_V_SUBSCRIPTION, NULL);
        }
        kg_vnote(o, "subscription: %s (%s) ok", sub.id, sub.name);
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
    return kg_vdeny(o, KG_OE_V_PERMISSION, d);
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
            return kg_vstore_failed(o);
        }
        if (rc) {
            return kg_vdeny(o, KG_OE_V_NOT_MEMBER, "You are not a member of this workspace.");
        }
        has_ws = true;
        kg_vnote(o, "workspace: %s (%s)", ws.id, ws.name);
    }
    const char *perm = r->permission;
    if (strcmp(o->id.principal_type, "apikey") == 0) {
        if (has_ws && strcmp(ws.id, key->workspace_id) != 0) {
            return kg_vdeny(o, KG_OE_V_OTHER_WORKSPACE, NULL);
        }
        return kg_perm_granted(key_role->permissions, perm) || permission_denied(rq, perm, o);
    }
    char patterns[KG_LIST * 2] = "";
    bool member = false;
    if (has_ws) {
        struct kg_role mr;
        enum kg_rc rc = st->ops->member_role(st, o->id.tenant_id, ws.id, o->id.subject, &mr);
        if (rc == KG_ERR_STORE) {
            return kg_vstore_failed(o);
        }
        if (rc == KG_OK) {
            member = true;
            kg_strlcpy(patterns, mr.permissions, sizeof patterns);
            kg_strlcpy(o->id.workspace_id, ws.id, sizeof o->id.workspace_id);
            kg_vnote(o, "member of the workspace as %s", mr.name);
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
        return kg_vdeny(o, KG_OE_V_APP_PERMISSION, d);
    }
    char names[KG_LIST], tp[KG_LIST * 2];
    enum kg_rc rc = st->ops->principal_roles(st, o->id.tenant_id, o->id.subject, names);
    if (!rc) {
        rc = tenant_role_patterns(st, o->id.tenant_id, names, tp, sizeof tp);
    }
    if (rc) {
        return kg_vstore_failed(o);
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
        return kg_vdeny(o, KG_OE_V_NOT_MEMBER, d);
    }
    return permission_denied(rq, perm, o);
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
        kg_verify_within_rate(v, rq, rate, o);
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
        rc == KG_ERR_STORE ? kg_vstore_failed(o) : kg_vdeny(o, KG_OE_V_UNKNOWN_API, NULL);
        return;
    }
    kg_vnote(o, "request: %s %s for %s", rq->method, rq->path, api.identifier);
    struct kg_api_key key;
    struct kg_role key_role;
    memset(&key, 0, sizeof key);
    memset(&key_role, 0, sizeof key_role);
    const char *hash = m->on ? m->hash : NULL;
    if (!cred.kind) {
        kg_vdeny(o, cred.err, cred.detail);
        return;
    }
    if (!(cred.kind == 'b' ? kg_verify_jwt(v, rq, cred.s, hash, o)
                           : kg_verify_api_key(rq, cred.s, hash, &key, &key_role, o))) {
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
        kg_vstore_failed(o);
        return;
    }
    struct kg_route_params params;
    const struct kg_route *r = route_of(rq, routes, nroutes, &params);
    if (!tenant_named(rq, &api, r ? &params : NULL, o) || !api_rules(rq, &api, o)) {
        free(routes);
        return;
    }
    if (!r) {
        kg_vdeny(o, KG_OE_V_NO_ROUTE, NULL);
    } else {
        kg_vnote(o, "route: %s %s needs %s", r->method, r->pattern, r->permission);
        if (permitted(rq, r, &params, &key, &key_role, o)) {
            kg_vnote(o, "permission %s granted", r->permission);
            int64_t rate = key.rate_limit > 0 ? key.rate_limit : api.rate_limit;
            remember(v, m, rq, &key, rate, o);
            if (kg_verify_within_rate(v, rq, rate, o)) {
                kg_vnote(o, "allowed");
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
    return kg_verify_jwt(v, &rq, token, NULL, &o) && strcmp(o.id.principal_type, "app") == 0 &&
           kg_words_has(o.id.roles, "verify:explain", strlen("verify:explain"));
}
