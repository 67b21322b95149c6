/* SPDX-License-Identifier: Apache-2.0
 * Discovery metadata and JWKS documents of a tenant. */
#ifndef KG_OAUTH_DISCOVERY_H
#define KG_OAUTH_DISCOVERY_H

#include "oauth/oauth.h"

/* OIDC Discovery metadata (owned). */
struct kg_json *kg_discovery_doc(const struct kg_server *srv, const struct kg_tenant *t);
/* {"keys":[...]} with every published key of the tenant (owned). */
enum kg_rc kg_jwks_doc(const struct kg_server *srv, const struct kg_tenant *t,
                       struct kg_json **out);

#endif
