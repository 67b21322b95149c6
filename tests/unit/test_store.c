/* SPDX-License-Identifier: Apache-2.0
 * Store contract: what every back end must do, run against SQLite in a temporary directory, and
 * against PostgreSQL (a database of its own per test) when KEYGATE_TEST_PG_DIR names a running
 * throwaway cluster (scripts/pg.sh; ctest's test_store_pg). Single-use consumption is atomic,
 * families revoke their access tokens, tenants isolate, migrations are idempotent across reopen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "store/store.h"
#include "audit_chain.h"

static char dir[512]; /* the store URL: a directory, or a PostgreSQL database */

static bool on_pg(void)
{
    return getenv("KEYGATE_TEST_PG_DIR") != NULL;
}

/* A new empty database in the test cluster; its URL into dir. */
static void pg_database(void)
{
    static int n;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash %s/scripts/pg.sh createdb %s kg_store_%d_%d", KG_SOURCE_DIR,
             getenv("KEYGATE_TEST_PG_DIR"), (int)getpid(), n++);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(dir, sizeof dir, p));
    dir[strcspn(dir, "\n")] = '\0';
    assert_int_equal(pclose(p), 0);
}

static int setup(void **state)
{
    if (on_pg()) {
        pg_database();
    } else {
        snprintf(dir, sizeof dir, "/tmp/kg-store-XXXXXX");
        assert_non_null(mkdtemp(dir));
    }
    struct kg_store *s = NULL;
    assert_int_equal(kg_store_open(dir, &s, NULL), KG_OK);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    kg_store_close(*state);
    if (on_pg()) {
        return 0; /* the cluster is thrown away whole */
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}

/* The stamp of s once it differs from old (SQLite: at once; PostgreSQL: when the change feed
 * has it, within a second), or old after two seconds. */
static int64_t stamp_after(struct kg_store *s, int64_t old)
{
    int64_t v = old;
    for (int i = 0; i < 200 && v == old; i++) {
        assert_int_equal(s->ops->config_stamp(s, &v), KG_OK);
        if (v == old) {
            usleep(10000);
        }
    }
    return v;
}

static void tenant(struct kg_store *s, const char *name, struct kg_tenant *t)
{
    memset(t, 0, sizeof *t);
    kg_uuid4(t->id);
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->display_name, sizeof t->display_name, "%s", name);
    snprintf(t->signing_alg, sizeof t->signing_alg, "RS256");
    t->token_lifetime = 3600;
    assert_int_equal(s->ops->tenant_create(s, t, NULL, NULL, 0), KG_OK);
}

static void tenants(void **state)
{
    struct kg_store *s = *state;
    struct kg_tenant a, got;
    tenant(s, "alpha", &a);
    assert_int_equal(s->ops->tenant_get(s, "alpha", &got), KG_OK);
    assert_string_equal(got.id, a.id);
    assert_int_equal(s->ops->tenant_get(s, a.id, &got), KG_OK);
    assert_string_equal(got.name, "alpha");
    assert_int_equal(s->ops->tenant_get(s, "nobody", &got), KG_ERR_NOT_FOUND);
    struct kg_tenant dup = a;
    kg_uuid4(dup.id);
    assert_int_equal(s->ops->tenant_create(s, &dup, NULL, NULL, 0), KG_ERR_CONFLICT);
    /* the failed transaction left nothing behind */
    struct kg_tenant *all = NULL;
    size_t n = 0;
    assert_int_equal(s->ops->tenant_list(s, &all, &n), KG_OK);
    assert_int_equal(n, 1);
    free(all);
}

static void refresh_rec(struct kg_refresh *r, const char *tid, const char *family,
                        const char *token)
{
    memset(r, 0, sizeof *r);
    kg_store_hash_secret(token, strlen(token), r->hash);
    snprintf(r->tenant_id, sizeof r->tenant_id, "%s", tid);
    snprintf(r->family_id, sizeof r->family_id, "%s", family);
    snprintf(r->client_id, sizeof r->client_id, "client");
    snprintf(r->user_oid, sizeof r->user_oid, "user");
    snprintf(r->scope, sizeof r->scope, "openid");
    kg_uuid4(r->access_jti);
    r->access_exp = 4000000000;
    r->expires_at = 4000000000;
}

