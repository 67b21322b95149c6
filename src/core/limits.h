/* SPDX-License-Identifier: Apache-2.0
 * Every cap keygate applies to untrusted input, in one place, each with its reason
 * (in the spirit of SQLite's sqliteLimit.h). Tests probe each cap at -1/0/+1. */
#ifndef KG_CORE_LIMITS_H
#define KG_CORE_LIMITS_H

/* A request line + headers; MHD's per-connection pool also bounds this. */
#define KG_MAX_HEADER_BYTES 16384
/* Token endpoint bodies: the largest legitimate one (code + verifier + redirect) is ~2 KiB. */
#define KG_MAX_TOKEN_BODY 8192
/* Any other form endpoint (introspect, revoke) carries one token and client auth. */
#define KG_MAX_FORM_BODY 16384
/* A body found over its cap while reading it (chunked: no Content-Length to refuse it by) is read
 * and dropped up to this much more, to answer 413; past it the connection is closed unanswered. */
#define KG_MAX_DISCARDED_BODY (1024 * 1024)
/* Number of fields in a form body; the largest grant uses ~10. */
#define KG_MAX_FORM_FIELDS 32
/* One form field name. */
#define KG_MAX_FIELD_NAME 64
/* One form field value (a JWT or refresh token is the longest). */
#define KG_MAX_FIELD_VALUE 4096
/* The scope parameter: number of scopes and total length. */
#define KG_MAX_SCOPES 16
#define KG_MAX_SCOPE_LEN 1024
/* A JWT we accept for verification; ours are ~1.2 KiB. */
#define KG_MAX_JWT 8192
/* A token response: an access token and an ID token, each at most 8 KB of claims base64url-encoded
 * with header and signature (under 12 KB), and the other members. */
#define KG_MAX_TOKEN_RESPONSE 32768
/* JSON nesting depth accepted by the decoder. */
#define KG_MAX_JSON_DEPTH 16
/* JSON document size for request bodies. */
#define KG_MAX_JSON_BODY 65536
/* client_id (a UUID) and client_secret (kg_sec_ + 43 + checksum). */
#define KG_MAX_CLIENT_ID 128
#define KG_MAX_CLIENT_SECRET 256
/* Username and password for the password grant (before argon2 sees it). */
#define KG_MAX_USERNAME 256
#define KG_MAX_PASSWORD 1024
/* Tenant alias in a URL (UUID or slug). */
#define KG_MAX_TENANT_ALIAS 64
/* A URL path we route; longer paths get 414. */
#define KG_MAX_PATH 2048
/* The Authorization header value. */
#define KG_MAX_AUTH_HEADER 4096
/* API identifier URIs and names. */
#define KG_MAX_API_URI 256
/* A redirect URI (registered or requested). */
#define KG_MAX_REDIRECT_URI 2048
/* client-request-id echoed back as correlation_id. */
#define KG_MAX_CORRELATION_ID 64
/* state and nonce of an authorization request: echoed back, so bounded (MSAL's are < 200). */
#define KG_MAX_STATE 1024
#define KG_MAX_NONCE 256
/* The Cookie header we read (cookies are ours: a browser binding and one session per tenant). */
#define KG_MAX_COOKIE_HEADER 4096
#define KG_MAX_COOKIES 32
/* Lifetimes of sign-in artefacts (SPEC 4, 5; RFC 8628 3.2). */
#define KG_CODE_LIFETIME 60
#define KG_SESSION_LIFETIME (12 * 3600)
#define KG_DEVICE_LIFETIME 900
#define KG_DEVICE_INTERVAL 5
/* Wrong user codes per IP in the throttle window before /device refuses (RFC 8628 5.1). */
#define KG_THROTTLE_DEVICE_FAILURES 10
/* Simultaneous connections and per-IP connections (MHD). */
#define KG_MAX_CONNECTIONS 4096
#define KG_MAX_CONNECTIONS_PER_IP 512
/* Idle connection timeout, seconds. */
#define KG_CONNECTION_TIMEOUT 30
/* Sockets drained after an early close (http/linger.h), and for how long: nginx's lingering_close
 * with its lingering_timeout (quiet time) shortened, as our clients are proxies on a fast network.
 */
#define KG_MAX_LINGERING 64
#define KG_LINGER_IDLE_MS 2000
#define KG_LINGER_TOTAL_MS 10000
/* Audit events waiting for group commit before producers block. */
#define KG_MAX_COMMIT_QUEUE 65536
/* API keys whose last-used time waits to be written; uses past it are noted again next time. */
#define KG_MAX_LASTUSED_QUEUE 65536
/* API keys remembered as queued in the last minute; past it, those queued a minute or more ago
 * are forgotten first. */
#define KG_MAX_LASTUSED_KEYS 65536
/* Requests waiting for a worker thread (password grants); past it they run on the HTTP thread. */
#define KG_MAX_OFFLOAD_QUEUE 1024
/* Worker threads per request thread when the store's reads wait on a network (store.h) */
#define KG_OFFLOAD_THREADS_PER_CORE_WAITING 4
/* Failed password attempts per user and per IP in a window before throttling. */
#define KG_THROTTLE_USER_FAILURES 5
#define KG_THROTTLE_IP_FAILURES 20
#define KG_THROTTLE_WINDOW_SECONDS 300
/* Entries in the in-memory throttle table (oldest evicted). */
#define KG_THROTTLE_SLOTS 4096

#endif
