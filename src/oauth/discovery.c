/* SPDX-License-Identifier: Apache-2.0
 * OpenID Connect Discovery 1.0 metadata and the JWKS (RFC 7517) of a tenant. Every URL is built
 * from the configured public URL, never from the request (SPEC 12.10); the issuer is the same
 * whichever tenant alias was asked (COMPAT). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth/discovery.h"

static void url(struct kg_json *o, const char *k, const char *base, const char *tid,
                const char *path)
{
    char u[900];
    snprintf(u, sizeof u, "%s/%s%s", base, tid, path);
    kg_json_set_str(o, k, u);
}

static struct kg_json *arr(const char *const *items)
{
    struct kg_json *a = kg_json_arr();
    for (int i = 0; items[i]; i++) {
        kg_json_arr_add_str(a, items[i]);
    }
    return a;
}

struct kg_json *kg_discovery_doc(const struct kg_server *srv, const struct kg_tenant *t)
{
    static const char *const grants[] = {"authorization_code",
                                         "client_credentials",
                                         "password",
                                         "refresh_token",
                                         "urn:ietf:params:oauth:grant-type:device_code",
                                         NULL};
    static const char *const scopes[] = {"openid", "profile", "email", "offline_access", NULL};
    static const char *const auth_methods[] = {"client_secret_basic", "client_secret_post", "none",
                                               NULL};
    static const char *const claims[] = {"iss",       "aud",   "sub",  "oid",
                                         "tid",       "iat",   "nbf",  "exp",
                                         "auth_time", "nonce", "name", "preferred_username",
                                         "email",     "ver",   NULL};
    static const char *const modes[] = {"query", "fragment", "form_post", NULL};
    static const char *const rtypes[] = {"code", NULL};
    static const char *const s256[] = {"S256", NULL};
    static const char *const pub[] = {"public", NULL};
    const char *base = srv->cfg.public_url;
    char iss[700];
    kg_issuer(srv, t, iss, sizeof iss);
    const char *algs[] = {t->signing_alg, NULL};

    struct kg_json *d = kg_json_obj();
    kg_json_set_str(d, "issuer", iss);
    url(d, "authorization_endpoint", base, t->id, "/oauth2/v2.0/authorize");
    url(d, "token_endpoint", base, t->id, "/oauth2/v2.0/token");
    url(d, "device_authorization_endpoint", base, t->id, "/oauth2/v2.0/devicecode");
    url(d, "introspection_endpoint", base, t->id, "/oauth2/v2.0/introspect");
    url(d, "revocation_endpoint", base, t->id, "/oauth2/v2.0/revoke");
    url(d, "userinfo_endpoint", base, t->id, "/oidc/userinfo");
    url(d, "end_session_endpoint", base, t->id, "/oauth2/v2.0/logout");
    url(d, "jwks_uri", base, t->id, "/discovery/v2.0/keys");
    kg_json_set(d, "response_types_supported", arr(rtypes));
    kg_json_set(d, "response_modes_supported", arr(modes));
    kg_json_set(d, "grant_types_supported", arr(grants));
    kg_json_set(d, "scopes_supported", arr(scopes));
    kg_json_set(d, "subject_types_supported", arr(pub));
    kg_json_set(d, "id_token_signing_alg_values_supported", arr(algs));
    kg_json_set(d, "token_endpoint_auth_methods_supported", arr(auth_methods));
    kg_json_set(d, "introspection_endpoint_auth_methods_supported", arr(auth_methods));
    kg_json_set(d, "revocation_endpoint_auth_methods_supported", arr(auth_methods));
    kg_json_set(d, "code_challenge_methods_supported", arr(s256));
    kg_json_set(d, "claims_supported", arr(claims));
    kg_json_set_str(d, "tenant_region_scope", "NA");
    kg_json_set_str(d, "cloud_instance_name", base);
    kg_json_set_bool(d, "request_uri_parameter_supported", false);
    kg_json_set_bool(d, "frontchannel_logout_supported", false);
    return d;
}

enum kg_rc kg_jwks_doc(const struct kg_server *srv, const struct kg_tenant *t, struct kg_json **out)
{
    struct kg_signing_key *keys = NULL;
    size_t n = 0;
    enum kg_rc rc = srv->store->ops->signing_keys(srv->store, t->id, &keys, &n);
    if (rc) {
        return rc;
    }
    struct kg_json *set = kg_json_arr();
    for (size_t i = 0; i < n; i++) {
        struct kg_json *jwk = NULL;
        if (kg_json_parse(keys[i].public_jwk, strlen(keys[i].public_jwk), 65536, true, &jwk,
                          NULL) == KG_OK) {
            kg_json_arr_add(set, jwk);
        }
    }
    kg_signing_keys_free(keys, n);
    struct kg_json *d = kg_json_obj();
    kg_json_set(d, "keys", set);
    *out = d;
    return KG_OK;
}
