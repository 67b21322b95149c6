/* SPDX-License-Identifier: Apache-2.0
 * Time: seconds since the epoch for tokens and storage, and a monotonic clock for intervals. */
#ifndef KG_CORE_CLOCK_H
#define KG_CORE_CLOCK_H

#include <stdint.h>

int64_t kg_now(void);          /* wall clock, seconds */
int64_t kg_now_ms(void);       /* wall clock, milliseconds */
int64_t kg_monotonic_ms(void); /* monotonic, milliseconds */
int64_t kg_monotonic_us(void); /* monotonic (CLOCK_MONOTONIC), microseconds */

#endif
