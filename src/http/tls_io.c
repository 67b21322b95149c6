/* SPDX-License-Identifier: Apache-2.0
 * The socket under GnuTLS: buffered reads, a response's header and body in one write; see
 * tls_io.h. */
#include "http/tls_io.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/str.h"

/* Room for a typical request's records in one recv(); larger reads go straight to GnuTLS. */
#define READ_BUFFER 4096
/* The largest header record held back; a larger one is sent as it comes. */
#define HOLD_MAX 4096
/* Parts gathered after held bytes into one sendmsg(): GnuTLS passes one per queued record, and
 * queues at most 32 (its MAX_QUEUE). */
#define MAX_PARTS 32

struct kg_tls_io {
    gnutls_session_t session; /* NULL when the unit tests drive it */
    int fd;
    bool hold_next;
    size_t r_off, r_len; /* unread input: in[r_off, r_len) */
    size_t h_off, h_len; /* held output: held[h_off, h_len) */
    unsigned char in[READ_BUFFER];
    unsigned char held[HOLD_MAX];
};

static ssize_t fail(struct kg_tls_io *io, int err)
{
    if (io->session) {
        gnutls_transport_set_errno(io->session, err);
    }
    errno = err;
    return -1;
}

static size_t take(struct kg_tls_io *io, void *out, size_t n)
{
    size_t k = io->r_len - io->r_off < n ? io->r_len - io->r_off : n;
    memcpy(out, io->in + io->r_off, k);
    io->r_off += k;
    return k;
}

ssize_t kg_tls_io_read(struct kg_tls_io *io, void *out, size_t n)
{
    if (io->r_off < io->r_len) {
        return (ssize_t)take(io, out, n);
    }
    bool direct = n >= sizeof io->in;
    ssize_t r = recv(io->fd, direct ? out : (void *)io->in, direct ? n : sizeof io->in, 0);
    if (r < 0) {
        return fail(io, errno);
    }
    if (r == 0 || direct) {
        return r;
    }
    io->r_off = 0;
    io->r_len = (size_t)r;
    return (ssize_t)take(io, out, n);
}

/* One sendmsg(). It writes less than asked only when the socket is full, and then epoll reports
 * when it is not: a write cut short on purpose would leave the connection waiting for an event
 * that never comes (GnuTLS answers any short write with "would block"). */
static ssize_t send_parts(int fd, const struct iovec *v, size_t k)
{
    struct msghdr m = {.msg_iov = (struct iovec *)(uintptr_t)v, .msg_iovlen = k};
    return sendmsg(fd, &m, MSG_NOSIGNAL);
}

ssize_t kg_tls_io_write(struct kg_tls_io *io, const struct iovec *iov, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        total += iov[i].iov_len;
    }
    size_t held = io->h_len - io->h_off;
    if (io->hold_next && !held && total <= sizeof io->held) {
        io->hold_next = false;
        for (int i = 0; i < n; i++) {
            memcpy(io->held + io->h_len, iov[i].iov_base, iov[i].iov_len);
            io->h_len += iov[i].iov_len;
        }
        return (ssize_t)total;
    }
    io->hold_next = false;
    if (!held) {
        ssize_t r = send_parts(io->fd, iov, (size_t)n);
        return r < 0 ? fail(io, errno) : r;
    }
    struct iovec v[MAX_PARTS + 1];
    size_t k = 1;
    v[0] = (struct iovec){.iov_base = io->held + io->h_off, .iov_len = held};
    if (n <= MAX_PARTS) {
        memcpy(v + 1, iov, (size_t)n * sizeof *iov);
        k += (size_t)n;
    } /* else the held bytes go first, alone */
    ssize_t r = send_parts(io->fd, v, k);
    if (r < 0) {
        return fail(io, errno);
    }
    if ((size_t)r < held) { /* the socket is full: the record waits for the next try */
        io->h_off += (size_t)r;
        return fail(io, EAGAIN);
    }
    io->h_off = io->h_len = 0;
    if (k == 1) {
        r = send_parts(io->fd, iov, (size_t)n);
        return r < 0 ? fail(io, errno) : r;
    }
    r -= (ssize_t)held;
    return r == 0 && total > 0 ? fail(io, EAGAIN) : r;
}

void kg_tls_io_hold_next(struct kg_tls_io *io, bool on)
{
    if (io) {
        io->hold_next = on;
    }
}

static ssize_t pull(gnutls_transport_ptr_t ptr, void *out, size_t n)
{
    return kg_tls_io_read(ptr, out, n);
}

static ssize_t push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int n)
{
    return kg_tls_io_write(ptr, iov, n);
}

/* GnuTLS asks this before a read it may wait for: is anything readable within ms? Its own
 * version would poll the transport pointer as a descriptor, which it no longer is. (With
 * libmicrohttpd's non-blocking sessions it is not called: strace shows no poll.) */
static int pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    struct kg_tls_io *io = ptr;
    if (io->r_off < io->r_len) {
        return 1;
    }
    struct pollfd pfd = {.fd = io->fd, .events = POLLIN};
    int r = poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
    return r > 0 ? 1 : r;
}

struct kg_tls_io *kg_tls_io_install(void *session, int fd)
{
    struct kg_tls_io *io = kg_malloc(sizeof *io);
    io->session = session;
    io->fd = fd;
    io->hold_next = false;
    io->r_off = io->r_len = io->h_off = io->h_len = 0;
    if (session) {
        gnutls_transport_set_ptr(session, io);
        gnutls_transport_set_pull_function(session, pull);
        gnutls_transport_set_pull_timeout_function(session, pull_timeout);
        gnutls_transport_set_vec_push_function(session, push);
    }
    return io;
}

void kg_tls_io_free(struct kg_tls_io *io)
{
    free(io);
}
