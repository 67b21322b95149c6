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

/* This thread's cached-only window (store.h). */
static _Thread_local struct {
    bool on;
    bool refused;
} cached_only;

void kg_store_cached_only_begin(void)
{
    cached_only.on = true;
    cached_only.refused = false;
}

bool kg_store_cached_only_end(void)
{
    cached_only.on = false;
    return cached_only.refused;
}

bool kg_store_io_refused(void)
{
    cached_only.refused |= cached_only.on;
    return cached_only.on;
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

/* Appends the decimal digits of v and then c. */
static size_t number(char *b, size_t o, int64_t v, char c)
{
    o += kg_fmt_int(b + o, v);
    b[o++] = c;
    return o;
}

/* "<byte length>:<value>\n"; v is one of struct kg_audit's (or a hash's) bounded fields. */
static size_t field(char *b, size_t o, const char *v, size_t cap)
{
    size_t n = strnlen(v, cap);
    o = number(b, o, (int64_t)n, ':');
    memcpy(b + o, v, n);
    o += n;
    b[o++] = '\n';
    return o;
}

void kg_audit_hash(const char *prev, const struct kg_audit *ev, char out[KG_HASH_HEX])
{
    /* every field is bounded by its array, so the whole input fits: the struct's size plus a
     * length prefix and newline per field */
    static const char magic[] = "keygate-audit-v1\n";
    char b[sizeof *ev + sizeof magic + 16 * 24];
    size_t o = sizeof magic - 1;
    memcpy(b, magic, o);
    o = number(b, o, ev->time_ms, '\n');
    o = field(b, o, prev, KG_HASH_HEX);
#define F(name) o = field(b, o, ev->name, sizeof ev->name)
    F(tenant_id);
    F(actor_type);
    F(actor_id);
    F(caller_id);
    F(action);
    F(target);
    F(outcome);
    F(client_ip);
    F(trace_id);
    F(detail);
#undef F
    kg_store_hash_secret(b, o, out);
}
