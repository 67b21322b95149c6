/* SPDX-License-Identifier: Apache-2.0
 * Structured logging: one JSON object per line on stderr (time, level, trace id, event, then
 * key/value fields). Values are JSON-escaped here; callers never pass secrets (SPEC 9). */
#ifndef KG_CORE_LOG_H
#define KG_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum kg_log_level { KG_LOG_DEBUG, KG_LOG_INFO, KG_LOG_WARN, KG_LOG_ERROR };

void kg_log_set_level(enum kg_log_level lvl);
/* Whether lines of this level are written (to skip building their fields). */
bool kg_log_enabled(enum kg_log_level lvl);
/* fields: alternating key and string value, terminated by NULL. Thread-safe (one write(2)). */
void kg_log(enum kg_log_level lvl, const char *trace_id, const char *event, ...);

#endif
