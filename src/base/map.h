/*
 * map.h: a hash map from byte-string keys to pointers (open addressing,
 * linear probing, keyed by sb_hash). The map copies keys it stores and owns
 * those copies; values are the caller's.
 *
 * Invariants: capacity is a power of two; load stays under 3/4; deletions
 * use backward-shift so lookups never see tombstones. Iteration order is
 * unspecified and changes when the map grows. Not thread-safe.
 */
#ifndef SB_BASE_MAP_H
#define SB_BASE_MAP_H

#include "base/common.h"
#include "base/str.h"

typedef struct sb_map_entry {
    char *key; /* owned copy, NUL-terminated; NULL = empty slot */
    size_t key_len;
    uint64_t hash;
    void *value;
} sb_map_entry;

typedef struct sb_map {
    sb_map_entry *slots;
    size_t cap; /* 0 or a power of two */
    size_t len;
} sb_map;

void sb_map_init(sb_map *m);
/* Frees the map's key copies and slots; values are left to the caller. */
void sb_map_deinit(sb_map *m);
/* Returns the value, or NULL when absent (store no NULL values). */
void *sb_map_get(const sb_map *m, sb_str key);
/* Sets key to value; returns the previous value or NULL. */
void *sb_map_put(sb_map *m, sb_str key, void *value);
/* Removes key; returns its value or NULL if it was absent. */
void *sb_map_del(sb_map *m, sb_str key);

/* Iterates: size_t it = 0; sb_map_entry *e; while ((e = sb_map_next(m, &it))) */
sb_map_entry *sb_map_next(const sb_map *m, size_t *it);

#endif
