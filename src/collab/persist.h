/*
 * persist.h: a collaborative document's storage (migration 0007): a merged
 * state plus an append-only log of the updates accepted after it.
 *
 * Blocking calls on one store connection, made from the worker pool (see
 * room.c); each is one transaction, so a crash leaves either all of a
 * call's effect or none. Return false with err filled on a store failure
 * (a stored row the CRDT engine refuses is skipped with a warning).
 */
#ifndef SB_COLLAB_PERSIST_H
#define SB_COLLAB_PERSIST_H

#include "crdt/crdt.h"
#include "store/store.h"

/* Loads project_id's document doc into a new crdt_doc (empty when nothing
 * is stored), with *last_seq the highest logged seq (or the state's
 * through_seq; 0 for a new document) and *nlog the rows in the log. The
 * caller owns *out. */
bool collab_persist_load(store *db, const char *project_id, const char *doc, crdt_doc **out,
                         int64_t *last_seq, int64_t *nlog, sb_errbuf *err);

/* Appends updates[0..n) as seqs first_seq.. in one transaction. */
bool collab_persist_append(store *db, const char *project_id, const char *doc, int64_t first_seq,
                           const sb_str *updates, size_t n, int64_t now_us, sb_errbuf *err);

/* Folds the log into the merged state (load, apply, encode) and deletes
 * the folded rows, in one transaction. *nlog gets the rows left (0, or all
 * of them when the document has pending structs and is left as it is). */
bool collab_persist_compact(store *db, const char *project_id, const char *doc, int64_t now_us,
                            int64_t *nlog, sb_errbuf *err);

#endif
