/*
 * blob.c: the metadata half of the blob store (the `blobs` rows and their
 * reference counts) and the order in which rows and bytes change, which is
 * what keeps "a committed row has its bytes" true under concurrency and
 * crashes:
 *
 *   put  1. fs: write the bytes durably, or touch the existing file (before
 *           any transaction, so a slow write holds no database lock);
 *        2. in a transaction (or a savepoint of the caller's): insert the
 *           row, or add a reference to it, which locks it;
 *        3. with the row locked, make sure the bytes are there (a gc may
 *           have removed them between 1 and 2) and write them if not;
 *        4. commit.
 *   gc   per candidate, in a transaction: delete the row if refs = 0 and it
 *        is still older than the cutoff (one statement, so a concurrent
 *        blob_ref or put either wins or waits for us), move its bytes
 *        aside, commit, then remove them (or move them back if the commit
 *        failed). A put waiting on the row lock then sees the bytes gone in
 *        step 3 and writes them again.
 *
 * Bytes without a row (a caller rolled back after put, or a crash between
 * steps 1 and 4) are harmless and the fs sweep removes them after the
 * grace period; step 1 refreshes the mtime it looks at, so it never takes
 * bytes that an uncommitted put is about to name.
 *
 * Never: delete bytes before the row delete that frees them has committed;
 * trust a hash that did not pass blob__valid_hex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/vec.h"
#include "blob/blob_int.h"

static const char *const messages[] = {
#define BLOB__MSG(name, msg) msg,
    BLOB_ERRNO_MAP(BLOB__MSG)
#undef BLOB__MSG
};

const char *blob_strerror(blob_err e)
{
    if ((unsigned)e >= SB_ARRAY_LEN(messages))
        return "unknown error";
    return messages[e];
}

bool blob__valid_hex(const char *s)
{
    if (!s)
        return false;
    for (size_t i = 0; i < BLOB_SHA256_HEX_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[BLOB_SHA256_HEX_LEN] == 0;
}

void blob__sha256_hex(const void *p, size_t len, char hex[BLOB_SHA256_HEX_LEN + 1])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (!EVP_Digest(len ? p : "", len, md, &mdlen, EVP_sha256(), NULL) || mdlen != sizeof md)
        sb_die("SHA-256 failed in libcrypto");
    sb_hex_encode(md, sizeof md, hex);
}

blob_err blob__store_failed(const char *doing, store_err e, const sb_errbuf *err)
{
    sb_log(SB_LOG_ERROR, "blob store: database failed", SB_LOG_STR("doing", doing),
           SB_LOG_STR("error", store_strerror(e)), SB_LOG_STR("detail", err ? err->msg : ""));
    return BLOB_STORE;
}

blob_err blob__row_exists(store *db, const char *hex, bool *exists)
{
    sb_errbuf err = {{0}};
    store_stmt *st;
    store_err rc = store_prepare(db, "SELECT 1 FROM blobs WHERE sha256 = $1", &st, &err);
    if (rc != STORE_OK)
        return blob__store_failed("looking up a blob", rc, &err);
    store_bind_cstr(st, 1, hex);
    rc = store_step(st, &err);
    store_reset(st);
    if (rc != STORE_ROW && rc != STORE_DONE)
        return blob__store_failed("looking up a blob", rc, &err);
    *exists = rc == STORE_ROW;
    return BLOB_OK;
}

/* ---- open / close ---- */

