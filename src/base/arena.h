/*
 * arena.h: a bump allocator for per-request and per-message work (as h2o's
 * h2o_mem_pool_t). Everything allocated from an arena is freed at once by
 * sb_arena_reset or sb_arena_deinit; there is no per-object free.
 *
 * Invariants: allocations are 16-byte aligned; memory from the arena stays
 * valid and unmoved until the next reset/deinit. Requests larger than the
 * chunk size get a chunk of their own. Not thread-safe: one owner.
 */
#ifndef SB_BASE_ARENA_H
#define SB_BASE_ARENA_H

#include "base/common.h"

typedef struct sb_arena_chunk sb_arena_chunk;

typedef struct sb_arena {
    sb_arena_chunk *head; /* newest chunk first */
    size_t chunk_size;    /* size of ordinary chunks */
    size_t used;          /* bytes used in head */
    size_t total;         /* bytes handed out since last reset (for metrics) */
} sb_arena;

/* chunk_size 0 picks 4096. Allocates nothing until the first sb_arena_alloc. */
void sb_arena_init(sb_arena *a, size_t chunk_size);
/* Frees every chunk. The arena can be initialised again. */
void sb_arena_deinit(sb_arena *a);
/* Frees everything allocated but keeps one ordinary chunk for reuse. */
void sb_arena_reset(sb_arena *a);

/* Returns size bytes (uninitialised, 16-aligned). Aborts on out-of-memory or
 * on a size whose rounding overflows. */
void *sb_arena_alloc(sb_arena *a, size_t size);
void *sb_arena_calloc(sb_arena *a, size_t n, size_t size);
/* Copies n bytes and adds a NUL. */
char *sb_arena_strndup(sb_arena *a, const char *s, size_t n);
char *sb_arena_sprintf(sb_arena *a, const char *fmt, ...) SB_PRINTF(2, 3);

#endif
