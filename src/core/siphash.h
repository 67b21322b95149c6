/* SPDX-License-Identifier: Apache-2.0
 * SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash, so that nobody who does not
 * know the key can choose strings that fall into one bucket of a hash table. */
#ifndef KG_CORE_SIPHASH_H
#define KG_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t kg_siphash24(const uint8_t key[16], const void *data, size_t n);

#endif
