/* SPDX-License-Identifier: Apache-2.0
 * Names for keygate's own threads, so that top -H, perf and /proc/PID/task/N/comm (and the
 * benchmarks, which split CPU time by thread) tell them apart. */
#ifndef KG_CORE_THREAD_H
#define KG_CORE_THREAD_H

/* Names the calling thread; at most 15 characters are kept. */
void kg_thread_name(const char *name);

#endif
