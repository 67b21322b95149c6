/* SPDX-License-Identifier: Apache-2.0
 * keygate app create | secret add|list|remove | grant: applications (OAuth clients) with their
 * service principal, client secrets (generated here, shown once, stored as SHA-256) and the
 * application permissions granted for client credentials. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "oauth/redirect.h"

static const char *const GRANTS[] = {"authorization_code",
                                     "client_credentials",
                                     "password",
                                     "refresh_token",
                                     "urn:ietf:params:oauth:grant-type:device_code",
                                     NULL};

static bool known_grant(const char *g)
{
    for (int i = 0; GRANTS[i]; i++) {
        if (strcmp(GRANTS[i], g) == 0) {
            return true;
        }
    }
    return false;
}

static void add_word(char *list, size_t cap, const char *w)
{
    size_t o = strlen(list), l = strlen(w);
    if (o + l + 2 <= cap) {
        if (o) {
            list[o++] = ' ';
        }
        memcpy(list + o, w, l + 1);
    }
}

/* A new secret record; the clear secret goes to out_secret (KG_SECRET_MAX). */
static void new_secret(const char *client_id, int64_t expires_at, struct kg_secret_rec *r,
                       char *out_secret)
{
    memset(r, 0, sizeof *r);
    kg_secret_new("kg_sec_", out_secret);
    kg_uuid4(r->id);
    kg_strlcpy(r->client_id, client_id, sizeof r->client_id);
    kg_store_hash_secret(out_secret, strlen(out_secret), r->hash);
    snprintf(r->hint, sizeof r->hint, "%.10s...", out_secret);
    r->created_at = kg_now();
    r->expires_at = expires_at;
}

static bool expiry(const struct kg_args *a, int64_t *out)
{
    const char *e = kg_args_get(a, "expires");
    *out = 0;
    if (!e) {
        return true;
    }
    int64_t d = kg_parse_duration(e);
    if (d <= 0) {
        kg_cli_fail("--expires is a duration such as 90d");
        return false;
    }
    *out = kg_now() + d;
    return true;
}

