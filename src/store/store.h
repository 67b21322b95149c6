/* SPDX-License-Identifier: Apache-2.0
 * The store interface: every persistent thing keygate knows, behind one vtable so that back ends
 * (sqlite/ now, pg/ next) are interchangeable and oauth/ never sees SQL. Rules every back end
 * keeps:
 *  - every lookup of a tenant-owned thing takes the tenant id (SPEC 12.5);
 *  - single-use things are consumed atomically inside the store (conditional UPDATE + row count),
 *    never read-then-write by the caller;
 *  - a call that returns KG_OK has committed durably (a killed process loses nothing acknowledged);
 *  - all functions are thread-safe; records are returned by value into caller-provided structs,
 *    lists as owned arrays freed with the matching _free.
 * Errors: KG_ERR_NOT_FOUND, KG_ERR_CONFLICT (unique key, already consumed), KG_ERR_STORE. */
#ifndef KG_STORE_STORE_H
#define KG_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "core/err.h"

#define KG_ID 40     /* UUID + NUL, with room */
#define KG_NAME 128  /* names, display names */
#define KG_URI 264   /* API identifiers */
#define KG_LIST 2048 /* space-separated lists (permissions, scopes, grants, redirect URIs) */
#define KG_HASH_HEX (2 * KG_SHA256_LEN + 1)

struct kg_tenant {
    char id[KG_ID];
    char name[KG_NAME];
    char display_name[KG_NAME];
    char signing_alg[8]; /* RS256 | ES256 */
    int64_t token_lifetime;
    int64_t created_at;
};

struct kg_api {
    char id[KG_ID];
    char identifier[KG_URI];
    char name[KG_NAME];
    char permissions[KG_LIST]; /* space-separated */
    char scopes[KG_LIST];      /* delegated scopes offered, space-separated */
    bool require_caller_id;
    bool require_subscription_key;
    char tenant_header[64];
    int64_t created_at;
    int64_t rate_limit; /* requests per second per credential at /verify; 0 = none */
};

struct kg_app {
    char client_id[KG_ID];
    char tenant_id[KG_ID];
    char name[KG_NAME];
    bool is_public;
    char auth_method[32]; /* client_secret_basic | client_secret_post | none */
    char grants[256];     /* space-separated grant types */
    char redirect_uris[KG_LIST];
    char sp_oid[KG_ID];     /* the service principal's object id */
    int64_t token_lifetime; /* 0 = tenant default */
    int64_t created_at;
};

struct kg_secret_rec {
    char id[KG_ID];
    char client_id[KG_ID];
    char hash[KG_HASH_HEX];
    char hint[16]; /* the first characters, for people to recognise it */
    int64_t created_at;
    int64_t expires_at; /* 0 = never */
};

struct kg_user {
    char oid[KG_ID];
    char tenant_id[KG_ID];
    char username[KG_NAME];
    char username_key[KG_NAME * 2]; /* NFC + case fold, for lookups */
    char email[KG_NAME];
    char display_name[KG_NAME];
    char password_hash[160];
    bool disabled;
    int64_t created_at;
};

struct kg_role {
    char id[KG_ID];
    char tenant_id[KG_ID];
    char name[KG_NAME];
    char permissions[KG_LIST]; /* patterns */
    bool builtin;
};

struct kg_signing_key {
    char kid[48]; /* RFC 7638 thumbprint, base64url */
    char tenant_id[KG_ID];
    char alg[8];
    char status[12];         /* active | next | retired */
    char *public_jwk;        /* owned JSON */
    uint8_t *private_sealed; /* owned; AES-GCM sealed private JWK */
    size_t private_sealed_len;
    int64_t created_at;
    int64_t retired_at;
};

