/* SPDX-License-Identifier: Apache-2.0
 * Authorization request validation, consent words and code issuance; see authorize.h. */
#include "oauth/authorize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth/pkce.h"
#include "oauth/redirect.h"

static bool copy_param(const struct kg_oreq *rq, const char *name, char *dst, size_t n)
{
    const char *v = kg_form_get(rq->form, name);
    dst[0] = '\0';
    return !v || kg_strlcpy(dst, v, n);
}

/* The client and the redirect URI: failures here never redirect. */
static bool client_and_redirect(const struct kg_oreq *rq, struct kg_authz *az, struct kg_oout *out)
{
    const char *id = kg_form_get(rq->form, "client_id");
    struct kg_store *st = rq->srv->store;
    enum kg_rc rc = KG_ERR_NOT_FOUND;
    if (id && strlen(id) <= KG_MAX_CLIENT_ID) {
        rc = st->ops->app_get(st, rq->tenant->id, id, &az->client.app);
    }
    if (rc == KG_ERR_STORE) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    if (rc) { /* unknown here or of another tenant: the same answer (SPEC 12.5) */
        return kg_oout_fail(out, KG_OE_AZ_CLIENT_UNKNOWN, NULL);
    }
    az->client.method = az->client.app.is_public ? "none" : az->client.app.auth_method;
    const char *ru = kg_form_get(rq->form, "redirect_uri");
    const char *reg = az->client.app.redirect_uris;
    if (!ru) {
        /* RFC 6749 3.1.2.3: may be omitted when exactly one is registered */
        if (!reg[0] || strchr(reg, ' ')) {
            return kg_oout_fail(out, KG_OE_AZ_REDIRECT_MISSING, NULL);
        }
        kg_strlcpy(az->redirect_uri, reg, sizeof az->redirect_uri);
        return true;
    }
    if (strlen(ru) > KG_MAX_REDIRECT_URI || !kg_redirect_match_any(reg, ru)) {
        return kg_oout_fail(out, KG_OE_AZ_REDIRECT_UNREGISTERED, NULL);
    }
    kg_strlcpy(az->redirect_uri, ru, sizeof az->redirect_uri);
    kg_strlcpy(az->redirect_requested, ru, sizeof az->redirect_requested);
    return true;
}

static bool parse_prompt(const char *p, struct kg_authz *az)
{
    int words = 0;
    for (const char *w = p; w && *w;) {
        const char *sp = strchr(w, ' ');
        size_t n = sp ? (size_t)(sp - w) : strlen(w);
        if (n) {
            words++;
            az->prompt_none |= n == 4 && memcmp(w, "none", 4) == 0;
            az->prompt_login |= n == 5 && memcmp(w, "login", 5) == 0;
            az->prompt_consent |= n == 7 && memcmp(w, "consent", 7) == 0;
            /* select_account, create and others: ignored (COMPAT) */
        }
        w = sp ? sp + 1 : NULL;
    }
    return !(az->prompt_none && words > 1); /* OIDC Core 3.1.2.1 */
}

static bool parse_max_age(const char *v, int64_t *out)
{
    *out = -1;
    if (!v) {
        return true;
    }
    size_t n = strlen(v);
    if (n == 0 || n > 9) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return false;
        }
    }
    *out = strtoll(v, NULL, 10);
    return true;
}

bool kg_authz_parse(const struct kg_oreq *rq, struct kg_authz *az, bool *redirectable,
                    struct kg_oout *out)
{
    memset(az, 0, sizeof *az);
    *redirectable = false;
    if (!client_and_redirect(rq, az, out)) {
        return false;
    }
    *redirectable = true;
    /* what the answer needs first: the mode and the state */
    const char *mode = kg_form_get(rq->form, "response_mode");
    az->mode = KG_MODE_QUERY;
    bool mode_ok = true;
    if (mode && strcmp(mode, "fragment") == 0) {
        az->mode = KG_MODE_FRAGMENT;
    } else if (mode && strcmp(mode, "form_post") == 0) {
        az->mode = KG_MODE_FORM_POST;
    } else if (mode && strcmp(mode, "query") != 0) {
        mode_ok = false;
    }
    const char *state = kg_form_get(rq->form, "state");
    az->has_state = state != NULL;
    if (!copy_param(rq, "state", az->state, sizeof az->state)) {
        az->has_state = false;
        return kg_oout_fail(out, KG_OE_AZ_PARAM, "state is too long.");
    }
    if (!mode_ok) {
        return kg_oout_fail(out, KG_OE_AZ_RESPONSE_MODE, NULL);
    }
    const char *rt = kg_form_get(rq->form, "response_type");
    if (!rt || strcmp(rt, "code") != 0) {
        return kg_oout_fail(out, KG_OE_AZ_RESPONSE_TYPE, NULL);
    }
    if (!kg_client_allows(&az->client.app, "authorization_code")) {
        return kg_oout_fail(out, KG_OE_GRANT_NOT_ALLOWED, NULL);
    }
    if (!copy_param(rq, "nonce", az->nonce, sizeof az->nonce) ||
        !copy_param(rq, "login_hint", az->login_hint, sizeof az->login_hint) ||
        !parse_max_age(kg_form_get(rq->form, "max_age"), &az->max_age)) {
        return kg_oout_fail(out, KG_OE_AZ_PARAM, NULL);
    }
    if (!parse_prompt(kg_form_get(rq->form, "prompt"), az)) {
        return kg_oout_fail(out, KG_OE_AZ_PROMPT, NULL);
    }
    const char *ch = kg_form_get(rq->form, "code_challenge");
    const char *chm = kg_form_get(rq->form, "code_challenge_method");
    if (ch || chm) { /* RFC 7636 4.3: the method defaults to plain, which is refused */
        if (!kg_pkce_challenge_valid(chm, ch)) {
            return kg_oout_fail(out, KG_OE_AZ_PKCE_METHOD, NULL);
        }
        kg_strlcpy(az->challenge, ch, sizeof az->challenge);
    } else if (az->client.app.is_public) {
        return kg_oout_fail(out, KG_OE_AZ_PKCE_REQUIRED, NULL);
    }
    const char *scope = kg_form_get(rq->form, "scope");
    if (!scope) {
        return kg_oout_fail(out, KG_OE_AZ_SCOPE_MISSING, NULL);
    }
    if (!kg_scope_parse(rq, scope, &az->scope, out)) {
        return false;
    }
    const char *ci = kg_form_get(rq->form, "client_info");
    az->client_info = ci && strcmp(ci, "1") == 0;
    return true;
}

