/*
 * mfa.c: TOTP second factors (RFC 6238) and recovery codes.
 *
 * Invariants: a TOTP secret is stored only sealed, bound to its user
 * ("totp:<user id>"); a factor counts only once enabled with a valid code;
 * last_used_step only grows, so a code is accepted once per step (RFC 6238
 * §5.2); recovery codes are stored as SHA-256 of their normalised form and
 * each works once. An MFA challenge token lives 5 minutes and works once.
 */
#include "identity/identity_int.h"

#include <string.h>

#include "base/log.h"
#include "base/rand.h"
#include "crypto/totp.h"

#define US               1000000LL
#define CHALLENGE_TTL_US (5 * 60 * US)

identity_err identity__mfa_challenge(identity *id, store *db, const char *user_id,
                                     const identity_client *c, int risk, const char *metadata,
                                     sb_buf *mfa_token)
{
    identity_err r = identity__one_time_issue(db, "mfa", user_id, CHALLENGE_TTL_US, c, mfa_token);
    if (r != IDENTITY_OK)
        return r;
    identity__event(db, user_id, "mfa_challenge", risk, c, metadata);
    return IDENTITY_MFA_REQUIRED;
}

typedef struct factor {
    char id[SB_UUID_STR_LEN];
    bool enabled;
    int64_t last_step;
    sb_buf secret; /* opened */
} factor;

static void factor_clear(factor *f)
{
    if (f->secret.ptr)
        sb_secure_zero(f->secret.ptr, f->secret.len);
    sb_buf_free(&f->secret);
}

static identity_err load_factor(identity *id, store *db, const char *user_id, factor *f)
{
    store_stmt *st;
    sb_errbuf err;
    store_err e =
        store_prepare(db,
                      "SELECT id, enabled, last_used_step, secret_sealed FROM mfa_factors "
                      "WHERE user_id = $1 AND kind = 'totp' ORDER BY id DESC LIMIT 1",
                      &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("loading a factor", e, &err);
    store_bind_cstr(st, 1, user_id);
    e = store_step(st, &err);
    identity_err r = IDENTITY_MFA_NOT_SET_UP;
    if (e == STORE_ROW) {
        snprintf(f->id, sizeof(f->id), "%s", store_col_text(st, 0, NULL));
        f->enabled = store_col_bool(st, 1);
        f->last_step = store_col_int(st, 2);
        size_t n;
        const void *sealed = store_col_blob(st, 3, &n);
        char aad[64];
        int alen = snprintf(aad, sizeof(aad), "totp:%s", user_id);
        pthread_rwlock_rdlock(&id->lock);
        bool ok = crypto_open(id->ring, aad, (size_t)alen, sealed, n, &f->secret);
        pthread_rwlock_unlock(&id->lock);
        r = ok ? IDENTITY_OK : IDENTITY_INTERNAL;
        if (!ok)
            sb_log(SB_LOG_ERROR, "identity: a TOTP secret does not open",
                   SB_LOG_STR("user", user_id));
    } else if (e != STORE_DONE) {
        r = identity__store_failed("loading a factor", e, &err);
    }
    store_reset(st);
    return r;
}

/* Checks a TOTP code and records its step; false for a wrong or replayed code. */
static bool use_totp(store *db, factor *f, sb_str code, int64_t now_us)
{
    uint64_t step;
    if (!crypto_totp_verify((const uint8_t *)f->secret.ptr, f->secret.len, code.ptr, code.len,
                            now_us / US, &step))
        return false;
    store_stmt *st;
    sb_errbuf err;
    if (store_prepare(db,
                      "UPDATE mfa_factors SET last_used_step = $2 WHERE id = $1 AND "
                      "last_used_step < $2",
                      &st, &err) != STORE_OK)
        return false;
    store_bind_cstr(st, 1, f->id);
    store_bind_int(st, 2, (int64_t)step);
    store_err e = store_step(st, &err);
    int64_t changed = store_changes(st);
    store_reset(st);
    return e == STORE_DONE && changed == 1; /* 0 rows: this step was used already */
}

/* "ABCDE-fghij" -> "abcdefghij" into out[11]; false if it is not that shape. */
static bool recovery_normalize(sb_str code, char out[11])
{
    size_t n = 0;
    for (size_t i = 0; i < code.len; i++) {
        char c = code.ptr[i];
        if (c == '-' || c == ' ')
            continue;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) || n == 10)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == 10;
}

