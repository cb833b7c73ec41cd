/*
 * login.c: creating accounts and signing in with a password.
 *
 * Login does the same work whatever is wrong: an unknown email verifies the
 * password against a dummy hash made at start with the live parameters, so
 * the answer and its timing say nothing about which emails have accounts.
 */
#include "identity/identity_int.h"

#include <string.h>

#include "base/log.h"

#define EMAIL_MAX 255

static void problem(identity_problem *p, const char *field, const char *message)
{
    if (!p)
        return;
    p->field = field;
    snprintf(p->message, sizeof(p->message), "%s", message);
}

/* Usernames are 3..32 of [a-z0-9_-], lower-cased (case never tells two
 * people apart). Empty means none. */
static bool username_normalize(sb_str in, char out[33], identity_problem *p)
{
    if (in.len == 0) {
        out[0] = '\0';
        return true;
    }
    if (in.len < 3 || in.len > 32) {
        problem(p, "username", "must have 3 to 32 characters");
        return false;
    }
    for (size_t i = 0; i < in.len; i++) {
        char c = in.ptr[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            problem(p, "username", "may contain only letters, digits, '_' and '-'");
            return false;
        }
        out[i] = c;
    }
    out[in.len] = '\0';
    return true;
}

/* Which unique column an existing row already holds. */
static identity_err taken(store *db, const char *email, const char *username)
{
    store_stmt *st;
    sb_errbuf err;
    store_err e =
        store_prepare(db, "SELECT email FROM users WHERE email = $1 OR username = $2", &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("checking an email", e, &err);
    store_bind_text(st, 1, email, strlen(email));
    if (username[0])
        store_bind_text(st, 2, username, strlen(username));
    else
        store_bind_null(st, 2);
    identity_err r = IDENTITY_OK;
    while ((e = store_step(st, &err)) == STORE_ROW) {
        if (strcmp(store_col_text(st, 0, NULL), email) == 0)
            r = IDENTITY_EMAIL_TAKEN;
        else if (r == IDENTITY_OK)
            r = IDENTITY_USERNAME_TAKEN;
    }
    store_reset(st);
    return e == STORE_DONE ? r : identity__store_failed("checking an email", e, &err);
}

identity_err identity__user_create(identity *id, store *db, sb_str email_in, sb_str password,
                                   sb_str username_in, const identity_client *c,
                                   char uid[SB_UUID_STR_LEN], identity_problem *p)
{
    char email[EMAIL_MAX + 1], username[33];
    identity_problem scratch;
    if (!p)
        p = &scratch;
    if (!identity__email_normalize(email_in, email, sizeof(email), p))
        return IDENTITY_INVALID;
    if (!username_normalize(username_in, username, p))
        return IDENTITY_INVALID;
    crypto_password_err pe = crypto_password_check(password.ptr, password.len);
    if (pe != CRYPTO_PW_OK) {
        problem(p, "password", crypto_password_strerror(pe));
        return pe == CRYPTO_PW_COMMON ? IDENTITY_WEAK_PASSWORD : IDENTITY_INVALID;
    }
    identity_err r = taken(db, email, username);
    if (r != IDENTITY_OK)
        return r;

    char hash[CRYPTO_PASSWORD_HASH_MAX];
    if (crypto_password_hash(password.ptr, password.len, &id->cfg.argon2, hash) != CRYPTO_PW_OK)
        return IDENTITY_INTERNAL;

    sb_uuid u;
    sb_uuid_v7(&u);
    sb_uuid_format(&u, uid);
    store_stmt *st;
    sb_errbuf err;
    store_err e = store_prepare(db,
                                "INSERT INTO users (id, email, username, password_hash, "
                                "created_at, updated_at, last_active) "
                                "VALUES ($1, $2, $3, $4, $5, $5, $5)",
                                &st, &err);
    if (e == STORE_OK) {
        store_bind_text(st, 1, uid, strlen(uid));
        store_bind_text(st, 2, email, strlen(email));
        if (username[0])
            store_bind_text(st, 3, username, strlen(username));
        else
            store_bind_null(st, 3);
        store_bind_text(st, 4, hash, strlen(hash));
        store_bind_int(st, 5, c->now_us);
        e = store_step(st, &err);
        store_reset(st);
    }
    sb_secure_zero(hash, sizeof(hash));
    if (e == STORE_CONSTRAINT) /* lost a race with the same email or name */
        return taken(db, email, username) == IDENTITY_USERNAME_TAKEN ? IDENTITY_USERNAME_TAKEN
                                                                     : IDENTITY_EMAIL_TAKEN;
    if (e != STORE_DONE)
        return identity__store_failed("creating a user", e, &err);
    identity__event(db, uid, "register", 0, c, NULL);
    return IDENTITY_OK;
}

identity_err identity_register(identity *id, store *db, sb_str email, sb_str password,
                               sb_str username, const identity_client *c, identity_user *user,
                               identity_tokens *tokens, identity_problem *p)
{
    char uid[SB_UUID_STR_LEN];
    identity_err r = identity__user_create(id, db, email, password, username, c, uid, p);
    if (r == IDENTITY_OK)
        r = identity__session_open(id, db, uid, c, false, tokens);
    if (r == IDENTITY_OK)
        r = identity_user_get(id, db, uid, user);
    return r;
}

/* Runs one UPDATE on the user's row with (id, now) as $1, $2. */
static void user_update(store *db, const char *sql, const char *uid, int64_t now_us)
{
    store_stmt *st;
    sb_errbuf err;
    if (store_prepare(db, sql, &st, &err) != STORE_OK)
        return;
    store_bind_cstr(st, 1, uid);
    store_bind_int(st, 2, now_us);
    if (store_step(st, &err) != STORE_DONE)
        sb_log(SB_LOG_WARN, "identity: cannot update a user", SB_LOG_STR("error", err.msg));
    store_reset(st);
}

/* A wrong password for an account: lengthen its streak, lock at the
 * threshold. */
static void count_failure(identity *id, store *db, const char *uid, const identity_client *c)
{
    store_stmt *st;
    sb_errbuf err;
    int failures = 0;
    if (store_prepare(db,
                      "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 "
                      "RETURNING failed_logins",
                      &st, &err) == STORE_OK) {
        store_bind_cstr(st, 1, uid);
        if (store_step(st, &err) == STORE_ROW)
            failures = (int)store_col_int(st, 0);
        store_reset(st);
    }
    char meta[64];
    snprintf(meta, sizeof(meta), "{\"failures\":%d}", failures);
    identity__event(db, uid, "login_failed", SB_MIN(20 + failures * 10, 100), c, meta);
    int64_t until = identity__lock_until(&id->cfg, failures, c->now_us);
    if (!until)
        return;
    if (store_prepare(db, "UPDATE users SET locked_until = $2 WHERE id = $1", &st, &err) ==
        STORE_OK) {
        store_bind_cstr(st, 1, uid);
        store_bind_int(st, 2, until);
        store_step(st, &err);
        store_reset(st);
    }
    snprintf(meta, sizeof(meta), "{\"failures\":%d,\"locked_for_s\":%lld}", failures,
             (long long)((until - c->now_us) / 1000000));
    identity__event(db, uid, "account_locked", 80, c, meta);
}

identity_err identity_login(identity *id, store *db, sb_str email_in, sb_str password,
                            const identity_client *c, identity_user *user, identity_tokens *tokens)
{
    char email[EMAIL_MAX + 1];
    identity_problem p;
    bool plausible = identity__email_normalize(email_in, email, sizeof(email), &p) &&
                     password.len > 0 && password.len <= 1024;

    char stored[CRYPTO_PASSWORD_HASH_MAX] = "";
    char uid[SB_UUID_STR_LEN] = "";
    bool active = false, mfa = false;
    int failures = 0;
    int64_t locked_until = 0;
    if (plausible) {
        store_stmt *st;
        sb_errbuf err;
        store_err e = store_prepare(db,
                                    "SELECT id, password_hash, status, mfa_enabled, failed_logins, "
                                    "locked_until FROM users WHERE email = $1",
                                    &st, &err);
        if (e != STORE_OK)
            return identity__store_failed("signing in", e, &err);
        store_bind_text(st, 1, email, strlen(email));
        e = store_step(st, &err);
        if (e == STORE_ROW) {
            snprintf(uid, sizeof(uid), "%s", store_col_text(st, 0, NULL));
            if (!store_col_is_null(st, 1))
                snprintf(stored, sizeof(stored), "%s", store_col_text(st, 1, NULL));
            active = strcmp(store_col_text(st, 2, NULL), "active") == 0;
            mfa = store_col_bool(st, 3);
            failures = (int)store_col_int(st, 4);
            locked_until = store_col_int(st, 5);
        }
        store_reset(st);
        if (e != STORE_ROW && e != STORE_DONE)
            return identity__store_failed("signing in", e, &err);
    }

    /* A locked email is refused before any password work, real or not. */
    int64_t left = 0;
    if (uid[0])
        left = locked_until > c->now_us ? (locked_until - c->now_us + 999999) / 1000000 : 0;
    else if (plausible)
        left = identity__ghost_locked(id->ghosts, email, c->now_us);
    if (left > 0) {
        if (uid[0])
            identity__event(db, uid, "login_refused_locked", 60, c, NULL);
        tokens->retry_after_s = left;
        return IDENTITY_LOCKED;
    }

    /* Always one verify, against the dummy when there is nothing real. */
    bool rehash = false;
    const char *against = stored[0] ? stored : id->dummy_hash;
    crypto_password_err pe = crypto_password_verify(
        against, password.ptr, SB_MIN(password.len, 1024), &id->cfg.argon2, &rehash);
    if (!stored[0] || pe != CRYPTO_PW_OK) {
        if (uid[0])
            count_failure(id, db, uid, c);
        else if (plausible)
            identity__ghost_fail(id->ghosts, &id->cfg, email, c->now_us);
        return IDENTITY_BAD_CREDENTIALS;
    }
    if (!active) {
        identity__event(db, uid, "login_refused_disabled", 0, c, NULL);
        return IDENTITY_DISABLED;
    }
    if (rehash) {
        char fresh[CRYPTO_PASSWORD_HASH_MAX];
        if (crypto_password_hash(password.ptr, password.len, &id->cfg.argon2, fresh) ==
            CRYPTO_PW_OK) {
            store_stmt *st;
            sb_errbuf err;
            if (store_prepare(db,
                              "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
                              &st, &err) == STORE_OK) {
                store_bind_text(st, 1, uid, strlen(uid));
                store_bind_text(st, 2, fresh, strlen(fresh));
                store_bind_int(st, 3, c->now_us);
                store_step(st, &err);
                store_reset(st);
            }
            sb_secure_zero(fresh, sizeof(fresh));
        }
    }
    sb_secure_zero(stored, sizeof(stored));

    /* Score before this sign-in joins the history it is judged against. */
    sb_buf meta = SB_BUF_INIT;
    int risk = identity__risk(db, uid, c, failures, &meta);
    user_update(db, "UPDATE users SET last_active = $2, failed_logins = 0 WHERE id = $1", uid,
                c->now_us);
    identity_err r;
    if (mfa) { /* the password was right; the second factor decides */
        r = identity__mfa_challenge(id, db, uid, c, risk, meta.ptr, &tokens->mfa_token);
    } else if (risk > id->cfg.risk_threshold) {
        /* Unusual and no second factor: prove the mailbox instead. */
        r = identity__one_time_issue(db, "magic_link", uid, IDENTITY_MAGIC_LINK_TTL_S * 1000000LL,
                                     c, &tokens->magic_token);
        if (r == IDENTITY_OK) {
            identity__event(db, uid, "step_up_magic_link", risk, c, meta.ptr);
            tokens->email = sb_strdup(email);
            r = IDENTITY_MAGIC_LINK_REQUIRED;
        }
    } else {
        identity__event(db, uid, "login", risk, c, meta.ptr);
        r = identity__session_open(id, db, uid, c, false, tokens);
        if (r == IDENTITY_OK)
            r = identity_user_get(id, db, uid, user);
    }
    sb_buf_free(&meta);
    return r;
}
