/*
 * blob.h: content-addressed storage for uploaded assets, snapshots and
 * deployment files. A blob is named by the SHA-256 of its bytes (64
 * lower-case hex digits), so identical bytes are stored once whoever
 * uploads them, in whichever project.
 *
 * Two halves:
 *   - Metadata and reference counts live in the relational store (table
 *     `blobs`, migration 0004), always, so a caller changes them in the same
 *     transaction as its own rows (an asset row and its blob reference
 *     commit or roll back together).
 *   - Bytes live in a byte driver chosen at open: `fs` (files under
 *     <data_dir>/blobs/ab/cdef..., the default) or `store` (rows in
 *     `blob_data` through the caller's connection, so several nodes sharing
 *     one PostgreSQL can serve any blob).
 *
 * Invariants:
 *   - A committed `blobs` row has its bytes: they are made durable (fs:
 *     written to a temporary file, fsync'd, renamed, the folder fsync'd)
 *     before the row can commit, so an acknowledged blob_put survives
 *     kill -9. Stored bytes are never rewritten in place.
 *   - refs counts the references callers took (blob_put, blob_ref) and
 *     gave back (blob_unref); it never goes below 0.
 *   - Only blob_gc removes blobs: those with refs = 0 that nobody touched
 *     for a grace period. Its row delete re-checks refs = 0 in the same
 *     statement, so a concurrent blob_ref either wins (the blob stays) or
 *     sees NOT_FOUND (it was removed); it never references missing bytes.
 *   - Bytes whose hash no longer matches their name are reported as
 *     BLOB_CORRUPT, never served as good.
 *
 * Threads: a blob_store is built at start and shared read-only by every
 * thread. `db` arguments are the calling thread's own store connection.
 * blob_sniff keeps one libmagic cookie per thread.
 *
 * Never: trust a hash from a client as a path (names are checked to be 64
 * lower-case hex digits first); hand out strings from libmagic.
 */
#ifndef SB_BLOB_BLOB_H
#define SB_BLOB_BLOB_H

#include "base/common.h"
#include "base/str.h"
#include "store/store.h"

/* One table of error codes and messages, so they cannot drift. */
#define BLOB_ERRNO_MAP(X)                                                                          \
    X(OK, "ok")                                                                                    \
    X(NOT_FOUND, "no such blob")                                                                   \
    X(TOO_LARGE, "the blob is larger than the limit")                                              \
    X(RANGE, "the range is outside the blob")                                                      \
    X(IO, "reading or writing the blob's bytes failed")                                            \
    X(STORE, "the database failed")                                                                \
    X(CORRUPT, "the blob's bytes no longer match its hash")                                        \
    X(BAD_SPEC, "invalid blob storage specification")

typedef enum blob_err {
#define BLOB__ENUM(name, msg) BLOB_##name,
    BLOB_ERRNO_MAP(BLOB__ENUM)
#undef BLOB__ENUM
} blob_err;

/* The fixed message of a code ("no such blob"); "unknown error" for a value
 * outside the enum. */
const char *blob_strerror(blob_err e);

/* The largest blob blob_put accepts, in bytes. Reads and writes hold a
 * blob in memory, and PostgreSQL's bytea stops at 1 GiB (hex on the wire
 * doubles it), so this stays well below. */
#define BLOB_MAX_SIZE ((size_t)256 << 20)

/* Length of a hash in hex, without the NUL. */
#define BLOB_SHA256_HEX_LEN 64

typedef struct blob_store blob_store;

/* Opens the byte driver named by spec:
 *   NULL, "" or "fs"  files under <data_dir>/blobs (created with mode 0700,
 *                     as are missing parents);
 *   "fs:<dir>"        files under <dir> (created likewise);
 *   "store"           rows in blob_data, through each call's `db`.
 * On success *out owns a new blob_store (free it with blob_close). On
 * failure returns BLOB_BAD_SPEC (unknown spec, or fs without a folder) or
 * BLOB_IO (the folder cannot be made or used), fills err, and leaves *out
 * untouched. Touches no database: migrations (0004_blobs) are the caller's
 * job, as for every table. */
blob_err blob_open(const char *spec, const char *data_dir, blob_store **out, sb_errbuf *err);
/* Frees b. NULL is fine. */
void blob_close(blob_store *b);
/* "fs" or "store". */
const char *blob_driver_name(const blob_store *b);

