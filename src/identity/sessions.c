/*
 * sessions.c: sessions, refresh-token families and access tokens.
 *
 * Invariants: a refresh token is stored only as its SHA-256; at most one
 * unspent token per session; a spent token keeps its successor sealed
 * (bound to the spent token's hash) so that, within reuse_window, a second
 * presentation returns the same successor. Outside the window, reuse
 * revokes the session: whoever holds the other copy is locked out too.
 */
#include "identity/identity_int.h"

#include <string.h>

#include "base/log.h"

#define REFRESH_BYTES 32
#define CSRF_BYTES    24
#define JWT_LEEWAY_S  5 /* clock skew allowed on exp and nbf */
#define US            1000000LL

void identity__access_token(identity *id, const char *user_id, const char *session_id,
                            int64_t now_us, identity_tokens *t)
{
    int64_t now = now_us / US;
    json_t *claims =
        json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", id->issuer, "sub", user_id, "sid", session_id,
                  "iat", (json_int_t)now, "exp", (json_int_t)(now + id->cfg.access_ttl_s));
    sb_buf_reset(&t->access);
    pthread_rwlock_rdlock(&id->lock);
    crypto_jwt_sign(id->jwt, claims, &t->access);
    pthread_rwlock_unlock(&id->lock);
    json_decref(claims);
    t->expires_in = id->cfg.access_ttl_s;
}

static store_err insert_refresh(store *db, const char *hash, const char *session_id, int64_t now_us,
                                int64_t expires_us, sb_errbuf *err)
{
    store_stmt *st;
    store_err e = store_prepare(db,
                                "INSERT INTO refresh_tokens (token_hash, session_id, created_at, "
                                "expires_at) VALUES ($1, $2, $3, $4)",
                                &st, err);
    if (e != STORE_OK)
        return e;
    store_bind_text(st, 1, hash, 64);
    store_bind_text(st, 2, session_id, strlen(session_id));
    store_bind_int(st, 3, now_us);
    store_bind_int(st, 4, expires_us);
    e = store_step(st, err);
    store_reset(st);
    return e == STORE_DONE ? STORE_OK : e;
}

identity_err identity__session_open(identity *id, store *db, const char *user_id,
                                    const identity_client *c, bool mfa, identity_tokens *t)
{
    sb_uuid u;
    sb_uuid_v7(&u);
    sb_uuid_format(&u, t->session_id);
    sb_buf_reset(&t->refresh);
    sb_buf_reset(&t->csrf);
    crypto_token(REFRESH_BYTES, &t->refresh);
    crypto_token(CSRF_BYTES, &t->csrf);
    char refresh_hash[65], csrf_hash[65];
    identity__token_hash(sb_buf_str(&t->refresh), refresh_hash);
    identity__token_hash(sb_buf_str(&t->csrf), csrf_hash);
    int64_t expires = c->now_us + id->cfg.refresh_ttl_s * US;

    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(db, &err);
    if (e == STORE_OK)
        e = store_prepare(db,
                          "INSERT INTO user_sessions (id, user_id, device_fingerprint, ip, "
                          "user_agent, csrf_hash, created_at, last_seen, expires_at, mfa) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)",
                          &st, &err);
    if (e == STORE_OK) {
        store_bind_text(st, 1, t->session_id, strlen(t->session_id));
        store_bind_text(st, 2, user_id, strlen(user_id));
        store_bind_cstr(st, 3, c->device);
        store_bind_cstr(st, 4, c->ip);
        store_bind_cstr(st, 5, c->user_agent);
        store_bind_text(st, 6, csrf_hash, 64);
        store_bind_int(st, 7, c->now_us);
        store_bind_int(st, 8, expires);
        store_bind_bool(st, 9, mfa);
        e = store_step(st, &err);
        store_reset(st);
        if (e == STORE_DONE)
            e = insert_refresh(db, refresh_hash, t->session_id, c->now_us, expires, &err);
    }
    if (e == STORE_OK)
        e = store_commit(db, &err);
    if (e != STORE_OK) {
        store_rollback(db, NULL);
        return identity__store_failed("opening a session", e, &err);
    }
    identity__access_token(id, user_id, t->session_id, c->now_us, t);
    return IDENTITY_OK;
}