blob_err blob_open(const char *spec, const char *data_dir, blob_store **out, sb_errbuf *err)
{
    blob__kind kind = BLOB__FS;
    char *root = NULL;
    if (!spec || !spec[0] || strcmp(spec, "fs") == 0) {
        if (!data_dir || !data_dir[0]) {
            sb_errf(err, "blob storage \"fs\" needs a data folder");
            return BLOB_BAD_SPEC;
        }
        sb_buf path = SB_BUF_INIT;
        sb_buf_appendf(&path, "%s/blobs", data_dir);
        root = sb_buf_detach(&path, NULL);
    } else if (strncmp(spec, "fs:", 3) == 0) {
        if (!spec[3]) {
            sb_errf(err, "blob storage \"fs:\" needs a folder after the colon");
            return BLOB_BAD_SPEC;
        }
        root = sb_strdup(spec + 3);
    } else if (strcmp(spec, "store") == 0) {
        kind = BLOB__STORE;
    } else {
        sb_errf(err, "unknown blob storage \"%.64s\" (want fs, fs:<dir> or store)", spec);
        return BLOB_BAD_SPEC;
    }
    if (root) {
        blob_err rc = blob__fs_open(root, err);
        if (rc != BLOB_OK) {
            free(root);
            return rc;
        }
    }
    blob_store *b = sb_calloc(1, sizeof *b);
    b->kind = kind;
    b->root = root;
    *out = b;
    return BLOB_OK;
}

void blob_close(blob_store *b)
{
    if (!b)
        return;
    free(b->root);
    free(b);
}

const char *blob_driver_name(const blob_store *b)
{
    return b->kind == BLOB__FS ? "fs" : "store";
}

/* ---- transactions: our own, or a savepoint inside the caller's ---- */

typedef struct txn {
    store *db;
    bool nested; /* a savepoint in the caller's transaction */
} txn;

static const char txn_savepoint[] = "blob_put";

static store_err txn_begin(txn *t, store *db, sb_errbuf *err)
{
    t->db = db;
    t->nested = store_in_transaction(db);
    return t->nested ? store_savepoint(db, txn_savepoint, err) : store_begin(db, err);
}

static store_err txn_commit(txn *t, sb_errbuf *err)
{
    return t->nested ? store_release(t->db, txn_savepoint, err) : store_commit(t->db, err);
}

static void txn_abort(txn *t)
{
    if (t->nested) {
        /* Undo our statements but keep the caller's transaction usable. */
        store_rollback_to(t->db, txn_savepoint, NULL);
        store_release(t->db, txn_savepoint, NULL);
    } else {
        store_rollback(t->db, NULL);
    }
}

/* ---- put / ref / unref / stat ---- */

/* Step 2 of a put: a new row at refs 1, or refs + 1 on the existing one.
 * The INSERT ... DO NOTHING and the UPDATE are two statements; if a gc
 * deletes the row between them the UPDATE finds nothing and we insert
 * again (a row cannot keep vanishing: gc only takes rows older than the
 * grace, and our INSERT makes a fresh one). */
static store_err upsert_row(store *db, const char *hex, size_t len, int64_t now, bool *created,
                            int64_t *refs, int64_t *size, sb_errbuf *err)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        store_stmt *st;
        store_err rc = store_prepare(db,
                                     "INSERT INTO blobs (sha256, size, refs, created_at, "
                                     "updated_at) VALUES ($1, $2, 1, $3, $3) "
                                     "ON CONFLICT (sha256) DO NOTHING",
                                     &st, err);
        if (rc != STORE_OK)
            return rc;
        store_bind_cstr(st, 1, hex);
        store_bind_int(st, 2, (int64_t)len);
        store_bind_int(st, 3, now);
        rc = store_step(st, err);
        int64_t changed = store_changes(st);
        store_reset(st);
        if (rc != STORE_DONE)
            return rc;
        if (changed == 1) {
            *created = true;
            *refs = 1;
            *size = (int64_t)len;
            return STORE_OK;
        }

        rc = store_prepare(db,
                           "UPDATE blobs SET refs = refs + 1, updated_at = $2 "
                           "WHERE sha256 = $1 RETURNING refs, size",
                           &st, err);
        if (rc != STORE_OK)
            return rc;
        store_bind_cstr(st, 1, hex);
        store_bind_int(st, 2, now);
        rc = store_step(st, err);
        bool found = rc == STORE_ROW;
        if (found) {
            *created = false;
            *refs = store_col_int(st, 0);
            *size = store_col_int(st, 1);
            rc = store_step(st, err);
        }
        store_reset(st);
        if (rc != STORE_DONE)
            return rc;
        if (found)
            return STORE_OK;
    }
    sb_errf(err, "blob %s: its row vanished three times in a row", hex);
    return STORE_BUSY;
}

