/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the Cookie header (web/cookie) and typed user codes (oauth/device). */
#include <string.h>

#include "fuzz.h"
#include "oauth/device.h"
#include "web/cookie.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char v[48];
    struct kg_str h = {(const char *)data, size};
    if (kg_cookie_get(h, "kg_b", v, sizeof v) && strlen(v) >= sizeof v) {
        __builtin_trap();
    }
    char s[64], code[KG_USER_CODE_LEN + 1];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    if (kg_user_code_normalize(s, code) && strlen(code) != KG_USER_CODE_LEN) {
        __builtin_trap();
    }
    return 0;
}
