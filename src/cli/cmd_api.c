/* SPDX-License-Identifier: Apache-2.0
 * keygate api create: registers a protected API (global, visible to every tenant) with the
 * permissions it defines, the delegated scopes it offers and its per-API rules. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
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

int kg_cmd_api(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "create") != 0) {
        return kg_cli_fail("usage: keygate api create URI ...");
    }
    struct kg_args a;
    if (!kg_args_parse(argc, argv, 3,
                       "name= permission= scope= require-caller-id require-subscription-key "
                       "tenant-header=",
                       &a)) {
        return 2;
    }
    struct kg_cli c;
    if (!kg_cli_open(&a, &c)) {
        return 1;
    }
    int r = create(&c, &a);
    kg_cli_close(&c);
    return r;
}
