/*
 * identity.h: accounts, sessions and tokens. A domain service: it takes a
 * store connection and the caller's request facts, and returns results or
 * typed errors; it never sees HTTP.
 *
 * Tokens: an access token is a JWT (EdDSA, 15 min by default) carrying the
 * user id (sub) and session id (sid), checked without a database read. A
 * refresh token is 32 random bytes, stored as its SHA-256, and rotated on
 * every use; the tokens of one session form a family. Presenting a spent
 * refresh token revokes the family, except within reuse_window of its
 * rotation, when it yields the same successor (two tabs refreshing at once
 * must not log the user out).
 *
 * Threads: an `identity` is built at start and shared read-only by every
 * thread (its key sets are guarded by its own lock for rotation). Calls
 * that hash passwords (register, login) are slow on purpose: run them on
 * the worker pool, with a store connection of that thread.
 */
#ifndef SB_IDENTITY_IDENTITY_H
#define SB_IDENTITY_IDENTITY_H

#include <jansson.h>

#include "base/common.h"
#include "base/str.h"
#include "base/uuid.h"
#include "crypto/password.h"
#include "store/store.h"

#define IDENTITY_ERRNO_MAP(X)                                                                      \
    X(OK, 200, "ok", "OK")                                                                         \
    X(MFA_REQUIRED, 200, "mfa_required", "MFA Required")                                           \
    X(MAGIC_LINK_REQUIRED, 200, "magic_link_required", "Magic Link Required")                      \
    X(LOCKED, 429, "too_many_attempts", "Too Many Attempts")                                       \
    X(INVALID_CODE, 400, "invalid_code", "Invalid Code")                                           \
    X(MFA_NOT_SET_UP, 409, "mfa_not_set_up", "MFA Not Set Up")                                     \
    X(MFA_ENABLED, 409, "mfa_already_enabled", "MFA Already Enabled")                              \
    X(INVALID, 400, "validation", "Validation Failed")                                             \
    X(WEAK_PASSWORD, 400, "weak_password", "Weak Password")                                        \
    X(EMAIL_TAKEN, 409, "email_taken", "Email Taken")                                              \
    X(USERNAME_TAKEN, 409, "username_taken", "Username Taken")                                     \
    X(BAD_CREDENTIALS, 401, "invalid_credentials", "Invalid Credentials")                          \
    X(UNAUTHENTICATED, 401, "unauthenticated", "Unauthenticated")                                  \
    X(TOKEN_INVALID, 401, "invalid_token", "Invalid Token")                                        \
    X(TOKEN_REUSED, 401, "token_reused", "Refresh Token Reused")                                   \
    X(DISABLED, 403, "account_disabled", "Account Disabled")                                       \
    X(NOT_FOUND, 404, "not_found", "Not Found")                                                    \
    X(STORE, 503, "unavailable", "Service Unavailable")                                            \
    X(INTERNAL, 500, "internal", "Internal Server Error")

typedef enum identity_err {
#define IDENTITY__ENUM(name, status, code, title) IDENTITY_##name,
    IDENTITY_ERRNO_MAP(IDENTITY__ENUM)
#undef IDENTITY__ENUM
} identity_err;

/* HTTP-free descriptions the API layer maps to problem+json. */
int identity_err_status(identity_err e);
const char *identity_err_code(identity_err e);
const char *identity_err_title(identity_err e);

typedef struct identity_config {
    int64_t access_ttl_s;   /* default 900 */
    int64_t refresh_ttl_s;  /* default 30 days */
    int64_t reuse_window_s; /* default 10 */
    int lockout_threshold;  /* failures in a row that lock; 0 = never */
    int64_t lockout_base_s; /* first lock; doubles with each further failure */
    int64_t lockout_max_s;
    int risk_threshold; /* 0..100: a sign-in scoring above needs a second proof */
    crypto_argon2_params argon2;
    const char *issuer;         /* "sitebase" */
    const char *data_dir;       /* for the key file */
    const char *master_key_hex; /* SITEBASE_MASTER_KEY or NULL */
} identity_config;

typedef struct identity identity;

/* Loads (or, on first start, makes and stores sealed) the data key and the
 * JWT signing key through db. Returns NULL with err on failure. */
identity *identity_new(const identity_config *cfg, store *db, sb_errbuf *err);
void identity_free(identity *id);

/* Facts about the request, recorded with sessions and security events. */
typedef struct identity_client {
    const char *ip;
    const char *user_agent;
    const char *device; /* a client-supplied device fingerprint, or NULL */
    int64_t now_us;
} identity_client;

/* A user as the API shows it (never a hash or a secret). Strings are heap
 * copies; identity_user_clear frees them. */
