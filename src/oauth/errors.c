/* SPDX-License-Identifier: Apache-2.0
 * The OAuth error table and error bodies; see errors.h. */
#include "oauth/errors.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const struct kg_oerr_info TABLE[KG_OE_COUNT] = {
    [KG_OE_NONE] = {"server_error", 500, 9001, NULL, "No error."},
    [KG_OE_MALFORMED_BODY] = {"invalid_request", 400, 1000, NULL,
                              "The request body is not a valid form."},
    [KG_OE_CONTENT_TYPE] = {"invalid_request", 400, 1001, NULL,
                            "The body must be application/x-www-form-urlencoded."},
    [KG_OE_REPEATED_PARAM] = {"invalid_request", 400, 1002, NULL,
                              "A parameter was sent more than once (RFC 6749 3.1)."},
    [KG_OE_BODY_TOO_LARGE] = {"invalid_request", 413, 1003, NULL, "The request body is too large."},
    [KG_OE_GRANT_MISSING] = {"invalid_request", 400, 1004, NULL,
                             "The request must contain grant_type."},
    [KG_OE_PARAM_MISSING] = {"invalid_request", 400, 1005, NULL,
                             "A required parameter is missing."},
    [KG_OE_BAD_ENCODING] = {"invalid_request", 400, 1006, NULL,
                            "A parameter is not validly encoded (percent-encoding, UTF-8, NUL)."},
    [KG_OE_METHOD] = {"invalid_request", 405, 1007, NULL, "This endpoint accepts only POST."},
    [KG_OE_FIELD_TOO_LONG] = {"invalid_request", 400, 1008, NULL,
                              "A parameter is longer than allowed, or there are too many."},
    [KG_OE_TOKEN_MISSING] = {"invalid_request", 400, 1009, NULL, "The request must contain token."},
    [KG_OE_TENANT_UNKNOWN] = {"invalid_request", 400, 1010, NULL,
                              "The tenant named in the URL is not known."},
    [KG_OE_CLIENT_AUTH_FAILED] = {"invalid_client", 401, 2000, NULL,
                                  "Client authentication failed: unknown client or wrong "
                                  "secret."},
    [KG_OE_CLIENT_AUTH_METHOD] = {"invalid_client", 401, 2001, NULL,
                                  "The client authenticated with a method it is not registered "
                                  "for."},
    [KG_OE_CLIENT_AUTH_MULTIPLE] = {"invalid_client", 401, 2002, NULL,
                                    "The client used more than one authentication method."},
    [KG_OE_CLIENT_AUTH_MISSING] = {"invalid_client", 401, 2003, NULL,
                                   "This client must authenticate."},
    [KG_OE_CLIENT_ID_MISSING] = {"invalid_request", 400, 2004, NULL,
                                 "The request must contain client_id."},
    [KG_OE_GRANT_NOT_ALLOWED] = {"unauthorized_client", 400, 3000, NULL,
                                 "This client is not allowed to use this grant type."},
    [KG_OE_PUBLIC_CLIENT_CC] = {"unauthorized_client", 400, 3001, NULL,
                                "Public clients cannot use client_credentials."},
    [KG_OE_UNSUPPORTED_GRANT] = {"unsupported_grant_type", 400, 4000, NULL,
                                 "The grant type is not supported."},
    [KG_OE_SCOPE_TWO_APIS] = {"invalid_scope", 400, 5000, NULL,
                              "The scopes name more than one API; ask for one API per token."},
    [KG_OE_SCOPE_UNKNOWN_API] = {"invalid_scope", 400, 5001, NULL,
                                 "The scope names an API that is not registered."},
    [KG_OE_SCOPE_INVALID] = {"invalid_scope", 400, 5002, NULL,
                             "A scope is malformed or not offered by the API."},
    [KG_OE_SCOPE_WIDENED] = {"invalid_scope", 400, 5003, NULL,
                             "The scope exceeds what was originally granted."},
    [KG_OE_SCOPE_DEFAULT_REQUIRED] = {"invalid_scope", 400, 5004, NULL,
                                      "client_credentials requires scope={API}/.default."},
    [KG_OE_BAD_CREDENTIALS] = {"invalid_grant", 400, 6000, NULL,
                               "The user name or password is incorrect."},
    [KG_OE_THROTTLED] = {"invalid_grant", 400, 6001, NULL,
                         "Too many failed sign-in attempts; try again later."},
    [KG_OE_RT_INVALID] = {"invalid_grant", 400, 6002, "bad_token",
                          "The refresh token is malformed or unknown."},
    [KG_OE_RT_EXPIRED] = {"invalid_grant", 400, 6003, "bad_token",
                          "The refresh token has expired; sign in again."},
    [KG_OE_RT_REVOKED] = {"invalid_grant", 400, 6004, "bad_token",
                          "The refresh token has been revoked; sign in again."},
    [KG_OE_RT_REUSED] = {"invalid_grant", 400, 6005, "bad_token",
                         "The refresh token was already used; its session has been revoked."},
    [KG_OE_RT_OTHER_CLIENT] = {"invalid_grant", 400, 6006, "bad_token",
                               "The refresh token was issued to another client."},
    [KG_OE_USER_GONE] = {"invalid_grant", 400, 6007, "bad_token",
                         "The user no longer exists or is disabled."},
    [KG_OE_NOT_AUTHORIZED] = {"invalid_request", 403, 7000, NULL,
                              "The client may not introspect or revoke this token."},
    [KG_OE_CODE_INVALID] = {"invalid_grant", 400, 6008, NULL,
                            "The authorization code is malformed or unknown, or was issued to "
                            "another client."},
    [KG_OE_CODE_EXPIRED] = {"invalid_grant", 400, 6009, NULL,
                            "The authorization code has expired (codes live 60 seconds)."},
    [KG_OE_CODE_REUSED] = {"invalid_grant", 400, 6010, NULL,
                           "The authorization code was already used; the tokens issued from it "
                           "have been revoked."},
    [KG_OE_CODE_REDIRECT] = {"invalid_grant", 400, 6011, NULL,
                             "redirect_uri differs from the one in the authorization request."},
    [KG_OE_PKCE_MISSING] = {"invalid_grant", 400, 6012, NULL,
                            "code_verifier is required: the authorization request carried a "
                            "code_challenge."},
    [KG_OE_PKCE_FAILED] = {"invalid_grant", 400, 6013, NULL,
                           "code_verifier does not match the code_challenge."},
    [KG_OE_PKCE_UNEXPECTED] = {"invalid_grant", 400, 6014, NULL,
                               "code_verifier was sent, but the authorization request carried no "
                               "code_challenge."},
    [KG_OE_DEVICE_PENDING] = {"authorization_pending", 400, 6100, NULL,
                              "The user has not finished signing in yet; keep polling."},
    [KG_OE_DEVICE_SLOW_DOWN] = {"slow_down", 400, 6101, NULL,
                                "Polling faster than the interval; wait longer between polls."},
    [KG_OE_DEVICE_EXPIRED] = {"expired_token", 400, 6102, NULL,
                              "The device code has expired; start again."},
    [KG_OE_DEVICE_DENIED] = {"access_denied", 400, 6103, NULL,
                             "The user declined the sign-in request."},
    [KG_OE_DEVICE_INVALID] = {"bad_verification_code", 400, 6104, NULL,
                              "The device code is malformed or unknown, or was issued to another "
                              "client."},
    [KG_OE_DEVICE_REUSED] = {"invalid_grant", 400, 6105, NULL,
                             "The device code was already used; the tokens issued from it have "
                             "been revoked."},
    [KG_OE_AZ_RESPONSE_TYPE] = {"unsupported_response_type", 400, 8000, NULL,
                                "Only response_type=code is supported."},
    [KG_OE_AZ_RESPONSE_MODE] = {"invalid_request", 400, 8001, NULL,
                                "response_mode must be query, fragment or form_post."},
    [KG_OE_AZ_PKCE_REQUIRED] = {"invalid_request", 400, 8002, NULL,
                                "Public clients must send code_challenge with "
                                "code_challenge_method=S256."},
    [KG_OE_AZ_PKCE_METHOD] = {"invalid_request", 400, 8003, NULL,
                              "code_challenge_method must be S256 (plain is refused) and "
                              "code_challenge 43 base64url characters."},
    [KG_OE_AZ_PROMPT] = {"invalid_request", 400, 8004, NULL,
                         "prompt=none cannot be combined with another prompt value."},
    [KG_OE_AZ_PARAM] = {"invalid_request", 400, 8005, NULL,
                        "A parameter is malformed or too long (state, nonce, login_hint, "
                        "max_age)."},
    [KG_OE_AZ_SCOPE_MISSING] = {"invalid_scope", 400, 8006, NULL,
                                "The request must contain scope."},
    [KG_OE_AZ_LOGIN_REQUIRED] = {"login_required", 400, 8007, NULL,
                                 "prompt=none, but the user is not signed in."},
    [KG_OE_AZ_CONSENT_REQUIRED] = {"consent_required", 400, 8008, NULL,
                                   "prompt=none, but the user has not consented to these "
                                   "scopes."},
    [KG_OE_AZ_ACCESS_DENIED] = {"access_denied", 400, 8009, NULL,
                                "The user declined to grant access."},
    [KG_OE_AZ_CLIENT_UNKNOWN] = {"invalid_request", 400, 8100, NULL,
                                 "client_id is missing or names no application of this "
                                 "organisation."},
    [KG_OE_AZ_REDIRECT_UNREGISTERED] = {"invalid_request", 400, 8101, NULL,
                                        "redirect_uri is not registered for this application."},
    [KG_OE_AZ_REDIRECT_MISSING] = {"invalid_request", 400, 8102, NULL,
                                   "redirect_uri is required: the application registers more "
                                   "than one (or none)."},
    [KG_OE_AZ_BAD_REQUEST] = {"invalid_request", 400, 8103, NULL,
                              "The request is malformed: a parameter is repeated, too long, or "
                              "not validly encoded."},
    [KG_OE_AZ_CSRF] = {"invalid_request", 403, 8104, NULL,
                       "The form was not sent from the page this browser was shown, or it "
                       "expired. Go back and try again."},
    [KG_OE_V_MISSING] = {"Authentication is missing", 401, 10001, NULL,
                         "Send an access token (Authorization: Bearer ...) or an API key "
                         "(API-Key: ...)."},
    [KG_OE_V_INVALID] = {"Invalid credential", 401, 10002, NULL,
                         "The token or key is malformed, its signature does not verify, or its "
                         "key is unknown."},
    [KG_OE_V_EXPIRED] = {"Credential expired", 401, 10003, NULL,
                         "The credential has expired; refresh it and retry."},
    [KG_OE_V_REVOKED] = {"Credential revoked", 401, 10004, NULL,
                         "The credential has been revoked or rotated away; use its replacement."},
    [KG_OE_V_TWO_CREDENTIALS] = {"Ambiguous credentials", 400, 10005, NULL,
                                 "Send exactly one credential (one Authorization header, or one "
                                 "API-Key header)."},
    [KG_OE_V_TENANT_MISMATCH] = {"Wrong tenant", 403, 10006, NULL,
                                 "The credential belongs to another tenant than the one this "
                                 "request names."},
    [KG_OE_V_TENANT_HEADER] = {"Tenant header missing", 400, 10007, NULL,
                               "This API requires the tenant header naming the caller's tenant."},
    [KG_OE_V_CALLER_ID] = {"Caller id missing", 400, 10008, NULL,
                           "Application tokens must name the accountable person in "
                           "x-api-caller-id (an email address) for this API."},
    [KG_OE_V_SUBSCRIPTION] = {"Subscription key required", 401, 10009, NULL,
                              "This API requires a valid Ocp-Apim-Subscription-Key of your "
                              "tenant's subscription to it."},
    [KG_OE_V_NO_ROUTE] = {"No route policy", 403, 10010, NULL,
                          "No route policy of this API allows this method and path (deny by "
                          "default)."},
    [KG_OE_V_NOT_MEMBER] = {"Not a member", 403, 10011, NULL,
                            "You are not a member of this workspace."},
    [KG_OE_V_PERMISSION] = {"Permission required", 403, 10012, NULL,
                            "Your role does not grant the permission this operation requires."},
    [KG_OE_V_APP_PERMISSION] = {"Application permission required", 403, 10013, NULL,
                                "The application has not been granted the permission this "
                                "operation requires."},
    [KG_OE_V_OTHER_WORKSPACE] = {"Key of another workspace", 403, 10014, NULL,
                                 "The API key belongs to another workspace."},
    [KG_OE_V_RATE_LIMITED] = {"Too many requests", 429, 10015, NULL,
                              "This credential is over its rate limit; retry after the number "
                              "of seconds in Retry-After."},
    [KG_OE_V_UNTRUSTED_PROXY] = {"Untrusted forwarder", 403, 10016, NULL,
                                 "Forwarded headers are accepted only from trusted proxies."},
    [KG_OE_V_BAD_URI] = {"Bad forwarded request", 400, 10017, NULL,
                         "The forwarded method or path is missing, ambiguous or not canonical "
                         "(no '..', '//', ';' or encoded dots and slashes)."},
    [KG_OE_V_UNKNOWN_API] = {"Unknown API", 400, 10018, NULL,
                             "The api parameter (or the server's default API) names no "
                             "registered API."},
    [KG_OE_V_AUDIENCE] = {"Wrong audience", 401, 10019, NULL,
                          "The token was issued for another API."},
    [KG_OE_V_UNAVAILABLE] = {"Service unavailable", 503, 10020, NULL,
                             "The decision cannot be made right now (the store did not "
                             "answer); retry shortly."},
    [KG_OE_UNAVAILABLE] = {"temporarily_unavailable", 503, 9000, NULL,
                           "The service is temporarily unavailable; retry shortly."},
    [KG_OE_SERVER_ERROR] = {"server_error", 500, 9001, NULL, "An internal error occurred."},
    [KG_OE_NOT_FOUND] = {"not_found", 404, 404, NULL, "There is nothing at this URL."},
    [KG_OE_HTTP_METHOD] = {"method_not_allowed", 405, 405, NULL,
                           "This URL does not accept this method; see the Allow header."},
    [KG_OE_HEADERS_TOO_LARGE] = {"invalid_request", 431, 1011, NULL,
                                 "The request has too many headers."},
};

