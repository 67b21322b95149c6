/* SPDX-License-Identifier: Apache-2.0
 * A read-through cache in front of any store back end, for the configuration lookups every
 * token request makes (tenant, application, client secrets, API, application permissions,
 * tenant roles) and every /verify decision makes (API keys and subscription keys by hash,
 * workspaces, memberships, roles, route policies). Without it those are several store round
 * trips per request; with it, one (the stamp).
 *
 * Freshness: kg_store_sync, called once at the start of every request, reads the store's
 * config_stamp (bumped by the store on any change to what is cached, whoever made it: this
 * node, the CLI, another node) and empties the cache when it moved, so a change is seen on the
 * next request. Each entry is tagged with the stamp it was read under and is only inserted if
 * the cache is still at that stamp, so a value read just before a change can never outlive it.
 * If the stamp cannot be read the cache empties and lookups go to the store (fail closed).
 *
 * Size: at most MAX_ENTRIES. When full, the entries not looked up since the last time it was
 * full go (a clock's second chance), so what every request reads (its API, routes, roles) stays
 * while credentials used once make room; only if everything was in use does it start afresh.
 *
 * The decorator reuses the inner store's struct: it copies the inner ops table, overrides the
 * cached lookups, sync and close, and leaves every other operation untouched. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/map.h"
#include "core/str.h"
#include "store/store.h"

#define MAX_ENTRIES 65536

struct entry {
    enum kg_rc rc;
    int64_t hit_in; /* the last sweep it was looked up in */
    size_t size;
    size_t count; /* for lists */
    unsigned char data[];
};

struct kg_store_cache {
    struct kg_store_ops ops;          /* what callers see */
    const struct kg_store_ops *inner; /* the back end's own */
    pthread_mutex_t mu;
    struct kg_map *map;
    int64_t stamp;
    bool valid;
    int64_t sweep; /* how many times the map has been full */
};

static struct kg_store_cache *cache_of(struct kg_store *s)
{
    return s->cache;
}

static void clear(struct kg_store_cache *c)
{
    kg_map_free(c->map, free);
    c->map = kg_map_new();
}