struct race {
    struct kg_store *s;
    const char *old_hash;
    const char *tid;
    int wins;
    int index;
};

static void *rotate_once(void *arg)
{
    struct race *r = arg;
    struct kg_refresh next;
    char tok[32];
    snprintf(tok, sizeof tok, "next-%d", r->index);
    refresh_rec(&next, r->tid, "fam", tok);
    if (r->s->ops->refresh_rotate(r->s, r->old_hash, &next, (const uint8_t *)"g", 1, 10) == KG_OK) {
        r->wins = 1;
    }
    return NULL;
}

struct chain {
    struct kg_store *s;
    const char *tid;
    int index, rotated;
};

/* Rotates a refresh chain of its own 20 times. */
static void *rotate_chain(void *arg)
{
    struct chain *ch = arg;
    char fam[16], tok[48];
    snprintf(fam, sizeof fam, "fam-%d", ch->index);
    snprintf(tok, sizeof tok, "chain-%d-0", ch->index);
    struct kg_refresh cur, next;
    refresh_rec(&cur, ch->tid, fam, tok);
    if (ch->s->ops->refresh_create(ch->s, &cur) != KG_OK) {
        return NULL;
    }
    for (int i = 1; i <= 20; i++) {
        snprintf(tok, sizeof tok, "chain-%d-%d", ch->index, i);
        refresh_rec(&next, ch->tid, fam, tok);
        if (ch->s->ops->refresh_rotate(ch->s, cur.hash, &next, NULL, 0, 10) != KG_OK) {
            return NULL;
        }
        cur = next;
        ch->rotated++;
    }
    return NULL;
}

/* Writers queue: threads of one opener on its writer lock, two openers (a server and the CLI,
 * two processes in life) on SQLite's; every write lands, none waits out the busy timeout. */
static void writers_queue_within_and_across_openers(void **state)
{
    struct kg_store *s = *state;
    struct kg_store *other = NULL;
    assert_int_equal(kg_store_open(dir, &other, NULL), KG_OK);
    struct kg_tenant t;
    tenant(s, "writers", &t);
    pthread_t th[8];
    struct chain ch[8];
    for (int i = 0; i < 8; i++) {
        ch[i] = (struct chain){i % 2 ? other : s, t.id, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, rotate_chain, &ch[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ch[i].rotated, 20);
        struct kg_refresh last, got;
        char fam[16], tok[48];
        snprintf(fam, sizeof fam, "fam-%d", i);
        snprintf(tok, sizeof tok, "chain-%d-20", i);
        refresh_rec(&last, t.id, fam, tok);
        assert_int_equal(s->ops->refresh_get(s, last.hash, &got), KG_OK);
        assert_int_equal(got.used_at, 0); /* the chain's current token */
        kg_refresh_clear(&got);
    }
    kg_store_close(other);
}

static void refresh_single_use(void **state)
{
    struct kg_store *s = *state;
    struct kg_tenant t;
    tenant(s, "beta", &t);
    struct kg_refresh first, got;
    refresh_rec(&first, t.id, "fam", "first");
    assert_int_equal(s->ops->refresh_create(s, &first), KG_OK);
    /* eight threads race to consume the same token: exactly one wins */
    pthread_t th[8];
    struct race rs[8];
    for (int i = 0; i < 8; i++) {
        rs[i] = (struct race){s, first.hash, t.id, 0, i};
        pthread_create(&th[i], NULL, rotate_once, &rs[i]);
    }
    int wins = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        wins += rs[i].wins;
    }
    assert_int_equal(wins, 1);
    assert_int_equal(s->ops->refresh_get(s, first.hash, &got), KG_OK);
    assert_true(got.used_at != 0);
    assert_int_equal(got.grace_len, 1);
    kg_refresh_clear(&got);
    /* the access token of the used refresh token is revoked */
    assert_int_equal(s->ops->jti_revoked(s, first.access_jti), KG_OK);
    /* revoking the family revokes every access token it produced */
    struct kg_refresh winner;
    for (int i = 0; i < 8; i++) {
        if (rs[i].wins) {
            char tok[32];
            snprintf(tok, sizeof tok, "next-%d", i);
            refresh_rec(&winner, t.id, "fam", tok);
            assert_int_equal(s->ops->refresh_get(s, winner.hash, &got), KG_OK);
        }
    }
    assert_int_equal(s->ops->jti_revoked(s, got.access_jti), KG_ERR_NOT_FOUND);
    assert_int_equal(s->ops->family_revoke(s, "fam", 20), KG_OK);
    assert_int_equal(s->ops->jti_revoked(s, got.access_jti), KG_OK);
    struct kg_refresh after;
    assert_int_equal(s->ops->refresh_get(s, got.hash, &after), KG_OK);
    assert_true(after.revoked_at != 0);
    kg_refresh_clear(&after);
    /* a revoked family's current token can no longer rotate */
    struct kg_refresh next;
    refresh_rec(&next, t.id, "fam", "after-revoke");
    assert_int_equal(s->ops->refresh_rotate(s, got.hash, &next, NULL, 0, 30), KG_ERR_CONFLICT);
    kg_refresh_clear(&got);
}

