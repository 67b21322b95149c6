/* SPDX-License-Identifier: Apache-2.0
 * API keys' last-used times (SPEC 2), written behind. /verify notes each use; a key's time is
 * queued at most once a minute, and a background thread writes the queue about once a second in
 * one transaction. No request waits for a disk write of its own: before this, the first use of
 * a key each minute was a synchronous commit on the request thread, so a store of many keys in
 * use fell to the disk's commit rate. A crash loses at most the last second's times; they are
 * a hint for operators, never part of a decision or an acknowledged write. */
#ifndef KG_SERVER_LASTUSED_H
#define KG_SERVER_LASTUSED_H

#include <stdint.h>

#include "store/store.h"

struct kg_lastused;

/* Starts the writer on store (which must outlive it). */
struct kg_lastused *kg_lastused_start(struct kg_store *store);
/* Notes that key id was used at now (unix seconds). Never blocks on the store. Thread-safe. */
void kg_lastused_note(struct kg_lastused *l, const char *id, int64_t now);
/* Writes what is queued, stops the writer and frees. NULL is a no-op. */
void kg_lastused_stop(struct kg_lastused *l);

#endif
