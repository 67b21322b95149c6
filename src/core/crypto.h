/* SPDX-License-Identifier: Apache-2.0
 * Small cryptographic helpers over OpenSSL libcrypto: random bytes and identifiers, SHA-256,
 * the one constant-time comparison every secret check goes through, AES-256-GCM sealing for data
 * at rest, and keygate's secret format (prefix, 256 random bits, checksum; SPEC 9). */
#ifndef KG_CORE_CRYPTO_H
#define KG_CORE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/str.h"

#define KG_SHA256_LEN 32
#define KG_UUID_LEN 36
#define KG_TRACE_ID_LEN 32

/* Fills buf from the CSPRNG; aborts if the CSPRNG fails (nothing safe can continue). */
void kg_random(void *buf, size_t n);
/* Random UUID version 4, lowercase, NUL-terminated into out[KG_UUID_LEN + 1]. */
void kg_uuid4(char *out);
/* 32 lowercase hex characters (128 bits) into out[KG_TRACE_ID_LEN + 1]. */
void kg_trace_id(char *out);
void kg_sha256(const void *p, size_t n, uint8_t out[KG_SHA256_LEN]);
/* HMAC-SHA-256 under a 32-byte key. */
void kg_hmac_sha256(const uint8_t key[32], const void *p, size_t n, uint8_t out[KG_SHA256_LEN]);
/* Constant-time equality; false when either side is missing or lengths differ (fail closed). */
bool kg_ct_eq(const void *a, size_t an, const void *b, size_t bn);
/* Wipes memory that held a secret. */
void kg_wipe(void *p, size_t n);

/* AES-256-GCM. sealed = nonce(12) || ciphertext || tag(16); aad binds the context. */
#define KG_SEAL_OVERHEAD 28
enum kg_rc kg_seal(const uint8_t key[32], const void *aad, size_t aad_n, const void *pt, size_t n,
                   uint8_t *out /* n + KG_SEAL_OVERHEAD */);
enum kg_rc kg_unseal(const uint8_t key[32], const void *aad, size_t aad_n, const uint8_t *in,
                     size_t n, uint8_t *out /* n - KG_SEAL_OVERHEAD */);

/* Secrets: PREFIX + base64url(32 random bytes) (43) + checksum (6: base64url of the first 4
 * bytes of SHA-256 over what precedes it). Only [A-Za-z0-9_-], so Basic decodes it alike raw and
 * percent-encoded (COMPAT). */
#define KG_SECRET_BODY 43
#define KG_SECRET_CHECK 6
#define KG_SECRET_MAX 64
/* Writes a new secret with prefix (e.g. "kg_sec_") into out[KG_SECRET_MAX]. */
void kg_secret_new(const char *prefix, char out[KG_SECRET_MAX]);
/* true if s has the prefix, the exact length, the alphabet and a matching checksum. */
bool kg_secret_valid(const char *prefix, struct kg_str s);

#endif
