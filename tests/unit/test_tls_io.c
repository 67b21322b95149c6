/* SPDX-License-Identifier: Apache-2.0
 * The socket layer under GnuTLS (http/tls_io.c) on a real non-blocking socket pair: one recv()
 * serves several reads and "would block" comes only when nothing is left; a held header goes out
 * in one write with the body and never alone, and ahead of a record of many parts, which is
 * never cut short; an unarmed or oversized record is not held; and with the socket full, held
 * and record bytes all arrive, in order, as the peer reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/tls_io.h"

/* A non-blocking socket pair per test: [0] is the server's side, under a kg_tls_io. */
struct pair {
    int s[2];
    struct kg_tls_io *io;
};

static int setup(void **state)
{
    struct pair *p = calloc(1, sizeof *p);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p->s) != 0) {
        return -1;
    }
    p->io = kg_tls_io_install(NULL, p->s[0]);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct pair *p = *state;
    kg_tls_io_free(p->io);
    close(p->s[0]);
    close(p->s[1]);
    free(p);
    return 0;
}

/* An iovec over constant bytes (the writer only reads them). */
static struct iovec part(const char *s, size_t n)
{
    return (struct iovec){.iov_base = (void *)(uintptr_t)s, .iov_len = n};
}

/* Whether the peer can read anything now (without consuming it). */
static bool pending(int fd)
{
    char c;
    return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static void one_recv_serves_several_reads(void **state)
{
    struct pair *p = *state;
    assert_int_equal(write(p->s[1], "HEADERrecord", 12), 12);
    char out[16] = {0};
    assert_int_equal(kg_tls_io_read(p->io, out, 6), 6); /* as GnuTLS: the header first */
    assert_memory_equal(out, "HEADER", 6);
    assert_false(pending(p->s[0])); /* the rest was read with it */
    assert_int_equal(kg_tls_io_read(p->io, out, sizeof out), 6);
    assert_memory_equal(out, "record", 6);
    errno = 0;
    assert_int_equal(kg_tls_io_read(p->io, out, sizeof out), -1); /* only now: would block */
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(write(p->s[1], "x", 1), 1);
    assert_int_equal(kg_tls_io_read(p->io, out, sizeof out), 1);
    close(p->s[1]);
    p->s[1] = socket(AF_UNIX, SOCK_STREAM, 0);                   /* for teardown */
    assert_int_equal(kg_tls_io_read(p->io, out, sizeof out), 0); /* end of stream */
}

static void large_read_goes_straight_through(void **state)
{
    struct pair *p = *state;
    static char big[20000], out[20000];
    memset(big, 'b', sizeof big);
    assert_int_equal(write(p->s[1], big, sizeof big), (ssize_t)sizeof big);
    ssize_t n = kg_tls_io_read(p->io, out, sizeof out);
    assert_true(n > 4096); /* more than the buffer holds, in one call */
    assert_memory_equal(out, big, (size_t)n);
}

static void held_header_goes_out_with_the_body(void **state)
{
    struct pair *p = *state;
    kg_tls_io_hold_next(p->io, true);
    struct iovec hdr[2] = {part("HE", 2), part("AD", 2)};
    assert_int_equal(kg_tls_io_write(p->io, hdr, 2), 4);
    assert_false(pending(p->s[1])); /* held, not sent */
    struct iovec body[1] = {part("BODY", 4)};
    assert_int_equal(kg_tls_io_write(p->io, body, 1), 4);
    char out[16] = {0};
    assert_int_equal(recv(p->s[1], out, sizeof out, 0), 8); /* one write: both */
    assert_memory_equal(out, "HEADBODY", 8);
    struct iovec next[1] = {part("NEXT", 4)}; /* disarmed after one record */
    assert_int_equal(kg_tls_io_write(p->io, next, 1), 4);
    assert_int_equal(recv(p->s[1], out, sizeof out, 0), 4);
}

static const char DIGITS[] = "0123456789";

static void held_bytes_go_first_before_many_parts(void **state)
{
    struct pair *p = *state;
    kg_tls_io_hold_next(p->io, true);
    struct iovec hdr[1] = {part("H", 1)};
    assert_int_equal(kg_tls_io_write(p->io, hdr, 1), 1);
    struct iovec many[40];
    for (size_t i = 0; i < 40; i++) {
        many[i] = part(&DIGITS[i % 10], 1);
    }
    assert_int_equal(kg_tls_io_write(p->io, many, 40), 40); /* all of it: never cut short */
    char out[64] = {0};
    ssize_t got = 0, r;
    while (got < 41 && (r = recv(p->s[1], out + got, sizeof out - (size_t)got, 0)) > 0) {
        got += r;
    }
    assert_int_equal(got, 41);
    assert_memory_equal(out, "H0123456789012345678901234567890123456789", 41);
}

static void unarmed_and_oversized_records_are_not_held(void **state)
{
    struct pair *p = *state;
    struct iovec one[1] = {part("ONE", 3)};
    assert_int_equal(kg_tls_io_write(p->io, one, 1), 3);
    assert_true(pending(p->s[1]));
    char out[8192];
    assert_int_equal(recv(p->s[1], out, sizeof out, 0), 3);
    static char big[5000];
    memset(big, 'h', sizeof big);
    kg_tls_io_hold_next(p->io, true);
    struct iovec large[1] = {{big, sizeof big}};
    assert_int_equal(kg_tls_io_write(p->io, large, 1), (ssize_t)sizeof big);
    assert_true(pending(p->s[1]));
    kg_tls_io_hold_next(p->io, true); /* armed, then disarmed (the response was not queued) */
    kg_tls_io_hold_next(p->io, false);
    assert_int_equal(recv(p->s[1], out, sizeof out, 0), (ssize_t)sizeof big);
    assert_int_equal(kg_tls_io_write(p->io, one, 1), 3);
    assert_true(pending(p->s[1]));
}

/* Writes the record until it is all accepted, draining the peer into got when told to wait. */
static size_t write_all(struct pair *p, const char *rec, size_t n, char *got, size_t got_len,
                        size_t *waits)
{
    size_t off = 0;
    while (off < n) {
        struct iovec v[1] = {part(rec + off, n - off)};
        ssize_t w = kg_tls_io_write(p->io, v, 1);
        if (w < 0) {
            assert_int_equal(errno, EAGAIN);
            (*waits)++;
            ssize_t r = recv(p->s[1], got + got_len, 512, 0); /* a little room at a time */
            assert_true(r > 0);
            got_len += (size_t)r;
            continue;
        }
        off += (size_t)w;
    }
    return got_len;
}

static void full_socket_keeps_every_byte_in_order(void **state)
{
    struct pair *p = *state;
    int small = 1; /* the least the kernel allows */
    setsockopt(p->s[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(p->s[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    size_t hn = 4000, bn = 400000;
    char *hdr = malloc(hn), *body = malloc(bn), *got = malloc(hn + bn + (1 << 20));
    for (size_t i = 0; i < hn; i++) {
        hdr[i] = (char)('A' + i % 26);
    }
    for (size_t i = 0; i < bn; i++) {
        body[i] = (char)('a' + (i * 7) % 26);
    }
    size_t got_len = 0, waits = 0, filler = 0;
    struct iovec f[1] = {part(body, 512)};
    ssize_t w;
    while ((w = kg_tls_io_write(p->io, f, 1)) > 0) { /* the socket full before the header */
        filler += (size_t)w;
    }
    kg_tls_io_hold_next(p->io, true);
    struct iovec h[1] = {{hdr, hn}};
    assert_int_equal(kg_tls_io_write(p->io, h, 1), (ssize_t)hn);
    got_len = write_all(p, body, bn, got, got_len, &waits);
    assert_true(waits > 0); /* the full-socket paths ran */
    ssize_t r;
    while ((r = recv(p->s[1], got + got_len, 65536, 0)) > 0) {
        got_len += (size_t)r;
    }
    assert_int_equal(got_len, filler + hn + bn);
    assert_memory_equal(got + filler, hdr, hn);
    assert_memory_equal(got + filler + hn, body, bn);
    free(hdr);
    free(body);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(one_recv_serves_several_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(large_read_goes_straight_through, setup, teardown),
        cmocka_unit_test_setup_teardown(held_header_goes_out_with_the_body, setup, teardown),
        cmocka_unit_test_setup_teardown(held_bytes_go_first_before_many_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(unarmed_and_oversized_records_are_not_held, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(full_socket_keeps_every_byte_in_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
