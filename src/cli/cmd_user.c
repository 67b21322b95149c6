/* SPDX-License-Identifier: Apache-2.0
 * keygate user create | role create: users (password read from stdin, argon2id) with tenant
 * roles, and custom roles of permission patterns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/encode.h"
#include "core/limits.h"
#include "oauth/oauth.h"

static bool read_password(char *out, size_t cap)
{
    if (!fgets(out, (int)cap, stdin)) {
        return false;
    }
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) {
        out[--n] = '\0';
    }
    return n > 0 && kg_utf8_valid(out, n);
}

static int user_create(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    if (a->npos != 1 || !kg_args_flag(a, "password-stdin")) {
        return kg_cli_fail("usage: keygate user create --tenant T USERNAME --password-stdin");
    }
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    struct kg_user u;
    memset(&u, 0, sizeof u);
    kg_uuid4(u.oid);
    kg_strlcpy(u.tenant_id, t.id, sizeof u.tenant_id);
    if (strlen(a->pos[0]) >= sizeof u.username ||
        !kg_username_key(a->pos[0], u.username_key, sizeof u.username_key)) {
        return kg_cli_fail("the user name is not valid UTF-8 of at most 127 bytes");
    }
    kg_strlcpy(u.username, a->pos[0], sizeof u.username);
    const char *email = kg_args_get(a, "email");
    const char *dn = kg_args_get(a, "display-name");
    kg_strlcpy(u.email, email ? email : "", sizeof u.email);
    kg_strlcpy(u.display_name, dn ? dn : "", sizeof u.display_name);
    const char *roles[16];
    int nr = kg_args_all(a, "role", roles, 16);
    struct kg_role rr[16];
    for (int i = 0; i < nr; i++) {
        if (c->store->ops->role_get(c->store, t.id, roles[i], &rr[i]) != KG_OK) {
            return kg_cli_fail("tenant %s has no role %s", t.name, roles[i]);
        }
    }
    char pw[KG_MAX_PASSWORD + 2];
    if (!read_password(pw, sizeof pw) || strlen(pw) > KG_MAX_PASSWORD) {
        kg_wipe(pw, sizeof pw);
        return kg_cli_fail("give the password on standard input (1 to %d bytes)", KG_MAX_PASSWORD);
    }
    bool ok = kg_password_hash(pw, u.password_hash);
    kg_wipe(pw, sizeof pw);
    if (!ok) {
        return kg_cli_fail("cannot hash the password");
    }
    u.created_at = kg_now();
    enum kg_rc rc = c->store->ops->user_create(c->store, &u);
    if (rc == KG_ERR_CONFLICT) {
        return kg_cli_fail("tenant %s has a user %s", t.name, u.username);
    }
    if (rc) {
        return kg_cli_fail("cannot create the user");
    }
    for (int i = 0; i < nr; i++) {
        if (c->store->ops->role_assign(c->store, t.id, u.oid, rr[i].id) != KG_OK) {
            return kg_cli_fail("cannot assign role %s", rr[i].name);
        }
    }
    kg_cli_audit(c, t.id, "user.created", u.oid);
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "id", u.oid);
    kg_json_set_str(j, "username", u.username);
    struct kg_json *ra = kg_json_arr();
    for (int i = 0; i < nr; i++) {
        kg_json_arr_add_str(ra, rr[i].name);
    }
    kg_json_set(j, "roles", ra);
    char text[300];
    snprintf(text, sizeof text, "created user %s (%s)\n", u.username, u.oid);
    return kg_cli_print(c, j, text);
}

static bool pattern_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 128) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == ':' || ch == '*' || ch == '.' || ch == '_' || ch == '-')) {
            return false;
        }
    }
    return true;
}

static int role_create(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    if (a->npos != 1) {
        return kg_cli_fail("usage: keygate role create --tenant T NAME --permission PATTERN...");
    }
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    struct kg_role r;
    memset(&r, 0, sizeof r);
    kg_uuid4(r.id);
    kg_strlcpy(r.tenant_id, t.id, sizeof r.tenant_id);
    if (strlen(a->pos[0]) >= sizeof r.name || strpbrk(a->pos[0], " \t\r\n")) {
        return kg_cli_fail("role names have no spaces and at most 127 bytes");
    }
    kg_strlcpy(r.name, a->pos[0], sizeof r.name);
    const char *v[64];
    int n = kg_args_all(a, "permission", v, 64);
    if (n == 0) {
        return kg_cli_fail("--permission is required");
    }
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (!pattern_ok(v[i]) || o + strlen(v[i]) + 2 > sizeof r.permissions) {
            return kg_cli_fail("bad permission pattern %s", v[i]);
        }
        o += (size_t)snprintf(r.permissions + o, sizeof r.permissions - o, "%s%s", o ? " " : "",
                              v[i]);
    }
    enum kg_rc rc = c->store->ops->role_create(c->store, &r);
    if (rc == KG_ERR_CONFLICT) {
        return kg_cli_fail("tenant %s has a role %s", t.name, r.name);
    }
    if (rc) {
        return kg_cli_fail("cannot create the role");
    }
    kg_cli_audit(c, t.id, "role.created", r.name);
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "id", r.id);
    kg_json_set_str(j, "name", r.name);
    kg_json_set_str(j, "permissions", r.permissions);
    char text[300];
    snprintf(text, sizeof text, "created role %s (%s)\n", r.name, r.id);
    return kg_cli_print(c, j, text);
}

int kg_cmd_user(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "create") != 0) {
        return kg_cli_fail("usage: keygate user create --tenant T USERNAME --password-stdin");
    }
    return kg_cli_run(argc, argv, "tenant= password-stdin email= display-name= role=", user_create);
}

int kg_cmd_role(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "create") != 0) {
        return kg_cli_fail("usage: keygate role create --tenant T NAME --permission P...");
    }
    return kg_cli_run(argc, argv, "tenant= permission=", role_create);
}

static int audit_list(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    const char *since = kg_args_get(a, "since");
    int64_t since_ms = 0;
    if (since) {
        int64_t d = kg_parse_duration(since);
        if (d < 0) {
            return kg_cli_fail("--since is a duration back from now, such as 1h");
        }
        since_ms = kg_now_ms() - d * 1000;
    }
    const char *lim = kg_args_get(a, "limit");
    long limit = lim ? strtol(lim, NULL, 10) : 1000;
    if (limit <= 0 || limit > 100000) {
        return kg_cli_fail("--limit is 1 to 100000");
    }
    struct kg_audit *ev = NULL;
    size_t n = 0;
    if (c->store->ops->audit_list(c->store, t.id, since_ms, (size_t)limit, &ev, &n) != KG_OK) {
        return kg_cli_fail("cannot read the audit trail");
    }
    struct kg_json *arr = kg_json_arr();
    struct kg_buf text;
    kg_buf_init(&text, 1 << 26);
    for (size_t i = 0; i < n; i++) {
        struct kg_json *j = kg_json_obj();
        kg_json_set_int(j, "time_ms", ev[i].time_ms);
        kg_json_set_str(j, "actor_type", ev[i].actor_type);
        kg_json_set_str(j, "actor_id", ev[i].actor_id);
        kg_json_set_str(j, "caller_id", ev[i].caller_id);
        kg_json_set_str(j, "action", ev[i].action);
        kg_json_set_str(j, "target", ev[i].target);
        kg_json_set_str(j, "outcome", ev[i].outcome);
        kg_json_set_str(j, "client_ip", ev[i].client_ip);
        kg_json_set_str(j, "trace_id", ev[i].trace_id);
        kg_json_set_str(j, "detail", ev[i].detail);
        kg_json_set_int(j, "seq", ev[i].seq);
        kg_json_set_str(j, "prev_hash", ev[i].prev_hash);
        kg_json_set_str(j, "hash", ev[i].hash);
        kg_json_arr_add(arr, j);
        kg_buf_printf(&text, "%lld %s %s:%s %s %s\n", (long long)ev[i].time_ms, ev[i].action,
                      ev[i].actor_type, ev[i].actor_id, ev[i].target, ev[i].outcome);
    }
    free(ev);
    int r = kg_cli_print(c, arr, text.p ? text.p : "");
    kg_buf_free(&text);
    return r;
}

/* keygate audit verify --tenant T: walks the tenant's hash chain. Exit 1 if it is broken. */
static int audit_verify(struct kg_cli *c, const struct kg_args *a)
{
    struct kg_tenant t;
    if (!kg_cli_tenant(c, a, &t)) {
        return 1;
    }
    int64_t count = 0, bad = 0;
    char head[KG_HASH_HEX];
    enum kg_rc rc = c->store->ops->audit_verify(c->store, t.id, &count, &bad, head);
    if (rc != KG_OK && rc != KG_ERR_INVALID) {
        return kg_cli_fail("cannot read the audit trail");
    }
    struct kg_json *j = kg_json_obj();
    kg_json_set_bool(j, "intact", rc == KG_OK);
    kg_json_set_int(j, "events", count);
    kg_json_set_str(j, "head", head);
    if (rc) {
        kg_json_set_int(j, "first_bad_seq", bad);
    }
    char text[300];
    if (rc) {
        snprintf(text, sizeof text,
                 "BROKEN: event %lld was edited, moved, or follows a removed "
                 "one (%lld events checked)\n",
                 (long long)bad, (long long)count);
    } else {
        snprintf(text, sizeof text, "intact: %lld events; head %s\n", (long long)count, head);
    }
    kg_cli_print(c, j, text);
    return rc ? 1 : 0;
}

int kg_cmd_audit(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[2], "list") == 0) {
        return kg_cli_run(argc, argv, "tenant= since= limit=", audit_list);
    }
    if (argc >= 3 && strcmp(argv[2], "verify") == 0) {
        return kg_cli_run(argc, argv, "tenant=", audit_verify);
    }
    return kg_cli_fail("usage: keygate audit list --tenant T [--since 1h] [--limit N] | "
                       "audit verify --tenant T");
}
