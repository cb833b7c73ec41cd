/*
 * magic.c: sign-in by a link mailed to the account's address.
 *
 * A request for an email without an active account does nothing visible:
 * the caller answers 202 either way, and mails only what we return. Tokens
 * are one-time and hashed at rest (one_time_tokens, purpose magic_link);
 * the same tokens serve the step-up a risky password sign-in demands.
 */
#include "identity/identity_int.h"

#include <string.h>

identity_err identity_magic_link_request(identity *id, store *db, sb_str email_in,
                                         const identity_client *c, identity_tokens *tokens)
{
    char email[256];
    identity_problem p;
    if (!identity__email_normalize(email_in, email, sizeof(email), &p))
        return IDENTITY_NOT_FOUND;
    store_stmt *st;
    sb_errbuf err;
    store_err e = store_prepare(db, "SELECT id, status FROM users WHERE email = $1", &st, &err);
    if (e != STORE_OK)
        return identity__store_failed("requesting a magic link", e, &err);
    store_bind_cstr(st, 1, email);
    char uid[SB_UUID_STR_LEN] = "";
    bool active = false;
    if ((e = store_step(st, &err)) == STORE_ROW) {
        snprintf(uid, sizeof(uid), "%s", store_col_text(st, 0, NULL));
        active = strcmp(store_col_text(st, 1, NULL), "active") == 0;
    }
    store_reset(st);
    if (e != STORE_ROW && e != STORE_DONE)
        return identity__store_failed("requesting a magic link", e, &err);
    if (!uid[0])
        return IDENTITY_NOT_FOUND;
    if (!active) {
        identity__event(db, uid, "magic_link_refused_disabled", 0, c, NULL);
        return IDENTITY_NOT_FOUND;
    }
    identity_err r = identity__one_time_issue(
        db, "magic_link", uid, IDENTITY_MAGIC_LINK_TTL_S * 1000000LL, c, &tokens->magic_token);
    if (r != IDENTITY_OK)
        return r;
    tokens->email = sb_strdup(email);
    identity__event(db, uid, "magic_link_sent", 0, c, NULL);
    return IDENTITY_OK;
}

identity_err identity_magic_link_verify(identity *id, store *db, sb_str token,
                                        const identity_client *c, identity_user *user,
                                        identity_tokens *tokens)
{
    char uid[SB_UUID_STR_LEN] = "";
    identity_err r = identity__one_time_spend(db, "magic_link", token, c->now_us, uid);
    if (r != IDENTITY_OK)
        return r;
    if ((r = identity_user_get(id, db, uid, user)) != IDENTITY_OK)
        return r;
    if (strcmp(user->status, "active") != 0) {
        identity__event(db, uid, "login_refused_disabled", 0, c, NULL);
        return IDENTITY_DISABLED;
    }
    /* A link proves the mailbox, not the second factor. */
    if (user->mfa_enabled)
        return identity__mfa_challenge(id, db, uid, c, 0, "{\"via\":\"magic_link\"}",
                                       &tokens->mfa_token);
    identity__event(db, uid, "magic_link_login", 0, c, NULL);
    return identity__session_open(id, db, uid, c, false, tokens);
}