typedef struct blob_info {
    char sha256[BLOB_SHA256_HEX_LEN + 1]; /* lower-case hex, NUL-terminated */
    int64_t size;                         /* bytes */
    int64_t refs;                         /* references after the call */
    bool created;                         /* blob_put: these bytes were new */
} blob_info;

/* Stores p[0..len) if no blob has these bytes yet, and takes ONE reference
 * to the blob (a new row starts at refs 1; an existing one gets refs + 1),
 * so an upload and its reference are one call. Outside a transaction the
 * call is atomic on its own; inside the caller's transaction it runs in a
 * savepoint (on failure the caller's transaction stays usable and nothing
 * of this call remains) and commits or rolls back with the caller's rows.
 * With fs the bytes are durable before the call returns; the row (and,
 * with store, the bytes) once its transaction commits. p may be NULL only
 * when len is 0. *out (may be NULL) receives the hash, size, refs
 * after the call, and created = true when these bytes were new.
 * Errors: TOO_LARGE (len > BLOB_MAX_SIZE), IO, STORE, CORRUPT (a row with
 * this hash records another size); *out is then untouched. */
blob_err blob_put(blob_store *b, store *db, const void *p, size_t len, blob_info *out);

/* Takes one more reference: refs + 1. NOT_FOUND if no such blob (or
 * sha256 is not 64 lower-case hex digits). Joins the caller's transaction
 * if there is one. */
blob_err blob_ref(store *db, const char *sha256);

/* Gives one reference back: refs - 1, never below 0 (giving back a
 * reference nobody holds is logged and changes nothing), and stamps
 * updated_at, from which blob_gc's grace period runs. NOT_FOUND if no such
 * blob. Joins the caller's transaction if there is one. */
blob_err blob_unref(store *db, const char *sha256);

/* Reads the blob's metadata into *out (created = false). NOT_FOUND if no
 * such blob; *out untouched on failure. */
blob_err blob_stat(store *db, const char *sha256, blob_info *out);

/* Appends bytes [offset, offset + len) of the blob to out; len -1 means to
 * the end, and a range running past the end stops at the end (offset ==
 * size gives no bytes). A read of the whole blob checks its SHA-256 (a
 * partial read checks the size only). Errors: NOT_FOUND, RANGE (offset < 0,
 * offset > size, or len < -1), TOO_LARGE (more than BLOB_MAX_SIZE asked),
 * CORRUPT (bytes missing, of the wrong size, or not matching the hash),
 * IO, STORE. On failure out holds what it held before (its capacity may
 * have grown). */
blob_err blob_read(blob_store *b, store *db, const char *sha256, int64_t offset, int64_t len,
                   sb_buf *out);

/* Removes blobs with refs = 0 whose updated_at is older than
 * now_us - grace_us: their row and their bytes. Each row delete re-checks
 * refs = 0 in the same statement, so a concurrent blob_ref or blob_put
 * wins. The fs driver also removes temporary files older than the grace
 * (left by writes that crashed), and files no row names (left by a
 * caller's transaction that rolled back after blob_put) once older than
 * the grace. The grace must exceed the longest transaction that holds a
 * blob_put. *removed (may be NULL) receives how many blobs went. Must be
 * called outside a transaction (the bytes go only once the row delete has
 * committed); inside one it returns BLOB_STORE. Another blob_gc running on
 * the same fs folder makes this one return BLOB_OK with nothing removed.
 * Errors: STORE, IO (what was removed before the error stays removed). */
blob_err blob_gc(blob_store *b, store *db, int64_t now_us, int64_t grace_us, size_t *removed);

/* The media type libmagic recognises in p[0..len) (only the first 1 MiB is
 * looked at), from a fixed allow-list (image/png, image/jpeg, image/gif,
 * image/webp, image/avif, image/svg+xml, image/vnd.microsoft.icon,
 * image/bmp, font/woff, font/woff2, font/ttf, font/otf, application/pdf,
 * video/mp4, video/webm, audio/mpeg, audio/ogg, audio/wav, text/plain,
 * text/css, text/csv, application/json, application/zip, ...), else
 * "application/octet-stream" (also when libmagic cannot be loaded). The
 * result is a static string. Safe from any thread. */
const char *blob_sniff(const void *p, size_t len);

#endif
