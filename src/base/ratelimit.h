/*
 * ratelimit.h: token buckets keyed by strings (an IP address, an account),
 * safe to share between threads.
 *
 * Each key's bucket holds up to `burst` tokens and refills at `per_minute`
 * tokens a minute; a request takes one. A key that is absent behaves as a
 * full bucket, so buckets that have refilled completely are dropped and the
 * table stays bounded (max_keys across all shards): when a shard is full of
 * live buckets, its oldest-touched bucket is forgotten.
 */
#ifndef SB_BASE_RATELIMIT_H
#define SB_BASE_RATELIMIT_H

#include "base/common.h"
#include "base/str.h"

typedef struct sb_ratelimit sb_ratelimit;

/* per_minute >= 1; burst >= 1; max_keys >= 1. */
sb_ratelimit *sb_ratelimit_new(int64_t per_minute, int64_t burst, size_t max_keys);
void sb_ratelimit_free(sb_ratelimit *rl);

/* What a take decided, in the terms of the RateLimit header fields. */
typedef struct sb_ratelimit_result {
    bool allowed;
    int64_t limit;       /* the burst */
    int64_t remaining;   /* whole tokens left after this request */
    int64_t reset_s;     /* seconds until the bucket is full again */
    int64_t retry_after; /* when refused: seconds until one token is back */
} sb_ratelimit_result;

/* Takes one token from key's bucket at time now_us (monotonic). */
bool sb_ratelimit_take(sb_ratelimit *rl, sb_str key, int64_t now_us, sb_ratelimit_result *r);

/* Live buckets now (for tests and metrics). */
size_t sb_ratelimit_size(sb_ratelimit *rl);

#endif
