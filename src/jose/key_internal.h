/* SPDX-License-Identifier: Apache-2.0
 * The layout of struct kg_key, shared by key.c and jws.c only. */
#ifndef KG_JOSE_KEY_INTERNAL_H
#define KG_JOSE_KEY_INTERNAL_H

#include <cjose/cjose.h>
#include <stdatomic.h>

struct kg_key {
    atomic_int refs;
    cjose_jwk_t *jwk;
    char kid[48];
    char alg[8];
};

#endif
