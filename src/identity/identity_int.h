/*
 * identity_int.h: what the files of identity/ share and nobody else sees.
 */
#ifndef SB_IDENTITY_INT_H
#define SB_IDENTITY_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "crypto/crypto.h"
#include "crypto/jwt.h"
#include "crypto/seal.h"
#include "identity/identity.h"

typedef struct identity_ghosts identity_ghosts;

struct identity {
    identity_config cfg; /* strings copied */
    char *issuer;
    crypto_keyring *ring;  /* data keys: seal successors, TOTP seeds */
    crypto_jwt_keys *jwt;  /* signing and verifying keys */
    pthread_rwlock_t lock; /* guards ring and jwt against reloads */
    char dummy_hash[CRYPTO_PASSWORD_HASH_MAX];
    identity_ghosts *ghosts; /* lockouts of emails without an account */
    uint64_t serial;         /* unique per process: keys the verified-token memo */
    /* Bumped after every revocation this process commits (logout, a
     * session revoked, a refresh refused for reuse or a disabled account):
     * a remembered session check older than the last bump is not trusted
     * (verified.c). */
    _Atomic uint64_t revocations;
};

/* keys.c: load the key ring and JWT keys from crypto_keys, making and
 * storing them on first start. */
bool identity__keys_load(identity *id, store *db, const char *data_dir, const char *master_hex,
                         sb_errbuf *err);

/* sessions.c: open a session for user_id and issue its first tokens; mfa
 * records that the sign-in proved a second factor. */
identity_err identity__session_open(identity *id, store *db, const char *user_id,
                                    const identity_client *c, bool mfa, identity_tokens *t);
/* An access token for (user, session) valid from now. */
void identity__access_token(identity *id, const char *user_id, const char *session_id,
                            int64_t now_us, identity_tokens *t);

/* mfa.c: issues the one-time token login hands out when MFA is on, and
 * records the decision with its risk. */
identity_err identity__mfa_challenge(identity *id, store *db, const char *user_id,
                                     const identity_client *c, int risk, const char *metadata,
                                     sb_buf *mfa_token);

/* login.c: validates and creates an account (no session); uid gets its id. */
identity_err identity__user_create(identity *id, store *db, sb_str email, sb_str password,
                                   sb_str username, const identity_client *c,
                                   char uid[SB_UUID_STR_LEN], identity_problem *p);

/* users.c */
identity_err identity__user_load(store *db, const char *sql, sb_str key, identity_user *u);
/* Lower-cases and checks an email address; writes into out (cap >= 255). */
bool identity__email_normalize(sb_str email, char *out, size_t cap, identity_problem *p);

/* events.c: records a security event (best effort: a failure is logged). */
void identity__event(store *db, const char *user_id, const char *type, int risk,
                     const identity_client *c, const char *metadata_json);

/* One-time tokens (one_time_tokens), stored as their hash. Issue makes a
 * random token for purpose ("mfa", "magic_link") valid ttl_us; spend uses
 * it up, once, and names its user; TOKEN_INVALID when unknown, used,
 * expired or of another purpose. */
identity_err identity__one_time_issue(store *db, const char *purpose, const char *user_id,
                                      int64_t ttl_us, const identity_client *c, sb_buf *token);
identity_err identity__one_time_spend(store *db, const char *purpose, sb_str token, int64_t now_us,
                                      char user_id[SB_UUID_STR_LEN]);

/* ghosts.c: lockout bookkeeping for emails without an account, so that
 * they lock exactly like real ones (ghosts.c). */
identity_ghosts *identity__ghosts_new(void);
void identity__ghosts_free(identity_ghosts *g);
/* Seconds left on the email's lock at now_us, or 0. */
int64_t identity__ghost_locked(identity_ghosts *g, const char *email, int64_t now_us);
/* Counts a failure and locks as identity__lock_until says. */
void identity__ghost_fail(identity_ghosts *g, const identity_config *cfg, const char *email,
                          int64_t now_us);

/* risk.c: the risk score (0..100) of a sign-in with the right password by
 * user_id after `failures` failures in a row; writes the metadata recorded
 * with the decision ({"factors": [...], "risk": n}) to metadata. */
int identity__risk(store *db, const char *user_id, const identity_client *c, int failures,
                   sb_buf *metadata);

/* The lock a failure streak earns: 0 below the threshold, else now plus
 * base doubled per failure past it, at most max (all microseconds). */
int64_t identity__lock_until(const identity_config *cfg, int failures, int64_t now_us);

/* verified.c: this thread's memo of verified access tokens, by the
 * SHA-256 of the token. get honours exp with the leeway. */
bool identity__verified_get(const identity *id, const uint8_t digest[CRYPTO_SHA256_LEN],
                            int64_t now_s, int64_t leeway_s, identity_principal *out);
void identity__verified_put(const identity *id, const uint8_t digest[CRYPTO_SHA256_LEN],
                            const identity_principal *p);

/* The memo of session checks (verified.c): that p's session was open and
 * its user active when the store was read at now_us, with revocations at
 * gen read *before* that read. get answers true only for the same
 * identity, session and user, the same gen, within
 * IDENTITY_SESSION_MEMO_US of the read and before the session expires. */
#define IDENTITY_SESSION_MEMO_US (1000 * 1000)
bool identity__open_get(const identity *id, const identity_principal *p, uint64_t gen,
                        int64_t now_us);
void identity__open_put(const identity *id, const identity_principal *p, uint64_t gen,
                        int64_t checked_us, int64_t expires_us);
/* Called after a revocation is committed. */
void identity__revoked(identity *id);

/* SHA-256 of a token as 64 hex digits (how tokens are stored). */
void identity__token_hash(sb_str token, char out[65]);

/* Maps a store failure to STORE, logging the driver's message. */
identity_err identity__store_failed(const char *what, store_err e, const sb_errbuf *err);

#endif
