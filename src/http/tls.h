/* SPDX-License-Identifier: Apache-2.0
 * The development certificate of SPEC 9: a local CA (kept in DATA/tls/ca.pem, key 0600) and a
 * server certificate it signs for localhost, loopback addresses and the public URL's host. */
#ifndef KG_HTTP_TLS_H
#define KG_HTTP_TLS_H

#include <stddef.h>

#include "core/err.h"

/* Ensures DATA/tls/{ca.pem,ca.key,server.pem,server.key}; the server certificate is re-issued
 * when it does not name host. Writes the paths of the CA, cert and key. */
enum kg_rc kg_tls_dev_cert(const char *data_dir, const char *host, char *ca_path, char *cert_path,
                           char *key_path, size_t n, struct kg_err *e);

#endif
