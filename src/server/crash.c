/* SPDX-License-Identifier: Apache-2.0
 * See crash.h. Only async-signal-safe calls in the handler (write, backtrace_symbols_fd;
 * backtrace is primed at install so that it does not load libgcc inside the handler). */
#include "server/crash.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#ifndef KG_SANITIZED
static void say(const char *s)
{
    ssize_t r = write(STDERR_FILENO, s, strlen(s));
    (void)r;
}

static void on_fatal(int sig)
{
    char msg[64] = "keygate: fatal signal ";
    size_t n = strlen(msg);
    if (sig >= 10) {
        msg[n++] = (char)('0' + sig / 10);
    }
    msg[n++] = (char)('0' + sig % 10);
    memcpy(msg + n, "; backtrace:\n", 14);
    say(msg);
    void *frames[64];
    int depth = backtrace(frames, 64);
    backtrace_symbols_fd(frames, depth, STDERR_FILENO);
    raise(sig); /* SA_RESETHAND: the default action now */
}
#endif

void kg_crash_report_install(void)
{
#ifndef KG_SANITIZED
    void *prime[1];
    backtrace(prime, 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sa.sa_flags = (int)SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaction(sigs[i], &sa, NULL);
    }
#endif
}
