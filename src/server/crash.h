/* SPDX-License-Identifier: Apache-2.0
 * A last word from a crashing server: on a fatal signal, the signal and a backtrace of the
 * thread that took it go to stderr (the log), then the default action runs (core dump, exit
 * status). Not installed under the sanitizers, which report crashes themselves. */
#ifndef KG_SERVER_CRASH_H
#define KG_SERVER_CRASH_H

void kg_crash_report_install(void);

#endif
