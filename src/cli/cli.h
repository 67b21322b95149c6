/* SPDX-License-Identifier: Apache-2.0
 * The keygate command line (SPEC 11): argument parsing shared by every subcommand, the
 * provisioning commands that work on the store directly (also while a server runs on it), and
 * serve. With --json every command prints exactly one JSON document on stdout; errors go to
 * stderr with a non-zero exit status. */
#ifndef KG_CLI_CLI_H
#define KG_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "json/json.h"
#include "store/store.h"

#define KG_MAX_ARGS 128

struct kg_args {
    int npos;
    const char *pos[16];
    int nopt;
    struct {
        char name[48];
        const char *value; /* NULL for flags; points into argv */
    } opt[KG_MAX_ARGS];
};

/* Parses argv[first..argc) against the allowed options ("tenant= json public permission=..."):
 * "name=" takes a value, "name" is a flag. Fails (message on stderr) on anything else. */
bool kg_args_parse(int argc, char **argv, int first, const char *allowed, struct kg_args *a);
/* The value given by flag, else KEYGATE_<NAME> from the environment, else the config file
 * (KEYGATE_CONFIG or --config: "name = value" lines), else NULL. */
const char *kg_args_get(const struct kg_args *a, const char *name);
bool kg_args_flag(const struct kg_args *a, const char *name);
/* Every value of a repeated option, in order; returns the count. */
int kg_args_all(const struct kg_args *a, const char *name, const char **out, int max);

/* "90d", "12h", "30m", "45s" or plain seconds; -1 if malformed. */
int64_t kg_parse_duration(const char *s);

/* Context of a provisioning command: the opened store and output mode. */
struct kg_cli {
    struct kg_store *store;
    uint8_t master_key[32];
    bool json;
    char data_dir[1024];
};

/* Opens the store named by --db/--data (and the master key). Prints errors. */
bool kg_cli_open(const struct kg_args *a, struct kg_cli *c);
void kg_cli_close(struct kg_cli *c);
/* Prints doc (JSON mode) or the text; consumes doc. Returns 0. */
int kg_cli_print(const struct kg_cli *c, struct kg_json *doc, const char *text);
/* Prints "keygate: msg" on stderr; returns the exit status 1 (2 for usage). */
int kg_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Resolves --tenant into a record; prints an error when it fails. */
bool kg_cli_tenant(const struct kg_cli *c, const struct kg_args *a, struct kg_tenant *t);
/* Records an operator audit event for a provisioning change. */
void kg_cli_audit(const struct kg_cli *c, const char *tenant_id, const char *action,
                  const char *target);

int kg_cmd_init(int argc, char **argv);
int kg_cmd_serve(int argc, char **argv);
int kg_cmd_tenant(int argc, char **argv);
int kg_cmd_api(int argc, char **argv);
int kg_cmd_app(int argc, char **argv);
int kg_cmd_user(int argc, char **argv);
int kg_cmd_role(int argc, char **argv);
int kg_cmd_audit(int argc, char **argv);

/* Parses argv[3..] against allowed, opens the store, runs fn, closes. */
int kg_cli_run(int argc, char **argv, const char *allowed,
               int (*fn)(struct kg_cli *, const struct kg_args *));
/* --rate-limit N (requests per second per credential, 1 to 1000000), 0 when absent. Prints
 * the error and returns false when malformed. */
bool kg_cli_rate_limit(const struct kg_args *a, int64_t *out);
/* The secret as shown once, and its record fields: hash and a hint of its first characters. */
void kg_cli_new_secret(const char *prefix, char secret[64], char hash[65], char hint[16]);

int kg_cmd_workspace(int argc, char **argv);
int kg_cmd_member(int argc, char **argv);
int kg_cmd_key(int argc, char **argv);
int kg_cmd_subscription(int argc, char **argv);
int kg_cmd_signing_key(int argc, char **argv);

/* Registers keygate's own API (api://keygate) if it is missing. */
enum kg_rc kg_bootstrap(struct kg_store *s);

#endif
