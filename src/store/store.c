/* SPDX-License-Identifier: Apache-2.0
 * Choosing a back end from a store URL, and the helpers every back end shares. */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/encode.h"
#include "core/str.h"

enum kg_rc kg_store_open(const char *url, struct kg_store **out, struct kg_err *e)
{
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
        return kg_store_pg_open(url, out, e);
    }
    const char *dir = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return KG_FAIL(e, KG_ERR_STORE, "cannot create data directory %s", dir);
    }
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/keygate.db", dir) >= sizeof path) {
        return KG_FAIL(e, KG_ERR_STORE, "data directory path too long");
    }
    return kg_store_sqlite_open(path, out, e);
}

void kg_store_close(struct kg_store *s)
{
    if (s) {
        s->ops->close(s);
    }
}

void kg_signing_key_clear(struct kg_signing_key *k)
{
    free(k->public_jwk);
    if (k->private_sealed) {
        kg_wipe(k->private_sealed, k->private_sealed_len);
    }
    free(k->private_sealed);
    k->public_jwk = NULL;
    k->private_sealed = NULL;
}

void kg_signing_keys_free(struct kg_signing_key *k, size_t n)
{
    for (size_t i = 0; k && i < n; i++) {
        kg_signing_key_clear(&k[i]);
    }
    free(k);
}

void kg_refresh_clear(struct kg_refresh *r)
{
    free(r->grace);
    r->grace = NULL;
    r->grace_len = 0;
}

void kg_store_hash_secret(const char *secret, size_t n, char out[KG_HASH_HEX])
{
    uint8_t h[KG_SHA256_LEN];
    kg_sha256(secret, n, h);
    kg_hex_encode(h, sizeof h, out);
}

static void field(struct kg_buf *b, const char *v)
{
    kg_buf_printf(b, "%zu:%s\n", strlen(v), v);
}

void kg_audit_hash(const char *prev, const struct kg_audit *ev, char out[KG_HASH_HEX])
{
    struct kg_buf b;
    kg_buf_init(&b, 8192);
    kg_buf_printf(&b, "keygate-audit-v1\n%lld\n", (long long)ev->time_ms);
    field(&b, prev);
    field(&b, ev->tenant_id);
    field(&b, ev->actor_type);
    field(&b, ev->actor_id);
    field(&b, ev->caller_id);
    field(&b, ev->action);
    field(&b, ev->target);
    field(&b, ev->outcome);
    field(&b, ev->client_ip);
    field(&b, ev->trace_id);
    field(&b, ev->detail);
    kg_store_hash_secret(b.p, b.n, out);
    kg_buf_free(&b);
}