static bool use_recovery(store *db, const char *user_id, sb_str code, int64_t now_us)
{
    char norm[11], hash[65];
    if (!recovery_normalize(code, norm))
        return false;
    identity__token_hash(sb_str_make(norm, 10), hash);
    store_stmt *st;
    sb_errbuf err;
    if (store_prepare(db,
                      "UPDATE recovery_codes SET used_at = $3 WHERE code_hash = $1 AND "
                      "user_id = $2 AND used_at IS NULL",
                      &st, &err) != STORE_OK)
        return false;
    store_bind_text(st, 1, hash, 64);
    store_bind_cstr(st, 2, user_id);
    store_bind_int(st, 3, now_us);
    store_err e = store_step(st, &err);
    int64_t changed = store_changes(st);
    store_reset(st);
    return e == STORE_DONE && changed == 1;
}

identity_err identity_mfa_verify(identity *id, store *db, sb_str mfa_token, sb_str code,
                                 const identity_client *c, identity_user *user,
                                 identity_tokens *tokens)
{
    char user_id[SB_UUID_STR_LEN] = "";
    identity_err r = identity__one_time_spend(db, "mfa", mfa_token, c->now_us, user_id);
    if (r != IDENTITY_OK)
        return r;
    factor f = {0};
    if ((r = load_factor(id, db, user_id, &f)) != IDENTITY_OK || !f.enabled) {
        factor_clear(&f);
        return r == IDENTITY_OK ? IDENTITY_BAD_CREDENTIALS : r;
    }
    bool ok = code.len == 6 ? use_totp(db, &f, code, c->now_us)
                            : use_recovery(db, user_id, code, c->now_us);
    factor_clear(&f);
    if (!ok) {
        identity__event(db, user_id, "mfa_failed", 40, c, NULL);
        return IDENTITY_BAD_CREDENTIALS;
    }
    identity__event(db, user_id, code.len == 6 ? "mfa_verified" : "recovery_code_used", 0, c, NULL);
    if ((r = identity__session_open(id, db, user_id, c, true, tokens)) != IDENTITY_OK)
        return r;
    return identity_user_get(id, db, user_id, user);
}

identity_err identity_totp_setup(identity *id, store *db, const identity_principal *p,
                                 const identity_client *c, sb_buf *secret_b32, sb_buf *uri)
{
    identity_user u;
    identity_err r = identity_user_get(id, db, p->user_id, &u);
    if (r != IDENTITY_OK)
        return r;
    if (u.mfa_enabled) {
        identity_user_clear(&u);
        return IDENTITY_MFA_ENABLED;
    }
    uint8_t secret[CRYPTO_TOTP_SECRET_LEN];
    sb_rand_bytes(secret, sizeof(secret));
    char aad[64];
    int alen = snprintf(aad, sizeof(aad), "totp:%s", p->user_id);
    sb_buf sealed = SB_BUF_INIT;
    pthread_rwlock_rdlock(&id->lock);
    crypto_seal(id->ring, aad, (size_t)alen, secret, sizeof(secret), &sealed);
    pthread_rwlock_unlock(&id->lock);

    sb_uuid fu;
    char fid[SB_UUID_STR_LEN];
    sb_uuid_v7(&fu);
    sb_uuid_format(&fu, fid);
    store_stmt *st;
    sb_errbuf err;
    store_err e = store_begin(db, &err);
    /* A set-up that was never enabled is replaced, not stacked. */
    if (e == STORE_OK)
        e = store_prepare(db, "DELETE FROM mfa_factors WHERE user_id = $1 AND enabled = $2", &st,
                          &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, p->user_id);
        store_bind_bool(st, 2, false);
        e = store_step(st, &err);
        store_reset(st);
        if (e == STORE_DONE)
            e = store_prepare(db,
                              "INSERT INTO mfa_factors (id, user_id, kind, secret_sealed, enabled, "
                              "created_at) VALUES ($1, $2, 'totp', $3, $4, $5)",
                              &st, &err);
    }
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, fid);
        store_bind_cstr(st, 2, p->user_id);
        store_bind_blob(st, 3, sealed.ptr, sealed.len);
        store_bind_bool(st, 4, false);
        store_bind_int(st, 5, c->now_us);
        e = store_step(st, &err);
        store_reset(st);
        if (e == STORE_DONE)
            e = store_commit(db, &err);
    }
    sb_buf_free(&sealed);
    if (e != STORE_OK) {
        store_rollback(db, NULL);
        identity_user_clear(&u);
        sb_secure_zero(secret, sizeof(secret));
        return identity__store_failed("setting up TOTP", e, &err);
    }
    crypto_b32_encode(secret, sizeof(secret), secret_b32);
    crypto_totp_uri(secret, sizeof(secret), "Sitebase", u.email, uri);
    sb_secure_zero(secret, sizeof(secret));
    identity_user_clear(&u);
    identity__event(db, p->user_id, "totp_setup", 0, c, NULL);
    return IDENTITY_OK;
}

