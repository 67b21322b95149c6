/* SPDX-License-Identifier: Apache-2.0
 * The group committer (server/commit.c) on a real SQLite store: concurrent clients each wait for
 * their event's callback before sending the next, as token requests do. Every event is committed
 * once, in intact chains; many clients share commits; a lone client is still served once the
 * load is gone; freeing commits what is queued. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(many_clients_share_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(free_commits_the_queue, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