struct kg_refresh {
    char hash[KG_HASH_HEX]; /* SHA-256 of the token */
    char tenant_id[KG_ID];
    char family_id[KG_ID];
    char client_id[KG_ID];
    char user_oid[KG_ID];
    char scope[KG_LIST]; /* granted scope string, as requested */
    char access_jti[KG_ID];
    int64_t access_exp;
    int64_t auth_time;
    int64_t created_at;
    int64_t expires_at;
    int64_t used_at;    /* 0 while current */
    int64_t revoked_at; /* family revoked */
    uint8_t *grace;     /* owned: the successor response sealed under this token, or NULL */
    size_t grace_len;
};

/* Enforcement (SPEC 2, 6). */
struct kg_workspace {
    char id[KG_ID];
    char tenant_id[KG_ID];
    char name[KG_NAME];
    int64_t created_at;
};

struct kg_member {
    char workspace_id[KG_ID];
    char tenant_id[KG_ID];
    char principal_id[KG_ID]; /* a user's oid or a service principal's oid */
    char principal_type[8];   /* user | app */
    char role_id[KG_ID];
};

/* An API key (SPEC 2): belongs to one workspace, carries one role; stored as its hash. */
struct kg_api_key {
    char id[KG_ID];
    char tenant_id[KG_ID];
    char workspace_id[KG_ID];
    char name[KG_NAME];
    char role_id[KG_ID];
    char hash[KG_HASH_HEX];
    char hint[16];
    char created_by[KG_NAME];
    int64_t created_at;
    int64_t expires_at; /* 0 = never */
    int64_t revoked_at; /* 0 = live; else invalid from then on (a rotation sets a future time) */
    int64_t last_used_at;
    int64_t rate_limit; /* 0 = the API's */
};

/* A use of an API key, for its last_used_at. */
struct kg_key_use {
    char id[KG_ID];
    int64_t at;
};

struct kg_subscription {
    char id[KG_ID];
    char tenant_id[KG_ID];
    char api_id[KG_ID];
    char name[KG_NAME];
    char primary_hash[KG_HASH_HEX];
    char secondary_hash[KG_HASH_HEX];
    int64_t created_at;
};

/* A route policy of an API (SPEC 6.3 rule 4), tried in position order. */
struct kg_route {
    char method[16]; /* GET, POST, ... or * */
    char pattern[256];
    char permission[128];
    char workspace_param[64]; /* "" if the route names no workspace */
    int64_t position;
};

/* A browser session (SPEC 5): the cookie value is a secret, stored as its hash. */
struct kg_session {
    char hash[KG_HASH_HEX];
    char sid[KG_ID]; /* public id: session_state, the sid claim */
    char tenant_id[KG_ID];
    char user_oid[KG_ID];
    int64_t auth_time;
    int64_t created_at;
    int64_t expires_at;
    int64_t ended_at;
};

/* What a code or device code produced once redeemed, so that a replay can revoke it. */
struct kg_issued {
    char access_jti[KG_ID];
    int64_t access_exp;
    char family_id[KG_ID]; /* "" when no refresh token was issued */
};

/* An authorization code (RFC 6749 4.1, SPEC 12.3): stored hashed, single use, bound to client,
 * redirect URI and PKCE challenge. */
struct kg_code {
    char hash[KG_HASH_HEX];
    char tenant_id[KG_ID];
    char client_id[KG_ID];
    char user_oid[KG_ID];
    char sid[KG_ID];
    char redirect_uri[2049];
    char challenge[48]; /* S256 challenge, "" when none was sent */
    char scope[KG_LIST];
    char nonce[257];
    int64_t auth_time;
    int64_t created_at;
    int64_t expires_at;
    int64_t used_at;
    struct kg_issued issued;
};

/* A device authorization (RFC 8628). status: pending | approved | denied | consumed. */
struct kg_device {
    char hash[KG_HASH_HEX]; /* of the device_code */
    char user_code[16];     /* normalised: 8 letters, no dash */
    char tenant_id[KG_ID];
    char client_id[KG_ID];
    char scope[KG_LIST];
    char status[12];
    char user_oid[KG_ID];
    int64_t auth_time;
    int64_t created_at;
    int64_t expires_at;
    int64_t interval;
    int64_t last_poll_ms;
    struct kg_issued issued;
};

