/* SPDX-License-Identifier: Apache-2.0
 * Benchmark helper (not a test): a TCP relay that delivers every chunk it reads, in either
 * direction, DELAY microseconds later, so that a PostgreSQL on this machine answers like one on
 * another machine (this VM's kernel has no netem). One thread, epoll, a timerfd for the next due
 * chunk; order is kept per direction. Sockets are never closed (an fd number reused while
 * chunks are still due to it would get them): fine for a benchmark's few pooled connections.
 * Usage: slownet LISTEN-PORT TARGET-PORT DELAY-US (both on 127.0.0.1; runs until killed). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536

struct chunk {
    int64_t due_us;
    int to;
    size_t n;
    struct chunk *next;
    char data[];
};

static struct chunk *head, *tail; /* in due order: the delay is the same for all */
static int64_t delay_us;
static int timer;

static int64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void arm(void)
{
    struct itimerspec it = {0};
    if (head) {
        int64_t at = head->due_us;
        it.it_value.tv_sec = at / 1000000;
        it.it_value.tv_nsec = (at % 1000000) * 1000;
    }
    timerfd_settime(timer, TFD_TIMER_ABSTIME, &it, NULL);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return; /* the peer is gone; its read side will see it */
        }
        p += w;
        n -= (size_t)w;
    }
}

static int listen_on(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 128)) {
        perror("listen");
        exit(1);
    }
    return s;
}

static int connect_to(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a)) {
        close(s);
        return -1;
    }
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return s;
}

/* epoll data: the fd in the low 32 bits, its peer in the high 32. */
static void watch(int ep, int fd, int peer)
{
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)(uint32_t)peer << 32};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: slownet LISTEN-PORT TARGET-PORT DELAY-US\n");
        return 2;
    }
    int lport = atoi(argv[1]), tport = atoi(argv[2]);
    delay_us = atoll(argv[3]);
    int ls = listen_on(lport), ep = epoll_create1(0);
    timer = timerfd_create(CLOCK_MONOTONIC, 0);
    watch(ep, ls, -1);
    watch(ep, timer, -1);
    static char buf[CHUNK];
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            int fd = (int)(uint32_t)evs[i].data.u64, peer = (int)(evs[i].data.u64 >> 32);
            if (fd == ls) {
                int c = accept(ls, NULL, NULL), one = 1;
                int t = c >= 0 ? connect_to(tport) : -1;
                if (t < 0) {
                    if (c >= 0) {
                        close(c);
                    }
                    continue;
                }
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                watch(ep, c, t);
                watch(ep, t, c);
            } else if (fd == timer) {
                uint64_t ticks;
                (void)!read(timer, &ticks, sizeof ticks);
                int64_t now = now_us();
                while (head && head->due_us <= now) {
                    struct chunk *c = head;
                    head = c->next;
                    tail = head ? tail : NULL;
                    if (c->n) {
                        write_all(c->to, c->data, c->n);
                    } else {
                        shutdown(c->to, SHUT_WR); /* the other side closed: pass it on */
                    }
                    free(c);
                }
                arm();
            } else {
                ssize_t r = read(fd, buf, sizeof buf);
                if (r < 0 && errno == EINTR) {
                    continue;
                }
                if (r <= 0) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                    r = 0;
                }
                struct chunk *c = malloc(sizeof *c + (size_t)r);
                c->due_us = now_us() + delay_us;
                c->to = peer;
                c->n = (size_t)r;
                c->next = NULL;
                memcpy(c->data, buf, (size_t)r);
                if (tail) {
                    tail->next = c;
                } else {
                    head = c;
                    arm();
                }
                tail = c;
            }
        }
    }
}
