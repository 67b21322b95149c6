/* SPDX-License-Identifier: Apache-2.0
 * Lingering close (http/linger.c) on real loopback TCP sockets: a client still sending when the
 * server closes gets all of its bytes accepted and reads the server's answer and a clean end of
 * stream; a client that has closed is not kept; a quiet client is let go after the idle time;
 * the table is bounded; stopping closes what is left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/limits.h"
#include "http/linger.h"

#define ANSWER "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n"

/* A listening loopback socket per test (cmocka setup and teardown). */
struct net {
    struct sockaddr_in a;
    int ls;
};

static int setup(void **state)
{
    struct net *n = calloc(1, sizeof *n);
    n->ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    n->a.sin_family = AF_INET;
    n->a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof n->a;
    if (n->ls < 0 || bind(n->ls, (struct sockaddr *)&n->a, sizeof n->a) != 0 ||
        listen(n->ls, KG_MAX_LINGERING + 8) != 0 ||
        getsockname(n->ls, (struct sockaddr *)&n->a, &len) != 0) {
        return -1;
    }
    *state = n;
    return 0;
}

static int teardown(void **state)
{
    struct net *n = *state;
    close(n->ls);
    free(n);
    return 0;
}

/* Connects a client; returns the server's side of the connection, the client's in *client. */
static int connected(struct net *n, int *client)
{
    *client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(*client >= 0);
    assert_int_equal(connect(*client, (const struct sockaddr *)&n->a, sizeof n->a), 0);
    int fd = accept(n->ls, NULL, NULL);
    assert_true(fd >= 0);
    return fd;
}

/* Reads until end of stream; returns the bytes read, or -errno on an error (a reset). */
static ssize_t read_all(int fd, char *out, size_t cap)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, out + n, cap - n - 1);
        if (r == 0) {
            out[n] = 0;
            return (ssize_t)n;
        }
        if (r < 0) {
            return -errno;
        }
        n += (size_t)r;
    }
}

static void wait_count(struct kg_linger *l, int want)
{
    int64_t until = kg_monotonic_ms() + 5000;
    while (kg_linger_count(l) != want && kg_monotonic_ms() < until) {
        nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
    }
    assert_int_equal(kg_linger_count(l), want);
}

struct sender {
    int fd;
    size_t bytes;
    ssize_t sent_rc; /* 0, or -errno of the failed send */
    ssize_t read_rc;
    char answer[256];
};

/* A client sending a request far larger than the server will read, then reading the answer. */
static void *send_then_read(void *arg)
{
    struct sender *s = arg;
    static char chunk[65536];
    memset(chunk, 'k', sizeof chunk);
    for (size_t done = 0; done < s->bytes;) {
        ssize_t r = send(s->fd, chunk, sizeof chunk, MSG_NOSIGNAL);
        if (r < 0) {
            s->sent_rc = -errno;
            break;
        }
        done += (size_t)r;
    }
    s->read_rc = read_all(s->fd, s->answer, sizeof s->answer);
    close(s->fd);
    return NULL;
}

static void client_still_sending_gets_the_answer(void **state)
{
    struct kg_linger *l = kg_linger_start(2000, 10000);
    assert_non_null(l);
    struct sender s = {.bytes = 8u << 20};
    int fd = connected(*state, &s.fd);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, send_then_read, &s), 0);
    char head[1024];
    assert_true(read(fd, head, sizeof head) > 0); /* the server reads a little, then refuses */
    assert_int_equal(write(fd, ANSWER, strlen(ANSWER)), (ssize_t)strlen(ANSWER));
    assert_true(kg_linger_adopt(l, fd));
    close(fd);
    pthread_join(t, NULL);
    assert_int_equal(s.sent_rc, 0);
    assert_int_equal(s.read_rc, (ssize_t)strlen(ANSWER));
    assert_string_equal(s.answer, ANSWER);
    wait_count(l, 0); /* the client closed: released */
    kg_linger_stop(l);
}

static void closed_client_is_not_kept(void **state)
{
    struct kg_linger *l = kg_linger_start(2000, 10000);
    int client;
    int fd = connected(*state, &client);
    close(client);
    char c;
    assert_int_equal(read(fd, &c, 1), 0); /* the server saw the end of stream */
    assert_false(kg_linger_adopt(l, fd));
    assert_int_equal(kg_linger_count(l), 0);
    close(fd);
    kg_linger_stop(l);
}

static void quiet_client_is_let_go(void **state)
{
    struct kg_linger *l = kg_linger_start(100, 10000);
    int c;
    int fd = connected(*state, &c);
    assert_true(kg_linger_adopt(l, fd));
    close(fd);
    assert_int_equal(kg_linger_count(l), 1);
    char buf[16];
    assert_int_equal(read_all(c, buf, sizeof buf), 0); /* the write side was shut at once */
    int64_t t0 = kg_monotonic_ms();
    wait_count(l, 0);
    assert_true(kg_monotonic_ms() - t0 < 2000);
    close(c);
    kg_linger_stop(l);
}

static void table_is_bounded_and_stop_closes(void **state)
{
    struct kg_linger *l = kg_linger_start(60000, 60000);
    int clients[KG_MAX_LINGERING + 1];
    for (int i = 0; i <= KG_MAX_LINGERING; i++) {
        int fd = connected(*state, &clients[i]);
        assert_int_equal(kg_linger_adopt(l, fd), i < KG_MAX_LINGERING);
        close(fd);
    }
    assert_int_equal(kg_linger_count(l), KG_MAX_LINGERING);
    kg_linger_stop(l);
    for (int i = 0; i <= KG_MAX_LINGERING; i++) {
        /* every server side is closed now: sending is refused once the reset comes back */
        ssize_t r = 0;
        for (int tries = 0; tries < 100 && r >= 0; tries++) {
            r = send(clients[i], "x", 1, MSG_NOSIGNAL);
            nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
        }
        assert_true(r < 0);
        close(clients[i]);
    }
    assert_false(kg_linger_adopt(NULL, 0));
    kg_linger_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(client_still_sending_gets_the_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(closed_client_is_not_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(quiet_client_is_let_go, setup, teardown),
        cmocka_unit_test_setup_teardown(table_is_bounded_and_stop_closes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
