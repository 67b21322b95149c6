/* SPDX-License-Identifier: Apache-2.0
 * Shared by the unit tests that write audit events (include after <cmocka.h>): the length of a
 * tenant's chain, asserted intact by the store's own verification. */
#ifndef KG_TESTS_AUDIT_CHAIN_H
#define KG_TESTS_AUDIT_CHAIN_H

#include "store/store.h"

static inline int64_t chain_length(struct kg_store *s, const char *tenant_id)
{
    int64_t count = 0, bad = 0;
    char head[KG_HASH_HEX];
    assert_int_equal(s->ops->audit_verify(s, tenant_id, &count, &bad, head), KG_OK);
    return count;
}

#endif
