/* SPDX-License-Identifier: Apache-2.0
 * The sign-in pages (SPEC 5): login, consent, device code entry, logout confirmation, messages
 * and errors, and the form_post answer (OAuth 2.0 Form Post Response Mode). Each renders into a
 * kg_buf from plain values; every dynamic value goes through kg_html. Forms post back to action
 * with the hidden fields given (the authorization request itself travels in them, so there is
 * no pending-request state on the server) plus the CSRF token. */
#ifndef KG_WEB_PAGES_H
#define KG_WEB_PAGES_H

#include <stddef.h>

#include "core/str.h"

#define KG_PAGE_FIELDS 40

struct kg_fields {
    size_t n;
    const char *name[KG_PAGE_FIELDS];
    const char *value[KG_PAGE_FIELDS];
};

void kg_fields_add(struct kg_fields *f, const char *name, const char *value);

/* What every form page needs. */
struct kg_page {
    const char *org;    /* tenant display name */
    const char *action; /* form target (a path of ours) */
    const char *csrf;   /* CSRF token */
    struct kg_fields hidden;
};

void kg_page_login(struct kg_buf *b, const struct kg_page *p, const char *app_name,
                   const char *username, const char *error);
/* words: the consent words of the request (kg_authz_consent_words); api_uri/api_name name the
 * API those of the form {API}/{scope} belong to (may be NULL). */
void kg_page_consent(struct kg_buf *b, const struct kg_page *p, const char *app_name,
                     const char *user, const char *words, const char *api_uri, const char *api_name,
                     const char *note);
void kg_page_device_code(struct kg_buf *b, const struct kg_page *p, const char *code,
                         const char *error);
void kg_page_logout_confirm(struct kg_buf *b, const struct kg_page *p, const char *user);
/* A page with a title and a sentence, no form. */
void kg_page_message(struct kg_buf *b, const char *org, const char *title, const char *text);
/* An error page naming the keygate code and trace id, so support can find the request. */
void kg_page_error(struct kg_buf *b, const char *org, const char *title, const char *text, int code,
                   const char *trace_id);
/* Auto-submitting form to the client's redirect URI (a button without JavaScript). */
void kg_page_form_post(struct kg_buf *b, const char *uri, const struct kg_fields *f,
                       const char *script_nonce);

#endif
