/* SPDX-License-Identifier: Apache-2.0
 * /verify decisions over a real SQLite store in a temporary directory: a key allows, and when
 * the store stops answering (each read the decision makes failing in turn) the answer is 503,
 * never an allow (SPEC 6.1, 12.6); a key's last-used time is written behind the decision, at most
 * once a minute, never moves back, and is written again after a failed write; a decision made
 * from the caches only is final once the credential has been seen, and refused before; an
 * allowed decision is remembered (verify/memo.h) for exactly the same request, and only until
 * the configuration changes, the key's overlap ends or the tenant header differs. Failures are
 * injected by wrapping the store's own ops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "jose/jose.h"
#include "server/lastused.h"
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

static size_t touch_calls, touch_uses; /* apikey_touch calls and key uses written */
static size_t touch_max;               /* the most uses one call wrote */
static pthread_mutex_t touch_mu = PTHREAD_MUTEX_INITIALIZER;
static enum kg_rc f_touch(struct kg_store *s, const struct kg_key_use *u, size_t n)
{
    enum kg_rc rc = FAIL_IF("apikey_touch", real.apikey_touch(s, u, n));
    pthread_mutex_lock(&touch_mu);
    touch_calls++;
    touch_uses += rc ? 0 : n;
    touch_max = n > touch_max ? n : touch_max;
    pthread_mutex_unlock(&touch_mu);
    return rc;
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
    broken.apikey_touch = f_touch;
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

/* A decision on key k at now; from the caches only if cached_only (*refused: a read was). */
static enum kg_oerr decide_key(const char *k, int64_t now, bool cached_only, bool *refused)
{
    kg_store_sync(srv.store);
    struct kg_vreq rq = {.srv = &srv,
                         .method = "GET",
                         .path = "/g/grid-1",
                         .api = "api://x",
                         .api_key = kg_str_c(k),
                         .now = now};
    struct kg_vres o;
    if (cached_only) {
        kg_store_cached_only_begin();
    }
    kg_verify(srv.verifier, &rq, &o);
    *refused = cached_only && kg_store_cached_only_end();
    return o.err;
}

static enum kg_oerr decide_at(int64_t now)
{
    bool refused;
    return decide_key(key, now, false, &refused);
}

static enum kg_oerr decide(void)
{
    return decide_at(kg_now());
}

static int64_t last_used(void)
{
    struct kg_api_key k;
    assert_int_equal(
        srv.store->ops->apikey_get(srv.store, "11111111-1111-4111-8111-111111111111", "k1", &k),
        KG_OK);
    return k.last_used_at;
}

static size_t touches(size_t *calls)
{
    pthread_mutex_lock(&touch_mu);
    size_t n = touch_uses;
    *calls = touch_calls;
    pthread_mutex_unlock(&touch_mu);
    return n;
}

/* Polls for up to 3 s (the writer runs about once a second) until last_used_at is want. */
static bool last_used_becomes(int64_t want)
{
    for (int i = 0; i < 300 && last_used() != want; i++) {
        usleep(10000);
    }
    return last_used() == want;
}

static void last_used_written_behind(void **state)
{
    (void)state;
    failing = "";
    assert_int_equal(decide(), KG_OE_NONE);
    for (int i = 0; i < 300 && last_used() == 0; i++) { /* this use (and the last test's) */
        usleep(10000);
    }
    assert_true(last_used() > 0);
    const int64_t t = kg_now() + 1000;
    size_t calls, before = touches(&calls);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(decide_at(t + i), KG_OE_NONE);
    }
    assert_true(last_used_becomes(t));
    assert_int_equal(touches(&calls), before + 1); /* three uses, one write */
    /* within the minute: not written again */
    assert_int_equal(decide_at(t + 59), KG_OE_NONE);
    usleep(1500000);
    assert_int_equal(last_used(), t);
    assert_int_equal(touches(&calls), before + 1);
    /* a minute on: written */
    assert_int_equal(decide_at(t + 60), KG_OE_NONE);
    assert_true(last_used_becomes(t + 60));
    /* an older time (another node's late write) never moves it back */
    struct kg_lastused *other = kg_lastused_start(srv.store);
    kg_lastused_note(other, "k1", t - 500);
    kg_lastused_stop(other); /* writes what it queued */
    assert_int_equal(touches(&calls), before + 3);
    assert_int_equal(last_used(), t + 60);
    /* many uses go in transactions of 256, so no write holds the writer lock for long */
    size_t uses_before = touches(&calls);
    pthread_mutex_lock(&touch_mu);
    touch_max = 0;
    pthread_mutex_unlock(&touch_mu);
    other = kg_lastused_start(srv.store);
    for (int i = 0; i < 600; i++) {
        char id[16];
        snprintf(id, sizeof id, "x%d", i);
        kg_lastused_note(other, id, t);
    }
    kg_lastused_stop(other);
    assert_int_equal(touches(&calls), uses_before + 600);
    pthread_mutex_lock(&touch_mu);
    assert_int_equal(touch_max, 256); /* (however the writer's second split them) */
    pthread_mutex_unlock(&touch_mu);
    /* a failed write is forgotten, so the next use within the minute writes again */
    size_t failed_at = calls;
    failing = "apikey_touch";
    assert_int_equal(decide_at(t + 120), KG_OE_NONE);
    for (int i = 0; i < 300 && calls == failed_at; i++) {
        usleep(10000);
        touches(&calls);
    }
    assert_true(calls > failed_at);
    failing = "";
    assert_int_equal(last_used(), t + 60);
    assert_int_equal(decide_at(t + 121), KG_OE_NONE);
    assert_true(last_used_becomes(t + 121));
}

