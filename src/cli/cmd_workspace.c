/* SPDX-License-Identifier: Apache-2.0
 * keygate workspace create | member add | subscription create|regenerate (SPEC 11): workspaces
 * of a tenant, their members (users or applications' service principals, one role each), and
 * subscriptions of a tenant to an API with a primary and a secondary key (shown once). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "oauth/oauth.h"

static int workspace_create(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    if (a->npos != 1 || strlen(a->pos[0]) == 0 || strlen(a->pos[0]) >= KG_NAME) {
        return kg_cli_fail("usage: keygate workspace create --tenant T NAME");
    }
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    struct kg_workspace w;
    memset(&w, 0, sizeof w);
    kg_uuid4(w.id);
    kg_strlcpy(w.tenant_id, t.id, sizeof w.tenant_id);
    kg_strlcpy(w.name, a->pos[0], sizeof w.name);
    w.created_at = kg_now();
    enum kg_rc rc = c->store->ops->workspace_create(c->store, &w);
    if (rc) {
        return kg_cli_fail(
            rc == KG_ERR_CONFLICT ? "a workspace %s exists" : "cannot create workspace %s", w.name);
    }
    kg_cli_audit(c, t.id, "workspace.created", w.id);
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "id", w.id);
    kg_json_set_str(j, "name", w.name);
    char text[256];
    snprintf(text, sizeof text, "created workspace %s (%s)\n", w.name, w.id);
    return kg_cli_print(c, j, text);
}

/* The workspace named by --workspace (id or name). */
static bool workspace_arg(struct kg_cli *c, const struct kg_args *a, const struct kg_tenant *t,
                          struct kg_workspace *w)
{
    const char *v = kg_args_get(a, "workspace");
    if (!v || c->store->ops->workspace_get(c->store, t->id, v, w) != KG_OK) {
        kg_cli_fail("no workspace %s in tenant %s", v ? v : "(missing --workspace)", t->name);
        return false;
    }
    return true;
}

static int member_add(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    struct kg_workspace w;
    if (!kg_cli_tenant(c, a, &t) || !workspace_arg(c, a, &t, &w)) {
        return 1;
    }
    const char *user = kg_args_get(a, "user"), *app = kg_args_get(a, "app");
    const char *role_name = kg_args_get(a, "role");
    if ((user == NULL) == (app == NULL) || !role_name) {
        return kg_cli_fail("usage: keygate member add --tenant T --workspace W "
                           "(--user U | --app CLIENT_ID) --role R");
    }
    struct kg_store *st = c->store;
    struct kg_member m;
    memset(&m, 0, sizeof m);
    struct kg_role role;
    if (st->ops->role_get(st, t.id, role_name, &role) != KG_OK) {
        return kg_cli_fail("no role %s in tenant %s", role_name, t.name);
    }
    if (user) {
        struct kg_user u;
        char key[KG_NAME * 2];
        if (!kg_username_key(user, key, sizeof key) ||
            (st->ops->user_get_by_name(st, t.id, key, &u) != KG_OK &&
             st->ops->user_get(st, t.id, user, &u) != KG_OK)) {
            return kg_cli_fail("no user %s in tenant %s", user, t.name);
        }
        kg_strlcpy(m.principal_id, u.oid, sizeof m.principal_id);
        kg_strlcpy(m.principal_type, "user", sizeof m.principal_type);
    } else {
        struct kg_app ap;
        if (st->ops->app_get(st, t.id, app, &ap) != KG_OK) {
            return kg_cli_fail("no application %s in tenant %s", app, t.name);
        }
        kg_strlcpy(m.principal_id, ap.sp_oid, sizeof m.principal_id);
        kg_strlcpy(m.principal_type, "app", sizeof m.principal_type);
    }
    kg_strlcpy(m.workspace_id, w.id, sizeof m.workspace_id);
    kg_strlcpy(m.tenant_id, t.id, sizeof m.tenant_id);
    kg_strlcpy(m.role_id, role.id, sizeof m.role_id);
    if (st->ops->member_put(st, &m) != KG_OK) {
        return kg_cli_fail("cannot add the member");
    }
    kg_cli_audit(c, t.id, "member.added", m.principal_id);
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "workspace", w.id);
    kg_json_set_str(j, "principal", m.principal_id);
    kg_json_set_str(j, "type", m.principal_type);
    kg_json_set_str(j, "role", role.name);
    char text[512];
    snprintf(text, sizeof text, "%s %s is %s in %s\n", m.principal_type, m.principal_id, role.name,
             w.name);
    return kg_cli_print(c, j, text);
}

