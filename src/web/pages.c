/* SPDX-License-Identifier: Apache-2.0
 * The sign-in pages; see pages.h. */
#include "web/pages.h"

#include <stdio.h>
#include <string.h>

#include "web/html.h"

void kg_fields_add(struct kg_fields *f, const char *name, const char *value)
{
    if (f->n < KG_PAGE_FIELDS && value) {
        f->name[f->n] = name;
        f->value[f->n] = value;
        f->n++;
    }
}

static void form_open(struct kg_buf *b, const struct kg_page *p)
{
    kg_html(b, "<form method=\"post\" action=\"%s\">", p->action);
    for (size_t i = 0; i < p->hidden.n; i++) {
        kg_html_hidden(b, p->hidden.name[i], p->hidden.value[i]);
    }
    kg_html_hidden(b, "kg_csrf", p->csrf);
}

static void error_box(struct kg_buf *b, const char *error)
{
    if (error && *error) {
        kg_html(b, "<p class=\"error\" role=\"alert\">%s</p>", error);
    }
}

void kg_page_login(struct kg_buf *b, const struct kg_page *p, const char *app_name,
                   const char *username, const char *error)
{
    kg_html_begin(b, "Sign in", p->org);
    if (app_name && *app_name) {
        kg_html(b, "<p class=\"muted\">to continue to <strong>%s</strong></p>", app_name);
    }
    error_box(b, error);
    form_open(b, p);
    kg_html_hidden(b, "kg_action", "login");
    kg_html(b,
            "<label for=\"username\">User name</label>"
            "<input type=\"text\" id=\"username\" name=\"username\" value=\"%s\" "
            "autocomplete=\"username\" autocapitalize=\"none\" required autofocus>"
            "<label for=\"password\">Password</label>"
            "<input type=\"password\" id=\"password\" name=\"password\" "
            "autocomplete=\"current-password\" required>"
            "<div class=\"actions\"><button type=\"submit\" id=\"signin\">Sign in</button></div>"
            "</form>",
            username ? username : "");
    kg_html_end(b);
}

/* "grids:read" -> "Read grids in API"; access_as_user -> "Use API as you". */
static void describe_api_scope(struct kg_buf *b, const char *s, size_t n, const char *api)
{
    char w[160];
    snprintf(w, sizeof w, "%.*s", (int)n, s);
    char *colon = strchr(w, ':');
    if (strcmp(w, "access_as_user") == 0 || strcmp(w, "user_impersonation") == 0) {
        kg_html(b, "<li>Use <strong>%s</strong> as you</li>", api);
    } else if (colon) {
        *colon = '\0';
        char verb[64];
        snprintf(verb, sizeof verb, "%s", colon + 1);
        if (verb[0] >= 'a' && verb[0] <= 'z') {
            verb[0] = (char)(verb[0] - 'a' + 'A');
        }
        kg_html(b, "<li>%s your %s in <strong>%s</strong></li>", verb, w, api);
    } else {
        for (char *c = w; *c; c++) {
            *c = *c == '_' ? ' ' : *c;
        }
        kg_html(b, "<li>%s in <strong>%s</strong></li>", w, api);
    }
}

static void describe(struct kg_buf *b, const char *w, size_t n, const char *api_uri,
                     const char *api_name)
{
    static const struct {
        const char *word, *text;
    } OIDC[] = {
        {"openid", "Sign you in with your account"},
        {"profile", "See your name and user name"},
        {"email", "See your email address"},
        {"offline_access", "Keep the access you give it, even when you are not using it"},
    };
    for (size_t i = 0; i < sizeof OIDC / sizeof OIDC[0]; i++) {
        if (strlen(OIDC[i].word) == n && memcmp(OIDC[i].word, w, n) == 0) {
            kg_html(b, "<li>%s</li>", OIDC[i].text);
            return;
        }
    }
    size_t al = api_uri ? strlen(api_uri) : 0;
    if (al && n > al + 1 && memcmp(w, api_uri, al) == 0 && w[al] == '/') {
        describe_api_scope(b, w + al + 1, n - al - 1, api_name && *api_name ? api_name : api_uri);
        return;
    }
    char raw[KG_HTML_MAX / 64];
    snprintf(raw, sizeof raw, "%.*s", (int)n, w);
    kg_html(b, "<li>%s</li>", raw);
}

