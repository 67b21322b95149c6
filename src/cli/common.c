/* SPDX-License-Identifier: Apache-2.0
 * What every provisioning command shares: opening the store, printing, tenant lookup, audit
 * events for operator changes, and the bootstrap of keygate's own API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "server/server.h"

bool kg_cli_open(const struct kg_args *a, struct kg_cli *c)
{
    memset(c, 0, sizeof *c);
    c->json = kg_args_flag(a, "json");
    const char *data = kg_args_get(a, "data");
    kg_strlcpy(c->data_dir, data ? data : "./var", sizeof c->data_dir);
    const char *db = kg_args_get(a, "db");
    struct kg_err e = {0};
    kg_log_set_level(KG_LOG_WARN);
    if (kg_store_open(db ? db : c->data_dir, &c->store, &e) != KG_OK) {
        kg_cli_fail("cannot open the store: %s", e.detail);
        return false;
    }
    if (kg_master_key_load(c->data_dir, true, c->master_key, &e) != KG_OK) {
        kg_cli_fail("%s", e.detail);
        kg_store_close(c->store);
        return false;
    }
    if (kg_bootstrap(c->store) != KG_OK) {
        kg_cli_fail("cannot initialise the store");
        kg_store_close(c->store);
        return false;
    }
    return true;
}

void kg_cli_close(struct kg_cli *c)
{
    kg_store_close(c->store);
    kg_wipe(c->master_key, sizeof c->master_key);
}

int kg_cli_print(const struct kg_cli *c, struct kg_json *doc, const char *text)
{
    if (c->json) {
        char *s = kg_json_dump_pretty(doc);
        puts(s);
        free(s);
    } else if (text) {
        fputs(text, stdout);
    }
    kg_json_free(doc);
    return 0;
}

bool kg_cli_tenant(const struct kg_cli *c, const struct kg_args *a, struct kg_tenant *t)
{
    const char *alias = kg_args_get(a, "tenant");
    if (!alias) {
        kg_cli_fail("--tenant is required");
        return false;
    }
    if (c->store->ops->tenant_get(c->store, alias, t) != KG_OK) {
        kg_cli_fail("no tenant %s", alias);
        return false;
    }
    return true;
}

void kg_cli_audit(const struct kg_cli *c, const char *tenant_id, const char *action,
                  const char *target)
{
    struct kg_audit ev;
    memset(&ev, 0, sizeof ev);
    ev.time_ms = kg_now_ms();
    kg_strlcpy(ev.tenant_id, tenant_id, sizeof ev.tenant_id);
    kg_strlcpy(ev.actor_type, "operator", sizeof ev.actor_type);
    kg_strlcpy(ev.actor_id, "cli", sizeof ev.actor_id);
    kg_strlcpy(ev.action, action, sizeof ev.action);
    kg_strlcpy(ev.target, target, sizeof ev.target);
    kg_strlcpy(ev.outcome, "success", sizeof ev.outcome);
    kg_trace_id(ev.trace_id);
    if (c->store->ops->audit_append(c->store, &ev, 1) != KG_OK) {
        kg_cli_fail("warning: the audit event for %s could not be written", action);
    }
}

enum kg_rc kg_bootstrap(struct kg_store *s)
{
    struct kg_api api;
    enum kg_rc rc = s->ops->api_get(s, "api://keygate", &api);
    if (rc != KG_ERR_NOT_FOUND) {
        return rc;
    }
    memset(&api, 0, sizeof api);
    kg_uuid4(api.id);
    kg_strlcpy(api.identifier, "api://keygate", sizeof api.identifier);
    kg_strlcpy(api.name, "keygate administration", sizeof api.name);
    kg_strlcpy(api.permissions, "introspect revoke tenants:read tenants:write verify:explain",
               sizeof api.permissions);
    kg_strlcpy(api.scopes, "access_as_user", sizeof api.scopes);
    api.created_at = kg_now();
    rc = s->ops->api_create(s, &api);
    return rc == KG_ERR_CONFLICT ? KG_OK : rc; /* created concurrently by another process */
}

int kg_cli_run(int argc, char **argv, const char *allowed,
               int (*fn)(struct kg_cli *, const struct kg_args *))
{
    struct kg_args a;
    if (!kg_args_parse(argc, argv, 3, allowed, &a)) {
        return 2;
    }
    struct kg_cli c;
    if (!kg_cli_open(&a, &c)) {
        return 1;
    }
    int r = fn(&c, &a);
    kg_cli_close(&c);
    return r;
}

void kg_cli_new_secret(const char *prefix, char secret[64], char hash[65], char hint[16])
{
    kg_secret_new(prefix, secret);
    kg_store_hash_secret(secret, strlen(secret), hash);
    snprintf(hint, 16, "%.11s", secret);
}

bool kg_cli_rate_limit(const struct kg_args *a, int64_t *out)
{
    const char *v = kg_args_get(a, "rate-limit");
    *out = 0;
    if (!v) {
        return true;
    }
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (!end || *end || n < 1 || n > 1000000) {
        kg_cli_fail("--rate-limit is requests per second, 1 to 1000000");
        return false;
    }
    *out = n;
    return true;
}
