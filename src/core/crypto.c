/* SPDX-License-Identifier: Apache-2.0
 * See crypto.h. Everything here calls OpenSSL directly; the only state is the random pool. */
#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"

static void random_direct(void *buf, size_t n)
{
    if (RAND_bytes(buf, (int)n) != 1) {
        fputs("keygate: CSPRNG failure\n", stderr);
        abort();
    }
}

/* Small draws (identifiers, nonces) come from a per-thread pool refilled 1 KiB at a time: every
 * RAND_bytes call costs OpenSSL's locks and a getpid() fork check, several times per token.
 * Bytes are handed out once and wiped from the pool as they leave. A child process drops the
 * pool it inherited (an atfork handler, which runs in the one thread a child has), so parent and
 * child never hand out the same bytes. */
#define POOL 1024
static _Thread_local uint8_t pool[POOL];
static _Thread_local size_t pool_left;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void drop_pool(void)
{
    OPENSSL_cleanse(pool, sizeof pool);
    pool_left = 0;
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, drop_pool);
}

void kg_random(void *buf, size_t n)
{
    if (n > 64) {
        random_direct(buf, n);
        return;
    }
    if (pool_left < n) {
        pthread_once(&atfork_once, register_atfork);
        random_direct(pool, POOL);
        pool_left = POOL;
    }
    uint8_t *src = pool + POOL - pool_left;
    memcpy(buf, src, n);
    OPENSSL_cleanse(src, n);
    pool_left -= n;
}

void kg_uuid4(char *out)
{
    uint8_t b[16];
    kg_random(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    char hex[33];
    kg_hex_encode(b, 16, hex);
    /* 8-4-4-4-12 */
    static const int group[] = {8, 4, 4, 4, 12};
    size_t o = 0, h = 0;
    for (int i = 0; i < 5; i++) {
        if (i) {
            out[o++] = '-';
        }
        memcpy(out + o, hex + h, (size_t)group[i]);
        o += (size_t)group[i];
        h += (size_t)group[i];
    }
    out[o] = '\0';
}

void kg_trace_id(char *out)
{
    uint8_t b[16];
    kg_random(b, sizeof b);
    kg_hex_encode(b, sizeof b, out);
}

/* Fetched once: SHA256() and EVP_sha256() look the algorithm up in the provider on every call,
 * which costs more than hashing a secret. Each thread hashes with a context of its own, made
 * once and freed when the thread ends, instead of allocating one per hash (EVP_Digest). */
static EVP_MD *sha256_md;
static pthread_key_t sha256_ctx_key;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (pthread_key_create(&sha256_ctx_key, sha256_ctx_free) != 0) {
        sha256_md = NULL;
    }
}

static EVP_MD_CTX *sha256_ctx(void)
{
    static _Thread_local EVP_MD_CTX *ctx;
    if (!ctx && (ctx = EVP_MD_CTX_new()) != NULL) {
        pthread_setspecific(sha256_ctx_key, ctx);
    }
    return ctx;
}

void kg_sha256(const void *p, size_t n, uint8_t out[KG_SHA256_LEN])
{
    pthread_once(&sha256_once, sha256_fetch);
    EVP_MD_CTX *ctx = sha256_md ? sha256_ctx() : NULL;
    if (!ctx || !EVP_DigestInit_ex2(ctx, sha256_md, NULL) || !EVP_DigestUpdate(ctx, p, n) ||
        !EVP_DigestFinal_ex(ctx, out, NULL)) {
        fputs("keygate: SHA-256 unavailable\n", stderr);
        abort();
    }
}

void kg_hmac_sha256(const uint8_t key[32], const void *p, size_t n, uint8_t out[KG_SHA256_LEN])
{
    unsigned int len = KG_SHA256_LEN;
    if (!HMAC(EVP_sha256(), key, 32, p, n, out, &len)) {
        abort();
    }
}

bool kg_ct_eq(const void *a, size_t an, const void *b, size_t bn)
{
    if (!a || !b || an != bn || an == 0) {
        return false;
    }
    return CRYPTO_memcmp(a, b, an) == 0;
}

void kg_wipe(void *p, size_t n)
{
    if (p) {
        OPENSSL_cleanse(p, n);
    }
}

enum kg_rc kg_seal(const uint8_t key[32], const void *aad, size_t aad_n, const void *pt, size_t n,
                   uint8_t *out)
{
    enum kg_rc rc = KG_ERR_CRYPTO;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0;
    kg_random(out, 12);
    if (!c || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, out) != 1) {
        goto out;
    }
    if (aad_n && EVP_EncryptUpdate(c, NULL, &len, aad, (int)aad_n) != 1) {
        goto out;
    }
    if (EVP_EncryptUpdate(c, out + 12, &len, pt, (int)n) != 1) {
        goto out;
    }
    if (EVP_EncryptFinal_ex(c, out + 12 + len, &len) != 1) {
        goto out;
    }
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + 12 + n) != 1) {
        goto out;
    }
    rc = KG_OK;
out:
    EVP_CIPHER_CTX_free(c);
    return rc;
}

enum kg_rc kg_unseal(const uint8_t key[32], const void *aad, size_t aad_n, const uint8_t *in,
                     size_t n, uint8_t *out)
{
    enum kg_rc rc = KG_ERR_CRYPTO;
    if (n < KG_SEAL_OVERHEAD) {
        return KG_ERR_INVALID;
    }
    size_t ct = n - KG_SEAL_OVERHEAD;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0;
    uint8_t tag[16];
    memcpy(tag, in + 12 + ct, 16);
    if (!c || EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, in) != 1) {
        goto out;
    }
    if (aad_n && EVP_DecryptUpdate(c, NULL, &len, aad, (int)aad_n) != 1) {
        goto out;
    }
    if (EVP_DecryptUpdate(c, out, &len, in + 12, (int)ct) != 1) {
        goto out;
    }
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1) {
        goto out;
    }
    if (EVP_DecryptFinal_ex(c, out + len, &len) != 1) {
        kg_wipe(out, ct);
        goto out;
    }
    rc = KG_OK;
out:
    EVP_CIPHER_CTX_free(c);
    return rc;
}

static void checksum(const char *s, size_t n, char out[KG_SECRET_CHECK + 1])
{
    uint8_t h[KG_SHA256_LEN];
    kg_sha256(s, n, h);
    kg_b64url_encode(h, 4, out); /* 4 bytes -> 6 chars */
}

void kg_secret_new(const char *prefix, char out[KG_SECRET_MAX])
{
    uint8_t r[32];
    kg_random(r, sizeof r);
    size_t p = strlen(prefix);
    memcpy(out, prefix, p);
    kg_b64url_encode(r, sizeof r, out + p);
    checksum(out, p + KG_SECRET_BODY, out + p + KG_SECRET_BODY);
    kg_wipe(r, sizeof r);
}

bool kg_secret_valid(const char *prefix, struct kg_str s)
{
    size_t p = strlen(prefix);
    if (s.n != p + KG_SECRET_BODY + KG_SECRET_CHECK || !kg_str_starts(s, prefix)) {
        return false;
    }
    for (size_t i = p; i < s.n; i++) {
        char c = s.p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_')) {
            return false;
        }
    }
    char sum[KG_SECRET_CHECK + 1];
    checksum(s.p, p + KG_SECRET_BODY, sum);
    return memcmp(sum, s.p + p + KG_SECRET_BODY, KG_SECRET_CHECK) == 0;
}
