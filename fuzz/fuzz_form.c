/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: form bodies and query strings (http/form). */
#include <string.h>

#include "fuzz.h"
#include "http/form.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kg_form f;
    if (kg_form_parse((struct kg_str){(const char *)data, size}, &f, NULL) == KG_OK) {
        for (size_t i = 0; i < f.n; i++) {
            const char *v = kg_form_get(&f, f.f[i].name);
            if (v && strlen(v) != f.f[i].value_len) {
                __builtin_trap(); /* decoded values never contain NUL */
            }
        }
        kg_form_free(&f);
    }
    return 0;
}