static store_err revoke_session(store *db, const char *session_id, const char *reason,
                                int64_t now_us, sb_errbuf *err)
{
    store_stmt *st;
    store_err e = store_prepare(db,
                                "UPDATE user_sessions SET revoked_at = $2, revoke_reason = $3 "
                                "WHERE id = $1 AND revoked_at IS NULL",
                                &st, err);
    if (e != STORE_OK)
        return e;
    store_bind_text(st, 1, session_id, strlen(session_id));
    store_bind_int(st, 2, now_us);
    store_bind_text(st, 3, reason, strlen(reason));
    e = store_step(st, err);
    store_reset(st);
    return e == STORE_DONE ? STORE_OK : e;
}

/* What a refresh token's row says, read inside the transaction. */
typedef struct refresh_row {
    char session_id[SB_UUID_STR_LEN];
    char user_id[SB_UUID_STR_LEN];
    bool spent, session_open, user_active;
    int64_t spent_at, expires_at;
    sb_buf successor_sealed;
} refresh_row;

static store_err read_refresh(store *db, const char *hash, int64_t now_us, refresh_row *r,
                              sb_errbuf *err)
{
    store_stmt *st;
    store_err e = store_prepare(
        db,
        "SELECT r.session_id, s.user_id, r.spent_at, r.expires_at, r.successor_sealed, "
        "s.revoked_at, s.expires_at, u.status FROM refresh_tokens r "
        "JOIN user_sessions s ON s.id = r.session_id JOIN users u ON u.id = s.user_id "
        "WHERE r.token_hash = $1",
        &st, err);
    if (e != STORE_OK)
        return e;
    store_bind_text(st, 1, hash, 64);
    e = store_step(st, err);
    if (e == STORE_ROW) {
        size_t n;
        const char *s = store_col_text(st, 0, &n);
        memcpy(r->session_id, s, SB_MIN(n, SB_UUID_STR_LEN - 1));
        s = store_col_text(st, 1, &n);
        memcpy(r->user_id, s, SB_MIN(n, SB_UUID_STR_LEN - 1));
        r->spent = !store_col_is_null(st, 2);
        r->spent_at = r->spent ? store_col_int(st, 2) : 0;
        r->expires_at = store_col_int(st, 3);
        if (!store_col_is_null(st, 4)) {
            const void *b = store_col_blob(st, 4, &n);
            sb_buf_append(&r->successor_sealed, b, n);
        }
        r->session_open = store_col_is_null(st, 5) && store_col_int(st, 6) > now_us;
        r->user_active = strcmp(store_col_text(st, 7, NULL), "active") == 0;
    }
    store_reset(st);
    return e;
}

/* One attempt; *retry asks the caller to run it again (a concurrent
 * rotation won the race: the next attempt sees it as a reuse in the window). */
