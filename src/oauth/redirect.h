/* SPDX-License-Identifier: Apache-2.0
 * Redirect URIs (RFC 6749 3.1.2, RFC 8252, SPEC 12.1): validation at registration, and the match
 * of a requested URI against a registered one: byte for byte, no normalising, no wildcards, no
 * prefix matching; only a loopback URI's port may differ (RFC 8252 7.3). Pure functions. */
#ifndef KG_OAUTH_REDIRECT_H
#define KG_OAUTH_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>

/* Accepts absolute https URIs, http URIs on a loopback host, and private-use schemes of native
 * apps (RFC 8252 7.1, "com.example.app:/cb"); refuses fragments (RFC 6749 3.1.2), user info,
 * whitespace and controls, and anything longer than KG_MAX_REDIRECT_URI. */
bool kg_redirect_valid(const char *uri, const char **why);
/* true if requested may be used where registered was registered. */
bool kg_redirect_match(const char *registered, const char *requested);
/* true if requested matches any of the space-separated registered URIs. */
bool kg_redirect_match_any(const char *registered_list, const char *requested);

#endif