static int subscription_create(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    const char *uri = kg_args_get(a, "api"), *name = kg_args_get(a, "name");
    struct kg_api api;
    if (!uri || !name || strlen(name) >= KG_NAME) {
        return kg_cli_fail("usage: keygate subscription create --tenant T --api URI --name N");
    }
    if (c->store->ops->api_get(c->store, uri, &api) != KG_OK) {
        return kg_cli_fail("no API %s", uri);
    }
    struct kg_subscription x;
    memset(&x, 0, sizeof x);
    kg_uuid4(x.id);
    kg_strlcpy(x.tenant_id, t.id, sizeof x.tenant_id);
    kg_strlcpy(x.api_id, api.id, sizeof x.api_id);
    kg_strlcpy(x.name, name, sizeof x.name);
    x.created_at = kg_now();
    char primary[KG_SECRET_MAX], secondary[KG_SECRET_MAX], hint[16];
    kg_cli_new_secret("kg_sub_", primary, x.primary_hash, hint);
    kg_cli_new_secret("kg_sub_", secondary, x.secondary_hash, hint);
    if (c->store->ops->subscription_create(c->store, &x) != KG_OK) {
        return kg_cli_fail("cannot create the subscription");
    }
    kg_cli_audit(c, t.id, "subscription.created", x.id);
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "id", x.id);
    kg_json_set_str(j, "primary_key", primary);
    kg_json_set_str(j, "secondary_key", secondary);
    char text[400];
    snprintf(text, sizeof text,
             "subscription %s\nprimary key:   %s\nsecondary key: %s\n(shown once)\n", x.id, primary,
             secondary);
    int r = kg_cli_print(c, j, text);
    kg_wipe(primary, sizeof primary);
    kg_wipe(secondary, sizeof secondary);
    return r;
}

static int subscription_regenerate(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    bool p = kg_args_flag(a, "primary"), s = kg_args_flag(a, "secondary");
    if (a->npos != 1 || p == s) {
        return kg_cli_fail("usage: keygate subscription regenerate --tenant T ID "
                           "(--primary | --secondary)");
    }
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    char key[KG_SECRET_MAX], hash[KG_HASH_HEX], hint[16];
    kg_cli_new_secret("kg_sub_", key, hash, hint);
    if (c->store->ops->subscription_regenerate(c->store, t.id, a->pos[0], p, hash) != KG_OK) {
        return kg_cli_fail("no subscription %s in tenant %s", a->pos[0], t.name);
    }
    kg_cli_audit(c, t.id,
                 p ? "subscription.primary_regenerated" : "subscription.secondary_regenerated",
                 a->pos[0]);
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "id", a->pos[0]);
    kg_json_set_str(j, p ? "primary_key" : "secondary_key", key);
    char text[200];
    snprintf(text, sizeof text, "%s key: %s (shown once)\n", p ? "primary" : "secondary", key);
    int r = kg_cli_print(c, j, text);
    kg_wipe(key, sizeof key);
    return r;
}

int kg_cmd_workspace(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "create") != 0) {
        return kg_cli_fail("usage: keygate workspace create --tenant T NAME");
    }
    return kg_cli_run(argc, argv, "tenant=", workspace_create);
}

int kg_cmd_member(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "add") != 0) {
        return kg_cli_fail("usage: keygate member add --tenant T --workspace W "
                           "(--user U | --app CLIENT_ID) --role R");
    }
    return kg_cli_run(argc, argv, "tenant= workspace= user= app= role=", member_add);
}

int kg_cmd_subscription(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[2], "create") == 0) {
        return kg_cli_run(argc, argv, "tenant= api= name=", subscription_create);
    }
    if (argc >= 3 && strcmp(argv[2], "regenerate") == 0) {
        return kg_cli_run(argc, argv, "tenant= primary secondary", subscription_regenerate);
    }
    return kg_cli_fail("usage: keygate subscription create|regenerate ...");
}