const struct kg_oerr_info *kg_oerr_info(enum kg_oerr e)
{
    return (e > KG_OE_NONE && e < KG_OE_COUNT) ? &TABLE[e] : &TABLE[KG_OE_SERVER_ERROR];
}

const struct kg_oerr_info *kg_oerr_by_code(int code)
{
    for (int i = 1; i < KG_OE_COUNT; i++) {
        if (TABLE[i].code == code) {
            return &TABLE[i];
        }
    }
    return NULL;
}

struct kg_json *kg_oerr_body(enum kg_oerr e, const char *extra, const char *trace_id,
                             const char *correlation_id, const char *public_url)
{
    const struct kg_oerr_info *in = kg_oerr_info(e);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%SZ", &tm);
    char desc[768];
    snprintf(desc, sizeof desc, "KG%d: %s%s%s Trace ID: %s Correlation ID: %s Timestamp: %s",
             in->code, in->description, extra ? " " : "", extra ? extra : "", trace_id,
             correlation_id, ts);
    struct kg_json *b = kg_json_obj();
    kg_json_set_str(b, "error", in->error);
    kg_json_set_str(b, "error_description", desc);
    struct kg_json *codes = kg_json_arr();
    kg_json_arr_add_int(codes, in->code);
    kg_json_set(b, "error_codes", codes);
    kg_json_set_str(b, "timestamp", ts);
    kg_json_set_str(b, "trace_id", trace_id);
    kg_json_set_str(b, "correlation_id", correlation_id);
    char uri[600];
    snprintf(uri, sizeof uri, "%s/errors/%d", public_url, in->code);
    kg_json_set_str(b, "error_uri", uri);
    if (in->suberror) {
        kg_json_set_str(b, "suberror", in->suberror);
    }
    return b;
}