static identity_err refresh_once(identity *id, store *db, const char *hash,
                                 const identity_client *c, identity_tokens *t, bool *retry)
{
    sb_errbuf err;
    refresh_row r = {0};
    identity_err result = IDENTITY_OK;
    store_err e = store_begin(db, &err);
    if (e == STORE_OK)
        e = read_refresh(db, hash, c->now_us, &r, &err);
    if (e == STORE_DONE) {
        result = IDENTITY_TOKEN_INVALID;
        goto rollback;
    }
    if (e != STORE_ROW)
        goto store_fail;
    if (!r.session_open || r.expires_at <= c->now_us) {
        result = IDENTITY_TOKEN_INVALID;
        goto rollback;
    }
    if (!r.user_active) {
        /* A disabled account refreshes nothing, at once. */
        if ((e = revoke_session(db, r.session_id, "account_disabled", c->now_us, &err)) != STORE_OK)
            goto store_fail;
        result = IDENTITY_DISABLED;
        goto commit;
    }

    char aad[80];
    int alen = snprintf(aad, sizeof(aad), "refresh:%s", hash);
    if (r.spent) {
        bool in_window = c->now_us - r.spent_at <= id->cfg.reuse_window_s * US;
        sb_buf successor = SB_BUF_INIT;
        bool opened = false;
        if (in_window && r.successor_sealed.len) {
            pthread_rwlock_rdlock(&id->lock);
            opened = crypto_open(id->ring, aad, (size_t)alen, r.successor_sealed.ptr,
                                 r.successor_sealed.len, &successor);
            pthread_rwlock_unlock(&id->lock);
        }
        if (opened) {
            /* Two tabs raced: both get the same next token. */
            sb_buf_reset(&t->refresh);
            sb_buf_append(&t->refresh, successor.ptr, successor.len);
            sb_secure_zero(successor.ptr, successor.len);
            sb_buf_free(&successor);
            memcpy(t->session_id, r.session_id, sizeof(t->session_id));
            identity__access_token(id, r.user_id, r.session_id, c->now_us, t);
            goto commit;
        }
        sb_buf_free(&successor);
        if ((e = revoke_session(db, r.session_id, "refresh_token_reuse", c->now_us, &err)) !=
            STORE_OK)
            goto store_fail;
        identity__event(db, r.user_id, "refresh_token_reuse", 80, c, NULL);
        sb_log(SB_LOG_WARN, "refresh token reused: session revoked",
               SB_LOG_STR("session", r.session_id));
        result = IDENTITY_TOKEN_REUSED;
        goto commit;
    }

    /* Rotate: spend this token, keep its successor sealed for the window. */
    sb_buf_reset(&t->refresh);
    crypto_token(REFRESH_BYTES, &t->refresh);
    sb_buf sealed = SB_BUF_INIT;
    pthread_rwlock_rdlock(&id->lock);
    crypto_seal(id->ring, aad, (size_t)alen, t->refresh.ptr, t->refresh.len, &sealed);
    pthread_rwlock_unlock(&id->lock);
    store_stmt *st;
    e = store_prepare(db,
                      "UPDATE refresh_tokens SET spent_at = $2, successor_sealed = $3 "
                      "WHERE token_hash = $1 AND spent_at IS NULL",
                      &st, &err);
    if (e == STORE_OK) {
        store_bind_text(st, 1, hash, 64);
        store_bind_int(st, 2, c->now_us);
        store_bind_blob(st, 3, sealed.ptr, sealed.len);
        e = store_step(st, &err);
        int64_t changed = store_changes(st);
        store_reset(st);
        if (e == STORE_DONE && changed == 0) {
            sb_buf_free(&sealed);
            *retry = true;
            goto rollback;
        }
    }
    sb_buf_free(&sealed);
    if (e != STORE_DONE)
        goto store_fail;
    char next_hash[65];
    identity__token_hash(sb_buf_str(&t->refresh), next_hash);
    int64_t expires = c->now_us + id->cfg.refresh_ttl_s * US;
    if ((e = insert_refresh(db, next_hash, r.session_id, c->now_us, expires, &err)) != STORE_OK)
        goto store_fail;
    e = store_prepare(db,
                      "UPDATE user_sessions SET last_seen = $2, expires_at = $3, ip = $4, "
                      "user_agent = $5 WHERE id = $1",
                      &st, &err);
    if (e == STORE_OK) {
        store_bind_text(st, 1, r.session_id, strlen(r.session_id));
        store_bind_int(st, 2, c->now_us);
        store_bind_int(st, 3, expires);
        store_bind_cstr(st, 4, c->ip);
        store_bind_cstr(st, 5, c->user_agent);
        e = store_step(st, &err);
        store_reset(st);
    }
    if (e != STORE_DONE)
        goto store_fail;
    memcpy(t->session_id, r.session_id, sizeof(t->session_id));
    identity__access_token(id, r.user_id, r.session_id, c->now_us, t);

commit:
    sb_buf_free(&r.successor_sealed);
    if ((e = store_commit(db, &err)) != STORE_OK) {
        store_rollback(db, NULL);
        return identity__store_failed("refreshing", e, &err);
    }
    return result;
store_fail:
    result = identity__store_failed("refreshing", e, &err);
rollback:
    sb_buf_free(&r.successor_sealed);
    store_rollback(db, NULL);
    return result;
}