static void audit_and_isolation(void **state)
{
    struct kg_store *s = *state;
    struct kg_tenant a, b;
    tenant(s, "gamma", &a);
    tenant(s, "delta", &b);
    struct kg_audit ev[3];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 3; i++) {
        snprintf(ev[i].tenant_id, sizeof ev[i].tenant_id, "%s", i < 2 ? a.id : b.id);
        snprintf(ev[i].action, sizeof ev[i].action, "act%d", i);
        ev[i].time_ms = 1000 + i;
    }
    assert_int_equal(s->ops->audit_append(s, ev, 3), KG_OK);
    struct kg_audit *out = NULL;
    size_t n = 0;
    assert_int_equal(s->ops->audit_list(s, a.id, 0, 100, &out, &n), KG_OK);
    assert_int_equal(n, 2);
    assert_string_equal(out[1].action, "act1");
    free(out);
    struct kg_user u, got;
    memset(&u, 0, sizeof u);
    kg_uuid4(u.oid);
    snprintf(u.tenant_id, sizeof u.tenant_id, "%s", a.id);
    snprintf(u.username, sizeof u.username, "Ann");
    snprintf(u.username_key, sizeof u.username_key, "ann");
    assert_int_equal(s->ops->user_create(s, &u), KG_OK);
    assert_int_equal(s->ops->user_get_by_name(s, a.id, "ann", &got), KG_OK);
    assert_int_equal(s->ops->user_get_by_name(s, b.id, "ann", &got), KG_ERR_NOT_FOUND);
    assert_int_equal(s->ops->user_get(s, b.id, u.oid, &got), KG_ERR_NOT_FOUND);
}

/* One batch with events of two tenants interleaved, then another: each tenant's chain is intact
 * and links across the batches. */
static void audit_chains_across_batches(void **state)
{
    struct kg_store *s = *state;
    struct kg_tenant a, b;
    tenant(s, "chain-a", &a);
    tenant(s, "chain-b", &b);
    for (int batch = 0; batch < 2; batch++) {
        struct kg_audit ev[5];
        memset(ev, 0, sizeof ev);
        for (int i = 0; i < 5; i++) {
            snprintf(ev[i].tenant_id, sizeof ev[i].tenant_id, "%s", i % 2 ? b.id : a.id);
            snprintf(ev[i].action, sizeof ev[i].action, "act%d.%d", batch, i);
            ev[i].time_ms = 1000 + 10 * batch + i;
        }
        assert_int_equal(s->ops->audit_append(s, ev, 5), KG_OK);
    }
    int64_t count = 0, bad = 0;
    char head[KG_HASH_HEX];
    assert_int_equal(s->ops->audit_verify(s, a.id, &count, &bad, head), KG_OK);
    assert_int_equal(count, 6);
    assert_int_equal(s->ops->audit_verify(s, b.id, &count, &bad, head), KG_OK);
    assert_int_equal(count, 4);
    struct kg_audit *out = NULL;
    size_t n = 0;
    assert_int_equal(s->ops->audit_list(s, b.id, 0, 100, &out, &n), KG_OK);
    assert_int_equal(n, 4);
    for (size_t i = 1; i < n; i++) { /* each event names the one before it */
        assert_string_equal(out[i].prev_hash, out[i - 1].hash);
    }
    assert_string_equal(head, out[n - 1].hash);
    free(out);
}

