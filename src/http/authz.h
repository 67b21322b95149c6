/* SPDX-License-Identifier: Apache-2.0
 * The Authorization header: scheme detection and HTTP Basic (RFC 7617) credentials. For Basic,
 * both readings COMPAT.md requires are produced: the raw user:password, and the same after
 * form-urlencoded decoding (RFC 6749 2.3.1, as openid-client sends it). */
#ifndef KG_HTTP_AUTHZ_H
#define KG_HTTP_AUTHZ_H

#include <stdbool.h>

#include "core/err.h"
#include "core/limits.h"
#include "core/str.h"

struct kg_basic {
    char user[KG_MAX_CLIENT_ID + 1];
    char pass[KG_MAX_CLIENT_SECRET + 1];
    bool has_decoded; /* the form-decoded reading differs from the raw one and is valid */
    char user_dec[KG_MAX_CLIENT_ID + 1];
    char pass_dec[KG_MAX_CLIENT_SECRET + 1];
};

/* true if the header's scheme is Basic (case-insensitive). */
bool kg_authz_is_basic(struct kg_str header);
/* Parses "Basic <base64>" into out. KG_ERR_INVALID on any malformation, KG_ERR_TOO_LONG past
 * the caps. The password is wiped by kg_basic_wipe. */
enum kg_rc kg_authz_basic_parse(struct kg_str header, struct kg_basic *out, struct kg_err *e);
void kg_basic_wipe(struct kg_basic *b);

#endif
