/* SPDX-License-Identifier: Apache-2.0
 * Redirect URI validation (with libcurl's CURLU parser) and byte-level matching; see
 * redirect.h. Matching never parses or normalises: the only transformation is removing a
 * loopback URI's ":port", on both sides, before a byte comparison. */
#include "oauth/redirect.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"

static bool loopback_host(const char *h, size_t n)
{
    return (n == 9 && memcmp(h, "127.0.0.1", 9) == 0) ||
           (n == 9 && memcmp(h, "localhost", 9) == 0) || (n == 5 && memcmp(h, "[::1]", 5) == 0) ||
           (n == 3 && memcmp(h, "::1", 3) == 0);
}

/* RFC 8252 7.1: a private-use scheme is a reverse domain name ("com.example.app:/cb"). */
static bool private_use_scheme(const char *uri)
{
    const char *colon = strchr(uri, ':');
    if (!colon || colon == uri || !memchr(uri, '.', (size_t)(colon - uri))) {
        return false;
    }
    for (const char *p = uri; p < colon; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
              *p == '+')) {
            return false;
        }
    }
    return colon[1] == '/' && colon[2] != '/';
}

bool kg_redirect_valid(const char *uri, const char **why)
{
    const char *dummy;
    why = why ? why : &dummy;
    size_t n = uri ? strlen(uri) : 0;
    if (n == 0 || n > KG_MAX_REDIRECT_URI) {
        *why = "empty or too long";
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)uri[i];
        if (c <= 0x20 || c >= 0x7f) {
            *why = "whitespace, controls and non-ASCII bytes are not allowed";
            return false;
        }
    }
    if (strchr(uri, '#')) { /* RFC 6749 3.1.2 */
        *why = "a redirect URI has no fragment";
        return false;
    }
    if (private_use_scheme(uri)) {
        return true;
    }
    bool ok = false;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *user = NULL, *pass = NULL;
    if (!u || curl_url_set(u, CURLUPART_URL, uri, CURLU_PATH_AS_IS) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        *why = "not an absolute http(s) URI";
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
        *why = "user information is not allowed";
        goto out;
    }
    if (strcmp(scheme, "https") == 0) {
        ok = true;
    } else if (strcmp(scheme, "http") == 0 && loopback_host(host, strlen(host))) {
        ok = true; /* RFC 8252 7.3 */
    } else {
        *why = "http is allowed only for loopback hosts";
    }
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(pass);
    curl_url_cleanup(u);
    return ok;
}

/* Splits "http://HOST[:PORT]REST" into the part before the port and REST; false if uri is not
 * an http URI on a loopback host. */
static bool loopback_parts(const char *uri, size_t *host_end, const char **rest)
{
    if (strncmp(uri, "http://", 7) != 0) {
        return false;
    }
    const char *h = uri + 7;
    const char *e = h;
    if (*h == '[') {
        e = strchr(h, ']');
        if (!e) {
            return false;
        }
        e++;
    } else {
        e = h + strcspn(h, ":/?#");
    }
    if (!loopback_host(h, (size_t)(e - h))) {
        return false;
    }
    const char *p = e;
    if (*p == ':') {
        p++;
        const char *d = p;
        while (*p >= '0' && *p <= '9') {
            p++;
        }
        if (p == d || p - d > 5) {
            return false;
        }
    }
    *host_end = (size_t)(e - uri);
    *rest = p;
    return true;
}

bool kg_redirect_match(const char *registered, const char *requested)
{
    if (!registered || !requested || !*registered) {
        return false;
    }
    size_t rn = strlen(registered), qn = strlen(requested);
    if (rn == qn && memcmp(registered, requested, rn) == 0) {
        return true;
    }
    size_t rh, qh;
    const char *rr, *qr;
    if (!loopback_parts(registered, &rh, &rr) || !loopback_parts(requested, &qh, &qr)) {
        return false;
    }
    /* RFC 8252 7.3: the same loopback URI with any port */
    return rh == qh && memcmp(registered, requested, rh) == 0 && strcmp(rr, qr) == 0;
}

bool kg_redirect_match_any(const char *list, const char *requested)
{
    char one[KG_MAX_REDIRECT_URI + 1];
    for (const char *p = list; *p;) {
        const char *sp = strchr(p, ' ');
        size_t n = sp ? (size_t)(sp - p) : strlen(p);
        if (n && n <= KG_MAX_REDIRECT_URI) {
            memcpy(one, p, n);
            one[n] = '\0';
            if (kg_redirect_match(one, requested)) {
                return true;
            }
        }
        p += n + (sp ? 1 : 0);
    }
    return false;
}