/* Runs one SQL statement on the test's audit store from outside (the engine's own CLI). */
static void outside_sql(const char *sqlite_sql, const char *pg_sql)
{
    char cmd[2048];
    if (on_pg()) {
        snprintf(cmd, sizeof cmd, "psql -q -v ON_ERROR_STOP=1 '%s' -c \"%s\"", dir, pg_sql);
    } else {
        snprintf(cmd, sizeof cmd, "sqlite3 %s/audit.db \"%s\"", dir, sqlite_sql);
    }
    assert_int_equal(system(cmd), 0);
}

/* The first line one SQL query on the test's audit store prints, run from outside. */
static void outside_value(const char *sqlite_sql, const char *pg_sql, char *out, size_t cap)
{
    char cmd[2048];
    if (on_pg()) {
        snprintf(cmd, sizeof cmd, "psql -qAt '%s' -c \"%s\"", dir, pg_sql);
    } else {
        snprintf(cmd, sizeof cmd, "sqlite3 %s/audit.db \"%s\"", dir, sqlite_sql);
    }
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    out[0] = '\0';
    assert_non_null(fgets(out, (int)cap, f));
    out[strcspn(out, "\n")] = '\0';
    assert_int_equal(pclose(f), 0);
}

/* A batch is appended whole or not at all, even when the failing event comes after many others
 * (PostgreSQL sends the batch's inserts without waiting, and reads their outcomes at commit or
 * every 64), and the store carries on afterwards with the chain intact. */
static void audit_batch_fails_whole(void **state)
{
    struct kg_store *s = *state;
    struct kg_tenant t;
    tenant(s, "batches", &t);
    struct kg_audit ev[70];
    memset(ev, 0, sizeof ev);
    for (int i = 0; i < 70; i++) {
        snprintf(ev[i].tenant_id, sizeof ev[i].tenant_id, "%s", t.id);
        snprintf(ev[i].action, sizeof ev[i].action, "token.issued");
        snprintf(ev[i].detail, sizeof ev[i].detail, "n=%d", i);
        ev[i].time_ms = 1000 + i;
    }
    assert_int_equal(s->ops->audit_append(s, ev, 1), KG_OK);
    outside_sql("CREATE TRIGGER poison BEFORE INSERT ON audit_events WHEN NEW.detail = 'poison' "
                "BEGIN SELECT RAISE(ABORT, 'poison'); END;",
                "ALTER TABLE audit.audit_events ADD CONSTRAINT poison CHECK (detail <> 'poison')");
    int at[3] = {66, 2, 69}; /* after the 64 queued; early; last */
    for (int k = 0; k < 3; k++) {
        char keep[sizeof ev[0].detail];
        memcpy(keep, ev[at[k]].detail, sizeof keep);
        snprintf(ev[at[k]].detail, sizeof ev[at[k]].detail, "poison");
        assert_int_not_equal(s->ops->audit_append(s, ev, 70), KG_OK);
        memcpy(ev[at[k]].detail, keep, sizeof keep);
        assert_int_equal(chain_length(s, t.id), 1);
    }
    assert_int_equal(s->ops->audit_append(s, ev, 70), KG_OK);
    assert_int_equal(chain_length(s, t.id), 71);
}

/* The probe is a real write on the audit store (it fails when the store refuses writes) and is
 * never an event. */
