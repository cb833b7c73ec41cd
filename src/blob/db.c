/*
 * db.c: the `store` byte driver. A blob's bytes are one row of blob_data
 * (BLOB in SQLite, bytea in PostgreSQL), written and read through the
 * caller's own connection, so every node that shares the database can
 * serve every blob and the bytes commit or roll back with their `blobs`
 * row. blob_data references blobs ON DELETE CASCADE: gc's row delete takes
 * the bytes with it, in the same statement.
 *
 * Ranges are cut by the database (substr counts bytes on BLOB and bytea),
 * so a partial read does not ship the whole blob over the wire.
 *
 * Never: write bytes outside the transaction that holds their row.
 */
#include <string.h>

#include "base/log.h"
#include "blob/blob_int.h"

blob_err blob__db_ensure(store *db, const char *hex, const void *p, size_t len, bool created)
{
    sb_errbuf err = {{0}};
    store_stmt *st;
    store_err rc;
    if (!created) {
        /* The row was there, so normally its bytes are too; they are not
         * if the blobs were kept by the fs driver before. */
        rc = store_prepare(db, "SELECT 1 FROM blob_data WHERE sha256 = $1", &st, &err);
        if (rc != STORE_OK)
            return blob__store_failed("looking up a blob's bytes", rc, &err);
        store_bind_cstr(st, 1, hex);
        rc = store_step(st, &err);
        store_reset(st);
        if (rc == STORE_ROW)
            return BLOB_OK;
        if (rc != STORE_DONE)
            return blob__store_failed("looking up a blob's bytes", rc, &err);
        sb_log(SB_LOG_WARN, "blob store: a blob row had no bytes; storing them",
               SB_LOG_STR("sha256", hex));
    }
    rc = store_prepare(db,
                       "INSERT INTO blob_data (sha256, data) VALUES ($1, $2) "
                       "ON CONFLICT (sha256) DO NOTHING",
                       &st, &err);
    if (rc != STORE_OK)
        return blob__store_failed("storing a blob's bytes", rc, &err);
    store_bind_cstr(st, 1, hex);
    store_bind_blob(st, 2, p, len);
    rc = store_step(st, &err);
    store_reset(st);
    if (rc != STORE_DONE)
        return blob__store_failed("storing a blob's bytes", rc, &err);
    return BLOB_OK;
}

blob_err blob__db_read(store *db, const char *hex, int64_t size, int64_t off, int64_t n,
                       bool verify, sb_buf *out)
{
    sb_errbuf err = {{0}};
    store_stmt *st;
    /* substr is 1-based; both databases take ($2, $3) as integers. */
    store_err rc = store_prepare(
        db, "SELECT substr(data, $2, $3), length(data) FROM blob_data WHERE sha256 = $1", &st,
        &err);
    if (rc != STORE_OK)
        return blob__store_failed("reading a blob's bytes", rc, &err);
    store_bind_cstr(st, 1, hex);
    store_bind_int(st, 2, off + 1);
    store_bind_int(st, 3, n);
    rc = store_step(st, &err);
    blob_err brc = BLOB_OK;
    if (rc == STORE_DONE) {
        sb_log(SB_LOG_ERROR, "blob store: a blob's bytes are missing", SB_LOG_STR("sha256", hex));
        brc = BLOB_CORRUPT;
        goto out;
    }
    if (rc != STORE_ROW) {
        brc = blob__store_failed("reading a blob's bytes", rc, &err);
        goto out;
    }
    size_t got = 0;
    const void *p = store_col_blob(st, 0, &got);
    int64_t stored = store_col_int(st, 1);
    if (stored != size || got != (size_t)n) {
        sb_log(SB_LOG_ERROR, "blob store: a blob's bytes have the wrong size",
               SB_LOG_STR("sha256", hex), SB_LOG_INT("size", stored), SB_LOG_INT("want", size));
        brc = BLOB_CORRUPT;
        goto out;
    }
    if (verify) {
        char actual[BLOB_SHA256_HEX_LEN + 1];
        blob__sha256_hex(p, got, actual);
        if (memcmp(actual, hex, BLOB_SHA256_HEX_LEN) != 0) {
            sb_log(SB_LOG_ERROR, "blob store: a blob's bytes do not match its hash",
                   SB_LOG_STR("sha256", hex), SB_LOG_STR("actual", actual));
            brc = BLOB_CORRUPT;
            goto out;
        }
    }
    sb_buf_append(out, p, got);
out:
    store_reset(st);
    return brc;
}
