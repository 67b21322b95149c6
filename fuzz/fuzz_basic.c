/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the Authorization header's Basic credentials (http/authz). */
#include <string.h>

#include "fuzz.h"
#include "http/authz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kg_basic b;
    if (kg_authz_basic_parse((struct kg_str){(const char *)data, size}, &b, NULL) == KG_OK) {
        if (strlen(b.user) > KG_MAX_CLIENT_ID || strlen(b.pass) > KG_MAX_CLIENT_SECRET) {
            __builtin_trap();
        }
        kg_basic_wipe(&b);
    }
    return 0;
}