static int create(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    if (a->npos != 1) {
        return kg_cli_fail("usage: keygate app create --tenant T NAME [--public] ...");
    }
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    struct kg_app app;
    memset(&app, 0, sizeof app);
    kg_uuid4(app.client_id);
    kg_uuid4(app.sp_oid);
    kg_strlcpy(app.tenant_id, t.id, sizeof app.tenant_id);
    kg_strlcpy(app.name, a->pos[0], sizeof app.name);
    app.is_public = kg_args_flag(a, "public");
    const char *m = kg_args_get(a, "auth-method");
    if (app.is_public) {
        if (m && strcmp(m, "none") != 0) {
            return kg_cli_fail("a public application uses --auth-method none");
        }
        m = "none";
    } else {
        m = m ? m : "client_secret_post";
        if (strcmp(m, "client_secret_basic") != 0 && strcmp(m, "client_secret_post") != 0) {
            return kg_cli_fail("--auth-method is client_secret_basic or client_secret_post");
        }
    }
    kg_strlcpy(app.auth_method, m, sizeof app.auth_method);
    const char *v[32];
    int n = kg_args_all(a, "grant", v, 32);
    bool needs_refresh = false;
    for (int i = 0; i < n; i++) {
        if (!known_grant(v[i])) {
            return kg_cli_fail("unknown grant type %s", v[i]);
        }
        if (app.is_public && strcmp(v[i], "client_credentials") == 0) {
            return kg_cli_fail("public applications cannot use client_credentials");
        }
        add_word(app.grants, sizeof app.grants, v[i]);
        needs_refresh |= strcmp(v[i], "client_credentials") != 0;
    }
    if (n == 0) {
        add_word(app.grants, sizeof app.grants, "authorization_code");
        add_word(app.grants, sizeof app.grants,
                 app.is_public ? "urn:ietf:params:oauth:grant-type:device_code"
                               : "client_credentials");
        needs_refresh = true;
    }
    if (needs_refresh && !strstr(app.grants, "refresh_token")) {
        add_word(app.grants, sizeof app.grants, "refresh_token");
    }
    n = kg_args_all(a, "redirect-uri", v, 32);
    for (int i = 0; i < n; i++) {
        const char *why = NULL;
        if (!kg_redirect_valid(v[i], &why)) {
            return kg_cli_fail("bad redirect URI %s: %s", v[i], why);
        }
        add_word(app.redirect_uris, sizeof app.redirect_uris, v[i]);
    }
    app.created_at = kg_now();
    const char *lt = kg_args_get(a, "token-lifetime");
    if (lt) {
        app.token_lifetime = kg_parse_duration(lt);
        if (app.token_lifetime < 60 || app.token_lifetime > 86400) {
            return kg_cli_fail("--token-lifetime must be between 60s and 24h");
        }
    }
    struct kg_secret_rec rec;
    char secret[KG_SECRET_MAX] = "";
    if (!app.is_public) {
        new_secret(app.client_id, 0, &rec, secret);
    }
    if (c->store->ops->app_create(c->store, &app, app.is_public ? NULL : &rec) != KG_OK) {
        kg_wipe(secret, sizeof secret);
        return kg_cli_fail("cannot create the application");
    }
    kg_cli_audit(c, t.id, "app.created", app.client_id);
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "client_id", app.client_id);
    if (!app.is_public) {
        kg_json_set_str(j, "client_secret", secret);
        kg_json_set_str(j, "secret_id", rec.id);
    }
    kg_json_set_str(j, "name", app.name);
    kg_json_set_str(j, "service_principal_id", app.sp_oid);
    kg_json_set_str(j, "auth_method", app.auth_method);
    kg_json_set_str(j, "grants", app.grants);
    char text[512];
    snprintf(text, sizeof text, "client_id:     %s\n%s%s%s", app.client_id,
             app.is_public ? "" : "client_secret: ", secret,
             app.is_public ? ""
                           : "\n"
                             "(the secret is shown only now)\n");
    int r = kg_cli_print(c, j, text);
    kg_wipe(secret, sizeof secret);
    kg_wipe(text, sizeof text);
    return r;
}

static bool app_of(struct kg_cli *c, const struct kg_args *a, struct kg_app *app)
{
    struct kg_tenant t;
    if (a->npos < 1) {
        kg_cli_fail("the CLIENT_ID is missing");
        return false;
    }
    if (!kg_cli_tenant(c, a, &t)) {
        return false;
    }
    if (c->store->ops->app_get(c->store, t.id, a->pos[0], app) != KG_OK) {
        kg_cli_fail("no application %s in tenant %s", a->pos[0], t.name);
        return false;
    }
    return true;
}

