/* SPDX-License-Identifier: Apache-2.0
 * Lingering close (nginx's lingering_close): a connection that the server closes while the
 * client is still sending (a header over the limit, a body refused early) is kept open, its write
 * side shut, and its input read and discarded for a bounded time. Closing it at once would make
 * the kernel answer the client's next bytes with a reset, which can destroy the error response
 * before the client has read it. */
#ifndef KG_HTTP_LINGER_H
#define KG_HTTP_LINGER_H

#include <stdbool.h>

struct kg_linger;

/* Starts the draining thread: a socket is drained until the client closes, or it has sent nothing
 * for idle_ms, or total_ms have passed. NULL if the system refuses (then sockets close at once). */
struct kg_linger *kg_linger_start(int idle_ms, int total_ms);

/* Called as the server is about to close fd. Unless the client has already closed its side, takes
 * a duplicate of fd (the caller still closes its own) and drains it; returns whether it did. A
 * client still sending may have nothing unread at this instant (it is slow, not done), so unread
 * bytes are not required. Returns false, and does nothing, when every lingering slot is taken. */
bool kg_linger_adopt(struct kg_linger *l, int fd);

/* Number of sockets lingering now (the unit tests watch it). */
int kg_linger_count(struct kg_linger *l);

/* Stops the thread and closes every lingering socket. NULL is ignored. */
void kg_linger_stop(struct kg_linger *l);

#endif
