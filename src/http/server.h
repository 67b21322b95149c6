/* SPDX-License-Identifier: Apache-2.0
 * Starting and stopping the HTTP(S) listener. */
#ifndef KG_HTTP_SERVER_H
#define KG_HTTP_SERVER_H

#include <stdbool.h>

#include "core/err.h"

struct kg_server;
struct kg_http;

/* Listens on srv->cfg.listen with TLS from cfg.tls_cert/tls_key unless cfg.insecure_http.
 * Requests run on MHD's thread pool. */
enum kg_rc kg_http_start(struct kg_server *srv, struct kg_http **out, struct kg_err *e);
/* The SIGTERM drain: refuses new connections, closes each connection after its response, and
 * waits up to max_ms until no request is in flight and none can start one (later ones are
 * answered 503 at once). Then kg_http_stop may run, which closes the listen socket and every
 * connection, cutting off responses still being sent at the deadline (to clients that do not
 * read them). False if a request at the deadline has not even queued its response (it waits on
 * the store, and may be suspended): the process must then exit without kg_http_stop, which
 * cannot stop libmicrohttpd under a suspended connection. */
bool kg_http_drain(struct kg_http *h, int max_ms);
void kg_http_stop(struct kg_http *h);

#endif
