/* SPDX-License-Identifier: Apache-2.0
 * Thread names (pthread_setname_np is a GNU extension; this is the one file that needs it). */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "core/thread.h"

void kg_thread_name(const char *name)
{
    char n[16];
    strncpy(n, name, sizeof n - 1);
    n[sizeof n - 1] = '\0';
    (void)pthread_setname_np(pthread_self(), n);
}
