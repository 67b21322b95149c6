/* SPDX-License-Identifier: Apache-2.0
 * The SQL store's signing-key rotation (store.h signing_key_rotate): one step in one
 * write transaction (writers are serialised), so that several nodes and the CLI never promote
 * twice. */
#include <string.h>

#include "store/sql/sql.h"

static const struct kg_sql_q
    NEXT = {108, "SELECT kid, created_at FROM signing_keys WHERE tenant_id = ? AND status = 'next' "
                 "ORDER BY created_at DESC LIMIT 1"},
    RETIRE = {109, "UPDATE signing_keys SET status = 'retired', retired_at = ? WHERE tenant_id = ? "
                   "AND status = 'active'"},
    PROMOTE = {110, "UPDATE signing_keys SET status = 'active' WHERE tenant_id = ? AND kid = ?"},
    INSERT = {111, "INSERT INTO signing_keys (kid, tenant_id, alg, status, public_jwk, "
                   "private_sealed, created_at, retired_at) VALUES (?,?,?,'next',?,?,?,0)"};

struct next_key {
    char kid[48];
    int64_t created_at;
};

static void read_next(const struct kg_row *st, void *out)
{
    struct next_key *n = out;
    kg_row_str(st, 0, n->kid, sizeof n->kid);
    n->created_at = kg_row_int(st, 1);
}

static enum kg_rc publish(struct kg_sql_tx *t, const struct kg_signing_key *k, int64_t now)
{
    return kg_sql_exec(t, &INSERT, "ssssbi", k->kid, k->tenant_id, k->alg, k->public_jwk,
                       k->private_sealed, k->private_sealed_len, now);
}

static enum kg_rc op_signing_key_rotate(struct kg_store *s, const char *tenant_id,
                                        const struct kg_signing_key *next, int64_t now,
                                        int64_t min_age, int64_t retire_until, bool *promoted,
                                        int64_t *ready_at)
{
    *promoted = false;
    *ready_at = 0;
    struct kg_sql_tx t;
    if (kg_sql_begin(s, &t)) {
        return KG_ERR_STORE;
    }
    struct next_key cur;
    memset(&cur, 0, sizeof cur);
    enum kg_rc rc = kg_sql_get(&t, &NEXT, read_next, &cur, "s", tenant_id);
    if (rc == KG_ERR_NOT_FOUND) {
        rc = publish(&t, next, now);
    } else if (rc == KG_OK && cur.created_at + min_age > now) {
        *ready_at = cur.created_at + min_age;
        rc = KG_ERR_CONFLICT; /* published too recently: caches may not have it yet */
    } else if (rc == KG_OK) {
        rc = kg_sql_exec(&t, &RETIRE, "is", retire_until, tenant_id);
        if (!rc) {
            rc = kg_sql_exec(&t, &PROMOTE, "ss", tenant_id, cur.kid);
        }
        if (!rc) {
            rc = publish(&t, next, now);
        }
        *promoted = rc == KG_OK;
    }
    return kg_sql_end(&t, rc);
}

void kg_sql_rotation_ops(struct kg_store_ops *ops)
{
    ops->signing_key_rotate = op_signing_key_rotate;
}
