/* SPDX-License-Identifier: Apache-2.0
 * keygate: the one binary. Dispatches to the subcommands of SPEC 11. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int usage(void)
{
    fputs("usage: keygate COMMAND ...\n"
          "  init | serve | version\n"
          "  tenant create NAME [--display-name S] [--signing-alg RS256|ES256] | tenant list\n"
          "  api create URI [--permission P]... [--scope S]... [--require-caller-id]\n"
          "             [--require-subscription-key] [--tenant-header H] [--rate-limit N]\n"
          "  app create --tenant T NAME [--public] [--redirect-uri U]... [--auth-method M]\n"
          "             [--grant G]...\n"
          "  app secret add|list|remove --tenant T CLIENT_ID ...\n"
          "  app grant --tenant T CLIENT_ID --api URI --permission P...\n"
          "  user create --tenant T USERNAME --password-stdin [--role R]...\n"
          "  role create --tenant T NAME --permission PATTERN...\n"
          "  api route add URI METHOD PATTERN --permission P [--workspace-param NAME]\n"
          "  workspace create --tenant T NAME\n"
          "  member add --tenant T --workspace W (--user U | --app CLIENT_ID) --role R\n"
          "  key create --tenant T --workspace W --name N --role R [--expires D] [--rate-limit N]\n"
          "  key list --tenant T [--workspace W] | key revoke --tenant T ID\n"
          "  key rotate --tenant T ID [--overlap D]\n"
          "  subscription create --tenant T --api URI --name N\n"
          "  subscription regenerate --tenant T ID (--primary | --secondary)\n"
          "  audit list --tenant T [--since 1h] | audit verify --tenant T\n"
          "  signing-key list|rotate --tenant T [--jwks-max-age D]\n"
          "every command takes --data DIR (default ./var) or --db URL, and --json\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        return usage();
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (argc > 2 && strcmp(argv[2], "--json") == 0) {
            printf("{\"version\": \"%s\"}\n", KG_VERSION);
        } else {
            printf("keygate %s\n", KG_VERSION);
        }
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"init", kg_cmd_init},
                {"serve", kg_cmd_serve},
                {"tenant", kg_cmd_tenant},
                {"api", kg_cmd_api},
                {"app", kg_cmd_app},
                {"user", kg_cmd_user},
                {"role", kg_cmd_role},
                {"audit", kg_cmd_audit},
                {"workspace", kg_cmd_workspace},
                {"member", kg_cmd_member},
                {"key", kg_cmd_key},
                {"subscription", kg_cmd_subscription},
                {"signing-key", kg_cmd_signing_key}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(cmd, cmds[i].name) == 0) {
            return cmds[i].fn(argc, argv);
        }
    }
    return usage();
}
