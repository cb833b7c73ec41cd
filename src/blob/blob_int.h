/*
 * blob_int.h: what the files of src/blob/ share and callers must not see:
 * the blob_store layout and the byte drivers' entry points. blob.c owns the
 * metadata (the `blobs` rows) and the order of operations; fs.c and db.c
 * only move bytes.
 */
#ifndef SB_BLOB_BLOB_INT_H
#define SB_BLOB_BLOB_INT_H

#include "blob/blob.h"

typedef enum blob__kind {
    BLOB__FS,
    BLOB__STORE,
} blob__kind;

/* Immutable after blob_open, so every thread may read it without a lock. */
struct blob_store {
    blob__kind kind;
    char *root; /* fs: the folder holding ab/cdef... files; NULL for store */
};

/* True when s is exactly 64 lower-case hex digits (NUL-terminated). */
bool blob__valid_hex(const char *s);
/* SHA-256 of p[0..len) as lower-case hex into hex[65]. */
void blob__sha256_hex(const void *p, size_t len, char hex[BLOB_SHA256_HEX_LEN + 1]);

/* Logs a store failure (what was being done, the driver's message) and
 * returns BLOB_STORE. */
blob_err blob__store_failed(const char *doing, store_err e, const sb_errbuf *err);

/* ---- fs driver (fs.c) ---- */

/* Makes root (and missing parents) with mode 0700 and checks it is a
 * writable folder. */
blob_err blob__fs_open(const char *root, sb_errbuf *err);
/* Before the row transaction: makes the bytes durable under their name, or
 * refreshes the existing file's mtime so the orphan sweep leaves it alone
 * while our row is not yet committed. */
blob_err blob__fs_stage(blob_store *b, const char *hex, const void *p, size_t len);
/* Inside the transaction, with the row locked: rewrites the bytes if they
 * went missing since blob__fs_stage (a gc removed them). */
blob_err blob__fs_ensure(blob_store *b, const char *hex, const void *p, size_t len);
/* Appends [off, off + n) of a blob of `size` bytes; verify checks the hash
 * (only when the whole blob is read). */
blob_err blob__fs_read(blob_store *b, const char *hex, int64_t size, int64_t off, int64_t n,
                       bool verify, sb_buf *out);
/* gc's removal of one blob whose row delete is not yet committed: bury
 * moves the bytes aside (a missing file is fine), unbury puts them back
 * when the delete does not commit, forget removes them for good after. */
blob_err blob__fs_bury(blob_store *b, const char *hex);
void blob__fs_unbury(blob_store *b, const char *hex);
void blob__fs_forget(blob_store *b, const char *hex);
/* Takes the gc lock of the folder: false (and *fd -1) when another gc
 * holds it. Release with blob__fs_unlock. */
blob_err blob__fs_lock(blob_store *b, int *fd, bool *got);
void blob__fs_unlock(int fd);
/* The sweep: temporary files and orphans older than cutoff_us, and burial
 * leftovers of a crashed gc. *removed counts orphaned blobs removed. */
blob_err blob__fs_sweep(blob_store *b, store *db, int64_t cutoff_us, size_t *removed);

/* ---- store driver (db.c) ---- */

/* Inside the transaction, with the row locked: inserts the bytes unless
 * they are there (created says the row is new, so they cannot be). */
blob_err blob__db_ensure(store *db, const char *hex, const void *p, size_t len, bool created);
blob_err blob__db_read(store *db, const char *hex, int64_t size, int64_t off, int64_t n,
                       bool verify, sb_buf *out);

/* Whether a `blobs` row names hex (committed, as this connection sees). */
blob_err blob__row_exists(store *db, const char *hex, bool *exists);

#endif
