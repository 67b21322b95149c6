/* SPDX-License-Identifier: Apache-2.0
 * The signing keys a node uses, decrypted once and shared: the active key of each tenant (looked
 * up again when the store's config stamp moves, so that a rotation made anywhere is picked up with
 * the next request, and at least every KG_KEYRING_TTL_MS), and every key
 * by kid for verification (kids are immutable; an unknown kid is asked of the store each time,
 * never cached as a failure, SPEC 6.1). Thread-safe. */
#ifndef KG_OAUTH_KEYRING_H
#define KG_OAUTH_KEYRING_H

#include <stdint.h>

#include "core/err.h"
#include "jose/jose.h"
#include "store/store.h"

#define KG_KEYRING_TTL_MS 5000

struct kg_keyring;

/* No token keygate signs lives longer than this (tenant and application lifetimes are capped
 * at 24 h), so a retired key stays published this long plus the verification skew. */
#define KG_MAX_TOKEN_LIFETIME 86400

/* One rotation step of tenant t's signing keys (store.h signing_key_rotate): generates the key
 * to publish as "next" and asks the store to take the step. KG_ERR_CONFLICT with *ready_at
 * when the published next key is younger than min_age (the JWKS max-age). */
enum kg_rc kg_signing_rotate(struct kg_store *st, const uint8_t master[32],
                             const struct kg_tenant *t, int64_t now, int64_t min_age,
                             bool *promoted, int64_t *ready_at, char new_kid[48], struct kg_err *e);

struct kg_keyring *kg_keyring_new(struct kg_store *store, const uint8_t master_key[32]);
void kg_keyring_free(struct kg_keyring *kr);
/* The tenant's active signing key, retained (the caller releases). */
enum kg_rc kg_keyring_active(struct kg_keyring *kr, const char *tenant_id, struct kg_key **out,
                             struct kg_err *e);
/* The key with this kid if it belongs to tenant_id, retained. KG_ERR_NOT_FOUND otherwise. */
enum kg_rc kg_keyring_by_kid(struct kg_keyring *kr, const char *tenant_id, const char *kid,
                             struct kg_key **out, struct kg_err *e);

#endif
