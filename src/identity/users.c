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

identity_err identity__user_load(store *db, const char *sql, sb_str key, identity_user *u)
{
    store_stmt *st;
    sb_errbuf err;
    store_err e = store_prepare(db, sql, &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("loading a user", e, &err);
    store_bind_text(st, 1, key.ptr, key.len);
    e = store_step(st, &err);
    if (e != STORE_ROW) {
        store_reset(st);
        return e == STORE_DONE ? IDENTITY_NOT_FOUND
                               : identity__store_failed("loading a user", e, &err);
    }
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
    store_reset(st);
    return IDENTITY_OK;
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
