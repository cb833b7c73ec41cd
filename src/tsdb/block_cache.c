/*
 * block_cache.c: decoded blocks of 8-byte numbers (float, int, uint) that
 * queries read, so that a small query asked again (a dashboard refreshing,
 * the same p95 every few seconds) neither reads nor decodes its blocks
 * again: that was a quarter of such a query's server time.
 *
 * Keyed by (file sequence number, offset). Block files are immutable and
 * their sequence numbers never reused within an engine, so an entry can
 * never be stale: there is nothing to invalidate. An entry of a file that
 * compaction or retention removed lingers until it is pushed out.
 *
 * A direct-mapped table of entries under one mutex (held only to look up,
 * copy a slice out, or put); the bytes held are bounded: when a put would
 * pass the bound, a clock hand frees entries until it fits. Only the
 * source's scans use it; maintain's reads (flush, compaction) would only
 * wash it out.
 */
#include "tsdb/engine_int.h"

#include <stdlib.h>
#include <string.h>

struct tsdb__bc_entry {
    uint64_t seq, off;
    uint32_t count;
    int64_t *t;  /* count times, then count values: one allocation */
    uint64_t *v; /* bit patterns */
};

#define SLOTS 4096

static size_t entry_bytes(uint32_t count)
{
    return sizeof(tsdb__bc_entry) + (size_t)count * 16;
}

void tsdb__bc_init(tsdb__bcache *c, size_t max_bytes)
{
    pthread_mutex_init(&c->mu, NULL);
    c->slots = sb_calloc(SLOTS, sizeof(*c->slots));
    c->bytes = 0;
    c->max_bytes = max_bytes;
    c->hand = 0;
}

static void drop(tsdb__bcache *c, size_t i)
{
    tsdb__bc_entry *x = c->slots[i];
    if (!x)
        return;
    c->bytes -= entry_bytes(x->count);
    free(x);
    c->slots[i] = NULL;
}

void tsdb__bc_deinit(tsdb__bcache *c)
{
    if (!c->slots)
        return;
    for (size_t i = 0; i < SLOTS; i++)
        drop(c, i);
    free(c->slots);
    c->slots = NULL;
    pthread_mutex_destroy(&c->mu);
}

static size_t slot_of(uint64_t seq, uint64_t off)
{
    uint64_t h = (seq * 0x9E3779B97F4A7C15ULL) ^ (off * 0xC2B2AE3D27D4EB4FULL);
    return (size_t)((h ^ (h >> 29)) % SLOTS);
}

bool tsdb__bc_get(tsdb__bcache *c, uint64_t seq, uint64_t off, uint32_t count, int64_t tmin,
                  int64_t tmax, int64_t *t, uint64_t *v, size_t *n)
{
    if (!c->max_bytes)
        return false;
    size_t i = slot_of(seq, off);
    pthread_mutex_lock(&c->mu);
    const tsdb__bc_entry *x = c->slots[i];
    bool hit = x && x->seq == seq && x->off == off && x->count == count;
    if (hit) {
        size_t lo = tsdb__times_lower(x->t, x->count, tmin);
        size_t hi = tmax == INT64_MAX ? x->count : tsdb__times_lower(x->t, x->count, tmax + 1);
        *n = lo < hi ? hi - lo : 0;
        if (*n) {
            memcpy(t, x->t + lo, *n * sizeof(*t));
            memcpy(v, x->v + lo, *n * sizeof(*v));
        }
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void tsdb__bc_put(tsdb__bcache *c, uint64_t seq, uint64_t off, uint32_t count, const int64_t *t,
                  const uint64_t *v)
{
    size_t need = entry_bytes(count);
    if (!c->max_bytes || need > c->max_bytes / 8)
        return; /* one block never takes more than an eighth */
    tsdb__bc_entry *x = sb_malloc(need);
    x->seq = seq;
    x->off = off;
    x->count = count;
    x->t = (int64_t *)(void *)(x + 1);
    x->v = (uint64_t *)(void *)(x->t + count);
    memcpy(x->t, t, count * sizeof(*t));
    memcpy(x->v, v, count * sizeof(*v));
    size_t i = slot_of(seq, off);
    pthread_mutex_lock(&c->mu);
    drop(c, i);
    while (c->bytes + need > c->max_bytes) {
        drop(c, c->hand);
        c->hand = (c->hand + 1) % SLOTS;
    }
    c->slots[i] = x;
    c->bytes += need;
    pthread_mutex_unlock(&c->mu);
}