static void add_word(char *out, size_t n, const char *w, size_t wn)
{
    size_t l = strlen(out);
    if (kg_words_has(out, w, wn) || l + wn + 2 > n) {
        return;
    }
    if (l) {
        out[l++] = ' ';
    }
    memcpy(out + l, w, wn);
    out[l + wn] = '\0';
}

static void add_api_words(char *out, const char *api, const char *scopes)
{
    for (const char *w = scopes; *w;) {
        const char *sp = strchr(w, ' ');
        size_t n = sp ? (size_t)(sp - w) : strlen(w);
        if (n) {
            char buf[KG_URI + 130];
            int bn = snprintf(buf, sizeof buf, "%s/%.*s", api, (int)n, w);
            if (bn > 0 && (size_t)bn < sizeof buf) {
                add_word(out, KG_LIST, buf, (size_t)bn);
            }
        }
        w = sp ? sp + 1 : w + n;
    }
}

void kg_authz_consent_words(const struct kg_authz *az, char out[KG_LIST])
{
    const struct kg_scope *sc = &az->scope;
    out[0] = '\0';
    static const char *const oidc[] = {"openid", "profile", "email", "offline_access"};
    const bool has[] = {sc->openid, sc->profile, sc->email, sc->offline_access};
    for (size_t i = 0; i < 4; i++) {
        if (has[i]) {
            add_word(out, KG_LIST, oidc[i], strlen(oidc[i]));
        }
    }
    if (sc->has_api) {
        add_api_words(out, sc->api.identifier, sc->api_default ? sc->api.scopes : sc->api_scopes);
    }
}

bool kg_words_cover(const char *have, const char *need)
{
    for (const char *w = need; *w;) {
        const char *sp = strchr(w, ' ');
        size_t n = sp ? (size_t)(sp - w) : strlen(w);
        if (n && !kg_words_has(have, w, n)) {
            return false;
        }
        w = sp ? sp + 1 : w + n;
    }
    return true;
}

void kg_words_union(const char *have, const char *add, char out[KG_LIST])
{
    kg_strlcpy(out, have, KG_LIST);
    for (const char *w = add; *w;) {
        const char *sp = strchr(w, ' ');
        size_t n = sp ? (size_t)(sp - w) : strlen(w);
        if (n) {
            add_word(out, KG_LIST, w, n);
        }
        w = sp ? sp + 1 : w + n;
    }
}

bool kg_authz_issue_code(const struct kg_oreq *rq, const struct kg_authz *az,
                         const struct kg_user *user, const char *sid, int64_t auth_time,
                         char code[KG_SECRET_MAX], struct kg_oout *out)
{
    struct kg_code c;
    memset(&c, 0, sizeof c);
    kg_secret_new("kg_ac_", code);
    kg_store_hash_secret(code, strlen(code), c.hash);
    kg_strlcpy(c.tenant_id, rq->tenant->id, sizeof c.tenant_id);
    kg_strlcpy(c.client_id, az->client.app.client_id, sizeof c.client_id);
    kg_strlcpy(c.user_oid, user->oid, sizeof c.user_oid);
    kg_strlcpy(c.sid, sid, sizeof c.sid);
    kg_strlcpy(c.redirect_uri, az->redirect_requested, sizeof c.redirect_uri);
    kg_strlcpy(c.challenge, az->challenge, sizeof c.challenge);
    kg_strlcpy(c.scope, az->scope.requested, sizeof c.scope);
    kg_strlcpy(c.nonce, az->nonce, sizeof c.nonce);
    c.auth_time = auth_time;
    c.created_at = rq->now;
    c.expires_at = rq->now + KG_CODE_LIFETIME;
    struct kg_store *st = rq->srv->store;
    if (st->ops->code_create(st, &c) != KG_OK) {
        kg_wipe(code, KG_SECRET_MAX);
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    struct kg_audit *a = kg_oout_audit(out, rq, "signin.code_issued", "success");
    kg_strlcpy(a->actor_type, "user", sizeof a->actor_type);
    kg_strlcpy(a->actor_id, user->oid, sizeof a->actor_id);
    kg_strlcpy(a->caller_id, user->username, sizeof a->caller_id);
    kg_strlcpy(a->target, az->client.app.client_id, sizeof a->target);
    snprintf(a->detail, sizeof a->detail, "scope=%.200s", az->scope.requested);
    return true;
}
