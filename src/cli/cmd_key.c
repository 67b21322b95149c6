/* SPDX-License-Identifier: Apache-2.0
 * keygate key create | list | revoke | rotate (SPEC 11, seeds 000 and 004): API keys of a
 * workspace, each with one role, an optional expiry and rate limit. The key is shown once and
 * stored as its SHA-256; rotation issues a new key and keeps the old one valid for --overlap
 * (default none) and no longer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/crypto.h"

static struct kg_json *key_json(const struct kg_api_key *k)
{
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "id", k->id);
    kg_json_set_str(j, "name", k->name);
    kg_json_set_str(j, "workspace", k->workspace_id);
    kg_json_set_str(j, "role", k->role_id);
    kg_json_set_str(j, "hint", k->hint);
    kg_json_set_str(j, "created_by", k->created_by);
    kg_json_set_int(j, "created_at", k->created_at);
    kg_json_set_int(j, "expires_at", k->expires_at);
    kg_json_set_int(j, "revoked_at", k->revoked_at);
    kg_json_set_int(j, "last_used_at", k->last_used_at);
    kg_json_set_int(j, "rate_limit", k->rate_limit);
    return j;
}

/* Shows a new key once. */
static int print_new(struct kg_cli *c, const struct kg_api_key *k, char *secret, const char *old_id,
                     int64_t old_until)
{
    struct kg_json *j = key_json(k);
    kg_json_set_str(j, "key", secret);
    if (old_id) {
        kg_json_set_str(j, "old_id", old_id);
        kg_json_set_int(j, "old_valid_until", old_until);
    }
    char text[300];
    snprintf(text, sizeof text, "API key %s (%s)\n%s\n(shown once: store it now)\n", k->id, k->name,
             secret);
    int r = kg_cli_print(c, j, text);
    kg_wipe(secret, KG_SECRET_MAX);
    return r;
}

static int create(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    const char *ws = kg_args_get(a, "workspace"), *name = kg_args_get(a, "name");
    const char *role_name = kg_args_get(a, "role"), *exp = kg_args_get(a, "expires");
    if (!ws || !name || !role_name || strlen(name) >= KG_NAME) {
        return kg_cli_fail("usage: keygate key create --tenant T --workspace W --name N --role R "
                           "[--expires DURATION] [--rate-limit N]");
    }
    struct kg_store *st = c->store;
    struct kg_workspace w;
    struct kg_role role;
    if (st->ops->workspace_get(st, t.id, ws, &w) != KG_OK) {
        return kg_cli_fail("no workspace %s in tenant %s", ws, t.name);
    }
    if (st->ops->role_get(st, t.id, role_name, &role) != KG_OK) {
        return kg_cli_fail("no role %s in tenant %s", role_name, t.name);
    }
    struct kg_api_key k;
    memset(&k, 0, sizeof k);
    kg_uuid4(k.id);
    kg_strlcpy(k.tenant_id, t.id, sizeof k.tenant_id);
    kg_strlcpy(k.workspace_id, w.id, sizeof k.workspace_id);
    kg_strlcpy(k.name, name, sizeof k.name);
    kg_strlcpy(k.role_id, role.id, sizeof k.role_id);
    kg_strlcpy(k.created_by, "operator:cli", sizeof k.created_by);
    k.created_at = kg_now();
    if (exp) {
        int64_t d = kg_parse_duration(exp);
        if (d < 1) {
            return kg_cli_fail("--expires is a duration such as 90d, 12h or 30m");
        }
        k.expires_at = k.created_at + d;
    }
    if (!kg_cli_rate_limit(a, &k.rate_limit)) {
        return 2;
    }
    char secret[KG_SECRET_MAX];
    kg_cli_new_secret("kg_key_", secret, k.hash, k.hint);
    if (st->ops->apikey_create(st, &k) != KG_OK) {
        kg_wipe(secret, sizeof secret);
        return kg_cli_fail("cannot create the API key");
    }
    kg_cli_audit(c, t.id, "apikey.created", k.id);
    return print_new(c, &k, secret, NULL, 0);
}

