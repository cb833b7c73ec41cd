/*
 * keys.c: the key ring and the JWT keys, kept in crypto_keys.
 *
 * Data keys are stored wrapped under the key-encryption key (KEK, from
 * SITEBASE_MASTER_KEY or <data>/master.key); JWT seeds are stored sealed
 * under the newest data key, bound to their kid. On first start both are
 * made and stored; two servers starting at once on one PostgreSQL both try,
 * one insert wins, and the loser loads the winner's keys.
 */
#include "identity/identity_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/log.h"

enum { LOAD_DATA, LOAD_JWT };

/* Loads one purpose's live rows (JWT keys into jwt); *max_id gets the
 * largest id seen (any purpose). A retired key stays live until its
 * retired_at, so tokens it signed verify until they expire. Rows come in
 * id order and each JWT key is added as the signer, so the newest signs;
 * signing_kid, when not NULL, gets its kid. */
static store_err load_rows(identity *id, crypto_jwt_keys *jwt, store *db, int which,
                           int64_t *max_id, int *count, char *signing_kid, sb_errbuf *err)
{
    store_stmt *st;
    store_err e = store_prepare(db,
                                "SELECT id, purpose, kid, wrapped FROM crypto_keys WHERE "
                                "retired_at IS NULL OR retired_at > $1 ORDER BY id",
                                &st, err);
    if (e != STORE_OK)
        return e;
    store_bind_int(st, 1, sb_wall_us());
    *count = 0;
    while ((e = store_step(st, err)) == STORE_ROW) {
        int64_t kid_id = store_col_int(st, 0);
        const char *purpose = store_col_text(st, 1, NULL);
        size_t len;
        const void *wrapped = store_col_blob(st, 3, &len);
        if (kid_id > *max_id)
            *max_id = kid_id;
        if (which == LOAD_DATA && strcmp(purpose, "data") == 0) {
            if (!crypto_keyring_add_wrapped(id->ring, (uint32_t)kid_id, wrapped, len, err)) {
                store_reset(st);
                return STORE_MISUSE;
            }
            (*count)++;
        } else if (which == LOAD_JWT && strcmp(purpose, "jwt") == 0) {
            const char *kid = store_col_text(st, 2, NULL);
            char aad[64];
            int alen = snprintf(aad, sizeof(aad), "jwt:%s", kid);
            sb_buf seed = SB_BUF_INIT;
            bool ok = crypto_open(id->ring, aad, (size_t)alen, wrapped, len, &seed) &&
                      seed.len == 32 &&
                      crypto_jwt_keys_add(jwt, kid, (const uint8_t *)seed.ptr, true, err);
            if (seed.ptr)
                sb_secure_zero(seed.ptr, seed.len);
            sb_buf_free(&seed);
            if (!ok) {
                sb_errf(err, "JWT key %s does not open with this master key", kid);
                store_reset(st);
                return STORE_MISUSE;
            }
            if (signing_kid)
                snprintf(signing_kid, 32, "%s", kid);
            (*count)++;
        }
    }
    store_reset(st);
    return e == STORE_DONE ? STORE_OK : e;
}

static store_err insert_key(store *db, int64_t key_id, const char *purpose, const char *kid,
                            const sb_buf *wrapped, sb_errbuf *err)
{
    store_stmt *st;
    store_err e = store_prepare(db,
                                "INSERT INTO crypto_keys (id, purpose, kid, wrapped, created_at) "
                                "VALUES ($1, $2, $3, $4, $5)",
                                &st, err);
    if (e != STORE_OK)
        return e;
    store_bind_int(st, 1, key_id);
    store_bind_text(st, 2, purpose, strlen(purpose));
    store_bind_cstr(st, 3, kid);
    store_bind_blob(st, 4, wrapped->ptr, wrapped->len);
    store_bind_int(st, 5, sb_wall_us());
    e = store_step(st, err);
    store_reset(st);
    return e == STORE_DONE ? STORE_OK : e;
}

