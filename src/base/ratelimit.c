/*
 * ratelimit.c: sharded token buckets. A bucket stores its level and when it
 * was last updated; refill is computed on the next take, so idle keys cost
 * nothing but memory, and full ones are swept when a shard fills up.
 */
#include "base/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>

#include "base/hash.h"
#include "base/map.h"

#define SHARDS 16

typedef struct bucket {
    double tokens;
    int64_t at_us;
} bucket;

typedef struct shard {
    pthread_mutex_t lock;
    sb_map map; /* key -> bucket* */
} shard;

struct sb_ratelimit {
    double per_us; /* refill, tokens per microsecond */
    double burst;
    size_t shard_max;
    shard shards[SHARDS];
};

sb_ratelimit *sb_ratelimit_new(int64_t per_minute, int64_t burst, size_t max_keys)
{
    sb_ratelimit *rl = sb_calloc(1, sizeof(*rl));
    rl->per_us = (double)SB_MAX(per_minute, 1) / 60e6;
    rl->burst = (double)SB_MAX(burst, 1);
    rl->shard_max = SB_MAX(max_keys / SHARDS, 1);
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&rl->shards[i].lock, NULL);
        sb_map_init(&rl->shards[i].map);
    }
    return rl;
}

static void shard_clear(shard *s)
{
    size_t it = 0;
    sb_map_entry *e;
    while ((e = sb_map_next(&s->map, &it)))
        free(e->value);
    sb_map_deinit(&s->map);
}

void sb_ratelimit_free(sb_ratelimit *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < SHARDS; i++) {
        shard_clear(&rl->shards[i]);
        pthread_mutex_destroy(&rl->shards[i].lock);
    }
    free(rl);
}

/* ceil for the non-negative values here, without libm. */
static int64_t ceil_pos(double x)
{
    int64_t i = (int64_t)x;
    return (double)i < x ? i + 1 : i;
}

static double level(const sb_ratelimit *rl, const bucket *b, int64_t now_us)
{
    double t = b->tokens + (double)(now_us - b->at_us) * rl->per_us;
    return t > rl->burst ? rl->burst : t;
}

/* Makes room for one more key: drops every refilled bucket, or, when all
 * are live, the one touched longest ago. */
static void make_room(const sb_ratelimit *rl, shard *s, int64_t now_us)
{
    /* Collect first: deleting moves entries under the iterator. */
    char **drop = sb_malloc(s->map.len * sizeof(*drop));
    size_t n = 0, it = 0;
    sb_map_entry *e, *oldest = NULL;
    while ((e = sb_map_next(&s->map, &it))) {
        const bucket *b = e->value;
        if (level(rl, b, now_us) >= rl->burst)
            drop[n++] = e->key;
        else if (!oldest || b->at_us < ((const bucket *)oldest->value)->at_us)
            oldest = e;
    }
    if (n == 0 && oldest)
        drop[n++] = oldest->key;
    for (size_t i = 0; i < n; i++) {
        /* The key is the map's own copy: take it out before freeing it. */
        char *k = drop[i];
        free(sb_map_del(&s->map, sb_str_c(k)));
    }
    free(drop);
}

bool sb_ratelimit_take(sb_ratelimit *rl, sb_str key, int64_t now_us, sb_ratelimit_result *r)
{
    shard *s = &rl->shards[sb_hash(key.ptr, key.len) % SHARDS];
    pthread_mutex_lock(&s->lock);
    bucket *b = sb_map_get(&s->map, key);
    if (!b) {
        if (s->map.len >= rl->shard_max)
            make_room(rl, s, now_us);
        b = sb_malloc(sizeof(*b));
        b->tokens = rl->burst;
        b->at_us = now_us;
        sb_map_put(&s->map, key, b);
    }
    b->tokens = level(rl, b, now_us);
    b->at_us = now_us;
    bool allowed = b->tokens >= 1.0;
    if (allowed)
        b->tokens -= 1.0;
    double tokens = b->tokens;
    pthread_mutex_unlock(&s->lock);

    r->allowed = allowed;
    r->limit = (int64_t)rl->burst;
    r->remaining = (int64_t)tokens;
    r->reset_s = ceil_pos((rl->burst - tokens) / rl->per_us / 1e6);
    r->retry_after = allowed ? 0 : SB_MAX(ceil_pos((1.0 - tokens) / rl->per_us / 1e6), 1);
    return allowed;
}

size_t sb_ratelimit_size(sb_ratelimit *rl)
{
    size_t n = 0;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&rl->shards[i].lock);
        n += rl->shards[i].map.len;
        pthread_mutex_unlock(&rl->shards[i].lock);
    }
    return n;
}
