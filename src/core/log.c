/* SPDX-License-Identifier: Apache-2.0
 * JSON log lines; see log.h. */
#include "core/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/str.h"

static enum kg_log_level min_level = KG_LOG_INFO;

void kg_log_set_level(enum kg_log_level lvl)
{
    min_level = lvl;
}

bool kg_log_enabled(enum kg_log_level lvl)
{
    return lvl >= min_level;
}

/* Appends s to b JSON-escaped (without quotes). */
static void json_escape(struct kg_buf *b, const char *s, size_t n)
{
    static const char H[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            kg_buf_add(b, e, 2);
        } else if (c < 0x20 || c == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', H[c >> 4], H[c & 15]};
            kg_buf_add(b, e, 6);
        } else {
            kg_buf_add(b, &s[i], 1);
        }
    }
}

void kg_log(enum kg_log_level lvl, const char *trace_id, const char *event, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (lvl < min_level) {
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

    struct kg_buf b;
    kg_buf_init(&b, 8192);
    kg_buf_printf(&b, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\"", when, ts.tv_nsec / 1000000,
                  names[lvl]);
    if (trace_id) {
        kg_buf_printf(&b, ",\"trace_id\":\"%s\"", trace_id);
    }
    kg_buf_adds(&b, ",\"event\":\"");
    json_escape(&b, event, strlen(event));
    kg_buf_adds(&b, "\"");
    va_list ap;
    va_start(ap, event);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k) {
            break;
        }
        const char *v = va_arg(ap, const char *);
        kg_buf_adds(&b, ",\"");
        json_escape(&b, k, strlen(k));
        kg_buf_adds(&b, "\":\"");
        if (v) {
            json_escape(&b, v, strlen(v));
        }
        kg_buf_adds(&b, "\"");
    }
    va_end(ap);
    if (kg_buf_adds(&b, "}\n") != KG_OK) { /* past 8 KiB: close the line anyway */
        b.n = b.max - 3;
        kg_buf_adds(&b, "\"}\n");
    }
    ssize_t w = write(STDERR_FILENO, b.p, b.n);
    (void)w;
    kg_buf_free(&b);
}
