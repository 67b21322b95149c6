/* SPDX-License-Identifier: Apache-2.0
 * The socket under GnuTLS for each HTTPS connection, doing in one system call what GnuTLS and
 * libmicrohttpd 0.9.75 do in two:
 *  - reading: GnuTLS reads a record in two calls, its 5-byte header and then the rest, which on
 *    a plain socket are two recv() per request. Here one recv() fills a buffer and both are
 *    served from it.
 *  - writing: under TLS libmicrohttpd sends a response's header and body as two records, so two
 *    sendmsg() and the client woken twice. When the server arms it for a response with a body,
 *    the header's record is held here and goes out in one sendmsg() with the first body record.
 * Neither ever reports "would block" while it holds data it could pass on, so libmicrohttpd's
 * edge-triggered epoll loop, which reads and writes until told to wait, misses nothing. */
#ifndef KG_HTTP_TLS_IO_H
#define KG_HTTP_TLS_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct kg_tls_io;

/* Makes session (a gnutls_session_t) read and write fd through a new kg_tls_io. Call before the
 * handshake. Returns it, to free once the session is done with. session may be NULL (the unit
 * tests drive the two functions below directly). */
struct kg_tls_io *kg_tls_io_install(void *session, int fd);

/* With on, the next record written (a response's header) is held and sent with the one after
 * it (its body): arm only when a body will follow. Without, disarms. NULL (plain HTTP) is
 * ignored. */
void kg_tls_io_hold_next(struct kg_tls_io *io, bool on);

/* GnuTLS's pull function: up to n bytes into out; -1 with errno EAGAIN when nothing is buffered
 * and the socket has nothing either; 0 at end of stream. */
ssize_t kg_tls_io_read(struct kg_tls_io *io, void *out, size_t n);

/* GnuTLS's vector push function: writes one record (iov), after anything held. Returns the bytes
 * of the record written, or -1 with errno set (EAGAIN: retry the same record later). */
ssize_t kg_tls_io_write(struct kg_tls_io *io, const struct iovec *iov, int n);

/* Frees io; anything it still holds is dropped (the connection is gone). NULL is ignored. */
void kg_tls_io_free(struct kg_tls_io *io);

#endif
