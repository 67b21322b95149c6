/* SPDX-License-Identifier: Apache-2.0
 * /verify decisions over a real SQLite store in a temporary directory: a key allows, and when
 * the store stops answering (each read the decision makes failing in turn) the answer is 503,
 * never an allow (SPEC 6.1, 12.6). Failures are injected by wrapping the store's own ops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "jose/jose.h"
#include "server/server.h"
#include "verify/verify.h"

static struct kg_server srv;
static char dir[] = "/tmp/kg-verify-XXXXXX";
static char key[KG_SECRET_MAX];
static struct kg_store_ops real, broken;
static const char *failing; /* which op fails */

#define FAIL_IF(name, call) (strcmp(failing, name) == 0 ? KG_ERR_STORE : (call))

static enum kg_rc f_stamp(struct kg_store *s, int64_t *o)
{
    return FAIL_IF("config_stamp", real.config_stamp(s, o));
}
static enum kg_rc f_api(struct kg_store *s, const char *i, struct kg_api *o)
{
    return FAIL_IF("api_get", real.api_get(s, i, o));
}
static enum kg_rc f_key(struct kg_store *s, const char *h, struct kg_api_key *o)
{
    return FAIL_IF("apikey_by_hash", real.apikey_by_hash(s, h, o));
}
static enum kg_rc f_role(struct kg_store *s, const char *t, const char *i, struct kg_role *o)
{
    return FAIL_IF("role_by_id", real.role_by_id(s, t, i, o));
}
static enum kg_rc f_routes(struct kg_store *s, const char *a, struct kg_route **o, size_t *n)
{
    return FAIL_IF("routes", real.routes(s, a, o, n));
}
static enum kg_rc f_ws(struct kg_store *s, const char *t, const char *w, struct kg_workspace *o)
{
    return FAIL_IF("workspace_get", real.workspace_get(s, t, w, o));
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir)) {
        return -1;
    }
    kg_config_defaults(&srv.cfg);
    snprintf(srv.cfg.data_dir, sizeof srv.cfg.data_dir, "%s", dir);
    snprintf(srv.cfg.public_url, sizeof srv.cfg.public_url, "https://kg.example");
    srv.cfg.signing_key_lifetime = 0;
    memset(srv.cfg.master_key, 3, sizeof srv.cfg.master_key);
    if (kg_server_open(&srv, NULL) != KG_OK) {
        return -1;
    }
    struct kg_store *s = srv.store;
    struct kg_tenant t = {.token_lifetime = 3600};
    snprintf(t.id, sizeof t.id, "11111111-1111-4111-8111-111111111111");
    snprintf(t.name, sizeof t.name, "contoso");
    snprintf(t.signing_alg, sizeof t.signing_alg, "ES256");
    struct kg_signing_key k = {0};
    kg_key_generate("ES256", srv.cfg.master_key, k.kid, &k.public_jwk, &k.private_sealed,
                    &k.private_sealed_len, NULL);
    snprintf(k.tenant_id, sizeof k.tenant_id, "%s", t.id);
    snprintf(k.alg, sizeof k.alg, "ES256");
    snprintf(k.status, sizeof k.status, "active");
    struct kg_role role = {.builtin = true};
    snprintf(role.id, sizeof role.id, "r1");
    snprintf(role.tenant_id, sizeof role.tenant_id, "%s", t.id);
    snprintf(role.name, sizeof role.name, "Reader");
    snprintf(role.permissions, sizeof role.permissions, "*:read");
    struct kg_api api = {0};
    snprintf(api.id, sizeof api.id, "a1");
    snprintf(api.identifier, sizeof api.identifier, "api://x");
    snprintf(api.permissions, sizeof api.permissions, "r:read");
    struct kg_workspace w = {0};
    snprintf(w.id, sizeof w.id, "w1");
    snprintf(w.tenant_id, sizeof w.tenant_id, "%s", t.id);
    snprintf(w.name, sizeof w.name, "grid-1");
    struct kg_api_key ak = {.created_at = 1};
    snprintf(ak.id, sizeof ak.id, "k1");
    snprintf(ak.tenant_id, sizeof ak.tenant_id, "%s", t.id);
    snprintf(ak.workspace_id, sizeof ak.workspace_id, "w1");
    snprintf(ak.role_id, sizeof ak.role_id, "r1");
    kg_secret_new("kg_key_", key);
    kg_store_hash_secret(key, strlen(key), ak.hash);
    struct kg_route r = {
        .method = "GET", .pattern = "/g/{ws}", .permission = "r:read", .workspace_param = "ws"};
    if (s->ops->tenant_create(s, &t, &k, &role, 1) || s->ops->api_create(s, &api) ||
        s->ops->workspace_create(s, &w) || s->ops->apikey_create(s, &ak) ||
        s->ops->route_add(s, api.id, &r)) {
        return -1;
    }
    kg_signing_key_clear(&k);
    /* wrap the (cached) store: every op as it is, the enforcement reads able to fail */
    real = *s->ops;
    broken = real;
    broken.config_stamp = f_stamp;
    broken.api_get = f_api;
    broken.apikey_by_hash = f_key;
    broken.role_by_id = f_role;
    broken.routes = f_routes;
    broken.workspace_get = f_ws;
    s->ops = &broken;
    failing = "";
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    srv.store->ops = &real;
    kg_server_close(&srv);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static enum kg_oerr decide(void)
{
    kg_store_sync(srv.store);
    struct kg_vreq rq = {.srv = &srv,
                         .method = "GET",
                         .path = "/g/grid-1",
                         .api = "api://x",
                         .api_key = kg_str_c(key),
                         .now = kg_now()};
    struct kg_vres o;
    kg_verify(srv.verifier, &rq, &o);
    return o.err;
}

static void store_failures_never_allow(void **state)
{
    (void)state;
    failing = "";
    assert_int_equal(decide(), KG_OE_NONE);
    static const char *const ops[] = {"config_stamp", "api_get", "apikey_by_hash",
                                      "role_by_id",   "routes",  "workspace_get"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        failing = ops[i];
        enum kg_oerr e = decide();
        if (strcmp(ops[i], "config_stamp") == 0) {
            /* no stamp: nothing cached is used; every read goes to the store, which answers */
            assert_int_equal(e, KG_OE_NONE);
        } else {
            if (e != KG_OE_V_UNAVAILABLE) {
                fail_msg("%s failing gave %d", ops[i], (int)e);
            }
        }
        failing = "";
        assert_int_equal(decide(), KG_OE_NONE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(store_failures_never_allow)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
