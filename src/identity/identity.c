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
    return id;
}

void identity_free(identity *id)
{
    if (!id)
        return;
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
