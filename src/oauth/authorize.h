/* SPDX-License-Identifier: Apache-2.0
 * The authorization request (RFC 6749 4.1.1, RFC 7636, OIDC Core 3.1.2, SPEC 4, 12.1-12.3):
 * validated from its parameters into struct kg_authz; the consent it needs; and the code it ends
 * with. No HTTP here: endpoints/authorize.c shows pages and redirects. */
#ifndef KG_OAUTH_AUTHORIZE_H
#define KG_OAUTH_AUTHORIZE_H

#include "core/limits.h"
#include "oauth/oauth.h"

enum kg_mode { KG_MODE_QUERY, KG_MODE_FRAGMENT, KG_MODE_FORM_POST };

struct kg_authz {
    struct kg_client client;
    char redirect_uri[KG_MAX_REDIRECT_URI + 1];       /* where the answer goes */
    char redirect_requested[KG_MAX_REDIRECT_URI + 1]; /* as sent ("" if defaulted) */
    enum kg_mode mode;
    char state[KG_MAX_STATE + 1];
    bool has_state;
    char nonce[KG_MAX_NONCE + 1];
    char challenge[48];
    struct kg_scope scope;
    bool prompt_none, prompt_login, prompt_consent;
    char login_hint[KG_MAX_USERNAME + 1];
    int64_t max_age; /* -1: not sent */
    bool client_info;
};

/* Validates the request in rq->form. On failure out->err is set and *redirectable says whether
 * the error may go back to the client (false: unknown client or unregistered redirect URI, so
 * only an error page may answer; RFC 6749 4.1.2.1). */
bool kg_authz_parse(const struct kg_oreq *rq, struct kg_authz *az, bool *redirectable,
                    struct kg_oout *out);

/* The consent words a request needs: the OIDC scopes and each delegated API scope as
 * "{API}/{scope}" ({API}/.default stands for every scope the API offers). Space-separated. */
void kg_authz_consent_words(const struct kg_authz *az, char out[KG_LIST]);
/* true if every word of need is in have. */
bool kg_words_cover(const char *have, const char *need);
/* have plus every word of add not already in it, into out. */
void kg_words_union(const char *have, const char *add, char out[KG_LIST]);

/* Issues an authorization code for user (signed in at auth_time in session sid): stored
 * hashed, 60 s, bound to client, redirect URI and challenge. code receives the code. */
bool kg_authz_issue_code(const struct kg_oreq *rq, const struct kg_authz *az,
                         const struct kg_user *user, const char *sid, int64_t auth_time,
                         char code[KG_SECRET_MAX], struct kg_oout *out);

/* Password sign-in of a user of rq's tenant, throttled per user and per IP (SPEC 12.9), the
 * same work whether or not the user exists; failures are audited. */
bool kg_signin_password(const struct kg_oreq *rq, const char *username, const char *password,
                        struct kg_user *user, struct kg_oout *out);

#endif
