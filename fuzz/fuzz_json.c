/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the JSON door (json/) and its typed getters. */
#include <stdlib.h>

#include "core/limits.h"
#include "fuzz.h"
#include "json/json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kg_json *j = NULL;
    if (kg_json_parse((const char *)data, size, KG_MAX_JSON_BODY, true, &j, NULL) == KG_OK) {
        const char *s;
        int64_t i;
        const struct kg_json *a;
        for (size_t k = 0; k < kg_json_obj_len(j); k++) {
            const char *key = kg_json_key_at(j, k);
            kg_json_get_str(j, key, 64, &s);
            kg_json_get_int(j, key, &i);
            if (kg_json_get_arr(j, key, &a) == KG_OK && kg_json_arr_len(a)) {
                kg_json_arr_str(a, 0, 64, &s);
            }
        }
        char *d = kg_json_dump(j);
        free(d);
        kg_json_free(j);
    }
    return 0;
}
