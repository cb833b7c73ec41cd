/*
 * verified.c: per-thread memos of identity checks: access tokens whose
 * signature has been checked, and sessions the store said were open.
 *
 * An Ed25519 verify costs ~60 us, most of an authenticated request; a
 * client presents the same token for its whole 15 minutes. A token is
 * immutable, so once its signature verified, the answer only changes with
 * time: the memo keeps the claims and honours `exp` exactly as the full
 * check would. Keys are never dropped before the tokens they signed expire
 * (rotation retires them one token lifetime later), so a memo entry never
 * outlives the key that vouched for it. Keyed by the SHA-256 of the whole
 * token (no collisions to fear) and by the identity's serial number (never
 * reused, unlike an address); one direct-mapped table per thread, so no
 * locks.
 *
 * Sessions: routes that must see revocation (identity_check_session) read
 * the store on every request, one indexed join that was ~8% of a /query's
 * server time. Unlike a token, a session's state changes, so a remembered
 * "open" is trusted only while nothing could have changed it unseen:
 *   - revocations committed by this process bump id->revocations, read
 *     before the store was; a memo taken under an older count is void, so
 *     a logout or a revoked session is refused by the next request on
 *     every thread (the bump follows the commit, so a reader that sees the
 *     new count reads the revoked row);
 *   - what another process commits on a shared store (the operator's
 *     `user disable`, a second server on the same Postgres) is seen within
 *     IDENTITY_SESSION_MEMO_US (1 s) of the read the memo rests on;
 *   - the session's own expiry is honoured exactly.
 * Only "open and active" is remembered; refusals and store failures are
 * asked again.
 */
#include "identity/identity_int.h"

#include "base/hash.h"

#include <string.h>

#define SLOTS 512 /* per thread, ~70 bytes each */

typedef struct slot {
    uint64_t owner; /* identity serial; 0 = empty */
    uint8_t digest[CRYPTO_SHA256_LEN];
    identity_principal p;
} slot;

static _Thread_local slot memo[SLOTS];

static slot *slot_of(const uint8_t digest[CRYPTO_SHA256_LEN])
{
    uint64_t h;
    memcpy(&h, digest, sizeof(h));
    return &memo[h % SLOTS];
}

bool identity__verified_get(const identity *id, const uint8_t digest[CRYPTO_SHA256_LEN],
                            int64_t now_s, int64_t leeway_s, identity_principal *out)
{
    const slot *s = slot_of(digest);
    if (s->owner != id->serial || memcmp(s->digest, digest, CRYPTO_SHA256_LEN) != 0 ||
        now_s >= s->p.expires_at + leeway_s)
        return false;
    *out = s->p;
    return true;
}

void identity__verified_put(const identity *id, const uint8_t digest[CRYPTO_SHA256_LEN],
                            const identity_principal *p)
{
    slot *s = slot_of(digest);
    s->owner = id->serial;
    memcpy(s->digest, digest, CRYPTO_SHA256_LEN);
    s->p = *p;
}

#define OPEN_SLOTS 256 /* per thread, ~112 bytes each */

typedef struct open_slot {
    uint64_t owner; /* identity serial; 0 = empty */
    uint64_t gen;   /* id->revocations read before the store said open */
    int64_t checked_us, expires_us;
    char user_id[SB_UUID_STR_LEN];
    char session_id[SB_UUID_STR_LEN];
} open_slot;

static _Thread_local open_slot open_memo[OPEN_SLOTS];

static open_slot *open_slot_of(const identity_principal *p)
{
    return &open_memo[sb_hash(p->session_id, strlen(p->session_id)) % OPEN_SLOTS];
}

bool identity__open_get(const identity *id, const identity_principal *p, uint64_t gen,
                        int64_t now_us)
{
    const open_slot *s = open_slot_of(p);
    return s->owner == id->serial && s->gen == gen && now_us >= s->checked_us &&
           now_us - s->checked_us < IDENTITY_SESSION_MEMO_US && now_us < s->expires_us &&
           strcmp(s->session_id, p->session_id) == 0 && strcmp(s->user_id, p->user_id) == 0;
}

void identity__open_put(const identity *id, const identity_principal *p, uint64_t gen,
                        int64_t checked_us, int64_t expires_us)
{
    open_slot *s = open_slot_of(p);
    s->owner = id->serial;
    s->gen = gen;
    s->checked_us = checked_us;
    s->expires_us = expires_us;
    memcpy(s->user_id, p->user_id, SB_UUID_STR_LEN);
    memcpy(s->session_id, p->session_id, SB_UUID_STR_LEN);
}

void identity__revoked(identity *id)
{
    atomic_fetch_add_explicit(&id->revocations, 1, memory_order_release);
}