typedef struct identity_user {
    char id[SB_UUID_STR_LEN];
    char *email;
    char *username; /* NULL when unset */
    json_t *profile;
    char *subscription_tier;
    char *status; /* "active" / "disabled" */
    bool mfa_enabled;
    int64_t created_at, updated_at, last_active; /* us; last_active 0 = never */
} identity_user;

void identity_user_clear(identity_user *u);

/* What a successful sign-in returns. */
typedef struct identity_tokens {
    sb_buf mfa_token;      /* set instead of the rest when login answers MFA_REQUIRED */
    sb_buf magic_token;    /* MAGIC_LINK_REQUIRED: the link's token, to be mailed */
    char *email;           /* ... to this address (heap) */
    int64_t retry_after_s; /* LOCKED: seconds until the lock ends */
    sb_buf access;
    sb_buf refresh;
    sb_buf csrf;        /* for browser sessions: echoed as X-CSRF-Token */
    int64_t expires_in; /* seconds */
    char session_id[SB_UUID_STR_LEN];
} identity_tokens;

void identity_tokens_clear(identity_tokens *t);

/* Who an access token speaks for. */
typedef struct identity_principal {
    char user_id[SB_UUID_STR_LEN];
    char session_id[SB_UUID_STR_LEN];
    int64_t expires_at; /* Unix seconds */
} identity_principal;

/* Details for INVALID: which field and why. */
typedef struct identity_problem {
    const char *field;
    char message[96];
} identity_problem;

/* Creates an account and signs it in. email is checked and lower-cased;
 * username (may be empty) must be 3..32 of [a-z0-9_-] after lower-casing;
 * the password must pass crypto_password_check. Slow (hashes). */
identity_err identity_register(identity *id, store *db, sb_str email, sb_str password,
                               sb_str username, const identity_client *c, identity_user *user,
                               identity_tokens *tokens, identity_problem *problem);

/* Checks email and password; on success opens a session, or, when the
 * user has TOTP on, answers MFA_REQUIRED with tokens->mfa_token (valid 5
 * minutes, once) for identity_mfa_verify. Any wrong
 * credential, including an unknown email, is BAD_CREDENTIALS after the same
 * work (a dummy hash is verified). Rehashes when parameters changed. Slow.
 *
 * Abuse: lockout_threshold failures in a row lock the email for
 * lockout_base, doubling per further failure up to lockout_max (LOCKED,
 * tokens->retry_after_s); unknown emails lock alike, so a lock says nothing
 * about whether an account exists. A right password is scored for risk
 * (new device, new IP, recent failures, unusual hour); above
 * risk_threshold a user with TOTP gets MFA_REQUIRED and one without gets
 * MAGIC_LINK_REQUIRED with tokens->magic_token and ->email to mail. */
identity_err identity_login(identity *id, store *db, sb_str email, sb_str password,
                            const identity_client *c, identity_user *user, identity_tokens *tokens);

/* Completes an MFA sign-in: code is the current TOTP code or one unused
 * recovery code ("xxxxx-xxxxx"). A TOTP code works once per 30-s step. */
identity_err identity_mfa_verify(identity *id, store *db, sb_str mfa_token, sb_str code,
                                 const identity_client *c, identity_user *user,
                                 identity_tokens *tokens);

/* Starts TOTP set-up: a new secret (replacing one not yet enabled);
 * appends its base32 form and the otpauth:// URI. MFA_ENABLED when TOTP
 * is already on. */
identity_err identity_totp_setup(identity *id, store *db, const identity_principal *p,
                                 const identity_client *c, sb_buf *secret_b32, sb_buf *uri);

#define IDENTITY_RECOVERY_CODES    10
#define IDENTITY_RECOVERY_CODE_LEN 11 /* "xxxxx-xxxxx" */

/* Turns TOTP on after a valid code; writes 10 recovery codes (shown once,
 * stored hashed). INVALID_CODE on a wrong code, MFA_NOT_SET_UP without a
 * pending set-up. */
identity_err
identity_totp_enable(identity *id, store *db, const identity_principal *p, sb_str code,
                     const identity_client *c,
                     char codes[IDENTITY_RECOVERY_CODES][IDENTITY_RECOVERY_CODE_LEN + 1]);

/* Magic links (magic.c). Request: for an active account, issues a
 * one-time token valid 15 minutes into tokens->magic_token and ->email
 * (the caller mails the link); NOT_FOUND otherwise, which callers must not
 * reveal. Verify: spends the token and signs in (MFA_REQUIRED first when
 * the user has TOTP on). */
#define IDENTITY_MAGIC_LINK_TTL_S (15 * 60)
identity_err identity_magic_link_request(identity *id, store *db, sb_str email,
                                         const identity_client *c, identity_tokens *tokens);
