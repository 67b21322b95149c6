/* SPDX-License-Identifier: Apache-2.0
 * Server-rendered HTML for the sign-in pages (SPEC 5): escaping of every dynamic value, and the
 * frame every page shares (stylesheet, the tenant's name, a card). Pages are built into a
 * bounded kg_buf; nothing here reads a request. */
#ifndef KG_WEB_HTML_H
#define KG_WEB_HTML_H

#include <stddef.h>

#include "core/str.h"

/* Pages never grow past this; a page that would is a bug caught by tests. */
#define KG_HTML_MAX (64 * 1024)

/* Appends s with & < > " ' escaped (safe in element content and quoted attributes). */
void kg_html_esc(struct kg_buf *b, const char *s);
/* Appends n bytes of s escaped. */
void kg_html_escn(struct kg_buf *b, const char *s, size_t n);
/* Appends the constant markup fmt with each %s replaced by the next argument, escaped; only %s
 * and %% are understood, so no dynamic value is ever emitted raw. */
void kg_html(struct kg_buf *b, const char *fmt, ...);

/* Starts a page: <head> with title and stylesheet, the brand line with org (may be NULL or
 * empty), and an open card. */
void kg_html_begin(struct kg_buf *b, const char *title, const char *org);
/* Closes the card and the page. */
void kg_html_end(struct kg_buf *b);
/* A hidden input. */
void kg_html_hidden(struct kg_buf *b, const char *name, const char *value);

/* The stylesheet served at /assets/keygate.css. */
extern const char kg_web_css[];

#endif
