/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the token endpoint as a whole, without a socket (STYLE: handlers are called with
 * a plain struct kg_req). A real SQLite store in a temporary directory holds a tenant, an API
 * and a confidential application; each input is a form body POSTed to the token endpoint, so
 * the form parser, client authentication, scopes, the grants and the error paths run together.
 * The first line of the input, if it starts with "Basic ", is sent as the Authorization header.
 * An input starting with "?" goes to the authorization endpoint instead, as its query string
 * (split on & and = as libmicrohttpd does), and one starting with "!" as a POSTed form there.
 * One starting with "@" goes to /verify: its lines are request headers ("Name: value"); the
 * store holds a workspace, an API key of it (kg_key_ + 43 'B' + checksum) and two routes. A
 * /verify answer is 200 with identity headers or a problem with a keygate status, and the same
 * request asked again gets the same answer (the second may come from the decision cache).
 * Invariants: every token endpoint response is a complete JSON object with a status keygate
 * defines; every authorization endpoint response is a page, a redirect or a 405, and no "<kg"
 * from the input ever appears unescaped in a page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/encode.h"
#include "endpoints/endpoints.h"
#include "fuzz.h"
#include "jose/jose.h"
#include "json/json.h"
#include "oauth/keyring.h"
#include "oauth/oauth.h"
#include "oauth/throttle.h"
#include "server/commit.h"
#include "server/server.h"

static struct kg_server srv;
static char dir[] = "/tmp/kg-fuzz-XXXXXX";

/* prefix + 43 times fill + its checksum: a valid secret the seed corpus can use. */
static void fixed_secret_of(const char *prefix, char fill, char out[KG_SECRET_MAX])
{
    char body[7 + KG_SECRET_BODY + 1];
    snprintf(body, sizeof body, "%s%043d", prefix, 0);
    memset(body + 7, fill, KG_SECRET_BODY);
    uint8_t h[KG_SHA256_LEN];
    kg_sha256(body, strlen(body), h);
    char sum[KG_SECRET_CHECK + 1];
    kg_b64url_encode(h, 4, sum);
    snprintf(out, KG_SECRET_MAX, "%s%s", body, sum);
}

