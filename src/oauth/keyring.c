/* SPDX-License-Identifier: Apache-2.0
 * The keyring; see keyring.h. */
#include "oauth/keyring.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/map.h"
#include "core/str.h"

struct kid_entry {
    struct kg_key *key;
    char tenant_id[KG_ID];
};

struct active_entry {
    struct kg_key *key;
    int64_t checked_ms;
    int64_t stamp; /* the store's config stamp when it was looked up; -1 if there was none */
};

struct kg_keyring {
    struct kg_store *store;
    uint8_t master[32];
    pthread_mutex_t mu;
    struct kg_map *by_kid;    /* kid -> struct kid_entry */
    struct kg_map *by_tenant; /* tenant id -> struct active_entry */
};

/* The store's config stamp at this request, or -1. */
static int64_t stamp_now(struct kg_keyring *kr)
{
    int64_t st;
    return kg_store_stamp(kr->store, &st) ? st : -1;
}

static void free_kid(void *p)
{
    struct kid_entry *k = p;
    kg_key_release(k->key);
    free(k);
}

static void free_active(void *p)
{
    struct active_entry *a = p;
    kg_key_release(a->key);
    free(a);
}

struct kg_keyring *kg_keyring_new(struct kg_store *store, const uint8_t master_key[32])
{
    struct kg_keyring *kr = kg_calloc(1, sizeof *kr);
    kr->store = store;
    memcpy(kr->master, master_key, 32);
    pthread_mutex_init(&kr->mu, NULL);
    kr->by_kid = kg_map_new();
    kr->by_tenant = kg_map_new();
    return kr;
}

void kg_keyring_free(struct kg_keyring *kr)
{
    if (!kr) {
        return;
    }
    kg_map_free(kr->by_kid, free_kid);
    kg_map_free(kr->by_tenant, free_active);
    pthread_mutex_destroy(&kr->mu);
    memset(kr->master, 0, sizeof kr->master);
    free(kr);
}

/* Loads a key record into the kid map (unsealing it) unless present; returns it retained. */
static enum kg_rc remember(struct kg_keyring *kr, const struct kg_signing_key *rec,
                           struct kg_key **out, struct kg_err *e)
{
    pthread_mutex_lock(&kr->mu);
    struct kid_entry *k = kg_map_get(kr->by_kid, rec->kid);
    if (k) {
        kg_key_retain(k->key);
        *out = k->key;
        pthread_mutex_unlock(&kr->mu);
        return KG_OK;
    }
    pthread_mutex_unlock(&kr->mu);
    struct kg_key *key = NULL;
    enum kg_rc rc = kg_key_unseal(rec->alg, rec->kid, kr->master, rec->private_sealed,
                                  rec->private_sealed_len, &key, e);
    if (rc) {
        return rc;
    }
    pthread_mutex_lock(&kr->mu);
    k = kg_map_get(kr->by_kid, rec->kid);
    if (k) { /* another thread won the race */
        kg_key_release(key);
        key = k->key;
    } else {
        k = kg_calloc(1, sizeof *k);
        k->key = key;
        kg_strlcpy(k->tenant_id, rec->tenant_id, sizeof k->tenant_id);
        kg_map_put(kr->by_kid, rec->kid, k);
    }
    kg_key_retain(key);
    pthread_mutex_unlock(&kr->mu);
    *out = key;
    return KG_OK;
}

enum kg_rc kg_keyring_active(struct kg_keyring *kr, const char *tenant_id, struct kg_key **out,
                             struct kg_err *e)
{
    int64_t now = kg_monotonic_ms();
    int64_t stamp = stamp_now(kr);
    pthread_mutex_lock(&kr->mu);
    struct active_entry *a = kg_map_get(kr->by_tenant, tenant_id);
    /* a rotation anywhere moves the stamp, so every node switches keys with its next request */
    if (a && now - a->checked_ms < KG_KEYRING_TTL_MS && (stamp < 0 || a->stamp == stamp)) {
        kg_key_retain(a->key);
        *out = a->key;
        pthread_mutex_unlock(&kr->mu);
        return KG_OK;
    }
    pthread_mutex_unlock(&kr->mu);

    struct kg_signing_key *keys = NULL;
    size_t n = 0;
    enum kg_rc rc = kr->store->ops->signing_keys(kr->store, tenant_id, &keys, &n);
    if (rc) {
        return KG_FAIL(e, rc, "signing keys of %s unavailable", tenant_id);
    }
    const struct kg_signing_key *act = NULL;
    for (size_t i = 0; i < n && !act; i++) { /* newest first */
        if (strcmp(keys[i].status, "active") == 0) {
            act = &keys[i];
        }
    }
    struct kg_key *key = NULL;
    rc = act ? remember(kr, act, &key, e)
             : KG_FAIL(e, KG_ERR_NOT_FOUND, "tenant %s has no active signing key", tenant_id);
    kg_signing_keys_free(keys, n);
    if (rc) {
        return rc;
    }
    pthread_mutex_lock(&kr->mu);
    struct active_entry *na = kg_calloc(1, sizeof *na);
    na->key = key;
    na->checked_ms = now;
    na->stamp = stamp;
    kg_key_retain(key);
    struct active_entry *old = kg_map_put(kr->by_tenant, tenant_id, na);
    pthread_mutex_unlock(&kr->mu);
    if (old) {
        free_active(old);
    }
    *out = key;
    return KG_OK;
}

enum kg_rc kg_keyring_by_kid(struct kg_keyring *kr, const char *tenant_id, const char *kid,
                             struct kg_key **out, struct kg_err *e)
{
    pthread_mutex_lock(&kr->mu);
    struct kid_entry *k = kg_map_get(kr->by_kid, kid);
    if (k) {
        bool mine = strcmp(k->tenant_id, tenant_id) == 0;
        if (mine) {
            kg_key_retain(k->key);
            *out = k->key;
        }
        pthread_mutex_unlock(&kr->mu);
        return mine ? KG_OK : KG_FAIL(e, KG_ERR_NOT_FOUND, "kid of another tenant");
    }
    pthread_mutex_unlock(&kr->mu);
    struct kg_signing_key rec;
    enum kg_rc rc = kr->store->ops->signing_key_get(kr->store, kid, &rec);
    if (rc) {
        return KG_FAIL(e, rc, "unknown kid");
    }
    if (strcmp(rec.tenant_id, tenant_id) != 0) {
        kg_signing_key_clear(&rec);
        return KG_FAIL(e, KG_ERR_NOT_FOUND, "kid of another tenant");
    }
    rc = remember(kr, &rec, out, e);
    kg_signing_key_clear(&rec);
    return rc;
}
