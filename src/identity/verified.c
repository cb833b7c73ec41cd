/*
 * verified.c: a per-thread memo of access tokens whose signature has been
 * checked.
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
 */
#include "identity/identity_int.h"

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
