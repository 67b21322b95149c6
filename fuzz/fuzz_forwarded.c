/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the forwarded-request header set of /verify (verify/forwarded.c) and the route
 * matcher (verify/path.c). Input: header lines "Name: value" (the first line is the path after
 * /verify), then a line "--", then a route pattern. Invariants: an accepted original path is
 * canonical again and matches no route it should not (every literal segment equal). */
#include <string.h>

#include "fuzz.h"
#include "verify/forwarded.h"
#include "verify/path.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[8192];
    if (size >= sizeof buf) {
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    struct kg_kv h[16];
    size_t n = 0;
    char *line = buf, *rest = NULL, *pattern = NULL;
    while (line) {
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
        }
        if (!rest) {
            rest = line;
        } else if (strcmp(line, "--") == 0) {
            pattern = nl ? nl + 1 : NULL;
            break;
        } else if (n < 16) {
            char *colon = strchr(line, ':');
            if (colon) {
                *colon = '\0';
                h[n++] = (struct kg_kv){kg_str_c(line),
                                        kg_str_c(colon[1] == ' ' ? colon + 2 : colon + 1)};
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    struct kg_original o;
    for (int trusted = 0; trusted < 2; trusted++) {
        if (kg_forwarded_original(h, n, "GET", kg_str_c(rest ? rest : ""), trusted, &o) ==
            KG_OE_NONE) {
            char again[KG_MAX_VERIFY_PATH + 1];
            if (!kg_path_canonical(kg_str_c(o.path), again, sizeof again) ||
                strcmp(again, o.path) != 0) {
                __builtin_trap();
            }
            struct kg_route_params p;
            if (pattern && kg_route_pattern_valid(pattern) && kg_route_match(pattern, o.path, &p) &&
                strchr(pattern, '{') == NULL && strchr(pattern, '*') == NULL &&
                strcmp(pattern, o.path) != 0) {
                __builtin_trap(); /* a literal pattern matches only itself */
            }
        }
    }
    return 0;
}