/* Looks key up; on a hit copies the value out and returns true. */
static bool hit(struct kg_store *s, const char *key, void *out, size_t size, size_t *count,
                enum kg_rc *rc, int64_t *stamp)
{
    struct kg_store_cache *c = cache_of(s);
    pthread_mutex_lock(&c->mu);
    struct entry *e = c->valid ? kg_map_get(c->map, key) : NULL;
    *stamp = c->valid ? c->stamp : -1;
    if (e) {
        e->hit_in = c->sweep;
        *rc = e->rc;
        if (count) { /* a list: the caller gets its own copy */
            *count = e->count;
            void *copy = kg_malloc(e->size);
            memcpy(copy, e->data, e->size);
            *(void **)out = copy;
        } else if (e->rc == KG_OK) {
            memcpy(out, e->data, size);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return e != NULL;
}

/* Not looked up since the map was last full. */
static bool unused(const void *value, void *sweep)
{
    return ((const struct entry *)value)->hit_in < *(int64_t *)sweep;
}

static void remember(struct kg_store *s, const char *key, const void *value, size_t size,
                     size_t count, enum kg_rc rc, int64_t stamp)
{
    if (rc != KG_OK && rc != KG_ERR_NOT_FOUND) {
        return; /* failures are never cached */
    }
    struct kg_store_cache *c = cache_of(s);
    struct entry *e = kg_malloc(sizeof *e + (rc == KG_OK ? size : 0));
    e->rc = rc;
    e->size = rc == KG_OK ? size : 0;
    e->count = count;
    if (rc == KG_OK && size) {
        memcpy(e->data, value, size);
    }
    pthread_mutex_lock(&c->mu);
    if (c->valid && c->stamp == stamp) {
        if (kg_map_len(c->map) >= MAX_ENTRIES) {
            kg_map_make_room(c->map, MAX_ENTRIES, unused, &c->sweep, free);
            c->sweep++;
        }
        e->hit_in = c->sweep - 1; /* only a lookup after this one keeps it at the next sweep */
        free(kg_map_put(c->map, key, e));
        e = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    free(e);
}

/* The common shape of a cached single-record lookup; "not found" is remembered too. */
#define CACHED_RECORD(fits, key, out, call) CACHED_LOOKUP(fits, key, out, call, true)
/* Lookups by a secret's hash remember only what they found. Creating a key or subscription does
 * not move the stamp (migration 005): no node can have looked up a hash nobody knew yet, and an
 * attacker spraying made-up keys fills no cache. */
#define CACHED_FOUND(fits, key, out, call) CACHED_LOOKUP(fits, key, out, call, false)
/* A key that does not fit its buffer (an over-long name from a request) is not cached. */
#define CACHED_LOOKUP(fits, key, out, call, missing_too)                                           \
    do {                                                                                           \
        enum kg_rc rc_;                                                                            \
        int64_t stamp_;                                                                            \
        if (!(fits)) {                                                                             \
            return (call);                                                                         \
        }                                                                                          \
        if (hit(s, (key), (out), sizeof *(out), NULL, &rc_, &stamp_)) {                            \
            return rc_;                                                                            \
        }                                                                                          \
        rc_ = (call);                                                                              \
        if (rc_ == KG_OK || (missing_too)) {                                                       \
            remember(s, (key), (out), sizeof *(out), 0, rc_, stamp_);                              \
        }                                                                                          \
        return rc_;                                                                                \
    } while (0)

static enum kg_rc c_tenant_get(struct kg_store *s, const char *alias, struct kg_tenant *out)
{
    char key[KG_NAME + 8];
    bool fits = kg_key_join(key, sizeof key, "t", alias, NULL);
    CACHED_RECORD(fits, key, out, cache_of(s)->inner->tenant_get(s, alias, out));
}

static enum kg_rc c_api_get(struct kg_store *s, const char *identifier, struct kg_api *out)
{
    char key[KG_URI + 8];
    bool fits = kg_key_join(key, sizeof key, "a", identifier, NULL);
    CACHED_RECORD(fits, key, out, cache_of(s)->inner->api_get(s, identifier, out));
}

static enum kg_rc c_app_get(struct kg_store *s, const char *tenant_id, const char *client_id,
                            struct kg_app *out)
{
    char key[2 * KG_NAME + 8];
    bool fits = kg_key_join(key, sizeof key, "c", tenant_id, client_id, NULL);
    CACHED_RECORD(fits, key, out, cache_of(s)->inner->app_get(s, tenant_id, client_id, out));
}

/* A "list" result of fixed-size strings: app permissions and tenant roles (char[KG_LIST]). */
struct words {
    char v[KG_LIST];
};

static enum kg_rc c_app_permissions(struct kg_store *s, const char *client_id, const char *api_id,
                                    char out[KG_LIST])
{
    char key[2 * KG_ID + 8];
    bool fits = kg_key_join(key, sizeof key, "p", client_id, api_id, NULL);
    struct words *w = (struct words *)(void *)out;
    CACHED_RECORD(fits, key, w, cache_of(s)->inner->app_permissions(s, client_id, api_id, out));
}

static enum kg_rc c_principal_roles(struct kg_store *s, const char *tenant_id,
                                    const char *principal, char out[KG_LIST])
{
    char key[2 * KG_ID + 8];
    bool fits = kg_key_join(key, sizeof key, "r", tenant_id, principal, NULL);
    struct words *w = (struct words *)(void *)out;
    CACHED_RECORD(fits, key, w, cache_of(s)->inner->principal_roles(s, tenant_id, principal, out));
}

/* The common shape of a cached list lookup (an owned array of *n records). */
#define CACHED_LIST(fits, key, out, n, call)                                                       \
    do {                                                                                           \
        enum kg_rc rc_;                                                                            \
        int64_t stamp_;                                                                            \
        if (!(fits)) {                                                                             \
            return (call);                                                                         \
        }                                                                                          \
        if (hit(s, (key), (out), 0, (n), &rc_, &stamp_)) {                                         \
            return rc_;                                                                            \
        }                                                                                          \
        rc_ = (call);                                                                              \
        if (rc_ == KG_OK) {                                                                        \
            remember(s, (key), *(out), *(n) * sizeof **(out), *(n), rc_, stamp_);                  \
        }                                                                                          \
        return rc_;                                                                                \
    } while (0)

static enum kg_rc c_secret_list(struct kg_store *s, const char *client_id,
                                struct kg_secret_rec **out, size_t *n)
{
    char key[KG_ID + 8];
    bool fits = kg_key_join(key, sizeof key, "s", client_id, NULL);
    CACHED_LIST(fits, key, out, n, cache_of(s)->inner->secret_list(s, client_id, out, n));
}

/* ---- enforcement: what every /verify decision reads ---- */

static enum kg_rc c_apikey_by_hash(struct kg_store *s, const char *hash, struct kg_api_key *out)
{
    char key[KG_HASH_HEX + 8];
    bool fits = kg_key_join(key, sizeof key, "k", hash, NULL);
    CACHED_FOUND(fits, key, out, cache_of(s)->inner->apikey_by_hash(s, hash, out));
}

static enum kg_rc c_subscription_by_hash(struct kg_store *s, const char *hash,
                                         struct kg_subscription *out)
{
    char key[KG_HASH_HEX + 8];
    bool fits = kg_key_join(key, sizeof key, "u", hash, NULL);
    CACHED_FOUND(fits, key, out, cache_of(s)->inner->subscription_by_hash(s, hash, out));
}

static enum kg_rc c_workspace_get(struct kg_store *s, const char *tenant_id, const char *id_or_name,
                                  struct kg_workspace *out)
{
    char key[KG_ID + KG_NAME + 8];
    bool fits = kg_key_join(key, sizeof key, "w", tenant_id, id_or_name, NULL);
    CACHED_RECORD(fits, key, out, cache_of(s)->inner->workspace_get(s, tenant_id, id_or_name, out));
}

static enum kg_rc c_member_role(struct kg_store *s, const char *tenant_id, const char *workspace_id,
                                const char *principal_id, struct kg_role *out)
{
    char key[3 * KG_ID + 8];
    bool fits = kg_key_join(key, sizeof key, "m", tenant_id, workspace_id, principal_id, NULL);
    CACHED_RECORD(fits, key, out,
                  cache_of(s)->inner->member_role(s, tenant_id, workspace_id, principal_id, out));
}

static enum kg_rc c_role_by_id(struct kg_store *s, const char *tenant_id, const char *id,
                               struct kg_role *out)
{
    char key[2 * KG_ID + 8];
    bool fits = kg_key_join(key, sizeof key, "o", tenant_id, id, NULL);
    CACHED_RECORD(fits, key, out, cache_of(s)->inner->role_by_id(s, tenant_id, id, out));
}

static enum kg_rc c_roles_list(struct kg_store *s, const char *tenant_id, struct kg_role **out,
                               size_t *n)
{
    char key[KG_ID + 8];
    bool fits = kg_key_join(key, sizeof key, "l", tenant_id, NULL);
    CACHED_LIST(fits, key, out, n, cache_of(s)->inner->roles_list(s, tenant_id, out, n));
}

static enum kg_rc c_routes(struct kg_store *s, const char *api_id, struct kg_route **out, size_t *n)
{
    char key[KG_ID + 8];
    bool fits = kg_key_join(key, sizeof key, "x", api_id, NULL);
    CACHED_LIST(fits, key, out, n, cache_of(s)->inner->routes(s, api_id, out, n));
}

static void c_sync(struct kg_store *s)
{
    struct kg_store_cache *c = cache_of(s);
    int64_t stamp = 0;
    enum kg_rc rc = c->inner->config_stamp(s, &stamp);
    pthread_mutex_lock(&c->mu);
    if (rc != KG_OK) {
        c->valid = false;
        clear(c);
    } else if (!c->valid || stamp != c->stamp) {
        clear(c);
        c->stamp = stamp;
        c->valid = true;
    }
    pthread_mutex_unlock(&c->mu);
}

static void c_close(struct kg_store *s)
{
    struct kg_store_cache *c = cache_of(s);
    void (*inner_close)(struct kg_store *) = c->inner->close;
    kg_map_free(c->map, free);
    pthread_mutex_destroy(&c->mu);
    free(c);
    s->cache = NULL;
    inner_close(s);
}

struct kg_store *kg_store_cache_new(struct kg_store *inner)
{
    struct kg_store_cache *c = kg_calloc(1, sizeof *c);
    c->inner = inner->ops;
    c->ops = *inner->ops;
    c->ops.tenant_get = c_tenant_get;
    c->ops.api_get = c_api_get;
    c->ops.app_get = c_app_get;
    c->ops.app_permissions = c_app_permissions;
    c->ops.principal_roles = c_principal_roles;
    c->ops.secret_list = c_secret_list;
    c->ops.apikey_by_hash = c_apikey_by_hash;
    c->ops.subscription_by_hash = c_subscription_by_hash;
    c->ops.workspace_get = c_workspace_get;
    c->ops.member_role = c_member_role;
    c->ops.role_by_id = c_role_by_id;
    c->ops.roles_list = c_roles_list;
    c->ops.routes = c_routes;
    c->ops.sync = c_sync;
    c->ops.close = c_close;
    pthread_mutex_init(&c->mu, NULL);
    c->map = kg_map_new();
    inner->cache = c;
    inner->ops = &c->ops;
    return inner;
}

void kg_store_sync(struct kg_store *s)
{
    if (s->ops->sync) {
        s->ops->sync(s);
    }
}

bool kg_store_stamp(struct kg_store *s, int64_t *out)
{
    struct kg_store_cache *c = s->cache;
    if (!c) {
        return false;
    }
    pthread_mutex_lock(&c->mu);
    bool ok = c->valid;
    *out = c->stamp;
    pthread_mutex_unlock(&c->mu);
    return ok;
}
