/* SPDX-License-Identifier: Apache-2.0
 * The running keygate: configuration, the store, the signing keyring, the group committer,
 * the last-used writer, brute-force throttles and metrics, wired together once at start and shared
 * read-only by every request thread. Also master-key loading, which the CLI shares. */
#ifndef KG_SERVER_SERVER_H
#define KG_SERVER_SERVER_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "server/metrics.h"
#include "store/store.h"

struct kg_config {
    char data_dir[1024];
    char db_url[1024]; /* empty: SQLite in data_dir */
    char listen[128];  /* host:port */
    char public_url[512];
    char tls_cert[1024];
    char tls_key[1024];
    bool insecure_http;
    int threads;
    int refresh_grace_seconds;
    int64_t refresh_lifetime;
    char trusted_proxies[512];    /* CIDRs whose forwarded headers /verify believes */
    char default_api[264];        /* the API /verify decides for when no api parameter names one */
    bool access_log;              /* one JSON line per request /verify allows */
    int64_t jwks_max_age;         /* JWKS Cache-Control max-age; a next key waits this long */
    int64_t signing_key_lifetime; /* rotate signing keys this old (0: by hand only) */
    int64_t drain_timeout;        /* SIGTERM: how long requests in flight may still take, s */
    uint8_t master_key[32];
};

struct kg_keyring;
struct kg_committer;
struct kg_throttle;
struct kg_verifier;
struct kg_rotator;
struct kg_lastused;

struct kg_server {
    struct kg_config cfg;
    struct kg_store *store;
    struct kg_keyring *keys;
    struct kg_committer *commit;
    struct kg_throttle *throttle;
    struct kg_verifier *verifier;
    struct kg_rotator *rotator;
    struct kg_lastused *lastused; /* API keys' last-used times, written behind */
    struct kg_metrics metrics;
    atomic_bool stopping; /* the SIGTERM drain has begun: /readyz answers 503 */
};

/* Defaults of SPEC 9: ./var, 127.0.0.1:8443, HTTPS, one thread per core. */
void kg_config_defaults(struct kg_config *c);
/* Master key from KEYGATE_MASTER_KEY (64 hex), KEYGATE_MASTER_KEY_FILE, or data_dir/master.key
 * (created 0600 with 256 random bits when absent and create is true). */
enum kg_rc kg_master_key_load(const char *data_dir, bool create, uint8_t key[32], struct kg_err *e);

/* Opens the store and the shared services; kg_server_close releases them. */
enum kg_rc kg_server_open(struct kg_server *s, struct kg_err *e);
void kg_server_close(struct kg_server *s);

#endif