blob_err blob_put(blob_store *b, store *db, const void *p, size_t len, blob_info *out)
{
    if (len > BLOB_MAX_SIZE)
        return BLOB_TOO_LARGE;
    char hex[BLOB_SHA256_HEX_LEN + 1];
    blob__sha256_hex(p, len, hex);

    blob_err rc;
    if (b->kind == BLOB__FS && (rc = blob__fs_stage(b, hex, p, len)) != BLOB_OK)
        return rc;

    sb_errbuf err = {{0}};
    txn t;
    store_err se = txn_begin(&t, db, &err);
    if (se != STORE_OK)
        return blob__store_failed("starting a blob put", se, &err);

    bool created = false;
    int64_t refs = 0, size = 0;
    se = upsert_row(db, hex, len, sb_wall_us(), &created, &refs, &size, &err);
    if (se != STORE_OK) {
        rc = blob__store_failed("adding a blob reference", se, &err);
        goto abort;
    }
    if (size != (int64_t)len) {
        /* Two byte strings with one SHA-256 do not happen; a row that says
         * so was damaged. Refuse rather than mix them up. */
        sb_log(SB_LOG_ERROR, "blob store: row size disagrees with the bytes",
               SB_LOG_STR("sha256", hex), SB_LOG_INT("row_size", size),
               SB_LOG_INT("size", (int64_t)len));
        rc = BLOB_CORRUPT;
        goto abort;
    }
    rc = b->kind == BLOB__FS ? blob__fs_ensure(b, hex, p, len)
                             : blob__db_ensure(db, hex, p, len, created);
    if (rc != BLOB_OK)
        goto abort;
    if ((se = txn_commit(&t, &err)) != STORE_OK) {
        rc = blob__store_failed("committing a blob put", se, &err);
        goto abort;
    }
    if (out) {
        memcpy(out->sha256, hex, sizeof hex);
        out->size = size;
        out->refs = refs;
        out->created = created;
    }
    return BLOB_OK;
abort:
    txn_abort(&t);
    return rc;
}

blob_err blob_ref(store *db, const char *sha256)
{
    if (!blob__valid_hex(sha256))
        return BLOB_NOT_FOUND;
    sb_errbuf err = {{0}};
    store_stmt *st;
    store_err rc = store_prepare(
        db, "UPDATE blobs SET refs = refs + 1, updated_at = $2 WHERE sha256 = $1", &st, &err);
    if (rc != STORE_OK)
        return blob__store_failed("adding a blob reference", rc, &err);
    store_bind_cstr(st, 1, sha256);
    store_bind_int(st, 2, sb_wall_us());
    rc = store_step(st, &err);
    int64_t changed = store_changes(st);
    store_reset(st);
    if (rc != STORE_DONE)
        return blob__store_failed("adding a blob reference", rc, &err);
    return changed == 1 ? BLOB_OK : BLOB_NOT_FOUND;
}

blob_err blob_unref(store *db, const char *sha256)
{
    if (!blob__valid_hex(sha256))
        return BLOB_NOT_FOUND;
    sb_errbuf err = {{0}};
    store_stmt *st;
    store_err rc = store_prepare(db,
                                 "UPDATE blobs SET refs = refs - 1, updated_at = $2 "
                                 "WHERE sha256 = $1 AND refs > 0",
                                 &st, &err);
    if (rc != STORE_OK)
        return blob__store_failed("dropping a blob reference", rc, &err);
    store_bind_cstr(st, 1, sha256);
    store_bind_int(st, 2, sb_wall_us());
    rc = store_step(st, &err);
    int64_t changed = store_changes(st);
    store_reset(st);
    if (rc != STORE_DONE)
        return blob__store_failed("dropping a blob reference", rc, &err);
    if (changed == 1)
        return BLOB_OK;

    bool exists = false;
    blob_err brc = blob__row_exists(db, sha256, &exists);
    if (brc != BLOB_OK)
        return brc;
    if (!exists)
        return BLOB_NOT_FOUND;
    /* A caller gave back a reference it did not hold: a bug above us, but
     * the count must not go negative, so it stays at 0. */
    sb_log(SB_LOG_WARN, "blob store: unref of a blob with no references",
           SB_LOG_STR("sha256", sha256));
    return BLOB_OK;
}