static void audit_probe_writes_and_is_no_event(void **state)
{
    struct kg_store *s = *state;
    struct kg_tenant t;
    tenant(s, "probed", &t);
    struct kg_audit ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.tenant_id, sizeof ev.tenant_id, "%s", t.id);
    snprintf(ev.action, sizeof ev.action, "token.issued");
    assert_int_equal(s->ops->audit_append(s, &ev, 1), KG_OK);
    assert_int_equal(s->ops->audit_probe(s, 1000), KG_OK);
    assert_int_equal(s->ops->audit_probe(s, 2000), KG_OK); /* again: the same row */
    char rows[64];
    outside_value("SELECT count(*) || ' ' || max(at_ms) FROM audit_probe;",
                  "SELECT count(*) || ' ' || max(at_ms) FROM audit.audit_probe", rows, sizeof rows);
    assert_string_equal(rows, "1 2000");
    outside_sql("CREATE TRIGGER refuse BEFORE UPDATE ON audit_probe BEGIN SELECT RAISE(ABORT, "
                "'full'); END;",
                "ALTER TABLE audit.audit_probe ADD CONSTRAINT refuse CHECK (at_ms < 0) NOT VALID");
    assert_int_not_equal(s->ops->audit_probe(s, 3000), KG_OK);
    assert_int_equal(chain_length(s, t.id), 1);
    assert_int_equal(s->ops->audit_append(s, &ev, 1), KG_OK); /* events still go in */
    assert_int_equal(chain_length(s, t.id), 2);
}

static void stamp_sees_other_writers(void **state)
{
    struct kg_store *s = *state;
    struct kg_store *other = NULL; /* another opener, like the CLI beside a running server */
    assert_int_equal(kg_store_open(dir, &other, NULL), KG_OK);
    int64_t a = 0, b = 0, c = 0;
    assert_int_equal(s->ops->config_stamp(s, &a), KG_OK);
    assert_int_equal(s->ops->config_stamp(s, &b), KG_OK);
    assert_int_equal(a, b); /* nothing changed */
    struct kg_tenant t;
    tenant(other, "written-elsewhere", &t);
    c = stamp_after(s, b);
    assert_true(c != b);
    /* token state is not configuration: the stamp stays */
    struct kg_refresh r;
    refresh_rec(&r, t.id, "fam2", "tok");
    assert_int_equal(other->ops->refresh_create(other, &r), KG_OK);
    if (on_pg()) {
        usleep(1200 * 1000); /* past the change feed's periodic re-read */
    }
    int64_t d = 0;
    assert_int_equal(s->ops->config_stamp(s, &d), KG_OK);
    assert_int_equal(d, c);
    kg_store_close(other);
}

/* Creating an API key or a subscription leaves the config stamp (no node's cache can depend on a
 * row nobody knew), and a cached store finds a key on first use even if its hash was looked up
 * before it existed; revoking the key moves the stamp. */
