/* SPDX-License-Identifier: Apache-2.0
 * The browser side of sign-in (SPEC 5): a binding cookie that ties forms to one browser (its
 * HMAC is every form's CSRF token), the per-tenant session cookie and its server-side record,
 * and the security headers of every page. */
#ifndef KG_WEB_BROWSER_H
#define KG_WEB_BROWSER_H

#include <stdbool.h>

#include "http/http.h"
#include "store/store.h"

struct kg_browser {
    char binding[48]; /* the kg_b cookie: 256 random bits, base64url */
    char csrf[48];    /* the CSRF token of this browser's forms */
};

/* Reads the binding cookie, or makes one and sets it on resp. */
void kg_browser_init(const struct kg_req *req, struct kg_resp *resp, struct kg_browser *b);
/* true if token is this browser's CSRF token (constant time). */
bool kg_browser_csrf_ok(const struct kg_browser *b, const char *token);

/* The live session of tenant_id in this browser: KG_OK with out filled, KG_ERR_NOT_FOUND if
 * none (absent, unknown, ended, expired, or another tenant's), KG_ERR_STORE. */
enum kg_rc kg_browser_session(const struct kg_req *req, const char *tenant_id,
                              struct kg_session *out);
/* Starts a new session for user (a new random id: no fixation) and sets its cookie. */
enum kg_rc kg_browser_session_start(const struct kg_req *req, struct kg_resp *resp,
                                    const char *tenant_id, const char *user_oid, int64_t now,
                                    struct kg_session *out);
/* Ends this browser's session of tenant_id (server side) and deletes its cookie. */
void kg_browser_session_end(const struct kg_req *req, struct kg_resp *resp, const char *tenant_id,
                            int64_t now);

/* Sets an HTML body with the headers every page carries: no-store, CSP (no scripts unless
 * script_nonce is given), no framing, no referrer. page is consumed. */
void kg_page_send(struct kg_resp *resp, int status, struct kg_buf *page, const char *script_nonce);

#endif
