/* SPDX-License-Identifier: Apache-2.0
 * HTML escaping and the page frame; see html.h. */
#include "web/html.h"

#include <stdarg.h>
#include <string.h>

void kg_html_escn(struct kg_buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        kg_buf_add(b, s + run, i - run);
        kg_buf_adds(b, rep);
        run = i + 1;
    }
    kg_buf_add(b, s + run, n - run);
}

void kg_html_esc(struct kg_buf *b, const char *s)
{
    if (s) {
        kg_html_escn(b, s, strlen(s));
    }
}

void kg_html(struct kg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *p = fmt;
    while (*p) {
        const char *pc = strchr(p, '%');
        if (!pc) {
            kg_buf_adds(b, p);
            break;
        }
        kg_buf_add(b, p, (size_t)(pc - p));
        if (pc[1] == 's') {
            kg_html_esc(b, va_arg(ap, const char *));
            p = pc + 2;
        } else if (pc[1] == '%') {
            kg_buf_add(b, "%", 1);
            p = pc + 2;
        } else {
            kg_buf_add(b, "%", 1);
            p = pc + 1;
        }
    }
    va_end(ap);
}

void kg_html_begin(struct kg_buf *b, const char *title, const char *org)
{
    kg_html(b,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta name=\"referrer\" content=\"no-referrer\">"
            "<title>%s</title><link rel=\"stylesheet\" href=\"/assets/keygate.css\"></head>"
            "<body><main class=\"card\"><p class=\"brand\"><span class=\"mark\">&#9670;</span> ",
            title);
    if (org && *org) {
        kg_html(b, "%s", org);
    } else {
        kg_buf_adds(b, "keygate");
    }
    kg_html(b, "</p><h1>%s</h1>", title);
}

void kg_html_end(struct kg_buf *b)
{
    kg_buf_adds(b, "</main><footer>Secured by keygate</footer></body></html>\n");
}

void kg_html_hidden(struct kg_buf *b, const char *name, const char *value)
{
    kg_html(b, "<input type=\"hidden\" name=\"%s\" value=\"%s\">", name, value);
}

const char kg_web_css[] =
    ":root{--fg:#1d2330;--muted:#5b6474;--line:#d8dde6;--accent:#2f5bd3;--bad:#b42318;"
    "--bg:#f4f6fa}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;"
    "justify-content:center;background:var(--bg);color:var(--fg);"
    "font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\n"
    ".card{width:100%;max-width:26rem;background:#fff;border:1px solid var(--line);"
    "border-radius:12px;padding:2rem 1.75rem;margin:1rem;box-shadow:0 4px 18px "
    "rgba(20,30,60,.06)}\n"
    ".brand{margin:0 0 1.25rem;font-weight:600;color:var(--muted)}\n"
    ".mark{color:var(--accent)}\n"
    "h1{font-size:1.4rem;margin:0 0 1rem}\n"
    "p{margin:.5rem 0}\n"
    "label{display:block;margin:1rem 0 .25rem;font-weight:600;font-size:.95rem}\n"
    "input[type=text],input[type=password]{width:100%;padding:.65rem .75rem;font-size:1rem;"
    "border:1px solid var(--line);border-radius:8px}\n"
    "input:focus{outline:2px solid var(--accent);outline-offset:1px}\n"
    ".code{font-family:ui-monospace,monospace;letter-spacing:.15em;text-transform:uppercase}\n"
    ".actions{display:flex;gap:.75rem;margin-top:1.5rem}\n"
    "button{flex:1;padding:.7rem 1rem;font-size:1rem;border-radius:8px;cursor:pointer;"
    "border:1px solid var(--accent);background:var(--accent);color:#fff;font-weight:600}\n"
    "button.secondary{background:#fff;color:var(--accent)}\n"
    ".error{background:#fef3f2;border:1px solid #fecdca;color:var(--bad);padding:.6rem .8rem;"
    "border-radius:8px}\n"
    ".scopes{padding-left:1.25rem}\n"
    ".scopes li{margin:.35rem 0}\n"
    ".muted{color:var(--muted);font-size:.9rem}\n"
    "footer{color:var(--muted);font-size:.8rem;margin-bottom:1rem}\n";