static int secret_cmd(struct kg_cli *c, const char *verb, const struct kg_args *a)
{
    struct kg_app app;
    if (!app_of(c, a, &app)) {
        return 1;
    }
    if (strcmp(verb, "add") == 0) {
        int64_t exp;
        if (!expiry(a, &exp)) {
            return 2;
        }
        struct kg_secret_rec rec;
        char secret[KG_SECRET_MAX];
        new_secret(app.client_id, exp, &rec, secret);
        if (c->store->ops->secret_add(c->store, &rec) != KG_OK) {
            return kg_cli_fail("cannot add the secret");
        }
        kg_cli_audit(c, app.tenant_id, "app.secret_added", app.client_id);
        struct kg_json *j = kg_json_obj();
        kg_json_set_str(j, "id", rec.id);
        kg_json_set_str(j, "client_secret", secret);
        kg_json_set_int(j, "expires_at", rec.expires_at);
        char text[200];
        snprintf(text, sizeof text, "secret %s: %s\n(shown only now)\n", rec.id, secret);
        int r = kg_cli_print(c, j, text);
        kg_wipe(secret, sizeof secret);
        kg_wipe(text, sizeof text);
        return r;
    }
    if (strcmp(verb, "list") == 0) {
        struct kg_secret_rec *recs = NULL;
        size_t n = 0;
        if (c->store->ops->secret_list(c->store, app.client_id, &recs, &n) != KG_OK) {
            return kg_cli_fail("cannot list secrets");
        }
        struct kg_json *arr = kg_json_arr();
        struct kg_buf text;
        kg_buf_init(&text, 1 << 20);
        for (size_t i = 0; i < n; i++) {
            struct kg_json *j = kg_json_obj();
            kg_json_set_str(j, "id", recs[i].id);
            kg_json_set_str(j, "hint", recs[i].hint);
            kg_json_set_int(j, "created_at", recs[i].created_at);
            kg_json_set_int(j, "expires_at", recs[i].expires_at);
            kg_json_arr_add(arr, j);
            kg_buf_printf(&text, "%s  %s\n", recs[i].id, recs[i].hint);
        }
        free(recs);
        int r = kg_cli_print(c, arr, text.p ? text.p : "");
        kg_buf_free(&text);
        return r;
    }
    if (strcmp(verb, "remove") == 0) {
        if (a->npos != 2) {
            return kg_cli_fail("usage: keygate app secret remove --tenant T CLIENT_ID SECRET_ID");
        }
        enum kg_rc rc = c->store->ops->secret_remove(c->store, app.client_id, a->pos[1]);
        if (rc) {
            return kg_cli_fail(rc == KG_ERR_NOT_FOUND ? "no such secret" : "cannot remove");
        }
        kg_cli_audit(c, app.tenant_id, "app.secret_removed", a->pos[1]);
        struct kg_json *j = kg_json_obj();
        kg_json_set_str(j, "removed", a->pos[1]);
        return kg_cli_print(c, j, "removed\n");
    }
    return kg_cli_fail("usage: keygate app secret add|list|remove");
}

static int grant(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_app app;
    if (!app_of(c, a, &app)) {
        return 1;
    }
    const char *uri = kg_args_get(a, "api");
    struct kg_api api;
    if (!uri || c->store->ops->api_get(c->store, uri, &api) != KG_OK) {
        return kg_cli_fail("--api names no registered API");
    }
    const char *v[64];
    int n = kg_args_all(a, "permission", v, 64);
    if (n == 0) {
        return kg_cli_fail("--permission is required");
    }
    for (int i = 0; i < n; i++) {
        if (!kg_words_has(api.permissions, v[i], strlen(v[i]))) {
            return kg_cli_fail("%s does not define the permission %s", api.identifier, v[i]);
        }
    }
    for (int i = 0; i < n; i++) {
        if (c->store->ops->app_grant(c->store, app.client_id, api.id, v[i]) != KG_OK) {
            return kg_cli_fail("cannot grant %s", v[i]);
        }
    }
    kg_cli_audit(c, app.tenant_id, "app.permission_granted", app.client_id);
    char perms[KG_LIST];
    c->store->ops->app_permissions(c->store, app.client_id, api.id, perms);
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "client_id", app.client_id);
    kg_json_set_str(j, "api", api.identifier);
    kg_json_set_str(j, "permissions", perms);
    char text[KG_LIST + 64];
    snprintf(text, sizeof text, "granted: %s\n", perms);
    return kg_cli_print(c, j, text);
}

int kg_cmd_app(int argc, char **argv)
{
    if (argc < 3) {
        return kg_cli_fail("usage: keygate app create|secret|grant ...");
    }
    bool is_secret = strcmp(argv[2], "secret") == 0;
    if (is_secret && argc < 4) {
        return kg_cli_fail("usage: keygate app secret add|list|remove ...");
    }
    struct kg_args a;
    if (!kg_args_parse(argc, argv, is_secret ? 4 : 3,
                       "tenant= public redirect-uri= auth-method= grant= token-lifetime= "
                       "expires= api= permission=",
                       &a)) {
        return 2;
    }
    struct kg_cli c;
    if (!kg_cli_open(&a, &c)) {
        return 1;
    }
    int r = strcmp(argv[2], "create") == 0  ? create(&c, &a)
            : is_secret                     ? secret_cmd(&c, argv[3], &a)
            : strcmp(argv[2], "grant") == 0 ? grant(&c, &a)
                                            : kg_cli_fail("unknown: app %s", argv[2]);
    kg_cli_close(&c);
    return r;
}