identity_err identity_refresh(identity *id, store *db, sb_str refresh, const identity_client *c,
                              identity_tokens *t)
{
    if (refresh.len == 0 || refresh.len > 128)
        return IDENTITY_TOKEN_INVALID;
    char hash[65];
    identity__token_hash(refresh, hash);
    for (int attempt = 0; attempt < 3; attempt++) {
        bool retry = false;
        identity_err r = refresh_once(id, db, hash, c, t, &retry);
        /* These two revoked the session, and it is committed. */
        if (r == IDENTITY_DISABLED || r == IDENTITY_TOKEN_REUSED)
            identity__revoked(id);
        if (!retry)
            return r;
    }
    return IDENTITY_STORE;
}

identity_err identity_authenticate(identity *id, sb_str token, int64_t now_us,
                                   identity_principal *out)
{
    uint8_t digest[CRYPTO_SHA256_LEN];
    crypto_sha256(token.ptr, token.len, digest);
    if (identity__verified_get(id, digest, now_us / US, JWT_LEEWAY_S, out))
        return IDENTITY_OK;
    json_t *claims = NULL;
    pthread_rwlock_rdlock(&id->lock);
    crypto_jwt_err e =
        crypto_jwt_verify(id->jwt, token.ptr, token.len, now_us / US, JWT_LEEWAY_S, &claims);
    pthread_rwlock_unlock(&id->lock);
    if (e != CRYPTO_JWT_OK)
        return IDENTITY_TOKEN_INVALID;
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    const char *sid = json_string_value(json_object_get(claims, "sid"));
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    identity_err r = IDENTITY_TOKEN_INVALID;
    if (sub && sid && iss && strcmp(iss, id->issuer) == 0 && strlen(sub) == SB_UUID_STR_LEN - 1 &&
        strlen(sid) == SB_UUID_STR_LEN - 1) {
        memcpy(out->user_id, sub, SB_UUID_STR_LEN);
        memcpy(out->session_id, sid, SB_UUID_STR_LEN);
        out->expires_at = (int64_t)json_integer_value(json_object_get(claims, "exp"));
        identity__verified_put(id, digest, out);
        r = IDENTITY_OK;
    }
    json_decref(claims);
    return r;
}