static void new_secrets_keep_caches(void **state)
{
    struct kg_store *s = kg_store_cache_new(*state);
    *state = s;                    /* teardown closes the cache and the store under it */
    struct kg_store *other = NULL; /* the CLI creating keys beside a running server */
    assert_int_equal(kg_store_open(dir, &other, NULL), KG_OK);
    struct kg_tenant t;
    memset(&t, 0, sizeof t);
    kg_uuid4(t.id);
    snprintf(t.name, sizeof t.name, "keys");
    snprintf(t.signing_alg, sizeof t.signing_alg, "RS256");
    t.token_lifetime = 3600;
    struct kg_role role = {.builtin = true};
    kg_uuid4(role.id);
    snprintf(role.tenant_id, sizeof role.tenant_id, "%s", t.id);
    snprintf(role.name, sizeof role.name, "Reader");
    struct kg_workspace w = {0};
    kg_uuid4(w.id);
    snprintf(w.tenant_id, sizeof w.tenant_id, "%s", t.id);
    snprintf(w.name, sizeof w.name, "ws");
    struct kg_api api = {0};
    kg_uuid4(api.id);
    snprintf(api.identifier, sizeof api.identifier, "api://keys");
    assert_int_equal(other->ops->tenant_create(other, &t, NULL, &role, 1), KG_OK);
    assert_int_equal(other->ops->workspace_create(other, &w), KG_OK);
    assert_int_equal(other->ops->api_create(other, &api), KG_OK);
    int64_t before = 0, after = 0;
    assert_int_equal(s->ops->config_stamp(s, &before), KG_OK);
    kg_store_sync(s);

    char secret[KG_SECRET_MAX];
    struct kg_api_key k = {.created_at = 1};
    kg_uuid4(k.id);
    snprintf(k.tenant_id, sizeof k.tenant_id, "%s", t.id);
    snprintf(k.workspace_id, sizeof k.workspace_id, "%s", w.id);
    snprintf(k.role_id, sizeof k.role_id, "%s", role.id);
    snprintf(k.name, sizeof k.name, "new");
    kg_secret_new("kg_key_", secret);
    kg_store_hash_secret(secret, strlen(secret), k.hash);
    struct kg_subscription sub = {.created_at = 1};
    kg_uuid4(sub.id);
    snprintf(sub.tenant_id, sizeof sub.tenant_id, "%s", t.id);
    snprintf(sub.api_id, sizeof sub.api_id, "%s", api.id);
    snprintf(sub.name, sizeof sub.name, "sub");
    kg_secret_new("kg_sub_", secret);
    kg_store_hash_secret(secret, strlen(secret), sub.primary_hash);
    kg_secret_new("kg_sub_", secret);
    kg_store_hash_secret(secret, strlen(secret), sub.secondary_hash);
    struct kg_api_key got;
    struct kg_subscription got_sub;
    assert_int_equal(s->ops->apikey_by_hash(s, k.hash, &got), KG_ERR_NOT_FOUND);
    assert_int_equal(s->ops->subscription_by_hash(s, sub.primary_hash, &got_sub), KG_ERR_NOT_FOUND);
    assert_int_equal(other->ops->apikey_create(other, &k), KG_OK);
    assert_int_equal(other->ops->subscription_create(other, &sub), KG_OK);
    if (on_pg()) {
        usleep(1200 * 1000); /* past the change feed's periodic re-read */
    }
    assert_int_equal(s->ops->config_stamp(s, &after), KG_OK);
    assert_int_equal(after, before);
    kg_store_sync(s);
    assert_int_equal(s->ops->apikey_by_hash(s, k.hash, &got), KG_OK);
    assert_string_equal(got.id, k.id);
    assert_int_equal(s->ops->subscription_by_hash(s, sub.primary_hash, &got_sub), KG_OK);
    assert_string_equal(got_sub.id, sub.id);

    assert_int_equal(other->ops->apikey_revoke(other, t.id, k.id, 5), KG_OK);
    assert_true(stamp_after(s, after) != after);
    kg_store_sync(s);
    assert_int_equal(s->ops->apikey_by_hash(s, k.hash, &got), KG_OK);
    assert_int_equal(got.revoked_at, 5);
    kg_store_close(other);
}

/* The cache's own reads of the store, counted under it. */
static const struct kg_store_ops *uncounted;
static struct kg_store_ops counted;
static size_t tenant_reads;

static enum kg_rc counted_tenant_get(struct kg_store *s, const char *alias, struct kg_tenant *out)
{
    tenant_reads++;
    return uncounted->tenant_get(s, alias, out);
}

/* The configuration cache is bounded (65,536 entries); when it is full, what was looked up since
 * it was last full stays, and entries looked up once go: a tenant every request reads is not
 * read from the store again however many one-off lookups pass through. */
static void cache_keeps_what_is_used(void **state)
{
    if (on_pg()) {
        skip(); /* the cache is the same over any store; 65,536 round trips would add nothing */
    }
    struct kg_store *s = *state;
    struct kg_tenant t, got;
    tenant(s, "hot", &t);
    uncounted = s->ops;
    counted = *s->ops;
    counted.tenant_get = counted_tenant_get;
    s->ops = &counted;
    s = kg_store_cache_new(s);
    *state = s;
    kg_store_sync(s);
    tenant_reads = 0;
    char alias[32];
    for (int i = 0; i < 140000; i++) {
        if (i % 1000 == 0) {
            assert_int_equal(s->ops->tenant_get(s, "hot", &got), KG_OK);
            assert_int_equal(tenant_reads, (size_t)i + 1); /* read once, then always cached */
        }
        snprintf(alias, sizeof alias, "nobody-%d", i);
        assert_int_equal(s->ops->tenant_get(s, alias, &got), KG_ERR_NOT_FOUND);
    }
    size_t reads = tenant_reads;
    assert_int_equal(s->ops->tenant_get(s, "nobody-139999", &got), KG_ERR_NOT_FOUND);
    assert_int_equal(tenant_reads, reads); /* the newest one-off is still cached */
    assert_int_equal(s->ops->tenant_get(s, "nobody-0", &got), KG_ERR_NOT_FOUND);
    assert_int_equal(tenant_reads, reads + 1); /* the oldest went: the cache is bounded */
}