static int list(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    const char *ws = kg_args_get(a, "workspace");
    struct kg_workspace w;
    if (ws && c->store->ops->workspace_get(c->store, t.id, ws, &w) != KG_OK) {
        return kg_cli_fail("no workspace %s in tenant %s", ws, t.name);
    }
    struct kg_api_key *keys = NULL;
    size_t n = 0;
    if (c->store->ops->apikey_list(c->store, t.id, ws ? w.id : NULL, &keys, &n) != KG_OK) {
        return kg_cli_fail("cannot list the API keys");
    }
    struct kg_json *arr = kg_json_arr();
    struct kg_buf text;
    kg_buf_init(&text, 1 << 24);
    for (size_t i = 0; i < n; i++) {
        kg_json_arr_add(arr, key_json(&keys[i]));
        kg_buf_printf(&text, "%s  %-24s %s%s\n", keys[i].id, keys[i].name, keys[i].hint,
                      keys[i].revoked_at ? "  (revoked)" : "");
    }
    free(keys);
    int r = kg_cli_print(c, arr, text.p ? text.p : "");
    kg_buf_free(&text);
    return r;
}

static int revoke(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    if (a->npos != 1) {
        return kg_cli_fail("usage: keygate key revoke --tenant T ID");
    }
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    if (c->store->ops->apikey_revoke(c->store, t.id, a->pos[0], kg_now()) != KG_OK) {
        return kg_cli_fail("no live API key %s in tenant %s", a->pos[0], t.name);
    }
    kg_cli_audit(c, t.id, "apikey.revoked", a->pos[0]);
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "id", a->pos[0]);
    kg_json_set_bool(j, "revoked", true);
    return kg_cli_print(c, j, "revoked\n");
}

static int rotate(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    if (a->npos != 1) {
        return kg_cli_fail("usage: keygate key rotate --tenant T ID [--overlap DURATION]");
    }
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    struct kg_store *st = c->store;
    struct kg_api_key old;
    if (st->ops->apikey_get(st, t.id, a->pos[0], &old) != KG_OK || old.revoked_at) {
        return kg_cli_fail("no live API key %s in tenant %s", a->pos[0], t.name);
    }
    int64_t now = kg_now(), overlap = 0;
    const char *ov = kg_args_get(a, "overlap");
    if (ov && (overlap = kg_parse_duration(ov)) < 0) {
        return kg_cli_fail("--overlap is a duration such as 10m or 1h");
    }
    struct kg_api_key k = old;
    kg_uuid4(k.id);
    k.created_at = now;
    k.last_used_at = 0;
    kg_strlcpy(k.created_by, "operator:cli", sizeof k.created_by);
    char secret[KG_SECRET_MAX];
    kg_cli_new_secret("kg_key_", secret, k.hash, k.hint);
    if (st->ops->apikey_rotate(st, t.id, old.id, &k, now + overlap) != KG_OK) {
        kg_wipe(secret, sizeof secret);
        return kg_cli_fail("cannot rotate the API key");
    }
    kg_cli_audit(c, t.id, "apikey.rotated", old.id);
    return print_new(c, &k, secret, old.id, now + overlap);
}

int kg_cmd_key(int argc, char **argv)
{
    static const struct {
        const char *name, *opts;
        int (*fn)(struct kg_cli *, const struct kg_args *);
    } sub[] = {
        {"create", "tenant= workspace= name= role= expires= rate-limit=", create},
        {"list", "tenant= workspace=", list},
        {"revoke", "tenant=", revoke},
        {"rotate", "tenant= overlap=", rotate},
    };
    for (size_t i = 0; argc >= 3 && i < sizeof sub / sizeof sub[0]; i++) {
        if (strcmp(argv[2], sub[i].name) == 0) {
            return kg_cli_run(argc, argv, sub[i].opts, sub[i].fn);
        }
    }
    return kg_cli_fail("usage: keygate key create|list|revoke|rotate ...");
}
