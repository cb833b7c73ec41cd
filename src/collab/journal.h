/*
 * journal.h: the collaboration journal (docs/collab.md, "The journal").
 *
 * With one node, a room does not wait for the database before it applies
 * and broadcasts an update: it appends the batch to its loop's journal
 * file, which survives kill -9 as soon as write(2) returned, and the
 * hub's writer folds the records into collab_updates later, many rooms'
 * records in one transaction that also moves the loop's mark
 * (collab_journal: generation and offset). At start-up, before any room
 * loads, the records past each mark are folded the same way.
 *
 * File: <dir>/loop-<loop>-<gen>.log, a sequence of records:
 *
 *   u32 payload length | u32 CRC-32C of payload | payload
 *   payload: u8 kind (1: updates) | i64 first seq | u16 key length | key
 *            (project id "/" document) | u32 count | count x (u32 length,
 *            update bytes)
 *
 * Little-endian. A file may end in a torn record (a crash during an
 * append): one whose extent passes the end of the file, or bad bytes that
 * are all zeros to the end. It is cut off. A bad record with anything else
 * after it is corruption, and the start-up stops rather than skip
 * acknowledged updates.
 */
#ifndef SB_COLLAB_JOURNAL_H
#define SB_COLLAB_JOURNAL_H

#include <stdatomic.h>

#include "base/str.h"
#include "collab/persist.h"

#define COLLAB_JREC_MAX (64u << 20) /* bytes of one record's payload */

/* One decoded record; key and updates point into the scanned bytes. */
typedef struct collab_jrec {
    sb_str project_id, doc;
    int64_t first_seq;
    uint32_t n;
    sb_str *updates;   /* n of them, owned by the scan */
    size_t start, end; /* the record's offsets in the file */
} collab_jrec;

typedef enum collab_jscan {
    COLLAB_JSCAN_OK,      /* every record was whole */
    COLLAB_JSCAN_TORN,    /* a torn tail from *good on: cut it off */
    COLLAB_JSCAN_CORRUPT, /* a bad record at *good with more after it */
} collab_jscan;

/* Hands each record of p[from..n) to fn (which returns false to stop:
 * COLLAB_JSCAN_OK is then returned). *good gets the end of the last whole
 * record handed over (or from). */
collab_jscan collab_journal_scan(const uint8_t *p, size_t n, size_t from,
                                 bool (*fn)(void *ctx, const collab_jrec *rec), void *ctx,
                                 size_t *good);

/* Appends one record's bytes to out. */
void collab_journal_encode(sb_buf *out, const char *key, int64_t first_seq, const sb_str *updates,
                           size_t n);

/* One loop's journal. The loop's thread appends; the writer's thread
 * folds and moves `folded`. */
typedef struct collab_journal {
    char *dir;
    int64_t loop;
    atomic_int_fast64_t *next_gen; /* the hub's: generations of new files */
    /* the loop's thread */
    int fd; /* -1: none open (the next append opens a new generation) */
    int64_t gen, off;
    sb_buf rec; /* scratch */
    /* Records appended, stored by the loop's thread once write(2) took
     * one (before anyone sees its updates: collab_hub_settle waits for
     * what it counts), and those of them folded, stored by the writer. */
    atomic_uint_fast64_t written, folded;
    atomic_int_fast64_t unfolded_bytes;
    /* the writer's thread: the generation its last mark named */
    int64_t mark_gen;
} collab_journal;

collab_journal *collab_journal_new(const char *dir, int64_t loop, atomic_int_fast64_t *next_gen);
/* Closes the file; unlinks it when every record is folded. */
void collab_journal_free(collab_journal *j);

/* On the loop's thread: adds a record to the next write; returns where
 * it ends, counted from the start of that write. */
size_t collab_journal_add(collab_journal *j, const char *key, int64_t first_seq,
                          const sb_str *updates, size_t n);
/* Writes the nrecs records added since the last write, with one
 * write(2): true once it took them all, with *gen and *start, the file
 * offset of the first (a record's mark is *start plus its end); they are
 * then counted in written. On failure nothing of them stays in the file
 * and err says why. */
bool collab_journal_write(collab_journal *j, size_t nrecs, int64_t *gen, int64_t *start,
                          sb_errbuf *err);

/* The writer's thread, after a mark at gen committed: removes the files
 * of the loop's generations below it. */
void collab_journal_retire(collab_journal *j, int64_t gen);

/* Folds records into the log with their marks: one transaction, or (when
 * that is refused by a constraint: a project deleted, or rows a failed
 * attempt stored) each record alone, a refused one skipped with a
 * warning, then the marks. false (err): the store failed; nothing is
 * lost, the records stay past the mark. */
bool collab_journal_fold(store *db, const collab_append *a, size_t n, const collab_jpos *marks,
                         size_t nmarks, sb_errbuf *err);

/* At start-up, before any room loads: folds every record of dir's files
 * past its loop's mark, removes the files, and sets *next_gen above every
 * generation seen. Creates dir. false (err): the store failed or a file
 * is corrupt; start no room. */
bool collab_journal_recover(store *db, const char *dir, int64_t *next_gen, sb_errbuf *err);

#endif
