/* SPDX-License-Identifier: Apache-2.0
 * Command-line options with the precedence of SPEC 9: flags, then KEYGATE_* environment
 * variables, then a config file. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/encode.h"
#include "core/str.h"

int kg_cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("keygate: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

/* Looks name up in the space-separated allowed list; returns 1 (flag), 2 (takes value), 0. */
static int kind(const char *allowed, const char *name, size_t n)
{
    const char *p = allowed;
    while (*p) {
        const char *sp = strchr(p, ' ');
        size_t len = sp ? (size_t)(sp - p) : strlen(p);
        bool val = len && p[len - 1] == '=';
        size_t nl = val ? len - 1 : len;
        if (nl == n && memcmp(p, name, n) == 0) {
            return val ? 2 : 1;
        }
        p += len + (sp ? 1 : 0);
    }
    return 0;
}

bool kg_args_parse(int argc, char **argv, int first, const char *allowed, struct kg_args *a)
{
    memset(a, 0, sizeof *a);
    char all[1024];
    snprintf(all, sizeof all, "%s json data= db= config=", allowed);
    for (int i = first; i < argc; i++) { /* names and values end up in tokens and JSON */
        if (!kg_utf8_valid(argv[i], strlen(argv[i]))) {
            kg_cli_fail("argument %d is not valid UTF-8 text", i);
            return false;
        }
    }
    for (int i = first; i < argc; i++) {
        const char *s = argv[i];
        if (strncmp(s, "--", 2) != 0 || s[2] == '\0') {
            if (a->npos == (int)(sizeof a->pos / sizeof a->pos[0])) {
                kg_cli_fail("too many arguments");
                return false;
            }
            a->pos[a->npos++] = s;
            continue;
        }
        const char *name = s + 2;
        const char *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        int k = kind(all, name, n);
        if (k == 0) {
            kg_cli_fail("unknown option --%.*s", (int)n, name);
            return false;
        }
        if (a->nopt == KG_MAX_ARGS) {
            kg_cli_fail("too many options");
            return false;
        }
        const char *value = NULL;
        if (k == 2) {
            if (eq) {
                value = eq + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                kg_cli_fail("--%s needs a value", name);
                return false;
            }
        } else if (eq) {
            kg_cli_fail("--%.*s takes no value", (int)n, name);
            return false;
        }
        snprintf(a->opt[a->nopt].name, sizeof a->opt[0].name, "%.*s", (int)n, name);
        a->opt[a->nopt].value = value;
        a->nopt++;
    }
    return true;
}

static const char *from_config(const struct kg_args *a, const char *name)
{
    const char *path = NULL;
    for (int i = 0; i < a->nopt; i++) {
        if (strcmp(a->opt[i].name, "config") == 0) {
            path = a->opt[i].value;
        }
    }
    if (!path) {
        path = getenv("KEYGATE_CONFIG");
    }
    if (!path || !*path) {
        return NULL;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    static char value[1024];
    char line[1200];
    const char *found = NULL;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (isspace((unsigned char)*p)) {
            p++;
        }
        if (*p == '#' || !*p) {
            continue;
        }
        char *eq = strchr(p, '=');
        if (!eq) {
            continue;
        }
        char *k_end = eq;
        while (k_end > p && isspace((unsigned char)k_end[-1])) {
            k_end--;
        }
        *k_end = '\0';
        if (strcmp(p, name) != 0) {
            continue;
        }
        char *v = eq + 1;
        while (isspace((unsigned char)*v)) {
            v++;
        }
        size_t vl = strlen(v);
        while (vl && isspace((unsigned char)v[vl - 1])) {
            v[--vl] = '\0';
        }
        kg_strlcpy(value, v, sizeof value);
        found = value;
    }
    fclose(f);
    return found;
}

const char *kg_args_get(const struct kg_args *a, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < a->nopt; i++) {
        if (strcmp(a->opt[i].name, name) == 0 && a->opt[i].value) {
            v = a->opt[i].value;
        }
    }
    if (v) {
        return v;
    }
    char env[96] = "KEYGATE_";
    size_t o = 8;
    for (const char *p = name; *p && o < sizeof env - 1; p++) {
        env[o++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    }
    env[o] = '\0';
    v = getenv(env);
    if (v && *v) {
        return v;
    }
    return from_config(a, name);
}

bool kg_args_flag(const struct kg_args *a, const char *name)
{
    for (int i = 0; i < a->nopt; i++) {
        if (strcmp(a->opt[i].name, name) == 0) {
            return true;
        }
    }
    const char *v = kg_args_get(a, name);
    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0);
}

int kg_args_all(const struct kg_args *a, const char *name, const char **out, int max)
{
    int n = 0;
    for (int i = 0; i < a->nopt && n < max; i++) {
        if (strcmp(a->opt[i].name, name) == 0 && a->opt[i].value) {
            out[n++] = a->opt[i].value;
        }
    }
    return n;
}

int64_t kg_parse_duration(const char *s)
{
    if (!s || !*s) {
        return -1;
    }
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0 || v > 100LL * 365 * 86400) {
        return -1;
    }
    int64_t mul = 1;
    if (*end == 'd' && !end[1]) {
        mul = 86400;
    } else if (*end == 'h' && !end[1]) {
        mul = 3600;
    } else if (*end == 'm' && !end[1]) {
        mul = 60;
    } else if ((*end == 's' && !end[1]) || !*end) {
        mul = 1;
    } else {
        return -1;
    }
    return (int64_t)v * mul;
}