blob_err blob_stat(store *db, const char *sha256, blob_info *out)
{
    if (!blob__valid_hex(sha256))
        return BLOB_NOT_FOUND;
    sb_errbuf err = {{0}};
    store_stmt *st;
    store_err rc = store_prepare(db, "SELECT size, refs FROM blobs WHERE sha256 = $1", &st, &err);
    if (rc != STORE_OK)
        return blob__store_failed("reading a blob's metadata", rc, &err);
    store_bind_cstr(st, 1, sha256);
    rc = store_step(st, &err);
    if (rc == STORE_ROW) {
        memcpy(out->sha256, sha256, BLOB_SHA256_HEX_LEN + 1);
        out->size = store_col_int(st, 0);
        out->refs = store_col_int(st, 1);
        out->created = false;
    }
    store_reset(st);
    if (rc == STORE_DONE)
        return BLOB_NOT_FOUND;
    if (rc != STORE_ROW)
        return blob__store_failed("reading a blob's metadata", rc, &err);
    return BLOB_OK;
}

/* ---- read ---- */

blob_err blob_read(blob_store *b, store *db, const char *sha256, int64_t offset, int64_t len,
                   sb_buf *out)
{
    if (!blob__valid_hex(sha256))
        return BLOB_NOT_FOUND;
    if (offset < 0 || len < -1)
        return BLOB_RANGE;
    blob_info info;
    blob_err rc = blob_stat(db, sha256, &info);
    if (rc != BLOB_OK)
        return rc;
    if (offset > info.size)
        return BLOB_RANGE;
    int64_t n = info.size - offset;
    if (len >= 0 && len < n)
        n = len;
    if ((uint64_t)n > BLOB_MAX_SIZE)
        return BLOB_TOO_LARGE;
    bool whole = offset == 0 && n == info.size;
    if (n == 0 && !whole)
        return BLOB_OK;

    size_t before = out->len;
    rc = b->kind == BLOB__FS ? blob__fs_read(b, sha256, info.size, offset, n, whole, out)
                             : blob__db_read(db, sha256, info.size, offset, n, whole, out);
    if (rc != BLOB_OK) {
        out->len = before;
        if (out->ptr)
            out->ptr[before] = 0;
    }
    return rc;
}

/* ---- gc ---- */

#define GC_BATCH 256 /* the LIMIT in gc_candidates */

typedef struct hexname {
    char s[BLOB_SHA256_HEX_LEN + 1];
} hexname;

typedef SB_VEC(hexname) hexname_vec;

/* The next candidates: unreferenced rows older than the cutoff. */
static blob_err gc_candidates(store *db, int64_t cutoff, hexname_vec *out)
{
    sb_errbuf err = {{0}};
    store_stmt *st;
    store_err rc = store_prepare(db,
                                 "SELECT sha256 FROM blobs WHERE refs = 0 AND updated_at < $1 "
                                 "ORDER BY updated_at LIMIT 256",
                                 &st, &err);
    if (rc != STORE_OK)
        return blob__store_failed("listing unreferenced blobs", rc, &err);
    store_bind_int(st, 1, cutoff);
    while ((rc = store_step(st, &err)) == STORE_ROW) {
        size_t n = 0;
        const char *s = store_col_text(st, 0, &n);
        hexname h;
        if (!s || n != BLOB_SHA256_HEX_LEN)
            continue; /* the CHECK constraint keeps these out */
        memcpy(h.s, s, n + 1);
        if (blob__valid_hex(h.s))
            sb_vec_push(out, h);
    }
    store_reset(st);
    if (rc != STORE_DONE)
        return blob__store_failed("listing unreferenced blobs", rc, &err);
    return BLOB_OK;
}

