/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: JWT parsing and verification (jose/) against fixed RS256 and ES256 keys. An
 * input that verifies would be a forgery: the fuzzer cannot know the private keys. */
#include <stdlib.h>

#include "fuzz.h"
#include "jose/jose.h"

static struct kg_key *keys[2];

static struct kg_key *make(const char *alg)
{
    static const uint8_t master[32] = {42};
    char kid[48];
    char *pub = NULL;
    uint8_t *sealed = NULL;
    size_t n = 0;
    struct kg_key *k = NULL;
    if (kg_key_generate(alg, master, kid, &pub, &sealed, &n, NULL) != KG_OK ||
        kg_key_unseal(alg, kid, master, sealed, n, &k, NULL) != KG_OK) {
        abort();
    }
    free(pub);
    free(sealed);
    return k;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    keys[0] = make("RS256");
    keys[1] = make("ES256");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kg_str jwt = {(const char *)data, size};
    char kid[48], alg[16];
    kg_jwt_peek(jwt, kid, alg, NULL);
    for (int i = 0; i < 2; i++) {
        struct kg_json *claims = NULL;
        if (kg_jwt_verify(jwt, keys[i], &claims, NULL) == KG_OK) {
            __builtin_trap();
        }
    }
    return 0;
}