identity_err identity_magic_link_verify(identity *id, store *db, sb_str token,
                                        const identity_client *c, identity_user *user,
                                        identity_tokens *tokens);

/* A security event as GET /api/auth/security-events lists it. */
typedef struct identity_event {
    const char *id, *type, *ip, *user_agent, *metadata; /* valid during the callback */
    int risk_score;
    int64_t created_at;
} identity_event;

/* Calls fn for the user's events newest first, at most limit, starting
 * after the event id `after` (empty: from the newest); *more tells whether
 * older events remain. */
identity_err identity_events_list(identity *id, store *db, const char *user_id, sb_str after,
                                  int limit, void (*fn)(void *ctx, const identity_event *e),
                                  void *ctx, bool *more);

/* Rotates a refresh token (see the file comment). */
identity_err identity_refresh(identity *id, store *db, sb_str refresh, const identity_client *c,
                              identity_tokens *tokens);

/* Verifies an access token: signature, expiry, no database read. */
identity_err identity_authenticate(identity *id, sb_str access_token, int64_t now_us,
                                   identity_principal *out);

/* Checks that the principal's session is still open and the user active
 * (one indexed read); for routes that must see revocation at once. */
identity_err identity_check_session(identity *id, store *db, const identity_principal *p,
                                    int64_t now_us);

/* Revokes the session and its refresh family. */
identity_err identity_logout(identity *id, store *db, const identity_principal *p,
                             const identity_client *c);

/* Lower-cases and checks an email address as registration does (other
 * services compare emails in this form). */
bool identity_email_normalize(sb_str email, char out[255], identity_problem *p);

identity_err identity_user_get(identity *id, store *db, const char *user_id, identity_user *out);

/* The principal's user, in one read, if the account is active and the
 * session open; else the error identity_check_session gives. */
identity_err identity_me(identity *id, store *db, const identity_principal *p, int64_t now_us,
                         identity_user *u);

/* A session as GET /api/auth/sessions lists it. */
typedef struct identity_session {
    char id[SB_UUID_STR_LEN];
    const char *device, *ip, *user_agent; /* valid during the callback */
    int64_t created_at, last_seen;
    bool current;
} identity_session;

/* Calls fn for each open session of the principal's user, newest first. */
identity_err identity_sessions_list(identity *id, store *db, const identity_principal *p,
                                    int64_t now_us,
                                    void (*fn)(void *ctx, const identity_session *s), void *ctx);

/* Revokes one of the caller's own sessions; NOT_FOUND for anyone else's. */
identity_err identity_session_revoke(identity *id, store *db, const identity_principal *p,
                                     sb_str session_id, const identity_client *c);

/* Checks a browser session's CSRF token against the one issued with it. */
identity_err identity_check_csrf(identity *id, store *db, const identity_principal *p, sb_str csrf);

/* Operator actions (admin.c), for the command line. find: a user by email
 * or id (NOT_FOUND). create: an account without a session, with
 * register's rules. list: every user, oldest first. set_active: enable,
 * or disable and revoke every session. reset_mfa: remove TOTP and
 * recovery codes. Each change is recorded as a security event. */
identity_err identity_admin_find(store *db, const char *who, char uid[SB_UUID_STR_LEN]);
identity_err identity_admin_create(identity *id, store *db, sb_str email, sb_str password,
                                   sb_str username, const identity_client *c, identity_user *user,
                                   identity_problem *p);
identity_err identity_admin_list(identity *id, store *db,
                                 void (*fn)(void *ctx, const identity_user *u), void *ctx);
/* id may be NULL (the command line: another process, whose servers see the
 * revocation within IDENTITY_SESSION_MEMO_US); given, this process's
 * remembered session checks are voided at once. */
identity_err identity_admin_set_active(identity *id, store *db, const char *uid, bool active,
                                       const identity_client *c);
identity_err identity_admin_reset_mfa(store *db, const char *uid, const identity_client *c);

/* Signing keys (keys.c). Rotate makes a new JWT signing key, stores it
 * sealed and retires the older ones after old_valid_s (the access-token
 * lifetime, so every token they signed can still be verified); kid gets
 * the new key's id. Reload re-reads the live JWT keys (unretired, or
 * retired_at still ahead), so a running server picks up a rotation made by
 * another process; the newest signs, and signing_kid (may be NULL) gets
 * its kid. On failure (store, a key that will not open, no live key) the
 * keys in use stay as they were. Both false with err on failure. */
bool identity_keys_rotate(identity *id, store *db, int64_t old_valid_s, char kid[32],
                          sb_errbuf *err);
bool identity_keys_reload(identity *id, store *db, char signing_kid[32], sb_errbuf *err);

#endif
