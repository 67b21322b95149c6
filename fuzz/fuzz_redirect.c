/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: redirect URI validation and matching (oauth/redirect). Input: registered URI,
 * a NUL byte, requested URI. Invariant: a match implies the same bytes, or both loopback URIs
 * that differ at most in the port. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "oauth/redirect.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 2);
    memcpy(buf, data, size);
    buf[size] = '\0';
    buf[size + 1] = '\0';
    const char *reg = buf;
    const char *req = buf + strlen(buf) + 1;
    if (req > buf + size) {
        req = buf + size + 1;
    }
    kg_redirect_valid(reg, NULL);
    if (kg_redirect_match(reg, req) && strcmp(reg, req) != 0 &&
        (strncmp(reg, "http://", 7) != 0 || strncmp(req, "http://", 7) != 0)) {
        __builtin_trap(); /* only loopback http URIs may match without being equal */
    }
    free(buf);
    return 0;
}
