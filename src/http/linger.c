/* SPDX-License-Identifier: Apache-2.0
 * Lingering close: one thread, one epoll set, a fixed table of sockets being drained. See
 * linger.h for why. A socket leaves the table when the client closes its side, on an error, when
 * it has been quiet for idle_ms, or idle or not after total_ms; then it is closed. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/str.h"
#include "core/thread.h"
#include "http/linger.h"

#define WAKE_TAG UINT32_MAX
/* Bytes read from one socket per wake-up, so a fast sender cannot starve the others. */
#define DRAIN_PER_WAKE 65536

struct slot {
    int fd; /* -1: free */
    int64_t idle_until, until;
};

struct kg_linger {
    pthread_t thread;
    pthread_mutex_t mu;
    int ep, wake;
    int idle_ms, total_ms;
    atomic_bool stop;
    int count;
    struct slot slots[KG_MAX_LINGERING];
};

static void release(struct kg_linger *l, struct slot *s)
{
    epoll_ctl(l->ep, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->fd = -1;
    l->count--;
}

/* Reads and discards what the client sent; releases the slot at its end of stream or an error. */
static void drain(struct kg_linger *l, struct slot *s, int64_t now)
{
    char buf[16384];
    size_t taken = 0;
    while (taken < DRAIN_PER_WAKE) {
        ssize_t n = read(s->fd, buf, sizeof buf);
        if (n > 0) {
            taken += (size_t)n;
            s->idle_until = now + l->idle_ms;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        release(l, s);
        return;
    }
}

static void *run(void *arg)
{
    struct kg_linger *l = arg;
    kg_thread_name("kg-linger");
    struct epoll_event evs[32];
    int timeout_ms = 1000; /* sweeps for deadlines often only while something lingers */
    while (!atomic_load(&l->stop)) {
        int n = epoll_wait(l->ep, evs, 32, timeout_ms);
        pthread_mutex_lock(&l->mu);
        int64_t now = kg_monotonic_ms();
        for (int i = 0; i < n; i++) {
            uint32_t k = evs[i].data.u32;
            if (k == WAKE_TAG) {
                uint64_t v;
                (void)!read(l->wake, &v, sizeof v);
            } else if (k < KG_MAX_LINGERING && l->slots[k].fd >= 0) {
                drain(l, &l->slots[k], now);
            }
        }
        for (int k = 0; k < KG_MAX_LINGERING; k++) {
            struct slot *s = &l->slots[k];
            if (s->fd >= 0 && (now >= s->idle_until || now >= s->until)) {
                release(l, s);
            }
        }
        timeout_ms = l->count ? 100 : 1000;
        pthread_mutex_unlock(&l->mu);
    }
    return NULL;
}

struct kg_linger *kg_linger_start(int idle_ms, int total_ms)
{
    struct kg_linger *l = kg_calloc(1, sizeof *l);
    l->idle_ms = idle_ms;
    l->total_ms = total_ms;
    atomic_init(&l->stop, false);
    pthread_mutex_init(&l->mu, NULL);
    for (int k = 0; k < KG_MAX_LINGERING; k++) {
        l->slots[k].fd = -1;
    }
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = WAKE_TAG};
    if (l->ep < 0 || l->wake < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake, &ev) != 0 ||
        pthread_create(&l->thread, NULL, run, l) != 0) {
        if (l->ep >= 0) {
            close(l->ep);
        }
        if (l->wake >= 0) {
            close(l->wake);
        }
        pthread_mutex_destroy(&l->mu);
        free(l);
        return NULL;
    }
    return l;
}

/* Takes a duplicate of fd into slot s (mu held): non-blocking, watched, its write side shut. */
static bool watch(struct kg_linger *l, struct slot *s, int fd)
{
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    int flags = dup >= 0 ? fcntl(dup, F_GETFL) : -1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)(s - l->slots)};
    if (flags < 0 || fcntl(dup, F_SETFL, flags | O_NONBLOCK) != 0 ||
        epoll_ctl(l->ep, EPOLL_CTL_ADD, dup, &ev) != 0) {
        if (dup >= 0) {
            close(dup);
        }
        return false;
    }
    shutdown(dup, SHUT_WR); /* the client sees the end of our response */
    int64_t now = kg_monotonic_ms();
    *s = (struct slot){dup, now + l->idle_ms, now + l->total_ms};
    l->count++;
    return true;
}

bool kg_linger_adopt(struct kg_linger *l, int fd)
{
    if (!l || fd < 0) {
        return false;
    }
    /* Nothing to wait for if the client has already closed its side (or the socket failed). */
    char c;
    ssize_t peek = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (peek == 0 || (peek < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        return false;
    }
    bool taken = false;
    pthread_mutex_lock(&l->mu);
    for (int k = 0; k < KG_MAX_LINGERING; k++) {
        if (l->slots[k].fd < 0) {
            taken = watch(l, &l->slots[k], fd);
            break;
        }
    }
    pthread_mutex_unlock(&l->mu);
    return taken;
}

int kg_linger_count(struct kg_linger *l)
{
    if (!l) {
        return 0;
    }
    pthread_mutex_lock(&l->mu);
    int n = l->count;
    pthread_mutex_unlock(&l->mu);
    return n;
}

void kg_linger_stop(struct kg_linger *l)
{
    if (!l) {
        return;
    }
    atomic_store(&l->stop, true);
    uint64_t one = 1;
    (void)!write(l->wake, &one, sizeof one);
    pthread_join(l->thread, NULL);
    for (int k = 0; k < KG_MAX_LINGERING; k++) {
        if (l->slots[k].fd >= 0) {
            release(l, &l->slots[k]);
        }
    }
    close(l->wake);
    close(l->ep);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
