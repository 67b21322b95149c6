/* SPDX-License-Identifier: Apache-2.0
 * The token service's vocabulary: a token request as oauth/ sees it (already parsed from HTTP by
 * endpoints/, with the tenant resolved), and its outcome (a JSON body or an error, plus the audit
 * events that must be committed before the answer leaves). No HTTP and no SQL in here. */
#ifndef KG_OAUTH_OAUTH_H
#define KG_OAUTH_OAUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/str.h"
#include "http/form.h"
#include "json/json.h"
#include "oauth/errors.h"
#include "server/server.h"
#include "store/store.h"

struct kg_oreq {
    struct kg_server *srv;
    const struct kg_tenant *tenant;
    const struct kg_form *form;
    struct kg_str authorization; /* the Authorization header, KG_STR_NULL if absent */
    size_t authorization_count;
    const char *peer;
    const char *trace_id;
    const char *correlation_id;
    int64_t now;
};

#define KG_OUT_AUDIT 4

struct kg_oout {
    struct kg_json *body; /* success body (owned), or: */
    struct kg_jw tokens;  /* a token response being written (kg_oout_tokens; buffer owned) */
    bool tokens_closed;   /* ... and finished (kg_oout_close) */
    enum kg_oerr err;     /* KG_OE_NONE on success */
    char err_extra[200];  /* appended to error_description */
    bool basic_used;      /* the client tried HTTP Basic: invalid_client carries
                             WWW-Authenticate: Basic */
    struct kg_audit audit[KG_OUT_AUDIT];
    size_t naudit;
};

/* Sets an error outcome and returns false, for `return fail(out, ...)` style. */
bool kg_oout_fail(struct kg_oout *out, enum kg_oerr e, const char *extra);
/* Starts the token response (RFC 6749 5.1), written member by member without a tree: the
 * hot path of every grant. Replaces any body. */
struct kg_jw *kg_oout_tokens(struct kg_oout *out);
/* Finishes the token response and returns its text, still owned by out (NULL when it did not
 * fit or none was started). */
const char *kg_oout_close(struct kg_oout *out);
/* The success body as JSON text (owned by the caller; NULL when there is none or the token
 * response did not fit); the outcome keeps no body afterwards. */
char *kg_oout_take_body(struct kg_oout *out);
/* Frees whatever body the outcome holds. */
void kg_oout_clear(struct kg_oout *out);
/* Adds an audit event for this request; fields not given are empty. */
struct kg_audit *kg_oout_audit(struct kg_oout *out, const struct kg_oreq *rq, const char *action,
                               const char *outcome);

/* The authenticated client of a request. */
struct kg_client {
    struct kg_app app;
    const char *method; /* client_secret_basic | client_secret_post | none */
};

/* RFC 6749 2.3 / SPEC 4: authenticates the client exactly as registered. */
bool kg_client_authenticate(const struct kg_oreq *rq, struct kg_client *c, struct kg_oout *out);
/* true if the app's allowed grants contain grant. */
bool kg_client_allows(const struct kg_app *app, const char *grant);
/* kg_client_authenticate, then unauthorized_client unless the client may use grant. */
bool kg_client_for_grant(const struct kg_oreq *rq, struct kg_client *c, const char *grant,
                         struct kg_oout *out);

/* A parsed scope parameter (SPEC 4 "Scopes"). */
struct kg_scope {
    char requested[KG_MAX_SCOPE_LEN + 1]; /* verbatim, echoed in the response */
    bool has_api;
    struct kg_api api;
    bool api_default;         /* {API}/.default */
    char api_scopes[KG_LIST]; /* delegated scope values, space-separated */
    bool openid, profile, email, offline_access;
};

/* Parses and checks scope against the registered APIs. */
bool kg_scope_parse(const struct kg_oreq *rq, const char *scope, struct kg_scope *sc,
                    struct kg_oout *out);

/* What a token is about. */
struct kg_subject {
    bool is_user;
    const struct kg_user *user; /* when is_user */
    char roles[KG_LIST];        /* tenant roles (users) or application permissions (apps) */
    int64_t auth_time;
    const char *nonce; /* ID token nonce, when the authorization request sent one */
    const char *sid;   /* the browser session, when the user signed in through one */
};