bool identity__keys_load(identity *id, store *db, const char *data_dir, const char *master_hex,
                         sb_errbuf *err)
{
    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST)
        return sb_errf(err, "cannot create the data folder %s: %s", data_dir, strerror(errno));
    char path[4096];
    snprintf(path, sizeof(path), "%s/master.key", data_dir);
    uint8_t kek[CRYPTO_KEY_LEN];
    if (!crypto_kek_load(master_hex, path, kek, err))
        return false;
    id->ring = crypto_keyring_new(kek);
    sb_secure_zero(kek, sizeof(kek));
    id->jwt = crypto_jwt_keys_new();

    for (int attempt = 0; attempt < 3; attempt++) {
        int64_t max_id = 0;
        int ndata = 0, njwt = 0;
        store_err e = load_rows(id, NULL, db, LOAD_DATA, &max_id, &ndata, NULL, err);
        if (e == STORE_OK && ndata == 0) {
            sb_buf wrapped = SB_BUF_INIT;
            crypto_keyring_generate(id->ring, (uint32_t)(max_id + 1), &wrapped);
            e = insert_key(db, max_id + 1, "data", NULL, &wrapped, err);
            sb_buf_free(&wrapped);
            if (e == STORE_CONSTRAINT)
                goto again; /* another server made it first */
            if (e == STORE_OK) {
                sb_log(SB_LOG_INFO, "made a data key", SB_LOG_INT("key_id", max_id + 1));
                max_id++;
            }
        }
        if (e == STORE_OK)
            e = load_rows(id, id->jwt, db, LOAD_JWT, &max_id, &njwt, NULL, err);
        if (e == STORE_OK && njwt == 0) {
            char kid[32];
            snprintf(kid, sizeof(kid), "k%ld", (long)(max_id + 1));
            sb_buf seed = SB_BUF_INIT, sealed = SB_BUF_INIT;
            crypto_jwt_keys_generate(id->jwt, kid, &seed);
            char aad[64];
            int alen = snprintf(aad, sizeof(aad), "jwt:%s", kid);
            crypto_seal(id->ring, aad, (size_t)alen, seed.ptr, seed.len, &sealed);
            sb_secure_zero(seed.ptr, seed.len);
            sb_buf_free(&seed);
            e = insert_key(db, max_id + 1, "jwt", kid, &sealed, err);
            sb_buf_free(&sealed);
            if (e == STORE_CONSTRAINT)
                goto again;
            if (e == STORE_OK)
                sb_log(SB_LOG_INFO, "made a JWT signing key", SB_LOG_STR("kid", kid));
        }
        if (e != STORE_OK) {
            if (e != STORE_MISUSE)
                sb_errf(err, "cannot load keys: %s", store_strerror(e));
            return false;
        }
        return true;
    again:
        /* Start over with fresh sets: the winner's keys replace ours. */
        crypto_jwt_keys_free(id->jwt);
        id->jwt = crypto_jwt_keys_new();
        uint8_t k2[CRYPTO_KEY_LEN];
        if (!crypto_kek_load(master_hex, path, k2, err))
            return false;
        crypto_keyring_free(id->ring);
        id->ring = crypto_keyring_new(k2);
        sb_secure_zero(k2, sizeof(k2));
    }
    return sb_errf(err, "cannot agree on keys with other servers");
}

bool identity_keys_reload(identity *id, store *db, char signing_kid[32], sb_errbuf *err)
{
    crypto_jwt_keys *fresh = crypto_jwt_keys_new();
    int64_t max_id = 0;
    int n = 0;
    char kid[32] = "";
    /* The ring is written only at start (identity_new), so reading it
     * unlocked here is safe; only the jwt pointer swaps under the lock. */
    store_err e = load_rows(id, fresh, db, LOAD_JWT, &max_id, &n, kid, err);
    if (e != STORE_OK || n == 0) {
        crypto_jwt_keys_free(fresh);
        if (e == STORE_OK)
            return sb_errf(err, "no live JWT key in crypto_keys");
        if (e != STORE_MISUSE)
            sb_errf(err, "cannot reload keys: %s", store_strerror(e));
        return false;
    }
    pthread_rwlock_wrlock(&id->lock);
    crypto_jwt_keys *old = id->jwt;
    id->jwt = fresh;
    pthread_rwlock_unlock(&id->lock);
    crypto_jwt_keys_free(old);
    if (signing_kid)
        memcpy(signing_kid, kid, sizeof(kid));
    return true;
}

/* Puts what in front of the driver's message in err; false. (Formatting
 * err->msg into itself would overlap.) */
static bool prefix_err(sb_errbuf *err, const char *what)
{
    sb_errbuf driver = *err;
    return sb_errf(err, "%s: %s", what, driver.msg);
}

bool identity_keys_rotate(identity *id, store *db, int64_t old_valid_s, char kid[32],
                          sb_errbuf *err)
{
    store_stmt *st;
    store_err e = store_begin(db, err);
    int64_t max_id = 0;
    if (e == STORE_OK)
        e = store_prepare(db, "SELECT coalesce(max(id), 0) FROM crypto_keys", &st, err);
    if (e == STORE_OK) {
        if ((e = store_step(st, err)) == STORE_ROW) {
            max_id = store_col_int(st, 0);
            e = STORE_OK;
        }
        store_reset(st);
    }
    if (e != STORE_OK) {
        store_rollback(db, NULL);
        return prefix_err(err, "cannot read keys");
    }
    snprintf(kid, 32, "k%lld", (long long)(max_id + 1));
    sb_buf seed = SB_BUF_INIT, sealed = SB_BUF_INIT;
    char aad[64];
    int alen = snprintf(aad, sizeof(aad), "jwt:%s", kid);
    pthread_rwlock_wrlock(&id->lock);
    crypto_jwt_keys_generate(id->jwt, kid, &seed);
    crypto_seal(id->ring, aad, (size_t)alen, seed.ptr, seed.len, &sealed);
    pthread_rwlock_unlock(&id->lock);
    sb_secure_zero(seed.ptr, seed.len);
    sb_buf_free(&seed);
    e = insert_key(db, max_id + 1, "jwt", kid, &sealed, err);
    sb_buf_free(&sealed);
    /* Older signing keys verify until the last token they signed expires. */
    if (e == STORE_OK)
        e = store_prepare(db,
                          "UPDATE crypto_keys SET retired_at = $1 WHERE purpose = 'jwt' AND "
                          "retired_at IS NULL AND id <> $2",
                          &st, err);
    if (e == STORE_OK) {
        store_bind_int(st, 1, sb_wall_us() + old_valid_s * 1000000);
        store_bind_int(st, 2, max_id + 1);
        e = store_step(st, err);
        if (e == STORE_DONE)
            e = STORE_OK;
        store_reset(st);
    }
    if (e == STORE_OK)
        e = store_commit(db, err);
    if (e != STORE_OK) {
        store_rollback(db, NULL);
        if (e == STORE_CONSTRAINT)
            return sb_errf(err, "another rotation happened at the same time; run it again");
        return prefix_err(err, "cannot store the new key");
    }
    return true;
}
