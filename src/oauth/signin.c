/* SPDX-License-Identifier: Apache-2.0
 * Password sign-in, shared by the password grant and the login page: wrong credentials say
 * nothing about whether the user exists (an unknown user costs the same argon2 work), and
 * failures are throttled per user and per IP (SPEC 4, 12.9) and audited. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/encode.h"
#include "core/limits.h"
#include "oauth/authorize.h"
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

bool kg_signin_password(const struct kg_oreq *rq, const char *username, const char *password,
                        struct kg_user *user, struct kg_oout *out)
{
    char ukey[KG_NAME * 2];
    if (strlen(password) > KG_MAX_PASSWORD || strlen(username) > KG_MAX_USERNAME ||
        !kg_username_key(username, ukey, sizeof ukey)) {
        return kg_oout_fail(out, KG_OE_BAD_CREDENTIALS, NULL);
    }
    char uslot[KG_NAME * 3], islot[64];
    if (throttled(rq, ukey, uslot, sizeof uslot, islot, sizeof islot)) {
        struct kg_audit *a = kg_oout_audit(out, rq, "signin.throttled", "denied");
        kg_strlcpy(a->target, username, sizeof a->target);
        return kg_oout_fail(out, KG_OE_THROTTLED, NULL);
    }
    struct kg_store *st = rq->srv->store;
    enum kg_rc rc = st->ops->user_get_by_name(st, rq->tenant->id, ukey, user);
    if (rc == KG_ERR_STORE) {
        return kg_oout_fail(out, KG_OE_UNAVAILABLE, NULL);
    }
    pthread_once(&dummy_once, make_dummy);
    bool ok = kg_password_verify(rc == KG_OK ? user->password_hash : dummy, password);
    if (rc != KG_OK || !ok || user->disabled) {
        kg_throttle_fail(rq->srv->throttle, uslot, rq->now);
        kg_throttle_fail(rq->srv->throttle, islot, rq->now);
        struct kg_audit *a = kg_oout_audit(out, rq, "signin.failed", "failure");
        kg_strlcpy(a->target, username, sizeof a->target);
        kg_strlcpy(a->detail,
                   rq->form && kg_form_get(rq->form, "grant_type") ? "grant=password"
                                                                   : "page=login",
                   sizeof a->detail);
        return kg_oout_fail(out, KG_OE_BAD_CREDENTIALS, NULL);
    }
    kg_throttle_reset(rq->srv->throttle, uslot);
    return true;
}
