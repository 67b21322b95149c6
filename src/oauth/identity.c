/* SPDX-License-Identifier: Apache-2.0
 * User names and passwords: lookup keys are NFC and case-folded (SPEC 2, via libunistring);
 * passwords are argon2id with OWASP parameters (m=19 MiB, t=2, p=1). */
#include <argon2.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unicase.h>
#include <uninorm.h>

#include "core/crypto.h"
#include "core/encode.h"
#include "oauth/oauth.h"

#define ARGON_T 2
#define ARGON_M 19456
#define ARGON_P 1

bool kg_username_key(const char *username, char *out, size_t n)
{
    size_t len = strlen(username);
    if (len == 0 || len > KG_MAX_USERNAME || !kg_utf8_valid(username, len)) {
        return false;
    }
    size_t olen = 0;
    uint8_t *f = u8_casefold((const uint8_t *)username, len, NULL, UNINORM_NFC, NULL, &olen);
    if (!f) {
        return false;
    }
    bool ok = olen < n;
    if (ok) {
        memcpy(out, f, olen);
        out[olen] = '\0';
    }
    free(f);
    return ok;
}

/* At most one argon2 per core at a time: each takes 19 MiB and a core's worth of work, and the
 * worker threads that run them outnumber the cores when they also wait on store reads
 * (http/server.c). */
static sem_t argon_slots;
static pthread_once_t argon_once = PTHREAD_ONCE_INIT;

static void argon_init(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    sem_init(&argon_slots, 0, n > 0 ? (unsigned)n : 1);
}

static void argon_enter(void)
{
    pthread_once(&argon_once, argon_init);
    while (sem_wait(&argon_slots) != 0) {
    }
}

bool kg_password_hash(const char *password, char out[160])
{
    uint8_t salt[16];
    kg_random(salt, sizeof salt);
    argon_enter();
    int r = argon2id_hash_encoded(ARGON_T, ARGON_M, ARGON_P, password, strlen(password), salt,
                                  sizeof salt, 32, out, 160);
    sem_post(&argon_slots);
    return r == ARGON2_OK;
}

bool kg_password_verify(const char *encoded, const char *password)
{
    argon_enter();
    bool ok = argon2id_verify(encoded, password, strlen(password)) == ARGON2_OK;
    sem_post(&argon_slots);
    return ok;
}