/* Removes one candidate if it still qualifies; *gone says whether it did. */
static blob_err gc_one(blob_store *b, store *db, const char *hex, int64_t cutoff, bool *gone)
{
    sb_errbuf err = {{0}};
    store_stmt *st;
    bool buried = false;
    *gone = false;
    store_err rc = store_begin(db, &err);
    if (rc != STORE_OK)
        return blob__store_failed("starting a blob removal", rc, &err);
    /* refs = 0 and the age are checked again here, in the statement that
     * deletes: PostgreSQL re-evaluates them after waiting for a concurrent
     * writer's row lock, SQLite has only one writer. With the store driver
     * the bytes go with the row (ON DELETE CASCADE). */
    rc = store_prepare(db, "DELETE FROM blobs WHERE sha256 = $1 AND refs = 0 AND updated_at < $2",
                       &st, &err);
    if (rc != STORE_OK)
        goto store_fail;
    store_bind_cstr(st, 1, hex);
    store_bind_int(st, 2, cutoff);
    rc = store_step(st, &err);
    int64_t changed = store_changes(st);
    store_reset(st);
    if (rc != STORE_DONE)
        goto store_fail;
    if (changed == 1 && b->kind == BLOB__FS) {
        blob_err brc = blob__fs_bury(b, hex);
        if (brc != BLOB_OK) {
            store_rollback(db, NULL);
            return brc;
        }
        buried = true;
    }
    if ((rc = store_commit(db, &err)) != STORE_OK)
        goto store_fail;
    if (buried)
        blob__fs_forget(b, hex);
    *gone = changed == 1;
    return BLOB_OK;
store_fail:
    if (buried)
        blob__fs_unbury(b, hex);
    store_rollback(db, NULL);
    return blob__store_failed("removing an unreferenced blob", rc, &err);
}

blob_err blob_gc(blob_store *b, store *db, int64_t now_us, int64_t grace_us, size_t *removed)
{
    size_t count = 0;
    if (store_in_transaction(db)) {
        sb_log0(SB_LOG_ERROR, "blob store: blob_gc called inside a transaction");
        return BLOB_STORE;
    }
    int64_t cutoff;
    if (grace_us < 0)
        grace_us = 0;
    if (__builtin_sub_overflow(now_us, grace_us, &cutoff))
        cutoff = INT64_MIN; /* nothing is that old */

    int lock_fd = -1;
    blob_err rc = BLOB_OK;
    if (b->kind == BLOB__FS) {
        bool got = false;
        if ((rc = blob__fs_lock(b, &lock_fd, &got)) != BLOB_OK)
            return rc;
        if (!got) {
            if (removed)
                *removed = 0;
            return BLOB_OK;
        }
    }

    hexname_vec batch = {0};
    for (;;) {
        sb_vec_clear(&batch);
        if ((rc = gc_candidates(db, cutoff, &batch)) != BLOB_OK)
            goto out;
        size_t before = count;
        for (size_t i = 0; i < batch.len; i++) {
            bool gone = false;
            if ((rc = gc_one(b, db, batch.items[i].s, cutoff, &gone)) != BLOB_OK)
                goto out;
            count += gone;
        }
        /* A short batch was the last; a batch that removed nothing lost
         * every row to concurrent references, and the next would too. */
        if (batch.len < GC_BATCH || count == before)
            break;
    }
    if (b->kind == BLOB__FS)
        rc = blob__fs_sweep(b, db, cutoff, &count);
out:
    sb_vec_free(&batch);
    if (lock_fd >= 0)
        blob__fs_unlock(lock_fd);
    if (removed)
        *removed = count;
    return rc;
}