static void cleanup(void)
{
    kg_server_close(&srv);
    static const char *const files[] = {"keygate.db", "keygate.db-wal", "keygate.db-shm",
                                        "audit.db",   "audit.db-wal",   "audit.db-shm"};
    char p[256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void provision(void)
{
    if (!mkdtemp(dir)) {
        abort();
    }
    atexit(cleanup);
    kg_config_defaults(&srv.cfg);
    snprintf(srv.cfg.public_url, sizeof srv.cfg.public_url, "https://fuzz.example");
    srv.cfg.signing_key_lifetime = 0; /* no schedule thread in a fuzzer */
    memset(srv.cfg.master_key, 7, sizeof srv.cfg.master_key);
    snprintf(srv.cfg.data_dir, sizeof srv.cfg.data_dir, "%s", dir);
    if (kg_server_open(&srv, NULL) != KG_OK) {
        abort();
    }
    struct kg_store *s = srv.store;
    struct kg_tenant t = {.token_lifetime = 3600};
    snprintf(t.id, sizeof t.id, "11111111-1111-4111-8111-111111111111");
    snprintf(t.name, sizeof t.name, "contoso");
    snprintf(t.display_name, sizeof t.display_name, "Contoso");
    snprintf(t.signing_alg, sizeof t.signing_alg, "ES256");
    struct kg_signing_key k = {0};
    if (kg_key_generate("ES256", srv.cfg.master_key, k.kid, &k.public_jwk, &k.private_sealed,
                        &k.private_sealed_len, NULL) != KG_OK) {
        abort();
    }
    snprintf(k.tenant_id, sizeof k.tenant_id, "%s", t.id);
    snprintf(k.alg, sizeof k.alg, "ES256");
    snprintf(k.status, sizeof k.status, "active");
    struct kg_api api = {0};
    snprintf(api.id, sizeof api.id, "22222222-2222-4222-8222-222222222222");
    snprintf(api.identifier, sizeof api.identifier, "api://x");
    snprintf(api.name, sizeof api.name, "x");
    snprintf(api.permissions, sizeof api.permissions, "r:read");
    snprintf(api.scopes, sizeof api.scopes, "access_as_user");
    struct kg_app app = {0};
    snprintf(app.client_id, sizeof app.client_id, "33333333-3333-4333-8333-333333333333");
    snprintf(app.tenant_id, sizeof app.tenant_id, "%s", t.id);
    snprintf(app.name, sizeof app.name, "svc");
    snprintf(app.auth_method, sizeof app.auth_method, "client_secret_post");
    snprintf(app.grants, sizeof app.grants,
             "client_credentials refresh_token password authorization_code");
    snprintf(app.redirect_uris, sizeof app.redirect_uris,
             "https://app.example/cb http://127.0.0.1/cb");
    snprintf(app.sp_oid, sizeof app.sp_oid, "44444444-4444-4444-8444-444444444444");
    char secret[KG_SECRET_MAX];
    fixed_secret_of("kg_sec_", 'A', secret);
    struct kg_secret_rec rec = {0};
    snprintf(rec.id, sizeof rec.id, "s1");
    snprintf(rec.client_id, sizeof rec.client_id, "%s", app.client_id);
    kg_store_hash_secret(secret, strlen(secret), rec.hash);
    if (s->ops->tenant_create(s, &t, &k, NULL, 0) || s->ops->api_create(s, &api) ||
        s->ops->app_create(s, &app, &rec) ||
        s->ops->app_grant(s, app.client_id, api.id, "r:read")) {
        abort();
    }
    kg_signing_key_clear(&k);
    struct kg_role role = {.builtin = true};
    snprintf(role.id, sizeof role.id, "55555555-5555-4555-8555-555555555555");
    snprintf(role.tenant_id, sizeof role.tenant_id, "%s", t.id);
    snprintf(role.name, sizeof role.name, "Reader");
    snprintf(role.permissions, sizeof role.permissions, "*:read");
    struct kg_workspace w = {.created_at = 1};
    snprintf(w.id, sizeof w.id, "66666666-6666-4666-8666-666666666666");
    snprintf(w.tenant_id, sizeof w.tenant_id, "%s", t.id);
    snprintf(w.name, sizeof w.name, "grid-1");
    struct kg_api_key key = {.created_at = 1};
    snprintf(key.id, sizeof key.id, "77777777-7777-4777-8777-777777777777");
    snprintf(key.tenant_id, sizeof key.tenant_id, "%s", t.id);
    snprintf(key.workspace_id, sizeof key.workspace_id, "%s", w.id);
    snprintf(key.name, sizeof key.name, "k");
    snprintf(key.role_id, sizeof key.role_id, "%s", role.id);
    fixed_secret_of("kg_key_", 'B', secret);
    kg_store_hash_secret(secret, strlen(secret), key.hash);
    struct kg_route r1 = {
        .method = "GET", .pattern = "/grids/{g}/x", .permission = "r:read", .workspace_param = "g"};
    struct kg_route r2 = {.method = "*", .pattern = "/a/*", .permission = "r:read"};
    if (s->ops->role_create(s, &role) || s->ops->workspace_create(s, &w) ||
        s->ops->apikey_create(s, &key) || s->ops->route_add(s, api.id, &r1) ||
        s->ops->route_add(s, api.id, &r2)) {
        abort();
    }
    snprintf(srv.cfg.default_api, sizeof srv.cfg.default_api, "api://x");
    snprintf(srv.cfg.trusted_proxies, sizeof srv.cfg.trusted_proxies, "127.0.0.0/8");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    provision();
    return 0;
}

static void authorize(const uint8_t *data, size_t size)
{
    static char q[16384];
    struct kg_req req = {0};
    req.srv = &srv;
    req.path = KG_STR("/contoso/oauth2/v2.0/authorize");
    snprintf(req.peer, sizeof req.peer, "127.0.0.1");
    snprintf(req.trace_id, sizeof req.trace_id, "fuzz");
    memcpy(q, data + 1, size - 1);
    q[size - 1] = '\0';
    if (data[0] == '!') {
        req.method = "POST";
        req.headers[req.nheaders++] =
            (struct kg_kv){KG_STR("Content-Type"), KG_STR("application/x-www-form-urlencoded")};
        req.body = (struct kg_str){q, size - 1};
    } else {
        req.method = "GET";
        for (char *p = q, *amp; p && req.nquery < KG_MAX_QUERY; p = amp) {
            amp = strchr(p, '&');
            if (amp) {
                *amp++ = '\0';
            }
            char *eq = strchr(p, '=');
            if (eq) {
                *eq = '\0';
            }
            req.query[req.nquery++] =
                (struct kg_kv){kg_str_c(p), eq ? kg_str_c(eq + 1) : KG_STR_NULL};
        }
    }
    struct kg_resp resp = {0};
    kg_dispatch(&req, &resp);
    bool page = resp.body && resp.content_type && strncmp(resp.content_type, "text/html", 9) == 0;
    if (!resp.offload &&
        !(resp.status == 302 || (page && resp.status >= 200 && resp.status < 600))) {
        __builtin_trap();
    }
    if (page && strstr(resp.body, "<kg")) {
        __builtin_trap();
    }
    kg_resp_clear(&resp);
}

static void verify(const uint8_t *data, size_t size)
{
    static char buf[16384];
    struct kg_req req = {0};
    req.srv = &srv;
    req.method = "GET";
    req.path = KG_STR("/verify");
    snprintf(req.peer, sizeof req.peer, "127.0.0.1");
    req.peer_trusted = true; /* the gateway in front, as in deploy/nginx */
    snprintf(req.trace_id, sizeof req.trace_id, "fuzz");
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    for (char *line = buf, *nl; line && req.nheaders < KG_MAX_HEADERS; line = nl) {
        nl = strchr(line, '\n');
        if (nl) {
            *nl++ = '\0';
        }
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            req.headers[req.nheaders++] =
                (struct kg_kv){kg_str_c(line), kg_str_c(colon[1] == ' ' ? colon + 2 : colon + 1)};
        }
    }
    /* twice: the second answer may come from the decision cache (verify/memo.c), and must be
     * the one the rules give */
    int status[2];
    char identity[2][2048];
    for (int round = 0; round < 2; round++) {
        struct kg_resp resp = {0};
        req.on_worker = false;
        kg_dispatch(&req, &resp);
        if (resp.offload) { /* a store read: run again as a worker thread would (http/server.c) */
            kg_resp_clear(&resp);
            req.on_worker = true;
            kg_dispatch(&req, &resp);
        }
        bool allowed = resp.status == 200 && !resp.body;
        bool problem = resp.body && resp.content_type &&
                       strcmp(resp.content_type, "application/problem+json") == 0 &&
                       resp.status >= 400 && resp.status < 600;
        if (!allowed && !problem) {
            __builtin_trap();
        }
        status[round] = resp.status;
        size_t n = 0;
        identity[round][0] = '\0';
        for (size_t i = 0; i < resp.nheaders; i++) {
            if (strncmp(resp.headers[i].name, "X-Auth-", 7) != 0) {
                continue;
            }
            if (!allowed) {
                __builtin_trap(); /* identity headers only on a 200 (SPEC 12.6) */
            }
            int w = snprintf(identity[round] + n, sizeof identity[round] - n, "%s=%s\n",
                             resp.headers[i].name, resp.headers[i].value);
            n += w > 0 && (size_t)w < sizeof identity[round] - n ? (size_t)w : 0;
        }
        kg_resp_clear(&resp);
    }
    if (status[0] != status[1] || strcmp(identity[0], identity[1]) != 0) {
        __builtin_trap(); /* a remembered decision differs from the rules' */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384) {
        return 0;
    }
    if (size > 0 && data[0] == '@') {
        verify(data, size);
        return 0;
    }
    if (size > 0 && (data[0] == '?' || data[0] == '!')) {
        authorize(data, size);
        return 0;
    }
    struct kg_req req = {0};
    req.srv = &srv;
    req.method = "POST";
    req.path = KG_STR("/contoso/oauth2/v2.0/token");
    snprintf(req.peer, sizeof req.peer, "127.0.0.1");
    snprintf(req.trace_id, sizeof req.trace_id, "fuzz");
    char auth[1024] = "";
    const uint8_t *body = data;
    size_t n = size;
    if (size > 6 && memcmp(data, "Basic ", 6) == 0) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t hl = nl ? (size_t)(nl - data) : size;
        if (hl < sizeof auth && !memchr(data, '\0', hl)) {
            memcpy(auth, data, hl);
            auth[hl] = '\0';
            req.headers[req.nheaders++] = (struct kg_kv){KG_STR("Authorization"), kg_str_c(auth)};
        }
        body = nl ? nl + 1 : data + size;
        n = size - (size_t)(body - data);
    }
    req.headers[req.nheaders++] =
        (struct kg_kv){KG_STR("Content-Type"), KG_STR("application/x-www-form-urlencoded")};
    req.body = (struct kg_str){(const char *)body, n};
    struct kg_resp resp = {0};
    kg_dispatch(&req, &resp);
    if (!resp.offload) {
        struct kg_json *j = NULL;
        if (resp.status < 200 || resp.status > 599 || !resp.body ||
            kg_json_parse(resp.body, resp.body_len, 1 << 20, true, &j, NULL) != KG_OK) {
            __builtin_trap();
        }
        kg_json_free(j);
    }
    kg_resp_clear(&resp);
    return 0;
}