struct kg_audit {
    int64_t time_ms;
    char tenant_id[KG_ID];
    char actor_type[16]; /* user | app | apikey | operator | anonymous */
    char actor_id[KG_NAME];
    char caller_id[KG_NAME];
    char action[48];
    char target[KG_NAME];
    char outcome[16]; /* success | failure | denied */
    char client_ip[48];
    char trace_id[36];
    char detail[256];
    /* The chain (set by the store on append): hash = SHA-256 over prev_hash and every field
     * above (kg_audit_hash); prev_hash is the hash of the tenant's previous event. */
    char prev_hash[KG_HASH_HEX];
    char hash[KG_HASH_HEX];
    int64_t seq;
};

struct kg_store;

struct kg_store_ops {
    const char *name;
    /* Reads wait on another process, usually over a network (PostgreSQL): a request thread that
     * serves many connections should not make them (kg_store_cached_only_begin). */
    bool reads_wait;
    void (*close)(struct kg_store *s);
    enum kg_rc (*ping)(struct kg_store *s);
    /* A value that changes whenever anything a node may cache changes (tenants, APIs,
     * applications, secrets, grants, users, roles, role assignments, signing keys), whoever
     * made the change. */
    enum kg_rc (*config_stamp)(struct kg_store *s, int64_t *out);
    /* Called once at the start of every request; a caching store revalidates here. May be
     * NULL. */
    void (*sync)(struct kg_store *s);
    enum kg_rc (*tenant_create)(struct kg_store *s, const struct kg_tenant *t,
                                const struct kg_signing_key *k, const struct kg_role *roles,
                                size_t nroles);
    enum kg_rc (*tenant_get)(struct kg_store *s, const char *alias, struct kg_tenant *out);
    enum kg_rc (*tenant_list)(struct kg_store *s, struct kg_tenant **out, size_t *n);
    enum kg_rc (*api_create)(struct kg_store *s, const struct kg_api *a);
    enum kg_rc (*api_get)(struct kg_store *s, const char *identifier, struct kg_api *out);
    enum kg_rc (*api_list)(struct kg_store *s, struct kg_api **out, size_t *n);
    enum kg_rc (*app_create)(struct kg_store *s, const struct kg_app *a,
                             const struct kg_secret_rec *first_secret);
    enum kg_rc (*app_get)(struct kg_store *s, const char *tenant_id, const char *client_id,
                          struct kg_app *out);
    enum kg_rc (*app_list)(struct kg_store *s, const char *tenant_id, struct kg_app **out,
                           size_t *n);
    enum kg_rc (*secret_add)(struct kg_store *s, const struct kg_secret_rec *r);
    enum kg_rc (*secret_list)(struct kg_store *s, const char *client_id, struct kg_secret_rec **out,
                              size_t *n);
    enum kg_rc (*secret_remove)(struct kg_store *s, const char *client_id, const char *id);
    enum kg_rc (*app_grant)(struct kg_store *s, const char *client_id, const char *api_id,
                            const char *permission);
    /* Space-separated application permissions of client_id on api_id ("" if none). */
    enum kg_rc (*app_permissions)(struct kg_store *s, const char *client_id, const char *api_id,
                                  char out[KG_LIST]);
    enum kg_rc (*user_create)(struct kg_store *s, const struct kg_user *u);
    enum kg_rc (*user_get_by_name)(struct kg_store *s, const char *tenant_id,
                                   const char *username_key, struct kg_user *out);
    enum kg_rc (*user_get)(struct kg_store *s, const char *tenant_id, const char *oid,
                           struct kg_user *out);
    enum kg_rc (*role_create)(struct kg_store *s, const struct kg_role *r);
    enum kg_rc (*role_get)(struct kg_store *s, const char *tenant_id, const char *name,
                           struct kg_role *out);
    enum kg_rc (*role_assign)(struct kg_store *s, const char *tenant_id, const char *principal,
                              const char *role_id);
    /* Space-separated names of the tenant roles a principal holds. */
    enum kg_rc (*principal_roles)(struct kg_store *s, const char *tenant_id, const char *principal,
                                  char out[KG_LIST]);
    enum kg_rc (*signing_key_add)(struct kg_store *s, const struct kg_signing_key *k);
    /* Every key of the tenant that is not retired past its last token, newest first. */
    enum kg_rc (*signing_keys)(struct kg_store *s, const char *tenant_id,
                               struct kg_signing_key **out, size_t *n);
    enum kg_rc (*signing_key_get)(struct kg_store *s, const char *kid, struct kg_signing_key *out);
    /* One rotation step of a tenant's keys, atomically (so nodes racing do one step): with no
     * "next" key, next is published as "next" (*promoted false); with a next key published at
     * least min_age ago, the active key is retired (published until retire_until), the next
     * key becomes active and next is published as the new next (*promoted true); with a
     * younger next key, KG_ERR_CONFLICT and *ready_at says when it may be promoted. */
    enum kg_rc (*signing_key_rotate)(struct kg_store *s, const char *tenant_id,
                                     const struct kg_signing_key *next, int64_t now,
                                     int64_t min_age, int64_t retire_until, bool *promoted,
                                     int64_t *ready_at);
    /* Starts a family with its first refresh token. */
    enum kg_rc (*refresh_create)(struct kg_store *s, const struct kg_refresh *r);
    enum kg_rc (*refresh_get)(struct kg_store *s, const char *hash, struct kg_refresh *out);
    /* Atomically marks old_hash used (only if it is current and its family is live) and inserts
     * next with the same family; stores grace (sealed successor response) on the old row and
     * revokes the access token issued with the old one. KG_ERR_CONFLICT if already used. */
    enum kg_rc (*refresh_rotate)(struct kg_store *s, const char *old_hash,
                                 const struct kg_refresh *next, const uint8_t *grace,
                                 size_t grace_len, int64_t now);
    /* Revokes a family and every access token it produced still valid at now. */
    enum kg_rc (*family_revoke)(struct kg_store *s, const char *family_id, int64_t now);
    enum kg_rc (*jti_revoke)(struct kg_store *s, const char *tenant_id, const char *jti,
                             int64_t expires_at);
    /* KG_OK if revoked, KG_ERR_NOT_FOUND if not. */
    enum kg_rc (*jti_revoked)(struct kg_store *s, const char *jti);
    /* Enforcement. */
    enum kg_rc (*workspace_create)(struct kg_store *s, const struct kg_workspace *w);
    enum kg_rc (*workspace_get)(struct kg_store *s, const char *tenant_id, const char *id_or_name,
                                struct kg_workspace *out);
    /* Adds a member or changes its role. */
    enum kg_rc (*member_put)(struct kg_store *s, const struct kg_member *m);
    /* The role a principal holds in a workspace; KG_ERR_NOT_FOUND if not a member. */
    enum kg_rc (*member_role)(struct kg_store *s, const char *tenant_id, const char *workspace_id,
                              const char *principal_id, struct kg_role *out);
    enum kg_rc (*role_by_id)(struct kg_store *s, const char *tenant_id, const char *id,
                             struct kg_role *out);
    enum kg_rc (*roles_list)(struct kg_store *s, const char *tenant_id, struct kg_role **out,
                             size_t *n);
    enum kg_rc (*apikey_create)(struct kg_store *s, const struct kg_api_key *k);
    enum kg_rc (*apikey_by_hash)(struct kg_store *s, const char *hash, struct kg_api_key *out);
    enum kg_rc (*apikey_get)(struct kg_store *s, const char *tenant_id, const char *id,
                             struct kg_api_key *out);
    enum kg_rc (*apikey_list)(struct kg_store *s, const char *tenant_id, const char *workspace_id,
                              struct kg_api_key **out, size_t *n);
    enum kg_rc (*apikey_revoke)(struct kg_store *s, const char *tenant_id, const char *id,
                                int64_t now);
    /* Inserts next and revokes old from old_until on (now for no overlap), in one transaction. */
    enum kg_rc (*apikey_rotate)(struct kg_store *s, const char *tenant_id, const char *old_id,
                                const struct kg_api_key *next, int64_t old_until);
    /* Records the last uses of keys, in one transaction; a time never moves back (another node
     * may have written a later one). server/lastused.c calls it, about once a second. */
    enum kg_rc (*apikey_touch)(struct kg_store *s, const struct kg_key_use *uses, size_t n);
    enum kg_rc (*subscription_create)(struct kg_store *s, const struct kg_subscription *x);
    /* The subscription whose primary or secondary key has this hash. */
    enum kg_rc (*subscription_by_hash)(struct kg_store *s, const char *hash,
                                       struct kg_subscription *out);
    enum kg_rc (*subscription_regenerate)(struct kg_store *s, const char *tenant_id, const char *id,
                                          bool primary, const char *hash);
    enum kg_rc (*route_add)(struct kg_store *s, const char *api_id, const struct kg_route *r);
    /* The API's routes in order (owned array). */
    enum kg_rc (*routes)(struct kg_store *s, const char *api_id, struct kg_route **out, size_t *n);
    /* Sessions: created at sign-in, looked up by cookie hash, ended at logout. */
    enum kg_rc (*session_create)(struct kg_store *s, const struct kg_session *x);
    enum kg_rc (*session_get)(struct kg_store *s, const char *hash, struct kg_session *out);
    enum kg_rc (*session_end)(struct kg_store *s, const char *hash, int64_t now);
    /* Consent remembered per user and client: space-separated scope words ("" if none). */
    enum kg_rc (*consent_get)(struct kg_store *s, const char *tenant_id, const char *user_oid,
                              const char *client_id, char out[KG_LIST]);
    enum kg_rc (*consent_put)(struct kg_store *s, const char *tenant_id, const char *user_oid,
                              const char *client_id, const char *scopes, int64_t now);
    enum kg_rc (*code_create)(struct kg_store *s, const struct kg_code *c);
    enum kg_rc (*code_get)(struct kg_store *s, const char *hash, struct kg_code *out);
    /* Atomically marks the code used (only if unused) and records what it will produce.
     * KG_ERR_CONFLICT if it was used already. */
    enum kg_rc (*code_redeem)(struct kg_store *s, const char *hash, int64_t now,
                              const struct kg_issued *issued);
    enum kg_rc (*device_create)(struct kg_store *s, const struct kg_device *d);
    enum kg_rc (*device_by_user_code)(struct kg_store *s, const char *user_code,
                                      struct kg_device *out);
    /* Reads the device code and, in the same transaction, records this poll (last_poll_ms);
     * out carries the previous poll time. */
    enum kg_rc (*device_poll)(struct kg_store *s, const char *hash, int64_t now_ms,
                              struct kg_device *out);
    /* pending -> approved (with user) or denied, only while pending and unexpired.
     * KG_ERR_CONFLICT otherwise. */
    enum kg_rc (*device_decide)(struct kg_store *s, const char *user_code, bool approve,
                                const char *user_oid, int64_t auth_time, int64_t now);
    /* approved -> consumed, atomically; KG_ERR_CONFLICT if not approved any more. */
    enum kg_rc (*device_redeem)(struct kg_store *s, const char *hash,
                                const struct kg_issued *issued);
    /* Revokes what a replayed code produced: the access token and the refresh family (which is
     * created revoked if it does not exist yet, so a late insert fails). */
    enum kg_rc (*issued_revoke)(struct kg_store *s, const char *tenant_id,
                                const struct kg_issued *issued, int64_t now);
    /* Appends events in one transaction (group commit). */
    enum kg_rc (*audit_append)(struct kg_store *s, const struct kg_audit *ev, size_t n);
    /* A write transaction on the audit trail's store that reaches its disk (one row of
     * audit_probe, never an event): how the committer learns that a failing trail (a full disk,
     * a lost server) takes writes again while no request is bringing events. */
    enum kg_rc (*audit_probe)(struct kg_store *s, int64_t now_ms);
    enum kg_rc (*audit_list)(struct kg_store *s, const char *tenant_id, int64_t since_ms,
                             size_t limit, struct kg_audit **out, size_t *n);
    /* Walks the tenant's chain: *count events checked; KG_OK if intact, else KG_ERR_INVALID
     * with *bad_seq the first event that was edited, removed before, or moved. head receives the
     * newest hash (to be recorded elsewhere: a removed tail is only visible against it). */
    enum kg_rc (*audit_verify)(struct kg_store *s, const char *tenant_id, int64_t *count,
                               int64_t *bad_seq, char head[KG_HASH_HEX]);
};