identity_err identity_check_session(identity *id, store *db, const identity_principal *p,
                                    int64_t now_us)
{
    /* Read before the store: a revocation committed after this load bumps
     * it and voids what this check remembers (verified.c). */
    uint64_t gen = atomic_load_explicit(&id->revocations, memory_order_acquire);
    if (identity__open_get(id, p, gen, now_us))
        return IDENTITY_OK;
    store_stmt *st;
    sb_errbuf err;
    store_err e =
        store_prepare(db,
                      "SELECT s.revoked_at, s.expires_at, u.status FROM user_sessions s "
                      "JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.user_id = $2",
                      &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("checking a session", e, &err);
    store_bind_text(st, 1, p->session_id, strlen(p->session_id));
    store_bind_text(st, 2, p->user_id, strlen(p->user_id));
    e = store_step(st, &err);
    identity_err r = IDENTITY_UNAUTHENTICATED;
    if (e == STORE_ROW) {
        if (store_col_is_null(st, 0) && store_col_int(st, 1) > now_us) {
            r = strcmp(store_col_text(st, 2, NULL), "active") == 0 ? IDENTITY_OK
                                                                   : IDENTITY_DISABLED;
            if (r == IDENTITY_OK)
                identity__open_put(id, p, gen, now_us, store_col_int(st, 1));
        }
    } else if (e != STORE_DONE) {
        r = identity__store_failed("checking a session", e, &err);
    }
    store_reset(st);
    return r;
}

identity_err identity_logout(identity *id, store *db, const identity_principal *p,
                             const identity_client *c)
{
    sb_errbuf err;
    store_err e = revoke_session(db, p->session_id, "logout", c->now_us, &err);
    if (e != STORE_OK)
        return identity__store_failed("logging out", e, &err);
    identity__revoked(id);
    identity__event(db, p->user_id, "logout", 0, c, NULL);
    return IDENTITY_OK;
}

identity_err identity_sessions_list(identity *id, store *db, const identity_principal *p,
                                    int64_t now_us,
                                    void (*fn)(void *ctx, const identity_session *s), void *ctx)
{
    store_stmt *st;
    sb_errbuf err;
    store_err e = store_prepare(db,
                                "SELECT id, device_fingerprint, ip, user_agent, created_at, "
                                "last_seen FROM user_sessions WHERE user_id = $1 AND "
                                "revoked_at IS NULL AND expires_at > $2 ORDER BY id DESC",
                                &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("listing sessions", e, &err);
    store_bind_text(st, 1, p->user_id, strlen(p->user_id));
    store_bind_int(st, 2, now_us);
    while ((e = store_step(st, &err)) == STORE_ROW) {
        identity_session s = {0};
        size_t n;
        const char *sid = store_col_text(st, 0, &n);
        memcpy(s.id, sid, SB_MIN(n, SB_UUID_STR_LEN - 1));
        s.device = store_col_is_null(st, 1) ? NULL : store_col_text(st, 1, NULL);
        s.ip = store_col_is_null(st, 2) ? NULL : store_col_text(st, 2, NULL);
        s.user_agent = store_col_is_null(st, 3) ? NULL : store_col_text(st, 3, NULL);
        s.created_at = store_col_int(st, 4);
        s.last_seen = store_col_int(st, 5);
        s.current = strcmp(s.id, p->session_id) == 0;
        fn(ctx, &s);
    }
    store_reset(st);
    return e == STORE_DONE ? IDENTITY_OK : identity__store_failed("listing sessions", e, &err);
}

identity_err identity_session_revoke(identity *id, store *db, const identity_principal *p,
                                     sb_str session_id, const identity_client *c)
{
    store_stmt *st;
    sb_errbuf err;
    store_err e =
        store_prepare(db,
                      "UPDATE user_sessions SET revoked_at = $3, revoke_reason = 'revoked' "
                      "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
                      &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("revoking a session", e, &err);
    store_bind_text(st, 1, session_id.ptr, session_id.len);
    store_bind_text(st, 2, p->user_id, strlen(p->user_id));
    store_bind_int(st, 3, c->now_us);
    e = store_step(st, &err);
    int64_t changed = store_changes(st);
    store_reset(st);
    if (e != STORE_DONE)
        return identity__store_failed("revoking a session", e, &err);
    if (changed == 0)
        return IDENTITY_NOT_FOUND;
    identity__revoked(id);
    identity__event(db, p->user_id, "session_revoked", 0, c, NULL);
    return IDENTITY_OK;
}

identity_err identity_check_csrf(identity *id, store *db, const identity_principal *p, sb_str csrf)
{
    if (csrf.len == 0 || csrf.len > 128)
        return IDENTITY_UNAUTHENTICATED;
    char hash[65];
    identity__token_hash(csrf, hash);
    store_stmt *st;
    sb_errbuf err;
    store_err e = store_prepare(db, "SELECT csrf_hash FROM user_sessions WHERE id = $1", &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("checking CSRF", e, &err);
    store_bind_text(st, 1, p->session_id, strlen(p->session_id));
    e = store_step(st, &err);
    bool ok = e == STORE_ROW && !store_col_is_null(st, 0) &&
              crypto_equal(store_col_text(st, 0, NULL), hash, 64);
    store_reset(st);
    if (e != STORE_ROW && e != STORE_DONE)
        return identity__store_failed("checking CSRF", e, &err);
    return ok ? IDENTITY_OK : IDENTITY_UNAUTHENTICATED;
}
