/*
 * identity.c: the service object, its error table and small shared helpers.
 */
#include "identity/identity_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"

static const struct {
    int status;
    const char *code, *title;
} errors[] = {
#define IDENTITY__ROW(name, status, code, title) {status, code, title},
    IDENTITY_ERRNO_MAP(IDENTITY__ROW)
#undef IDENTITY__ROW
};

int identity_err_status(identity_err e)
{
    return errors[e].status;
}
const char *identity_err_code(identity_err e)
{
    return errors[e].code;
}
const char *identity_err_title(identity_err e)
{
    return errors[e].title;
}

identity *identity_new(const identity_config *cfg, store *db, sb_errbuf *err)
{
    identity *id = sb_calloc(1, sizeof(*id));
    id->cfg = *cfg;
    id->issuer = sb_strdup(cfg->issuer ? cfg->issuer : "sitebase");
    id->cfg.issuer = id->issuer;
    /* Paths and the master key matter only while loading keys. */
    id->cfg.data_dir = NULL;
    id->cfg.master_key_hex = NULL;
    pthread_rwlock_init(&id->lock, NULL);
    if (!identity__keys_load(id, db, cfg->data_dir, cfg->master_key_hex, err)) {
        identity_free(id);
        return NULL;
    }
    crypto_password_dummy(&id->cfg.argon2, id->dummy_hash);
    id->ghosts = identity__ghosts_new();
    static _Atomic uint64_t serials;
    id->serial = ++serials;
    return id;
}

void identity_free(identity *id)
{
    if (!id)
        return;
    identity__ghosts_free(id->ghosts);
    crypto_keyring_free(id->ring);
    crypto_jwt_keys_free(id->jwt);
    pthread_rwlock_destroy(&id->lock);
    free(id->issuer);
    free(id);
}

void identity_user_clear(identity_user *u)
{
    free(u->email);
    free(u->username);
    free(u->subscription_tier);
    free(u->status);
    json_decref(u->profile);
    memset(u, 0, sizeof(*u));
}

void identity_tokens_clear(identity_tokens *t)
{
    /* Tokens are credentials: wipe before freeing. */
    if (t->mfa_token.ptr)
        sb_secure_zero(t->mfa_token.ptr, t->mfa_token.len);
    sb_buf_free(&t->mfa_token);
    if (t->magic_token.ptr)
        sb_secure_zero(t->magic_token.ptr, t->magic_token.len);
    sb_buf_free(&t->magic_token);
    free(t->email);
    if (t->access.ptr)
        sb_secure_zero(t->access.ptr, t->access.len);
    if (t->refresh.ptr)
        sb_secure_zero(t->refresh.ptr, t->refresh.len);
    if (t->csrf.ptr)
        sb_secure_zero(t->csrf.ptr, t->csrf.len);
    sb_buf_free(&t->access);
    sb_buf_free(&t->refresh);
    sb_buf_free(&t->csrf);
    memset(t, 0, sizeof(*t));
}

void identity__token_hash(sb_str token, char out[65])
{
    uint8_t h[CRYPTO_SHA256_LEN];
    crypto_sha256(token.ptr, token.len, h);
    sb_hex_encode(h, sizeof(h), out);
}

identity_err identity__store_failed(const char *what, store_err e, const sb_errbuf *err)
{
    sb_log(SB_LOG_ERROR, "identity: storage failed", SB_LOG_STR("during", what),
           SB_LOG_STR("error", err ? err->msg : store_strerror(e)));
    return IDENTITY_STORE;
}

identity_err identity__one_time_issue(store *db, const char *purpose, const char *user_id,
                                      int64_t ttl_us, const identity_client *c, sb_buf *token)
{
    sb_buf_reset(token);
    crypto_token(32, token);
    char hash[65];
    identity__token_hash(sb_buf_str(token), hash);
    store_stmt *st;
    sb_errbuf err;
    store_err e = store_prepare(db,
                                "INSERT INTO one_time_tokens (token_hash, purpose, user_id, "
                                "created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                                &st, &err);
    if (e == STORE_OK) {
        store_bind_text(st, 1, hash, 64);
        store_bind_cstr(st, 2, purpose);
        store_bind_cstr(st, 3, user_id);
        store_bind_int(st, 4, c->now_us);
        store_bind_int(st, 5, c->now_us + ttl_us);
        e = store_step(st, &err);
        store_reset(st);
    }
    if (e != STORE_DONE) {
        sb_buf_reset(token);
        return identity__store_failed("issuing a one-time token", e, &err);
    }
    return IDENTITY_OK;
}

identity_err identity__one_time_spend(store *db, const char *purpose, sb_str token, int64_t now_us,
                                      char user_id[SB_UUID_STR_LEN])
{
    if (token.len == 0 || token.len > 128)
        return IDENTITY_TOKEN_INVALID;
    char hash[65];
    identity__token_hash(token, hash);
    store_stmt *st;
    sb_errbuf err;
    /* One statement, so two racing presentations cannot both win. */
    store_err e = store_prepare(db,
                                "UPDATE one_time_tokens SET used_at = $3 WHERE token_hash = $1 AND "
                                "purpose = $2 AND used_at IS NULL AND expires_at > $3",
                                &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("spending a token", e, &err);
    store_bind_text(st, 1, hash, 64);
    store_bind_cstr(st, 2, purpose);
    store_bind_int(st, 3, now_us);
    e = store_step(st, &err);
    int64_t changed = store_changes(st);
    store_reset(st);
    if (e != STORE_DONE)
        return identity__store_failed("spending a token", e, &err);
    if (changed == 0)
        return IDENTITY_TOKEN_INVALID;
    e = store_prepare(db, "SELECT user_id FROM one_time_tokens WHERE token_hash = $1", &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("spending a token", e, &err);
    store_bind_text(st, 1, hash, 64);
    e = store_step(st, &err);
    bool found = e == STORE_ROW && !store_col_is_null(st, 0);
    if (found)
        snprintf(user_id, SB_UUID_STR_LEN, "%s", store_col_text(st, 0, NULL));
    store_reset(st);
    return found ? IDENTITY_OK : IDENTITY_TOKEN_INVALID;
}