struct kg_store_cache;

struct kg_store {
    const struct kg_store_ops *ops;
    void *impl;
    struct kg_store_cache *cache; /* set by kg_store_cache_new */
};

/* Opens the store named by url: "postgresql://..." (or "postgres://...", any libpq connection
 * URI) for PostgreSQL; "sqlite:DIR" or a plain directory for SQLite (DIR/keygate.db). Creates and
 * migrates the schema. Caller closes with kg_store_close. */
enum kg_rc kg_store_open(const char *url, struct kg_store **out, struct kg_err *e);
void kg_store_close(struct kg_store *s);

void kg_signing_key_clear(struct kg_signing_key *k);
void kg_refresh_clear(struct kg_refresh *r);
void kg_signing_keys_free(struct kg_signing_key *k, size_t n);

/* The chained hash of an audit event after prev (SPEC: every event carries the hash of the
 * previous one): SHA-256 over a version label, prev and each field length-prefixed. */
void kg_audit_hash(const char *prev, const struct kg_audit *ev, char out[KG_HASH_HEX]);

/* Hex SHA-256 of a secret, the only form in which secrets are stored (SPEC 9). */
void kg_store_hash_secret(const char *secret, size_t n, char out[KG_HASH_HEX]);

enum kg_rc kg_store_sqlite_open(const char *path, struct kg_store **out, struct kg_err *e);
enum kg_rc kg_store_pg_open(const char *url, struct kg_store **out, struct kg_err *e);
/* Wraps inner in a read-through cache of the configuration lookups of every request (tenant,
 * application, client secrets, API, application permissions, tenant roles), revalidated against
 * config_stamp at each sync (once per request), so changes made anywhere are seen on the next
 * request. Takes ownership of inner. Thread-safe. */
struct kg_store *kg_store_cache_new(struct kg_store *inner);
/* Revalidates a caching store; a no-op for others. */
void kg_store_sync(struct kg_store *s);
/* The config stamp the cache is at (read at the last sync); false if there is no valid one, in
 * which case nothing derived from the store may be reused. */
bool kg_store_stamp(struct kg_store *s, int64_t *out);

/* Answering from caches only. Between kg_store_cached_only_begin and _end, on this thread, a
 * read the caches cannot answer fails at once with KG_ERR_STORE instead of going to the back end
 * (a PostgreSQL round trip, or a disk read), and _end says whether that happened. An event
 * thread answers what it can this way and hands the rest to a worker thread, so one slow read
 * never stalls every other connection of that thread. Every caller already treats KG_ERR_STORE
 * as "deny": a refused read can only make the answer a refusal, which the caller discards. */
void kg_store_cached_only_begin(void);
bool kg_store_cached_only_end(void); /* true: a read was refused, the answer is not final */
/* For back ends, before any I/O: true (and remembered) if this thread may not do it now. */
bool kg_store_io_refused(void);

#endif
