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
 * answered 503 at once). Only then may kg_http_stop run, which closes the listen socket and
 * every connection; false if requests were still in flight at the deadline (a store that does
 * not answer): the process must then exit without kg_http_stop, which cannot stop
 * libmicrohttpd while a request is suspended. */
bool kg_http_drain(struct kg_http *h, int max_ms);
void kg_http_stop(struct kg_http *h);

#endif
