/* SPDX-License-Identifier: Apache-2.0
 * The group committer (server/commit.c) on a real SQLite store: concurrent clients each wait for
 * their event's callback before sending the next, as token requests do. Every event is committed
 * once, in intact chains; many clients share commits; a lone client is still served once the
 * load is gone; freeing commits what is queued; a trail that stops taking writes is reported,
 * and found working again by a probe write with no event submitted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "server/commit.h"
#include "store/store.h"
#include "audit_chain.h"

#define CLIENTS 16
#define PER_CLIENT 40

static char dir[64];

struct world {
    struct kg_store *st;
    struct kg_metrics m;
    struct kg_committer *c;
};

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/kg-commit-XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct world *w = calloc(1, sizeof *w);
    assert_int_equal(kg_store_open(dir, &w->st, NULL), KG_OK);
    w->c = kg_committer_new(w->st, &w->m);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    kg_committer_free(w->c);
    kg_store_close(w->st);
    free(w);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

/* One outstanding event: the callback wakes the client that submitted it. */
struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    enum kg_rc rc;
};

static void done(void *arg, enum kg_rc rc)
{
    struct waiter *wt = arg;
    pthread_mutex_lock(&wt->mu);
    wt->done = true;
    wt->rc = rc;
    pthread_cond_signal(&wt->cv);
    pthread_mutex_unlock(&wt->mu);
}

static enum kg_rc submit_and_wait(struct kg_committer *c, int client, int i)
{
    struct kg_audit a;
    memset(&a, 0, sizeof a);
    a.time_ms = kg_now_ms();
    snprintf(a.tenant_id, sizeof a.tenant_id, "tenant-%d", client % 2);
    snprintf(a.action, sizeof a.action, "token.issued");
    snprintf(a.outcome, sizeof a.outcome, "success");
    snprintf(a.detail, sizeof a.detail, "client=%d i=%d", client, i);
    struct waiter wt = {.done = false};
    pthread_mutex_init(&wt.mu, NULL);
    pthread_cond_init(&wt.cv, NULL);
    kg_committer_submit(c, &a, 1, done, &wt);
    pthread_mutex_lock(&wt.mu);
    while (!wt.done) {
        pthread_cond_wait(&wt.cv, &wt.mu);
    }
    pthread_mutex_unlock(&wt.mu);
    pthread_mutex_destroy(&wt.mu);
    pthread_cond_destroy(&wt.cv);
    return wt.rc;
}

struct client {
    struct kg_committer *c;
    int id, failed;
};

static void *client_main(void *arg)
{
    struct client *cl = arg;
    for (int i = 0; i < PER_CLIENT; i++) {
        cl->failed += submit_and_wait(cl->c, cl->id, i) != KG_OK;
    }
    return NULL;
}

static void many_clients_share_commits(void **state)
{
    struct world *w = *state;
    pthread_t th[CLIENTS];
    struct client cl[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        cl[i] = (struct client){w->c, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, client_main, &cl[i]), 0);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(cl[i].failed, 0);
    }
    /* every event once, in intact chains */
    assert_int_equal(chain_length(w->st, "tenant-0") + chain_length(w->st, "tenant-1"),
                     CLIENTS * PER_CLIENT);
    assert_int_equal(atomic_load(&w->m.audit_events), CLIENTS * PER_CLIENT);
    /* batches formed: far fewer commits than events */
    uint64_t commits = atomic_load(&w->m.audit_batches);
    assert_true(commits < CLIENTS * PER_CLIENT / 2);
    assert_true(atomic_load(&w->m.audit_batch_max) > 1);
    fprintf(stderr, "%d events in %llu commits\n", CLIENTS * PER_CLIENT,
            (unsigned long long)commits);

    /* load gone: a lone client is served (each of its events committed on its own, the
     * gathering target falling back within the window rather than stalling it) */
    uint64_t before = atomic_load(&w->m.audit_batches);
    uint64_t waited = 0;
    for (int i = 0; i < 12; i++) {
        if (i == 8) { /* the window has forgotten the load: no more waiting for company */
            waited = atomic_load(&w->m.audit_gather_us);
        }
        assert_int_equal(submit_and_wait(w->c, 99, i), KG_OK);
    }
    assert_int_equal(atomic_load(&w->m.audit_batches) - before, 12);
    assert_int_equal(atomic_load(&w->m.audit_gather_us), waited);
    fprintf(stderr, "waited %llu us gathering in all\n", (unsigned long long)waited);
    assert_int_equal(chain_length(w->st, "tenant-1"), CLIENTS * PER_CLIENT / 2 + 12);
}

