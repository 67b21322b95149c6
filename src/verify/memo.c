/* SPDX-License-Identifier: Apache-2.0
 * The /verify decision cache; see memo.h. */
#include "verify/memo.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/map.h"
#include "core/str.h"

#define MAX_ENTRIES 16384
#define IDENTITY_FIELDS 8

struct entry {
    int64_t stamp;
    int64_t until;
    int64_t rate;
    bool header_read; /* the decision read one header: header_name below */
    bool header_present;
    /* key id, header name, header value, then the identity's strings, each NUL-terminated */
    char s[];
};

struct kg_memo {
    pthread_mutex_t mu;
    struct kg_map *map; /* memo key -> struct entry */
};

struct kg_memo *kg_memo_new(void)
{
    struct kg_memo *m = kg_calloc(1, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    m->map = kg_map_new();
    return m;
}

void kg_memo_free(struct kg_memo *m)
{
    if (!m) {
        return;
    }
    kg_map_free(m->map, free);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* Appends part as its length, ':' and its bytes (so that no two requests share a key); false if
 * it would not fit or holds a NUL. */
static bool part(char *out, size_t *o, struct kg_str p)
{
    char digits[24];
    size_t nd = 0;
    size_t v = p.n;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (*o + nd + 1 + p.n + 1 > KG_MEMO_KEY || (p.n && memchr(p.p, '\0', p.n))) {
        return false;
    }
    while (nd) {
        out[(*o)++] = digits[--nd];
    }
    out[(*o)++] = ':';
    if (p.n) {
        memcpy(out + *o, p.p, p.n);
    }
    *o += p.n;
    out[*o] = '\0';
    return true;
}

bool kg_memo_key(const struct kg_vreq *rq, char kind, const char *cred_hash, char out[KG_MEMO_KEY])
{
    char sub[KG_HASH_HEX] = "";
    if (rq->subscription_key.p) {
        kg_store_hash_secret(rq->subscription_key.p, rq->subscription_key.n, sub);
    }
    size_t o = 0;
    out[o++] = kind;
    out[o++] = rq->caller_id.p ? 'c' : '-'; /* absent and empty are told apart */
    out[o++] = rq->subscription_key.p ? 's' : '-';
    out[o] = '\0';
    return part(out, &o, kg_str_c(cred_hash)) && part(out, &o, kg_str_c(rq->api)) &&
           part(out, &o, kg_str_c(rq->method)) && part(out, &o, kg_str_c(rq->path)) &&
           part(out, &o, rq->caller_id.p ? rq->caller_id : KG_STR("")) &&
           part(out, &o, kg_str_c(sub));
}

/* The strings of an identity, in the order an entry keeps them. */
#define IDENTITY_STRINGS(id)                                                                       \
    {                                                                                              \
        (id)->tenant_id, (id)->subject, (id)->principal_type, (id)->caller, (id)->roles,           \
            (id)->scopes, (id)->workspace_id, (id)->credential_hash                                \
    }

/* Copies the NUL-terminated string at *src into dst (of size n) and moves *src past it. */
static void take(const char **src, char *dst, size_t n)
{
    size_t l = strlen(*src);
    kg_strlcpy(dst, *src, n);
    *src += l + 1;
}

/* Appends s and its NUL at *dst. */
static void give(char **dst, const char *s)
{
    size_t l = strlen(s) + 1;
    memcpy(*dst, s, l);
    *dst += l;
}

bool kg_memo_get(struct kg_memo *m, const char *key, int64_t stamp, const struct kg_vreq *rq,
                 struct kg_identity *id, int64_t *rate, char key_id[KG_ID])
{
    char name[64], value[KG_NAME];
    bool found = false, header_read = false, header_present = false;
    pthread_mutex_lock(&m->mu);
    const struct entry *e = kg_map_get(m->map, key);
    if (e && e->stamp == stamp && rq->now < e->until) {
        found = true;
        header_read = e->header_read;
        header_present = e->header_present;
        *rate = e->rate;
        const char *s = e->s;
        take(&s, key_id, KG_ID);
        take(&s, name, sizeof name);
        take(&s, value, sizeof value);
        char *f[IDENTITY_FIELDS] = IDENTITY_STRINGS(id);
        const size_t size[IDENTITY_FIELDS] = {
            sizeof id->tenant_id,    sizeof id->subject,        sizeof id->principal_type,
            sizeof id->caller,       sizeof id->roles,          sizeof id->scopes,
            sizeof id->workspace_id, sizeof id->credential_hash};
        for (int i = 0; i < IDENTITY_FIELDS; i++) {
            take(&s, f[i], size[i]);
        }
    }
    pthread_mutex_unlock(&m->mu);
    if (!found || !header_read) {
        return found;
    }
    struct kg_str now = rq->header ? rq->header(rq->header_ctx, name) : KG_STR_NULL;
    bool same = header_present ? now.p && kg_str_eq_c(now, value) : now.p == NULL;
    if (!same) { /* not this request's decision: leave no identity behind */
        char *f[IDENTITY_FIELDS] = IDENTITY_STRINGS(id);
        for (int i = 0; i < IDENTITY_FIELDS; i++) {
            f[i][0] = '\0';
        }
        key_id[0] = '\0';
    }
    return same;
}

/* An entry that can no longer be used. */
struct memo_now {
    int64_t stamp;
    int64_t now;
};
static bool stale(const void *value, void *ctx)
{
    const struct entry *e = value;
    const struct memo_now *n = ctx;
    return e->stamp != n->stamp || e->until <= n->now;
}

void kg_memo_put(struct kg_memo *m, const char *key, int64_t stamp, int64_t now, int64_t until,
                 const struct kg_memo_header *h, const struct kg_identity *id, int64_t rate,
                 const char *key_id)
{
    if (h->reads > 1 || (h->reads == 1 && !h->fits)) {
        return;
    }
    const char *hname = h->reads ? h->name : "", *hvalue = h->reads ? h->value : "";
    const char *f[IDENTITY_FIELDS] = IDENTITY_STRINGS(id);
    size_t n = strlen(key_id) + strlen(hname) + strlen(hvalue) + 3;
    for (int i = 0; i < IDENTITY_FIELDS; i++) {
        n += strlen(f[i]) + 1;
    }
    struct entry *e = kg_malloc(sizeof *e + n);
    e->stamp = stamp;
    e->until = until;
    e->rate = rate;
    e->header_read = h->reads == 1;
    e->header_present = h->reads == 1 && h->present;
    char *d = e->s;
    give(&d, key_id);
    give(&d, hname);
    give(&d, hvalue);
    for (int i = 0; i < IDENTITY_FIELDS; i++) {
        give(&d, f[i]);
    }
    struct memo_now at = {stamp, now};
    pthread_mutex_lock(&m->mu);
    kg_map_make_room(m->map, MAX_ENTRIES, stale, &at, free);
    free(kg_map_put(m->map, key, e));
    pthread_mutex_unlock(&m->mu);
}

struct kg_str kg_memo_read_header(const void *reader, const char *name)
{
    const struct kg_memo_reader *r = reader;
    struct kg_str v = r->header ? r->header(r->header_ctx, name) : KG_STR_NULL;
    struct kg_memo_header *h = r->h;
    if (h->reads++ == 0) {
        h->present = v.p != NULL;
        h->fits = strlen(name) < sizeof h->name && (!v.p || v.n < sizeof h->value) &&
                  (!v.p || !memchr(v.p, '\0', v.n));
        if (h->fits) {
            kg_strlcpy(h->name, name, sizeof h->name);
            h->value[0] = '\0';
            if (v.p) {
                memcpy(h->value, v.p, v.n);
                h->value[v.n] = '\0';
            }
        }
    }
    return v;
}