/* Access token lifetime for this client (application, else tenant, else 3600 s). */
int64_t kg_tokens_lifetime(const struct kg_oreq *rq, const struct kg_client *c);
/* Mints an access token (and an ID token when scope has openid and the subject is a user) into
 * a token response (kg_oout_tokens) that is complete but for the refresh members. Uses jti when it
 * is not empty, else makes one; sets *exp of the access token. */
bool kg_tokens_mint(const struct kg_oreq *rq, const struct kg_client *c, const struct kg_scope *sc,
                    const struct kg_subject *sub, char jti[KG_ID], int64_t *exp,
                    struct kg_oout *out);
/* Adds refresh_token and refresh_token_expires_in to the token response being written. */
void kg_tokens_add_refresh_members(struct kg_oout *out, const char *token, int64_t lifetime);
/* Issues a new refresh token family (family_id, or a new id when NULL or empty) for the
 * token response being written (adds its refresh members). */
bool kg_tokens_add_refresh(const struct kg_oreq *rq, const struct kg_client *c,
                           const struct kg_scope *sc, const struct kg_subject *sub, const char *jti,
                           int64_t exp, const char *family_id, struct kg_oout *out);
/* A user's tokens for a grant: access token (jti from issued when set), ID token when openid
 * was asked, a refresh token (family from issued when set) when offline_access was, and the
 * token.issued audit event. */
bool kg_tokens_for_user(const struct kg_oreq *rq, const struct kg_client *c,
                        const struct kg_scope *sc, const struct kg_subject *sub,
                        const struct kg_issued *issued, const char *grant, struct kg_oout *out);
/* The issuer of a tenant: {public_url}/{tenant id}/v2.0 (SPEC 3). */
void kg_issuer(const struct kg_server *srv, const struct kg_tenant *t, char *out, size_t n);

/* Username key for lookups: NFC, case-folded (SPEC 2). false if not valid UTF-8 or too long. */
bool kg_username_key(const char *username, char *out, size_t n);
/* argon2id with OWASP parameters. Encoded hash into out[160]. */
bool kg_password_hash(const char *password, char out[160]);
bool kg_password_verify(const char *encoded, const char *password);

/* The ids of what a code or device code will produce (stored with it when it is redeemed). */
void kg_tokens_plan(const struct kg_oreq *rq, const struct kg_client *c, const struct kg_scope *sc,
                    struct kg_issued *is);
/* A code or device code presented again: revokes what it produced (SPEC 12.3), audits action,
 * and fails with err. */
bool kg_tokens_replayed(const struct kg_oreq *rq, const struct kg_issued *issued,
                        const char *user_oid, const char *client_id, const char *action,
                        enum kg_oerr err, struct kg_oout *out);

/* The grants, each in its own file. */
bool kg_grant_client_credentials(const struct kg_oreq *rq, struct kg_oout *out);
bool kg_grant_password(const struct kg_oreq *rq, struct kg_oout *out);
bool kg_grant_refresh(const struct kg_oreq *rq, struct kg_oout *out);
bool kg_grant_code(const struct kg_oreq *rq, struct kg_oout *out);
bool kg_grant_device(const struct kg_oreq *rq, struct kg_oout *out);
/* RFC 8628 3.1-3.2: the device authorization endpoint. */
bool kg_device_authorize(const struct kg_oreq *rq, struct kg_oout *out);
/* Dispatches on grant_type. */
bool kg_token_request(const struct kg_oreq *rq, struct kg_oout *out);

/* RFC 7662 and RFC 7009. */
bool kg_introspect(const struct kg_oreq *rq, struct kg_oout *out);
bool kg_revoke(const struct kg_oreq *rq, struct kg_oout *out);

/* Verifies a JWT this tenant signed: signature with a tenant key by kid, iss. Nothing else
 * (an id_token_hint may have expired). Returns claims (owned). */
enum kg_rc kg_tenant_jwt_verify(const struct kg_oreq *rq, struct kg_str jwt,
                                struct kg_json **claims, struct kg_err *e);
/* Verifies an access token of this tenant: signature with a tenant key, iss, times, and
 * revocation. Returns claims (owned) or an error code. */
enum kg_rc kg_access_token_verify(const struct kg_oreq *rq, struct kg_str jwt,
                                  struct kg_json **claims, struct kg_err *e);

#endif