/* Events still queued when the committer is freed are committed, and their callbacks run. */
static void free_commits_the_queue(void **state)
{
    struct world *w = *state;
    static struct waiter wt[5];
    for (int i = 0; i < 5; i++) {
        wt[i] = (struct waiter){.done = false};
        pthread_mutex_init(&wt[i].mu, NULL);
        pthread_cond_init(&wt[i].cv, NULL);
        struct kg_audit a;
        memset(&a, 0, sizeof a);
        snprintf(a.tenant_id, sizeof a.tenant_id, "tenant-q");
        snprintf(a.action, sizeof a.action, "queued");
        kg_committer_submit(w->c, &a, 1, done, &wt[i]);
    }
    kg_committer_free(w->c);
    w->c = kg_committer_new(w->st, &w->m); /* for teardown */
    for (int i = 0; i < 5; i++) {
        assert_true(wt[i].done);
        assert_int_equal(wt[i].rc, KG_OK);
        pthread_mutex_destroy(&wt[i].mu);
        pthread_cond_destroy(&wt[i].cv);
    }
    assert_int_equal(chain_length(w->st, "tenant-q"), 5);
}

/* The real store, with its audit writes failing while `broken` is set (a full disk, say). */
static atomic_bool broken;
static atomic_int probes, probes_ok;
static struct kg_store *real;

static enum kg_rc flaky_append(struct kg_store *s, const struct kg_audit *ev, size_t n)
{
    (void)s;
    return atomic_load(&broken) ? KG_ERR_STORE : real->ops->audit_append(real, ev, n);
}

static enum kg_rc flaky_probe(struct kg_store *s, int64_t now_ms)
{
    (void)s;
    atomic_fetch_add(&probes, 1);
    if (atomic_load(&broken)) {
        return KG_ERR_STORE;
    }
    enum kg_rc rc = real->ops->audit_probe(real, now_ms);
    atomic_fetch_add(&probes_ok, rc == KG_OK);
    return rc;
}

static void failing_trail_is_probed_until_it_works(void **state)
{
    struct world *w = *state;
    real = w->st;
    struct kg_store_ops ops = *real->ops;
    ops.audit_append = flaky_append;
    ops.audit_probe = flaky_probe;
    struct kg_store flaky = {.ops = &ops, .impl = real->impl, .cache = real->cache};
    kg_committer_free(w->c);
    w->c = kg_committer_new(&flaky, &w->m);
    assert_true(kg_committer_working(NULL));
    assert_int_equal(submit_and_wait(w->c, 0, 0), KG_OK);
    assert_true(kg_committer_working(w->c));
    assert_int_equal(atomic_load(&probes), 0); /* working: nothing to probe */

    atomic_store(&broken, true); /* a full disk */
    assert_int_not_equal(submit_and_wait(w->c, 0, 1), KG_OK);
    assert_false(kg_committer_working(w->c)); /* and the probe it makes fails too */
    assert_false(kg_committer_working(w->c));
    assert_int_equal(atomic_load(&probes), 2);

    atomic_store(&broken, false); /* space again; no event comes */
    assert_true(kg_committer_working(w->c));
    assert_int_equal(atomic_load(&probes_ok), 1);
    assert_true(kg_committer_working(w->c));
    assert_int_equal(atomic_load(&probes), 3); /* working again: no more probes */

    assert_int_equal(submit_and_wait(w->c, 0, 2), KG_OK);
    assert_int_equal(chain_length(real, "tenant-0"), 2); /* the failed event was never written */
    assert_int_equal(atomic_load(&w->m.audit_failures), 1);
    atomic_store(&broken, true); /* a failed commit is seen without a probe's help */
    assert_int_not_equal(submit_and_wait(w->c, 0, 3), KG_OK);
    atomic_store(&broken, false);
    assert_int_equal(submit_and_wait(w->c, 0, 4), KG_OK); /* and so is its recovery */
    assert_true(kg_committer_working(w->c));
    assert_int_equal(atomic_load(&probes), 3);
    kg_committer_free(w->c);
    w->c = kg_committer_new(real, &w->m); /* for teardown */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(many_clients_share_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(free_commits_the_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(failing_trail_is_probed_until_it_works, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
