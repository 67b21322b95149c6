/* SPDX-License-Identifier: Apache-2.0
 * keygate tenant create|list: a tenant is created with its first signing key (sealed under the
 * master key) and the three built-in roles, in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "jose/jose.h"

static bool slug_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) {
            return false;
        }
    }
    return !(n == 36 && s[8] == '-' && s[13] == '-'); /* not shaped like an id */
}

static void role(struct kg_role *r, const char *tid, const char *name, const char *perms)
{
    memset(r, 0, sizeof *r);
    kg_uuid4(r->id);
    kg_strlcpy(r->tenant_id, tid, sizeof r->tenant_id);
    kg_strlcpy(r->name, name, sizeof r->name);
    kg_strlcpy(r->permissions, perms, sizeof r->permissions);
    r->builtin = true;
}

static struct kg_json *tenant_json(const struct kg_tenant *t)
{
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "id", t->id);
    kg_json_set_str(j, "name", t->name);
    kg_json_set_str(j, "display_name", t->display_name);
    kg_json_set_str(j, "signing_alg", t->signing_alg);
    kg_json_set_int(j, "token_lifetime", t->token_lifetime);
    kg_json_set_int(j, "created_at", t->created_at);
    return j;
}

static int create(struct kg_cli *c, const struct kg_args *a)
{
    if (a->npos != 1) {
        return kg_cli_fail("usage: keygate tenant create NAME [--display-name S]");
    }
    const char *name = a->pos[0];
    if (!slug_ok(name)) {
        return kg_cli_fail("tenant names are 1-63 lowercase letters, digits and dashes");
    }
    const char *alg = kg_args_get(a, "signing-alg");
    alg = alg ? alg : "RS256";
    if (strcmp(alg, "RS256") != 0 && strcmp(alg, "ES256") != 0) {
        return kg_cli_fail("--signing-alg is RS256 or ES256");
    }
    const char *lt = kg_args_get(a, "token-lifetime");
    int64_t life = lt ? kg_parse_duration(lt) : 3600;
    if (life < 60 || life > 86400) {
        return kg_cli_fail("--token-lifetime must be between 60s and 24h");
    }
    struct kg_tenant t;
    memset(&t, 0, sizeof t);
    kg_uuid4(t.id);
    kg_strlcpy(t.name, name, sizeof t.name);
    const char *dn = kg_args_get(a, "display-name");
    kg_strlcpy(t.display_name, dn ? dn : name, sizeof t.display_name);
    kg_strlcpy(t.signing_alg, alg, sizeof t.signing_alg);
    t.token_lifetime = life;
    t.created_at = kg_now();

    struct kg_signing_key k;
    memset(&k, 0, sizeof k);
    struct kg_err e = {0};
    if (kg_key_generate(alg, c->master_key, k.kid, &k.public_jwk, &k.private_sealed,
                        &k.private_sealed_len, &e) != KG_OK) {
        return kg_cli_fail("%s", e.detail);
    }
    kg_strlcpy(k.tenant_id, t.id, sizeof k.tenant_id);
    kg_strlcpy(k.alg, alg, sizeof k.alg);
    kg_strlcpy(k.status, "active", sizeof k.status);
    k.created_at = t.created_at;
    struct kg_role roles[3];
    role(&roles[0], t.id, "Owner", "*");
    role(&roles[1], t.id, "Contributor", "*:read *:write");
    role(&roles[2], t.id, "Reader", "*:read");
    enum kg_rc rc = c->store->ops->tenant_create(c->store, &t, &k, roles, 3);
    kg_signing_key_clear(&k);
    if (rc == KG_ERR_CONFLICT) {
        return kg_cli_fail("a tenant named %s exists", name);
    }
    if (rc) {
        return kg_cli_fail("cannot create the tenant (%s)", kg_rc_name(rc));
    }
    kg_cli_audit(c, t.id, "tenant.created", t.name);
    char text[256];
    snprintf(text, sizeof text, "created tenant %s (%s)\n", t.name, t.id);
    return kg_cli_print(c, tenant_json(&t), text);
}

static int list(struct kg_cli *c)
{
    struct kg_tenant *ts = NULL;
    size_t n = 0;
    if (c->store->ops->tenant_list(c->store, &ts, &n) != KG_OK) {
        return kg_cli_fail("cannot list tenants");
    }
    struct kg_json *arr = kg_json_arr();
    struct kg_buf text;
    kg_buf_init(&text, 1 << 24);
    for (size_t i = 0; i < n; i++) {
        kg_json_arr_add(arr, tenant_json(&ts[i]));
        kg_buf_printf(&text, "%s  %s  %s\n", ts[i].id, ts[i].name, ts[i].display_name);
    }
    free(ts);
    int r = kg_cli_print(c, arr, text.p ? text.p : "");
    kg_buf_free(&text);
    return r;
}

int kg_cmd_tenant(int argc, char **argv)
{
    if (argc < 3) {
        return kg_cli_fail("usage: keygate tenant create|list");
    }
    struct kg_args a;
    if (!kg_args_parse(argc, argv, 3, "display-name= signing-alg= token-lifetime=", &a)) {
        return 2;
    }
    struct kg_cli c;
    if (!kg_cli_open(&a, &c)) {
        return 1;
    }
    int r = strcmp(argv[2], "create") == 0 ? create(&c, &a)
            : strcmp(argv[2], "list") == 0 ? list(&c)
                                           : kg_cli_fail("unknown: tenant %s", argv[2]);
    kg_cli_close(&c);
    return r;
}
