/* SPDX-License-Identifier: Apache-2.0
 * Configuration defaults, master key loading, and opening the shared services; see server.h. */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/str.h"
#include "oauth/keyring.h"
#include "oauth/throttle.h"
#include "server/commit.h"
#include "server/lastused.h"
#include "server/rotator.h"
#include "verify/verify.h"

void kg_config_defaults(struct kg_config *c)
{
    memset(c, 0, sizeof *c);
    kg_strlcpy(c->data_dir, "./var", sizeof c->data_dir);
    kg_strlcpy(c->listen, "127.0.0.1:8443", sizeof c->listen);
    c->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (c->threads < 1) {
        c->threads = 1;
    }
    c->refresh_grace_seconds = 10;
    c->refresh_lifetime = 90 * 24 * 3600;
    kg_strlcpy(c->trusted_proxies, "127.0.0.0/8,::1/128", sizeof c->trusted_proxies);
    c->jwks_max_age = 300;
    c->signing_key_lifetime = 90 * 24 * 3600;
    c->drain_timeout = 30;
}

static bool parse_hex_key(const char *hex, uint8_t key[32])
{
    size_t n = strlen(hex);
    while (n && (hex[n - 1] == '\n' || hex[n - 1] == '\r' || hex[n - 1] == ' ')) {
        n--;
    }
    if (n != 64) {
        return false;
    }
    for (size_t i = 0; i < 32; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            int d = (c >= '0' && c <= '9')   ? c - '0'
                    : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                             : -1;
            if (d < 0) {
                return false;
            }
            v = v * 16 + (unsigned)d;
        }
        key[i] = (uint8_t)v;
    }
    return true;
}

static enum kg_rc read_key_file(const char *path, uint8_t key[32], struct kg_err *e)
{
    char buf[130] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return KG_FAIL(e, KG_ERR_NOT_FOUND, "cannot read master key file %s", path);
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    bool ok = n > 0 && parse_hex_key(buf, key);
    kg_wipe(buf, sizeof buf);
    return ok ? KG_OK : KG_FAIL(e, KG_ERR_INVALID, "master key file %s is not 64 hex", path);
}

enum kg_rc kg_master_key_load(const char *data_dir, bool create, uint8_t key[32], struct kg_err *e)
{
    const char *env = getenv("KEYGATE_MASTER_KEY");
    if (env && *env) {
        return parse_hex_key(env, key)
                   ? KG_OK
                   : KG_FAIL(e, KG_ERR_INVALID, "KEYGATE_MASTER_KEY must be 64 hex characters");
    }
    const char *file = getenv("KEYGATE_MASTER_KEY_FILE");
    if (file && *file) {
        return read_key_file(file, key, e);
    }
    char path[1100];
    snprintf(path, sizeof path, "%s/master.key", data_dir);
    enum kg_rc rc = read_key_file(path, key, NULL);
    if (rc != KG_ERR_NOT_FOUND || !create) {
        return rc ? KG_FAIL(e, rc, "master key %s unreadable or malformed", path) : KG_OK;
    }
    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
        return KG_FAIL(e, KG_ERR_INTERNAL, "cannot create %s", data_dir);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) { /* another process created it first: read theirs */
        return errno == EEXIST ? read_key_file(path, key, e)
                               : KG_FAIL(e, KG_ERR_INTERNAL, "cannot create %s", path);
    }
    char hex[65];
    kg_random(key, 32);
    static const char H[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = H[key[i] >> 4];
        hex[2 * i + 1] = H[key[i] & 15];
    }
    hex[64] = '\n';
    bool ok = write(fd, hex, 65) == 65 && fsync(fd) == 0;
    close(fd);
    kg_wipe(hex, sizeof hex);
    return ok ? KG_OK : KG_FAIL(e, KG_ERR_INTERNAL, "cannot write %s", path);
}

enum kg_rc kg_server_open(struct kg_server *s, struct kg_err *e)
{
    enum kg_rc rc = kg_store_open(s->cfg.db_url[0] ? s->cfg.db_url : s->cfg.data_dir, &s->store, e);
    if (rc) {
        return rc;
    }
    s->store = kg_store_cache_new(s->store);
    s->keys = kg_keyring_new(s->store, s->cfg.master_key);
    s->commit = kg_committer_new(s->store, &s->metrics);
    s->throttle = kg_throttle_new();
    s->verifier = kg_verifier_new();
    s->lastused = kg_lastused_start(s->store);
    s->rotator = kg_rotator_start(s);
    return KG_OK;
}

void kg_server_close(struct kg_server *s)
{
    kg_rotator_stop(s->rotator);
    s->rotator = NULL;
    kg_committer_free(s->commit);
    kg_lastused_stop(s->lastused);
    s->lastused = NULL;
    kg_keyring_free(s->keys);
    kg_throttle_free(s->throttle);
    kg_verifier_free(s->verifier);
    s->verifier = NULL;
    kg_store_close(s->store);
    s->commit = NULL;
    s->keys = NULL;
    s->throttle = NULL;
    s->store = NULL;
}
