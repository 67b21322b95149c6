/* SPDX-License-Identifier: Apache-2.0
 * The signing-key schedule (SPEC 9): a thread that, for every tenant whose active key is older
 * than the configured lifetime, publishes a next key early enough and promotes it once the JWKS
 * max-age has passed. Every node runs it; the store's rotation step is atomic, so they agree. */
#ifndef KG_SERVER_ROTATOR_H
#define KG_SERVER_ROTATOR_H

#include <stdint.h>

struct kg_server;
struct kg_rotator;

/* NULL when lifetime is 0 (rotation by hand only). */
struct kg_rotator *kg_rotator_start(struct kg_server *srv);
void kg_rotator_stop(struct kg_rotator *r);

#endif
