/* SPDX-License-Identifier: Apache-2.0
 * The SQLite side of signing-key rotation (store.h signing_key_rotate): one step in one
 * IMMEDIATE transaction, so that several nodes and the CLI never promote twice. */
#include <string.h>

#include "store/sqlite/lite.h"

static const struct kg_lite_q
    NEXT = {44, "SELECT kid, created_at FROM signing_keys WHERE tenant_id = ? AND status = 'next' "
                "ORDER BY created_at DESC LIMIT 1"},
    RETIRE = {45, "UPDATE signing_keys SET status = 'retired', retired_at = ? WHERE tenant_id = ? "
                  "AND status = 'active'"},
    PROMOTE = {46, "UPDATE signing_keys SET status = 'active' WHERE tenant_id = ? AND kid = ?"},
    INSERT = {47, "INSERT INTO signing_keys (kid, tenant_id, alg, status, public_jwk, "
                  "private_sealed, created_at, retired_at) VALUES (?,?,?,'next',?,?,?,0)"};

struct next_key {
    char kid[48];
    int64_t created_at;
};

static void read_next(sqlite3_stmt *st, void *out)
{
    struct next_key *n = out;
    kg_lite_col(st, 0, n->kid, sizeof n->kid);
    n->created_at = kg_lite_icol(st, 1);
}

static enum kg_rc publish(struct conn *c, const struct kg_signing_key *k, int64_t now)
{
    return kg_lite_exec(c, &INSERT, "ssssbi", k->kid, k->tenant_id, k->alg, k->public_jwk,
                        k->private_sealed, k->private_sealed_len, now);
}

static enum kg_rc op_signing_key_rotate(struct kg_store *s, const char *tenant_id,
                                        const struct kg_signing_key *next, int64_t now,
                                        int64_t min_age, int64_t retire_until, bool *promoted,
                                        int64_t *ready_at)
{
    *promoted = false;
    *ready_at = 0;
    struct conn *c = kg_lite_begin(s);
    if (!c) {
        return KG_ERR_STORE;
    }
    struct next_key cur;
    memset(&cur, 0, sizeof cur);
    enum kg_rc rc = kg_lite_get(c, &NEXT, read_next, &cur, "s", tenant_id);
    if (rc == KG_ERR_NOT_FOUND) {
        rc = publish(c, next, now);
    } else if (rc == KG_OK && cur.created_at + min_age > now) {
        *ready_at = cur.created_at + min_age;
        rc = KG_ERR_CONFLICT; /* published too recently: caches may not have it yet */
    } else if (rc == KG_OK) {
        rc = kg_lite_exec(c, &RETIRE, "is", retire_until, tenant_id);
        if (!rc) {
            rc = kg_lite_exec(c, &PROMOTE, "ss", tenant_id, cur.kid);
        }
        if (!rc) {
            rc = publish(c, next, now);
        }
        *promoted = rc == KG_OK;
    }
    return kg_lite_end(s, c, rc);
}

void kg_lite_rotation_ops(struct kg_store_ops *ops)
{
    ops->signing_key_rotate = op_signing_key_rotate;
}
