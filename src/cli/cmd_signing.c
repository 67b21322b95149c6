/* SPDX-License-Identifier: Apache-2.0
 * keygate signing-key list | rotate --tenant T (SPEC 11, 9): a tenant's signing keys with their
 * status (active, next, retired), and one rotation step: publish a next key, or, once the
 * published one is older than the JWKS max-age (--jwks-max-age, KEYGATE_JWKS_MAX_AGE, default
 * 300 s; give it the server's value), make it active and publish another. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "oauth/keyring.h"

static int list(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    struct kg_signing_key *keys = NULL;
    size_t n = 0;
    if (c->store->ops->signing_keys(c->store, t.id, &keys, &n) != KG_OK) {
        return kg_cli_fail("cannot read the signing keys");
    }
    struct kg_json *arr = kg_json_arr();
    struct kg_buf text;
    kg_buf_init(&text, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        struct kg_json *j = kg_json_obj();
        kg_json_set_str(j, "kid", keys[i].kid);
        kg_json_set_str(j, "alg", keys[i].alg);
        kg_json_set_str(j, "status", keys[i].status);
        kg_json_set_int(j, "created_at", keys[i].created_at);
        kg_json_set_int(j, "published_until", keys[i].retired_at);
        kg_json_arr_add(arr, j);
        kg_buf_printf(&text, "%-44s %s %-8s created %lld\n", keys[i].kid, keys[i].alg,
                      keys[i].status, (long long)keys[i].created_at);
    }
    kg_signing_keys_free(keys, n);
    int r = kg_cli_print(c, arr, text.p ? text.p : "");
    kg_buf_free(&text);
    return r;
}

static int rotate(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    const char *v = kg_args_get(a, "jwks-max-age");
    int64_t age = v ? kg_parse_duration(v) : 300;
    if (age < 1) {
        return kg_cli_fail("--jwks-max-age is a duration such as 300s or 5m");
    }
    bool promoted = false;
    int64_t ready = 0, now = kg_now();
    char kid[48];
    struct kg_err e = {0};
    enum kg_rc rc =
        kg_signing_rotate(c->store, c->master_key, &t, now, age, &promoted, &ready, kid, &e);
    if (rc == KG_ERR_CONFLICT) {
        return kg_cli_fail("the next key was published less than %llds ago; JWKS caches may not "
                           "have it yet: rotate again in %llds",
                           (long long)age, (long long)(ready - now));
    }
    if (rc) {
        return kg_cli_fail("%s", e.detail);
    }
    kg_cli_audit(c, t.id, promoted ? "signing_key.rotated" : "signing_key.published", kid);
    struct kg_json *j = kg_json_obj();
    kg_json_set_bool(j, "promoted", promoted);
    kg_json_set_str(j, "next", kid);
    char text[200];
    snprintf(text, sizeof text, "%s; new next key %s\n",
             promoted ? "the next key is active now" : "a next key is published", kid);
    return kg_cli_print(c, j, text);
}

int kg_cmd_signing_key(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[2], "list") == 0) {
        return kg_cli_run(argc, argv, "tenant=", list);
    }
    if (argc >= 3 && strcmp(argv[2], "rotate") == 0) {
        return kg_cli_run(argc, argv, "tenant= jwks-max-age=", rotate);
    }
    return kg_cli_fail("usage: keygate signing-key list|rotate --tenant T [--jwks-max-age D]");
}
