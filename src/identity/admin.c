/*
 * admin.c: what an operator does to accounts from the command line:
 * create, list, disable and enable, and reset a lost second factor. Each
 * change is a security event the user can see.
 */
#include "identity/identity_int.h"

#include <string.h>

identity_err identity_admin_find(store *db, const char *who, char uid[SB_UUID_STR_LEN])
{
    char email[256];
    identity_problem p;
    bool by_email = strchr(who, '@') != NULL;
    if (by_email && !identity__email_normalize(sb_str_c(who), email, sizeof(email), &p))
        return IDENTITY_NOT_FOUND;
    store_stmt *st;
    sb_errbuf err;
    store_err e = store_prepare(db,
                                by_email ? "SELECT id FROM users WHERE email = $1"
                                         : "SELECT id FROM users WHERE id = $1",
                                &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("finding a user", e, &err);
    store_bind_cstr(st, 1, by_email ? email : who);
    e = store_step(st, &err);
    if (e == STORE_ROW)
        snprintf(uid, SB_UUID_STR_LEN, "%s", store_col_text(st, 0, NULL));
    store_reset(st);
    if (e == STORE_ROW)
        return IDENTITY_OK;
    return e == STORE_DONE ? IDENTITY_NOT_FOUND : identity__store_failed("finding a user", e, &err);
}

identity_err identity_admin_create(identity *id, store *db, sb_str email, sb_str password,
                                   sb_str username, const identity_client *c, identity_user *user,
                                   identity_problem *p)
{
    char uid[SB_UUID_STR_LEN];
    identity_err r = identity__user_create(id, db, email, password, username, c, uid, p);
    return r == IDENTITY_OK ? identity_user_get(id, db, uid, user) : r;
}

identity_err identity_admin_list(identity *id, store *db,
                                 void (*fn)(void *ctx, const identity_user *u), void *ctx)
{
    store_stmt *st;
    sb_errbuf err;
    store_err e = store_prepare(db, "SELECT id FROM users ORDER BY id", &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("listing users", e, &err);
    /* Ids first, then each user: one statement open at a time. */
    sb_buf ids = SB_BUF_INIT;
    while ((e = store_step(st, &err)) == STORE_ROW)
        sb_buf_append(&ids, store_col_text(st, 0, NULL), SB_UUID_STR_LEN);
    store_reset(st);
    identity_err r =
        e == STORE_DONE ? IDENTITY_OK : identity__store_failed("listing users", e, &err);
    for (size_t off = 0; r == IDENTITY_OK && off < ids.len; off += SB_UUID_STR_LEN) {
        identity_user u;
        if ((r = identity_user_get(id, db, ids.ptr + off, &u)) == IDENTITY_OK) {
            fn(ctx, &u);
            identity_user_clear(&u);
        }
    }
    sb_buf_free(&ids);
    return r;
}

/* Runs sql with $1 = uid and, when it uses it, $2 = now. */
static store_err exec_user(store *db, const char *sql, const char *uid, int64_t now_us,
                           sb_errbuf *err)
{
    store_stmt *st;
    store_err e = store_prepare(db, sql, &st, err);
    if (e != STORE_OK)
        return e;
    store_bind_cstr(st, 1, uid);
    if (strstr(sql, "$2"))
        store_bind_int(st, 2, now_us);
    e = store_step(st, err);
    store_reset(st);
    return e == STORE_DONE ? STORE_OK : e;
}

identity_err identity_admin_set_active(identity *id, store *db, const char *uid, bool active,
                                       const identity_client *c)
{
    sb_errbuf err;
    store_err e = store_begin(db, &err);
    if (e == STORE_OK)
        e = exec_user(db,
                      active
                          ? "UPDATE users SET status = 'active', updated_at = $2 WHERE id = $1"
                          : "UPDATE users SET status = 'disabled', updated_at = $2 WHERE id = $1",
                      uid, c->now_us, &err);
    /* Disabling ends every session now: refresh fails at once, and the
     * routes that check the session refuse its access tokens. */
    if (e == STORE_OK && !active)
        e = exec_user(db,
                      "UPDATE user_sessions SET revoked_at = $2, revoke_reason = 'disabled' "
                      "WHERE user_id = $1 AND revoked_at IS NULL",
                      uid, c->now_us, &err);
    if (e == STORE_OK)
        e = store_commit(db, &err);
    if (e != STORE_OK) {
        store_rollback(db, NULL);
        return identity__store_failed("changing a user's status", e, &err);
    }
    if (id && !active)
        identity__revoked(id);
    identity__event(db, uid, active ? "account_enabled" : "account_disabled", 0, c, NULL);
    return IDENTITY_OK;
}

identity_err identity_admin_reset_mfa(store *db, const char *uid, const identity_client *c)
{
    sb_errbuf err;
    store_err e = store_begin(db, &err);
    if (e == STORE_OK)
        e = exec_user(db, "DELETE FROM mfa_factors WHERE user_id = $1", uid, c->now_us, &err);
    if (e == STORE_OK)
        e = exec_user(db, "DELETE FROM recovery_codes WHERE user_id = $1", uid, c->now_us, &err);
    if (e == STORE_OK)
        e = exec_user(db, "UPDATE users SET mfa_enabled = false, updated_at = $2 WHERE id = $1",
                      uid, c->now_us, &err);
    if (e == STORE_OK)
        e = store_commit(db, &err);
    if (e != STORE_OK) {
        store_rollback(db, NULL);
        return identity__store_failed("resetting MFA", e, &err);
    }
    identity__event(db, uid, "mfa_reset", 0, c, NULL);
    return IDENTITY_OK;
}