void kg_page_consent(struct kg_buf *b, const struct kg_page *p, const char *app_name,
                     const char *user, const char *words, const char *api_uri, const char *api_name,
                     const char *note)
{
    kg_html_begin(b, "Allow access?", p->org);
    kg_html(b, "<p><strong>%s</strong> wants to:</p><ul class=\"scopes\">", app_name);
    for (const char *w = words; *w;) {
        const char *sp = strchr(w, ' ');
        size_t n = sp ? (size_t)(sp - w) : strlen(w);
        if (n) {
            describe(b, w, n, api_uri, api_name);
        }
        w = sp ? sp + 1 : w + n;
    }
    kg_html(b, "</ul><p class=\"muted\">Signed in as %s. %s</p>", user, note ? note : "");
    form_open(b, p);
    kg_html_hidden(b, "kg_action", "consent");
    kg_buf_adds(b, "<div class=\"actions\">"
                   "<button type=\"submit\" name=\"kg_consent\" value=\"deny\" id=\"deny\" "
                   "class=\"secondary\">Cancel</button>"
                   "<button type=\"submit\" name=\"kg_consent\" value=\"allow\" id=\"allow\">"
                   "Allow</button></div></form>");
    kg_html_end(b);
}

void kg_page_device_code(struct kg_buf *b, const struct kg_page *p, const char *code,
                         const char *error)
{
    kg_html_begin(b, "Enter code", p->org);
    kg_buf_adds(b, "<p>Enter the code shown on your device or in your application.</p>");
    error_box(b, error);
    form_open(b, p);
    kg_html_hidden(b, "kg_action", "code");
    kg_html(b,
            "<label for=\"user_code\">Code</label>"
            "<input type=\"text\" id=\"user_code\" name=\"user_code\" class=\"code\" "
            "value=\"%s\" maxlength=\"32\" autocomplete=\"off\" autocapitalize=\"characters\" "
            "placeholder=\"XXXX-XXXX\" required autofocus>"
            "<div class=\"actions\"><button type=\"submit\" id=\"next\">Next</button></div>"
            "</form>",
            code ? code : "");
    kg_html_end(b);
}

void kg_page_logout_confirm(struct kg_buf *b, const struct kg_page *p, const char *user)
{
    kg_html_begin(b, "Sign out?", p->org);
    kg_html(b, "<p>Do you want to sign out%s%s?</p>", user && *user ? " " : "", user ? user : "");
    form_open(b, p);
    kg_html_hidden(b, "kg_action", "logout");
    kg_buf_adds(b, "<div class=\"actions\"><button type=\"submit\" id=\"signout\">Sign out"
                   "</button></div></form>");
    kg_html_end(b);
}

void kg_page_message(struct kg_buf *b, const char *org, const char *title, const char *text)
{
    kg_html_begin(b, title, org);
    kg_html(b, "<p>%s</p>", text);
    kg_html_end(b);
}

void kg_page_error(struct kg_buf *b, const char *org, const char *title, const char *text, int code,
                   const char *trace_id)
{
    char c[16];
    snprintf(c, sizeof c, "KG%d", code);
    kg_html_begin(b, title, org);
    kg_html(b, "<p class=\"error\" role=\"alert\">%s</p>", text);
    kg_html(b, "<p class=\"muted\">Error %s &middot; trace %s</p>", c, trace_id);
    kg_html_end(b);
}

void kg_page_form_post(struct kg_buf *b, const char *uri, const struct kg_fields *f,
                       const char *script_nonce)
{
    kg_html_begin(b, "Signing in", NULL);
    kg_html(b, "<form method=\"post\" action=\"%s\">", uri);
    for (size_t i = 0; i < f->n; i++) {
        kg_html_hidden(b, f->name[i], f->value[i]);
    }
    kg_buf_adds(b, "<p>Returning you to the application&hellip;</p><div class=\"actions\">"
                   "<button type=\"submit\">Continue</button></div></form>");
    kg_html(b, "<script nonce=\"%s\">document.forms[0].submit()</script>", script_nonce);
    kg_html_end(b);
}