/* A change made by another process (the CLI beside a server) is seen at once on SQLite, and
 * within the change feed's second on PostgreSQL; a write that is not configuration (token state)
 * leaves the stamp where it was, however the store notices writes. */
/* Holds a write transaction on one of the store's SQLite files from a connection of its own. */
static sqlite3 *write_locked(const char *file)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void unlocked(sqlite3 *db)
{
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* PostgreSQL: a psql session of its own holds advisory lock key (store/pg/pg.c's write locks) for
 * secs seconds; its pid, to wait for. */
static pid_t pg_lock_held(const char *key, int secs)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "BEGIN; SELECT pg_advisory_xact_lock(%s); SELECT pg_sleep(%d); COMMIT;", key, secs);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execlp("psql", "psql", "-q", "-X", "-o", "/dev/null", dir, "-c", sql, (char *)NULL);
        _exit(127);
    }
    /* wait until it really holds the lock, so that what follows is measured against it */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "psql -X -tA '%s' -c \"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
             "AND objid = %s AND granted\"",
             dir, key);
    for (int i = 0;; i++) {
        assert_true(i < 100);
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        int held = 0;
        bool read = fscanf(f, "%d", &held) == 1;
        pclose(f);
        if (read && held > 0) {
            return pid;
        }
        usleep(100 * 1000);
    }
}

static void pg_lock_gone(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A writer of the main data (the CLI, a refresh rotation) never waits for the audit trail's
 * writer, nor the other way round. SQLite: a connection holding both files would write-lock both
 * on every BEGIN IMMEDIATE, and each would wait out the other's fsync (or the 10 s busy timeout).
 * PostgreSQL: the trail's batches take an advisory lock of their own. */
static void audit_and_main_files_lock_apart(void **state)
{
    struct kg_store *s = *state;
    struct kg_tenant t, t2;
    tenant(s, "locks", &t);
    struct kg_audit ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.tenant_id, sizeof ev.tenant_id, "%s", t.id);
    snprintf(ev.action, sizeof ev.action, "token.issued");
    ev.time_ms = 1000;
    sqlite3 *main_lock = NULL, *audit_lock = NULL;
    pid_t holder = 0;
    if (on_pg()) {
        holder = pg_lock_held("7254901", 4);
    } else {
        main_lock = write_locked("keygate.db");
    }
    int64_t t0 = kg_monotonic_ms();
    assert_int_equal(s->ops->audit_append(s, &ev, 1), KG_OK);
    assert_true(kg_monotonic_ms() - t0 < 2000);
    if (on_pg()) {
        pg_lock_gone(holder);
        holder = pg_lock_held("7254902", 4);
    } else {
        unlocked(main_lock);
        audit_lock = write_locked("audit.db");
    }
    t0 = kg_monotonic_ms();
    tenant(s, "locks-2", &t2);
    assert_true(kg_monotonic_ms() - t0 < 2000);
    if (on_pg()) {
        pg_lock_gone(holder);
    } else {
        unlocked(audit_lock);
    }
    assert_int_equal(chain_length(s, t.id), 1);
}

