/* SPDX-License-Identifier: Apache-2.0
 * The libFuzzer entry points every target defines. */
#ifndef KG_FUZZ_FUZZ_H
#define KG_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
