/* SPDX-License-Identifier: Apache-2.0
 * Has keygate.db changed since we last looked? Answered without a read transaction (which costs
 * fcntl locks and an fstat per request) from the WAL-index header in keygate.db-shm, mapped
 * read-only (walformat.html, "The WAL-Index Header"). Every commit rewrites that header,
 * second copy first, before the commit returns: mxFrame, the frame checksums and the header
 * checksum change with each transaction, so comparing the whole 48-byte header with the one
 * seen before detects any commit by any process. (Comparing the iChange field alone is not
 * enough: it does not move on every commit, which an earlier version learned the hard way.)
 * If the two copies differ a writer is mid-update, which counts as a change. Without the
 * mapping every call reports a change and the caller reads the stamp with SQL. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/sqlite/lite.h"

#define HDR 48 /* one copy of the WalIndexHdr */

struct kg_walwatch {
    const volatile unsigned char *shm;
    unsigned char seen[HDR];
    bool have;
};

struct kg_walwatch *kg_walwatch_open(const char *db_path)
{
    struct kg_walwatch *w = kg_calloc(1, sizeof *w);
    size_t n = strlen(db_path);
    char *shm = kg_malloc(n + 5);
    memcpy(shm, db_path, n);
    memcpy(shm + n, "-shm", 5);
    int fd = open(shm, O_RDONLY | O_CLOEXEC);
    free(shm);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size >= 4096) {
        void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) {
            w->shm = p;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    return w;
}

bool kg_walwatch_changed(struct kg_walwatch *w)
{
    if (!w || !w->shm) {
        return true;
    }
    unsigned char a[HDR], b[HDR];
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    for (int i = 0; i < HDR; i++) {
        b[i] = w->shm[HDR + i]; /* written first */
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    for (int i = 0; i < HDR; i++) {
        a[i] = w->shm[i];
    }
    bool same = w->have && memcmp(a, b, HDR) == 0 && memcmp(a, w->seen, HDR) == 0;
    if (!same) {
        memcpy(w->seen, a, HDR);
        /* a torn pair is remembered as unseen, so the next call looks again */
        w->have = memcmp(a, b, HDR) == 0;
    }
    return !same;
}

void kg_walwatch_close(struct kg_walwatch *w)
{
    if (w && w->shm) {
        munmap((void *)(uintptr_t)w->shm, 4096);
    }
    free(w);
}
