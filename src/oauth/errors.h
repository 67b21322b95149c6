/* SPDX-License-Identifier: Apache-2.0
 * Every way an OAuth endpoint can refuse a request, each with its RFC 6749 5.2 error string, its
 * HTTP status, keygate's stable numeric code (the same numbers problem bodies elsewhere carry as
 * "code"), and a description a developer can act on. Codes are a contract: never renumber. */
#ifndef KG_OAUTH_ERRORS_H
#define KG_OAUTH_ERRORS_H

#include "json/json.h"

enum kg_oerr {
    KG_OE_NONE = 0,
    KG_OE_MALFORMED_BODY,
    KG_OE_CONTENT_TYPE,
    KG_OE_REPEATED_PARAM,
    KG_OE_BODY_TOO_LARGE,
    KG_OE_GRANT_MISSING,
    KG_OE_PARAM_MISSING,
    KG_OE_BAD_ENCODING,
    KG_OE_METHOD,
    KG_OE_FIELD_TOO_LONG,
    KG_OE_TOKEN_MISSING,
    KG_OE_TENANT_UNKNOWN,
    KG_OE_CLIENT_AUTH_FAILED,
    KG_OE_CLIENT_AUTH_METHOD,
    KG_OE_CLIENT_AUTH_MULTIPLE,
    KG_OE_CLIENT_AUTH_MISSING,
    KG_OE_CLIENT_ID_MISSING,
    KG_OE_GRANT_NOT_ALLOWED,
    KG_OE_PUBLIC_CLIENT_CC,
    KG_OE_UNSUPPORTED_GRANT,
    KG_OE_SCOPE_TWO_APIS,
    KG_OE_SCOPE_UNKNOWN_API,
    KG_OE_SCOPE_INVALID,
    KG_OE_SCOPE_WIDENED,
    KG_OE_SCOPE_DEFAULT_REQUIRED,
    KG_OE_BAD_CREDENTIALS,
    KG_OE_THROTTLED,
    KG_OE_RT_INVALID,
    KG_OE_RT_EXPIRED,
    KG_OE_RT_REVOKED,
    KG_OE_RT_REUSED,
    KG_OE_RT_OTHER_CLIENT,
    KG_OE_USER_GONE,
    KG_OE_NOT_AUTHORIZED,
    KG_OE_CODE_INVALID,
    KG_OE_CODE_EXPIRED,
    KG_OE_CODE_REUSED,
    KG_OE_CODE_REDIRECT,
    KG_OE_PKCE_MISSING,
    KG_OE_PKCE_FAILED,
    KG_OE_PKCE_UNEXPECTED,
    KG_OE_DEVICE_PENDING,
    KG_OE_DEVICE_SLOW_DOWN,
    KG_OE_DEVICE_EXPIRED,
    KG_OE_DEVICE_DENIED,
    KG_OE_DEVICE_INVALID,
    KG_OE_DEVICE_REUSED,
    /* authorization endpoint: sent back to the client's redirect URI */
    KG_OE_AZ_RESPONSE_TYPE,
    KG_OE_AZ_RESPONSE_MODE,
    KG_OE_AZ_PKCE_REQUIRED,
    KG_OE_AZ_PKCE_METHOD,
    KG_OE_AZ_PROMPT,
    KG_OE_AZ_PARAM,
    KG_OE_AZ_SCOPE_MISSING,
    KG_OE_AZ_LOGIN_REQUIRED,
    KG_OE_AZ_CONSENT_REQUIRED,
    KG_OE_AZ_ACCESS_DENIED,
    /* authorization endpoint: shown on an error page, never redirected */
    KG_OE_AZ_CLIENT_UNKNOWN,
    KG_OE_AZ_REDIRECT_UNREGISTERED,
    KG_OE_AZ_REDIRECT_MISSING,
    KG_OE_AZ_BAD_REQUEST,
    KG_OE_AZ_CSRF,
    /* /verify (problem+json; "error" is the problem title) */
    KG_OE_V_MISSING,
    KG_OE_V_INVALID,
    KG_OE_V_EXPIRED,
    KG_OE_V_REVOKED,
    KG_OE_V_TWO_CREDENTIALS,
    KG_OE_V_TENANT_MISMATCH,
    KG_OE_V_TENANT_HEADER,
    KG_OE_V_CALLER_ID,
    KG_OE_V_SUBSCRIPTION,
    KG_OE_V_NO_ROUTE,
    KG_OE_V_NOT_MEMBER,
    KG_OE_V_PERMISSION,
    KG_OE_V_APP_PERMISSION,
    KG_OE_V_OTHER_WORKSPACE,
    KG_OE_V_RATE_LIMITED,
    KG_OE_V_UNTRUSTED_PROXY,
    KG_OE_V_BAD_URI,
    KG_OE_V_UNKNOWN_API,
    KG_OE_V_AUDIENCE,
    KG_OE_V_UNAVAILABLE,
    KG_OE_UNAVAILABLE,
    KG_OE_SERVER_ERROR,
    KG_OE_NOT_FOUND,         /* problem+json only: no such URL */
    KG_OE_HTTP_METHOD,       /* problem+json only: method not allowed at this URL */
    KG_OE_HEADERS_TOO_LARGE, /* problem+json only: too many request headers */
    KG_OE_COUNT
};

struct kg_oerr_info {
    const char *error; /* RFC 6749 error string */
    int status;
    int code;
    const char *suberror; /* or NULL */
    const char *description;
};

const struct kg_oerr_info *kg_oerr_info(enum kg_oerr e);
/* The table entry with this numeric code, or NULL. */
const struct kg_oerr_info *kg_oerr_by_code(int code);
/* The RFC 6749 5.2 body plus error_codes, timestamp, trace_id, correlation_id, error_uri;
 * extra (may be NULL) is appended to the description. Owned. */
struct kg_json *kg_oerr_body(enum kg_oerr e, const char *extra, const char *trace_id,
                             const char *correlation_id, const char *public_url);

#endif
