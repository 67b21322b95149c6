/* SPDX-License-Identifier: Apache-2.0
 * Starting and stopping the HTTP(S) listener. */
#ifndef KG_HTTP_SERVER_H
#define KG_HTTP_SERVER_H

#include "core/err.h"

struct kg_server;
struct kg_http;

/* Listens on srv->cfg.listen with TLS from cfg.tls_cert/tls_key unless cfg.insecure_http.
 * Requests run on MHD's thread pool. */
enum kg_rc kg_http_start(struct kg_server *srv, struct kg_http **out, struct kg_err *e);
/* Waits up to max_ms for in-flight requests to finish (SIGTERM drain); kg_http_stop then closes
 * the listen socket and every connection. */
void kg_http_drain(struct kg_http *h, int max_ms);
void kg_http_stop(struct kg_http *h);

#endif