/* A decision on rq (its srv set here) after the request's sync. */
static enum kg_oerr decide_req(struct kg_vreq *rq)
{
    kg_store_sync(srv.store);
    rq->srv = &srv;
    struct kg_vres o;
    kg_verify(srv.verifier, rq, &o);
    return o.err;
}

/* The key's request with a caller id no earlier request had: no remembered decision answers
 * it, so it is decided from the store's reads. */
static enum kg_oerr decide_afresh(void)
{
    static int n;
    char caller[32];
    snprintf(caller, sizeof caller, "caller-%d", n++);
    struct kg_vreq rq = {.method = "GET",
                         .path = "/g/grid-1",
                         .api = "api://x",
                         .api_key = kg_str_c(key),
                         .caller_id = kg_str_c(caller),
                         .now = kg_now()};
    return decide_req(&rq);
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
        enum kg_oerr e = decide_afresh();
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

/* A new Reader key of workspace w1, stored under id; its secret in secret. */
static struct kg_api_key new_reader_key(const char *id, char secret[KG_SECRET_MAX])
{
    struct kg_api_key ak = {.created_at = 1};
    snprintf(ak.id, sizeof ak.id, "%s", id);
    snprintf(ak.tenant_id, sizeof ak.tenant_id, "11111111-1111-4111-8111-111111111111");
    snprintf(ak.workspace_id, sizeof ak.workspace_id, "w1");
    snprintf(ak.role_id, sizeof ak.role_id, "r1");
    kg_secret_new("kg_key_", secret);
    kg_store_hash_secret(secret, strlen(secret), ak.hash);
    assert_int_equal(srv.store->ops->apikey_create(srv.store, &ak), KG_OK);
    return ak;
}

/* What an event thread does first (endpoints/verify.c): a key nobody has used yet needs the
 * store, so the cached-only decision is refused, never allowed; once the key has been decided
 * normally, every read of its decision comes from the caches and the answer is final. */
static void first_decided_from_caches_only(void **state)
{
    (void)state;
    char k2[KG_SECRET_MAX];
    new_reader_key("k2", k2);
    bool refused = false;
    assert_int_equal(decide_key(k2, kg_now(), true, &refused), KG_OE_V_UNAVAILABLE);
    assert_true(refused);
    /* the window is over: reads go to the store again, and nothing refused is remembered */
    assert_int_equal(decide_key(k2, kg_now(), false, &refused), KG_OE_NONE);
    assert_false(refused);
    assert_int_equal(decide_key(k2, kg_now(), true, &refused), KG_OE_NONE);
    assert_false(refused);
    /* a made-up key with a valid checksum is never cached, so it always needs the store */
    char unknown[KG_SECRET_MAX];
    kg_secret_new("kg_key_", unknown);
    assert_int_equal(decide_key(unknown, kg_now(), false, &refused), KG_OE_V_INVALID);
    assert_int_equal(decide_key(unknown, kg_now(), true, &refused), KG_OE_V_UNAVAILABLE);
    assert_true(refused);
}

static struct kg_str tenant_named_as; /* the X-Tenant-ID header of the next request */
static struct kg_str header_of(const void *ctx, const char *name)
{
    (void)ctx;
    return strcasecmp(name, "X-Tenant-ID") == 0 ? tenant_named_as : KG_STR_NULL;
}

static void decisions_remembered_while_they_hold(void **state)
{
    (void)state;
    struct kg_store *s = srv.store;
    failing = "";
    const char *tenant = "11111111-1111-4111-8111-111111111111";
    char k3[KG_SECRET_MAX];
    struct kg_api_key ak = new_reader_key("k3", k3);
    const int64_t now = kg_now();
    struct kg_vreq rq = {.method = "GET",
                         .path = "/g/grid-1",
                         .api = "api://x",
                         .api_key = kg_str_c(k3),
                         .now = now};
    assert_int_equal(decide_req(&rq), KG_OE_NONE);
    /* the same request again reads nothing: every read failing, it is still allowed */
    static const char *const ops[] = {"api_get", "apikey_by_hash", "role_by_id", "routes",
                                      "workspace_get"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        failing = ops[i];
        assert_int_equal(decide_req(&rq), KG_OE_NONE);
    }
    /* any other request is decided afresh */
    failing = "api_get";
    struct kg_vreq other = rq;
    other.caller_id = KG_STR("someone@example.com");
    assert_int_equal(decide_req(&other), KG_OE_V_UNAVAILABLE);
    failing = "";
    other = rq;
    other.path = "/g/grid-2";
    assert_int_equal(decide_req(&other), KG_OE_V_NOT_MEMBER);
    other = rq;
    other.method = "POST";
    assert_int_equal(decide_req(&other), KG_OE_V_NO_ROUTE);
    char bearer[KG_SECRET_MAX + 8];
    snprintf(bearer, sizeof bearer, "Bearer %s", k3);
    other = rq;
    other.api_key = KG_STR_NULL;
    other.authorization = kg_str_c(bearer); /* the key as a bearer token is not a token */
    assert_int_equal(decide_req(&other), KG_OE_V_INVALID);
    other.authorization = kg_str_c(k3); /* bare in Authorization, it is the key */
    assert_int_equal(decide_req(&other), KG_OE_NONE);
    /* a rotation with 100 s of overlap moves the config stamp: decided afresh, then remembered
     * only until the overlap ends */
    struct kg_api_key next = ak;
    snprintf(next.id, sizeof next.id, "k4");
    char k4[KG_SECRET_MAX];
    kg_secret_new("kg_key_", k4);
    kg_store_hash_secret(k4, strlen(k4), next.hash);
    assert_int_equal(s->ops->apikey_rotate(s, tenant, "k3", &next, now + 100), KG_OK);
    failing = "api_get";
    assert_int_equal(decide_req(&rq), KG_OE_V_UNAVAILABLE); /* not the old stamp's answer */
    failing = "";
    assert_int_equal(decide_req(&rq), KG_OE_NONE);
    failing = "api_get";
    rq.now = now + 99;
    assert_int_equal(decide_req(&rq), KG_OE_NONE);
    failing = "";
    rq.now = now + 100;
    assert_int_equal(decide_req(&rq), KG_OE_V_REVOKED);
    /* an API whose requests name their tenant in a header: the remembered decision holds for
     * that header's value only */
    struct kg_api api = {0};
    snprintf(api.id, sizeof api.id, "a2");
    snprintf(api.identifier, sizeof api.identifier, "api://t");
    snprintf(api.permissions, sizeof api.permissions, "r:read");
    snprintf(api.tenant_header, sizeof api.tenant_header, "X-Tenant-ID");
    struct kg_route r = {.method = "GET", .pattern = "/t/*", .permission = "r:read"};
    assert_int_equal(s->ops->api_create(s, &api), KG_OK);
    assert_int_equal(s->ops->route_add(s, api.id, &r), KG_OK);
    struct kg_vreq t = {.method = "GET",
                        .path = "/t/1",
                        .api = "api://t",
                        .api_key = kg_str_c(k4),
                        .header = header_of,
                        .now = now};
    tenant_named_as = KG_STR("contoso");
    assert_int_equal(decide_req(&t), KG_OE_NONE);
    failing = "api_get";
    assert_int_equal(decide_req(&t), KG_OE_NONE);
    failing = "";
    tenant_named_as = KG_STR("fabrikam");
    assert_int_equal(decide_req(&t), KG_OE_V_TENANT_MISMATCH);
    tenant_named_as = KG_STR_NULL;
    assert_int_equal(decide_req(&t), KG_OE_V_TENANT_HEADER);
    tenant_named_as = KG_STR("contoso");
    failing = "api_get";
    assert_int_equal(decide_req(&t), KG_OE_NONE);
    failing = "";
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(store_failures_never_allow),
                                       cmocka_unit_test(last_used_written_behind),
                                       cmocka_unit_test(first_decided_from_caches_only),
                                       cmocka_unit_test(decisions_remembered_while_they_hold)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
