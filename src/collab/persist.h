/*
 * persist.h: a collaborative document's storage (migration 0007): a merged
 * state plus an append-only log of the updates accepted after it.
 *
 * Blocking calls on one store connection, made from the worker pool (see
 * room_store.c and writer.c); each writes in one transaction, so a crash
 * leaves either all of a call's effect or none. Return false with err filled on a store failure
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

/* Appends updates[0..n) as the next free seqs of the log, which several
 * nodes share: *first_seq gets the first. One transaction (retried when
 * another appender took the same seqs first). */
bool collab_persist_append_next(store *db, const char *project_id, const char *doc,
                                const sb_str *updates, size_t n, int64_t now_us, int64_t *first_seq,
                                sb_errbuf *err);

/* One document's part of a group append: first_seq is set on success. */
typedef struct collab_append {
    const char *project_id, *doc;
    const sb_str *updates;
    size_t n;
    int64_t first_seq;
} collab_append;

/* Appends each a[i] as the next free seqs of its document's log, all in one
 * transaction (group commit across documents: one commit, one WAL sync
 * point, instead of one per document). No retry: on any failure, nothing
 * is stored and the caller appends them one by one
 * (collab_persist_append_next), so one document's conflict costs the
 * others only a retry. Documents must be distinct; pass them in a fixed
 * order (by key) so two nodes' groups lock rows in the same order. */
bool collab_persist_append_group(store *db, collab_append *a, size_t n, int64_t now_us,
                                 sb_errbuf *err);

/* How far a loop's journal (journal.c) is folded into the log: every
 * record of files of a generation below gen, and of gen's file the bytes
 * before folded. */
typedef struct collab_jpos {
    int64_t loop, gen, folded;
} collab_jpos;

/* Appends each a[i] at its first_seq and sets each marks[i], all in one
 * transaction. On failure nothing is stored and *code is the store's error
 * (STORE_CONSTRAINT: a seq taken, or the project deleted). */
bool collab_persist_append_marked(store *db, const collab_append *a, size_t n,
                                  const collab_jpos *marks, size_t nmarks, int64_t now_us,
                                  store_err *code, sb_errbuf *err);
/* Every loop's mark; the caller frees *out. */
bool collab_persist_marks(store *db, collab_jpos **out, size_t *n, sb_errbuf *err);

/* What a node that missed updates reads: fn(ctx, seq, update, n) for each
 * log row with seq > after_seq, and for the merged state when it folded
 * rows past after_seq (seq = its through_seq). Rows may repeat what the
 * state holds, and come in no promised order: apply them all (updates are
 * idempotent). */
typedef void (*collab_persist_row_fn)(void *ctx, int64_t seq, const void *update, size_t n);
bool collab_persist_since(store *db, const char *project_id, const char *doc, int64_t after_seq,
                          collab_persist_row_fn fn, void *ctx, sb_errbuf *err);

/* Folds the log into the merged state (load, apply, encode: in a read
 * transaction) and stores it and deletes the folded rows (in one short
 * write transaction). A state never moves back: when another node stored a
 * state through a later seq meanwhile, that one stays. *nlog gets the
 * folded rows' count left in the log: 0, or all of them when the document
 * has pending structs and is left as it is. Rows appended meanwhile are
 * not counted. *state_len (unless NULL) gets the encoded state's bytes
 * (0 when nothing was folded). */
bool collab_persist_compact(store *db, const char *project_id, const char *doc, int64_t now_us,
                            int64_t *nlog, int64_t *state_len, sb_errbuf *err);

/* The two halves of collab_persist_compact, for callers that run them on
 * different threads: the read (long: load and encode) anywhere, the write
 * where the other writes are. */
typedef struct collab_fold {
    sb_buf state; /* empty: nothing to write (no log, or pending structs) */
    sb_buf state_vector;
    int64_t through_seq; /* the last seq read */
    int64_t nlog;        /* log rows read */
} collab_fold;
bool collab_persist_fold_read(store *db, const char *project_id, const char *doc, collab_fold *f,
                              sb_errbuf *err);
bool collab_persist_fold_write(store *db, const char *project_id, const char *doc,
                               const collab_fold *f, int64_t now_us, sb_errbuf *err);
void collab_fold_free(collab_fold *f);

#endif
