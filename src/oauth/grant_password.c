/* SPDX-License-Identifier: Apache-2.0
 * The resource-owner password grant (RFC 6749 4.3, seed 002): enabled per application; scope
 * required; wrong credentials give invalid_grant without saying whether the user exists (an
 * unknown user costs the same argon2 work); failures are throttled per user and per IP. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/encode.h"

#include "core/limits.h"
#include "oauth/oauth.h"
#include "oauth/throttle.h"

/* An argon2id hash (same parameters as real ones) of a random password, made once, verified
 * against when the user does not exist so that timing does not reveal it. */
static char dummy[160];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
    uint8_t r[24];
    char pw[64];
    kg_random(r, sizeof r);
    kg_hex_encode(r, sizeof r, pw);
    if (!kg_password_hash(pw, dummy)) {
        abort();
    }
}

static bool throttled(const struct kg_oreq *rq, const char *ukey, char *user_slot, size_t us,
                      char *ip_slot, size_t is)
{
    snprintf(user_slot, us, "user:%s:%s", rq->tenant->id, ukey);
    snprintf(ip_slot, is, "ip:%s", rq->peer);
    return kg_throttle_wait(rq->srv->throttle, user_slot, KG_THROTTLE_USER_FAILURES, rq->now) ||
           kg_throttle_wait(rq->srv->throttle, ip_slot, KG_THROTTLE_IP_FAILURES, rq->now);
}

bool kg_grant_password(const struct kg_oreq *rq, struct kg_oout *out)
{
    struct kg_client c;
    memset(&c, 0, sizeof c);
    if (!kg_client_authenticate(rq, &c, out)) {
        return false;
    }
    if (!kg_client_allows(&c.app, "password")) {
        return kg_oout_fail(out, KG_OE_GRANT_NOT_ALLOWED, NULL);
    }
    const char *username = kg_form_get(rq->form, "username");
    const char *password = kg_form_get(rq->form, "password");
    const char *scope = kg_form_get(rq->form, "scope");
    if (!username || !password) {
        return kg_oout_fail(out, KG_OE_PARAM_MISSING, "username and password are required.");
    }
    if (!scope) { /* COMPAT: password grant without scope is invalid_request */
        return kg_oout_fail(out, KG_OE_PARAM_MISSING, "scope is required.");
    }
    if (strlen(password) > KG_MAX_PASSWORD) {
        return kg_oout_fail(out, KG_OE_BAD_CREDENTIALS, NULL);
    }
    struct kg_scope sc;
    if (!kg_scope_parse(rq, scope, &sc, out)) {
        return false;
    }
    char ukey[KG_NAME * 2];
    if (!kg_username_key(username, ukey, sizeof ukey)) {
        return kg_oout_fail(out, KG_OE_BAD_CREDENTIALS, NULL);
    }
    char uslot[KG_NAME * 3], islot[64];
    if (throttled(rq, ukey, uslot, sizeof uslot, islot, sizeof islot)) {
        struct kg_audit *a = kg_oout_audit(out, rq, "signin.throttled", "denied");
        kg_strlcpy(a->target, username, sizeof a->target);
        return kg_oout_fail(out, KG_OE_THROTTLED, NULL);
    }
    struct kg_store *st = rq->srv->store;
    struct kg_user user;
    enum kg_rc rc = st->ops->user_get_by_name(st, rq->tenant->id, ukey, &user);
    if (rc == KG_ERR_STORE) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    pthread_once(&dummy_once, make_dummy);
    bool ok = kg_password_verify(rc == KG_OK ? user.password_hash : dummy, password);
    if (rc != KG_OK || !ok || user.disabled) {
        kg_throttle_fail(rq->srv->throttle, uslot, rq->now);
        kg_throttle_fail(rq->srv->throttle, islot, rq->now);
        struct kg_audit *a = kg_oout_audit(out, rq, "signin.failed", "failure");
        kg_strlcpy(a->target, username, sizeof a->target);
        kg_strlcpy(a->detail, "grant=password", sizeof a->detail);
        return kg_oout_fail(out, KG_OE_BAD_CREDENTIALS, NULL);
    }
    kg_throttle_reset(rq->srv->throttle, uslot);

    struct kg_subject sub;
    memset(&sub, 0, sizeof sub);
    sub.is_user = true;
    sub.user = &user;
    sub.auth_time = rq->now;
    if (st->ops->principal_roles(st, rq->tenant->id, user.oid, sub.roles) != KG_OK) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    char jti[KG_ID];
    int64_t exp = 0;
    if (!kg_tokens_mint(rq, &c, &sc, &sub, jti, &exp, out)) {
        return false;
    }
    if (sc.offline_access && !kg_tokens_add_refresh(rq, &c, &sc, &sub, jti, exp, out)) {
        return false;
    }
    struct kg_audit *a = kg_oout_audit(out, rq, "token.issued", "success");
    kg_strlcpy(a->actor_type, "user", sizeof a->actor_type);
    kg_strlcpy(a->actor_id, user.oid, sizeof a->actor_id);
    kg_strlcpy(a->caller_id, user.username, sizeof a->caller_id);
    kg_strlcpy(a->target, sc.has_api ? sc.api.identifier : c.app.client_id, sizeof a->target);
    snprintf(a->detail, sizeof a->detail, "grant=password client=%s jti=%s", c.app.client_id, jti);
    return true;
}
