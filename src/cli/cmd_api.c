/* SPDX-License-Identifier: Apache-2.0
 * keygate api create: registers a protected API (global, visible to every tenant) with the
 * permissions it defines, the delegated scopes it offers and its per-API rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "verify/path.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/limits.h"

/* Joins values with spaces after checking each is a bare token. */
static bool join(const char **v, int n, char *out, size_t cap, const char *what)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t l = strlen(v[i]);
        if (l == 0 || l > 128 || strpbrk(v[i], " \t\r\n\"\\/") || o + l + 2 > cap) {
            kg_cli_fail("bad %s: %s", what, v[i]);
            return false;
        }
        if (o) {
            out[o++] = ' ';
        }
        memcpy(out + o, v[i], l + 1);
        o += l;
    }
    return true;
}

static bool uri_ok(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n >= KG_MAX_API_URI || u[n - 1] == '/') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f || u[i] == '"' ||
            u[i] == '\\') {
            return false;
        }
    }
    return true;
}

static struct kg_json *api_json(const struct kg_api *api)
{
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "id", api->id);
    kg_json_set_str(j, "identifier", api->identifier);
    kg_json_set_str(j, "name", api->name);
    kg_json_set_str(j, "permissions", api->permissions);
    kg_json_set_str(j, "scopes", api->scopes);
    kg_json_set_bool(j, "require_caller_id", api->require_caller_id);
    kg_json_set_bool(j, "require_subscription_key", api->require_subscription_key);
    kg_json_set_int(j, "rate_limit", api->rate_limit);
    if (api->tenant_header[0]) {
        kg_json_set_str(j, "tenant_header", api->tenant_header);
    }
    return j;
}

static int create(struct kg_cli *c, const struct kg_args *a)
{
    if (a->npos != 1 || !uri_ok(a->pos[0])) {
        return kg_cli_fail("usage: keygate api create URI [--permission P]... [--scope S]...");
    }
    struct kg_api api;
    memset(&api, 0, sizeof api);
    kg_uuid4(api.id);
    kg_strlcpy(api.identifier, a->pos[0], sizeof api.identifier);
    const char *name = kg_args_get(a, "name");
    kg_strlcpy(api.name, name ? name : a->pos[0], sizeof api.name);
    const char *v[64];
    int n = kg_args_all(a, "permission", v, 64);
    if (!join(v, n, api.permissions, sizeof api.permissions, "permission")) {
        return 2;
    }
    n = kg_args_all(a, "scope", v, 64);
    if (!join(v, n, api.scopes, sizeof api.scopes, "scope")) {
        return 2;
    }
    api.require_caller_id = kg_args_flag(a, "require-caller-id");
    api.require_subscription_key = kg_args_flag(a, "require-subscription-key");
    const char *th = kg_args_get(a, "tenant-header");
    kg_strlcpy(api.tenant_header, th ? th : "", sizeof api.tenant_header);
    if (!kg_cli_rate_limit(a, &api.rate_limit)) {
        return 2;
    }
    api.created_at = kg_now();
    enum kg_rc rc = c->store->ops->api_create(c->store, &api);
    if (rc == KG_ERR_CONFLICT) {
        return kg_cli_fail("an API %s exists", api.identifier);
    }
    if (rc) {
        return kg_cli_fail("cannot create the API");
    }
    char text[400];
    snprintf(text, sizeof text, "created API %s (%s)\n", api.identifier, api.id);
    return kg_cli_print(c, api_json(&api), text);
}

static bool method_ok(const char *m)
{
    size_t n = strlen(m);
    if (strcmp(m, "*") == 0) {
        return true;
    }
    if (n == 0 || n >= 16) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (m[i] < 'A' || m[i] > 'Z') {
            return false;
        }
    }
    return true;
}

/* keygate api route add URI METHOD PATTERN --permission P [--workspace-param NAME] */
static int route_add(struct kg_cli *c, const struct kg_args *a)
{
    const char *perm = kg_args_get(a, "permission"), *wp = kg_args_get(a, "workspace-param");
    if (a->npos != 4 || strcmp(a->pos[0], "add") != 0 || !perm) {
        return kg_cli_fail("usage: keygate api route add URI METHOD PATTERN --permission P "
                           "[--workspace-param NAME]");
    }
    struct kg_api api;
    if (c->store->ops->api_get(c->store, a->pos[1], &api) != KG_OK) {
        return kg_cli_fail("no API %s", a->pos[1]);
    }
    struct kg_route r;
    memset(&r, 0, sizeof r);
    if (!method_ok(a->pos[2]) || !kg_route_pattern_valid(a->pos[3]) ||
        !kg_strlcpy(r.pattern, a->pos[3], sizeof r.pattern)) {
        return kg_cli_fail("bad method or pattern (e.g. GET /apm/grids/{workspace}/limits)");
    }
    if (!kg_words_has(api.permissions, perm, strlen(perm))) {
        return kg_cli_fail("the API %s defines no permission %s", api.identifier, perm);
    }
    if (wp) {
        char needle[80];
        snprintf(needle, sizeof needle, "{%s}", wp);
        if (!strstr(r.pattern, needle)) {
            return kg_cli_fail("the pattern has no {%s} segment", wp);
        }
        kg_strlcpy(r.workspace_param, wp, sizeof r.workspace_param);
    }
    kg_strlcpy(r.method, a->pos[2], sizeof r.method);
    kg_strlcpy(r.permission, perm, sizeof r.permission);
    if (c->store->ops->route_add(c->store, api.id, &r) != KG_OK) {
        return kg_cli_fail("cannot add the route");
    }
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "api", api.identifier);
    kg_json_set_str(j, "method", r.method);
    kg_json_set_str(j, "pattern", r.pattern);
    kg_json_set_str(j, "permission", r.permission);
    kg_json_set_str(j, "workspace_param", r.workspace_param);
    char text[600];
    snprintf(text, sizeof text, "route %s %s needs %s\n", r.method, r.pattern, r.permission);
    return kg_cli_print(c, j, text);
}

int kg_cmd_api(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[2], "create") == 0) {
        return kg_cli_run(argc, argv,
                          "name= permission= scope= require-caller-id require-subscription-key "
                          "tenant-header= rate-limit=",
                          create);
    }
    if (argc >= 3 && strcmp(argv[2], "route") == 0) {
        return kg_cli_run(argc, argv, "permission= workspace-param=", route_add);
    }
    return kg_cli_fail("usage: keygate api create URI ... | api route add URI METHOD PATTERN ...");
}