static void recovery_code(char out[IDENTITY_RECOVERY_CODE_LEN + 1])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint8_t r[10];
    sb_rand_bytes(r, sizeof(r));
    for (int i = 0, o = 0; i < 10; i++) {
        if (i == 5)
            out[o++] = '-';
        out[o++] = alphabet[r[i] & 31];
    }
    out[IDENTITY_RECOVERY_CODE_LEN] = '\0';
}

identity_err
identity_totp_enable(identity *id, store *db, const identity_principal *p, sb_str code,
                     const identity_client *c,
                     char codes[IDENTITY_RECOVERY_CODES][IDENTITY_RECOVERY_CODE_LEN + 1])
{
    factor f = {0};
    identity_err r = load_factor(id, db, p->user_id, &f);
    if (r != IDENTITY_OK || f.enabled) {
        factor_clear(&f);
        return r == IDENTITY_OK ? IDENTITY_MFA_NOT_SET_UP : r;
    }
    bool ok = use_totp(db, &f, code, c->now_us);
    factor_clear(&f);
    if (!ok)
        return IDENTITY_INVALID_CODE;

    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(db, &err);
    if (e == STORE_OK)
        e = store_prepare(db, "UPDATE mfa_factors SET enabled = $2 WHERE id = $1", &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, f.id);
        store_bind_bool(st, 2, true);
        e = store_step(st, &err);
        store_reset(st);
    }
    if (e == STORE_DONE)
        e = store_prepare(db, "UPDATE users SET mfa_enabled = $2, updated_at = $3 WHERE id = $1",
                          &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, p->user_id);
        store_bind_bool(st, 2, true);
        store_bind_int(st, 3, c->now_us);
        e = store_step(st, &err);
        store_reset(st);
    }
    if (e == STORE_DONE)
        e = store_prepare(db, "DELETE FROM recovery_codes WHERE user_id = $1", &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, p->user_id);
        e = store_step(st, &err);
        store_reset(st);
    }
    for (int i = 0; i < IDENTITY_RECOVERY_CODES && e == STORE_DONE; i++) {
        recovery_code(codes[i]);
        char norm[11], hash[65];
        recovery_normalize(sb_str_c(codes[i]), norm);
        identity__token_hash(sb_str_make(norm, 10), hash);
        e = store_prepare(db, "INSERT INTO recovery_codes (code_hash, user_id) VALUES ($1, $2)",
                          &st, &err);
        if (e == STORE_OK) {
            store_bind_text(st, 1, hash, 64);
            store_bind_cstr(st, 2, p->user_id);
            e = store_step(st, &err);
            store_reset(st);
        }
    }
    if (e == STORE_DONE)
        e = store_commit(db, &err);
    if (e != STORE_OK) {
        store_rollback(db, NULL);
        sb_secure_zero(codes, IDENTITY_RECOVERY_CODES * (IDENTITY_RECOVERY_CODE_LEN + 1));
        return identity__store_failed("enabling TOTP", e, &err);
    }
    identity__event(db, p->user_id, "totp_enabled", 0, c, NULL);
    return IDENTITY_OK;
}