static void stamp_sees_other_processes(void **state)
{
    struct kg_store *s = *state;
    struct kg_tenant home;
    tenant(s, "home", &home);
    int64_t before = stamp_after(s, -1), after = 0;
    if (on_pg()) {
        usleep(1200 * 1000); /* let the feed settle on the tenant's stamp */
        assert_int_equal(s->ops->config_stamp(s, &before), KG_OK);
    }
    for (int i = 0; i < 10; i++) {
        bool config = i % 2 == 0;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct kg_store *o = NULL;
            int ok = kg_store_open(dir, &o, NULL) == KG_OK;
            struct kg_tenant t;
            char name[32];
            snprintf(name, sizeof name, "proc-%d", i);
            if (ok && config) {
                tenant(o, name, &t);
            } else if (ok) { /* a refresh family: token state, not configuration */
                struct kg_refresh r;
                refresh_rec(&r, home.id, name, name);
                ok = o->ops->refresh_create(o, &r) == KG_OK;
            }
            kg_store_close(o);
            _exit(ok ? 0 : 1);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (config && on_pg()) {
            after = stamp_after(s, before);
            assert_true(after != before);
        } else if (config) { /* SQLite: on the very next call */
            assert_int_equal(s->ops->config_stamp(s, &after), KG_OK);
            assert_true(after != before);
        } else {
            if (on_pg()) {
                usleep(1200 * 1000); /* a wrongly moved stamp would be in the feed by now */
            }
            assert_int_equal(s->ops->config_stamp(s, &after), KG_OK);
            assert_int_equal(after, before);
        }
        before = after;
    }
}

static void reopen_is_idempotent(void **state)
{
    (void)state;
    struct kg_store *s2 = NULL;
    assert_int_equal(kg_store_open(dir, &s2, NULL), KG_OK);
    assert_int_equal(s2->ops->ping(s2), KG_OK);
    kg_store_close(s2);
}

/* The chain's hash input is a stable format (kg_audit_hash): trails written by any version must
 * keep verifying. A known answer (also computed independently, with Python's hashlib, over
 * "keygate-audit-v1\n<time_ms>\n" then "<byte length>:<value>\n" for prev and each field), and
 * every field taking part. */
static void audit_hash_format(void **state)
{
    (void)state;
    struct kg_audit a;
    memset(&a, 0, sizeof a);
    a.time_ms = 1764590400123;
    strcpy(a.tenant_id, "7d2a1c0e-2f1b-4e55-9a0f-3b1f5c2d8e71");
    strcpy(a.actor_type, "app");
    strcpy(a.actor_id, "c1f0e0a2-5b7d-4f3e-8a61-2d9b0c4e7f13");
    strcpy(a.caller_id, "");
    strcpy(a.action, "token.issued");
    strcpy(a.target, "api://bench");
    strcpy(a.outcome, "success");
    strcpy(a.client_ip, "127.0.0.1");
    strcpy(a.trace_id, "0123456789abcdef0123456789abcdef");
    strcpy(a.detail, "grant=client_credentials jti=\"x\"\n\xc3\xa9");
    char h[KG_HASH_HEX], h2[KG_HASH_HEX];
    kg_audit_hash("", &a, h);
    assert_string_equal(h, "d6ea48e1ed5999e752da1b62b9375f63658dacf179d49a28fa5f8834373602af");
    kg_audit_hash(h, &a, h2);
    assert_string_not_equal(h, h2);
    char *fields[] = {a.tenant_id, a.actor_type, a.actor_id,  a.caller_id, a.action,
                      a.target,    a.outcome,    a.client_ip, a.trace_id,  a.detail};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        char keep = fields[i][0];
        fields[i][0] = keep ? '\0' : 'x';
        kg_audit_hash("", &a, h2);
        assert_string_not_equal(h, h2);
        fields[i][0] = keep;
    }
    a.time_ms++;
    kg_audit_hash("", &a, h2);
    assert_string_not_equal(h, h2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(audit_hash_format),
        cmocka_unit_test_setup_teardown(tenants, setup, teardown),
        cmocka_unit_test_setup_teardown(refresh_single_use, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_and_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_chains_across_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_batch_fails_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_probe_writes_and_is_no_event, setup, teardown),
        cmocka_unit_test_setup_teardown(writers_queue_within_and_across_openers, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_and_main_files_lock_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(stamp_sees_other_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(stamp_sees_other_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(new_secrets_keep_caches, setup, teardown),
        cmocka_unit_test_setup_teardown(cache_keeps_what_is_used, setup, teardown),
        cmocka_unit_test_setup_teardown(reopen_is_idempotent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
