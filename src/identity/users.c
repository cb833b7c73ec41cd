/*
 * users.c: reading user rows and normalising what identifies a user.
 */
#include "identity/identity_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define USER_COLUMNS                                                                               \
    "id, email, username, profile, subscription_tier, status, mfa_enabled, created_at, "           \
    "updated_at, last_active"

/* Reads the user at the statement's current row (USER_COLUMNS order). */
static void fill_user(store_stmt *st, identity_user *u)
{
    memset(u, 0, sizeof(*u));
    size_t n;
    const char *s = store_col_text(st, 0, &n);
    memcpy(u->id, s, SB_MIN(n, sizeof(u->id) - 1));
    u->email = sb_strdup(store_col_text(st, 1, NULL));
    u->username = store_col_is_null(st, 2) ? NULL : sb_strdup(store_col_text(st, 2, NULL));
    s = store_col_text(st, 3, &n);
    u->profile = json_loadb(s, n, 0, NULL);
    if (!u->profile)
        u->profile = json_object();
    u->subscription_tier = sb_strdup(store_col_text(st, 4, NULL));
    u->status = sb_strdup(store_col_text(st, 5, NULL));
    u->mfa_enabled = store_col_bool(st, 6);
    u->created_at = store_col_int(st, 7);
    u->updated_at = store_col_int(st, 8);
    u->last_active = store_col_is_null(st, 9) ? 0 : store_col_int(st, 9);
}

/* Steps st (parameters bound) and fills u from its row, or NOT_FOUND. */
static identity_err step_user(store_stmt *st, identity_user *u)
{
    sb_errbuf err;
    store_err e = store_step(st, &err);
    if (e == STORE_ROW)
        fill_user(st, u);
    store_reset(st);
    if (e == STORE_ROW)
        return IDENTITY_OK;
    return e == STORE_DONE ? IDENTITY_NOT_FOUND : identity__store_failed("loading a user", e, &err);
}

identity_err identity__user_load(store *db, const char *sql, sb_str key, identity_user *u)
{
    store_stmt *st;
    sb_errbuf err;
    store_err e = store_prepare(db, sql, &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("loading a user", e, &err);
    store_bind_text(st, 1, key.ptr, key.len);
    return step_user(st, u);
}

identity_err identity_me(identity *id, store *db, const identity_principal *p, int64_t now_us,
                         identity_user *u)
{
    /* One read for the commonest authenticated request: the user, only if
     * active and this session still open. */
    store_stmt *st;
    sb_errbuf err;
    store_err e = store_prepare(db,
                                "SELECT " USER_COLUMNS " FROM users WHERE id = $1 AND "
                                "status = 'active' AND EXISTS (SELECT 1 FROM user_sessions s "
                                "WHERE s.id = $2 AND s.user_id = $1 AND s.revoked_at IS NULL "
                                "AND s.expires_at > $3)",
                                &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("loading a user", e, &err);
    store_bind_cstr(st, 1, p->user_id);
    store_bind_cstr(st, 2, p->session_id);
    store_bind_int(st, 3, now_us);
    identity_err r = step_user(st, u);
    if (r != IDENTITY_NOT_FOUND)
        return r;
    /* Say why: a closed session, a disabled account, or a vanished user. */
    r = identity_check_session(id, db, p, now_us);
    return r == IDENTITY_OK ? IDENTITY_TOKEN_INVALID : r;
}

identity_err identity_user_get(identity *id, store *db, const char *user_id, identity_user *out)
{
    return identity__user_load(db, "SELECT " USER_COLUMNS " FROM users WHERE id = $1",
                               sb_str_c(user_id), out);
}

/* A pragmatic address check: one '@', a non-empty local part without
 * spaces or control characters, a domain with a dot and no empty labels.
 * Mail delivery is the real test; this catches typos and garbage. */
bool identity__email_normalize(sb_str email, char *out, size_t cap, identity_problem *p)
{
    p->field = "email";
    if (email.len < 3 || email.len > 254 || email.len >= cap) {
        snprintf(p->message, sizeof(p->message),
                 "must be an email address of at most 254 characters");
        return false;
    }
    ptrdiff_t at = -1;
    for (size_t i = 0; i < email.len; i++) {
        unsigned char c = (unsigned char)email.ptr[i];
        if (c <= ' ' || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '(' || c == ')' ||
            c == ',' || c == ';' || c == '\\') {
            snprintf(p->message, sizeof(p->message), "must be a plain email address");
            return false;
        }
        if (c == '@') {
            if (at >= 0) {
                snprintf(p->message, sizeof(p->message), "must contain exactly one '@'");
                return false;
            }
            at = (ptrdiff_t)i;
        }
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[email.len] = '\0';
    const char *domain = at >= 0 ? out + at + 1 : NULL;
    if (at <= 0 || !domain[0] || !strchr(domain, '.') || domain[0] == '.' || strstr(domain, "..") ||
        domain[strlen(domain) - 1] == '.') {
        snprintf(p->message, sizeof(p->message), "must be an email address like name@example.com");
        return false;
    }
    return true;
}

bool identity_email_normalize(sb_str email, char out[255], identity_problem *p)
{
    return identity__email_normalize(email, out, 255, p);
}
