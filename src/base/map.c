/*
 * map.c: open addressing with linear probing. Deletion shifts later
 * entries of the same probe run back (Knuth's algorithm R), so there are no
 * tombstones and lookups stop at the first empty slot.
 */
#include "base/map.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

void sb_map_init(sb_map *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
}

void sb_map_deinit(sb_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    sb_map_init(m);
}

static sb_map_entry *find(const sb_map *m, sb_str key, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        sb_map_entry *e = &m->slots[i];
        if (!e->key)
            return e;
        if (e->hash == h && e->key_len == key.len && memcmp(e->key, key.ptr, key.len) == 0)
            return e;
    }
}

static void grow(sb_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    sb_map_entry *old = m->slots;
    size_t ocap = m->cap;
    m->slots = sb_calloc(ncap, sizeof(sb_map_entry));
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].key)
            continue;
        sb_map_entry *e = find(m, sb_str_make(old[i].key, old[i].key_len), old[i].hash);
        *e = old[i];
    }
    free(old);
}

void *sb_map_get(const sb_map *m, sb_str key)
{
    if (m->len == 0)
        return NULL;
    sb_map_entry *e = find(m, key, sb_hash(key.ptr, key.len));
    return e->key ? e->value : NULL;
}

void *sb_map_put(sb_map *m, sb_str key, void *value)
{
    if ((m->len + 1) * 4 > m->cap * 3)
        grow(m);
    uint64_t h = sb_hash(key.ptr, key.len);
    sb_map_entry *e = find(m, key, h);
    if (e->key) {
        void *prev = e->value;
        e->value = value;
        return prev;
    }
    e->key = sb_strndup(key.ptr, key.len);
    e->key_len = key.len;
    e->hash = h;
    e->value = value;
    m->len++;
    return NULL;
}

void *sb_map_del(sb_map *m, sb_str key)
{
    if (m->len == 0)
        return NULL;
    sb_map_entry *e = find(m, key, sb_hash(key.ptr, key.len));
    if (!e->key)
        return NULL;
    void *value = e->value;
    free(e->key);
    size_t mask = m->cap - 1;
    size_t hole = (size_t)(e - m->slots);
    m->slots[hole].key = NULL;
    m->len--;
    /* Move back any later entry whose home is not between hole and it. */
    for (size_t j = (hole + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            m->slots[hole] = m->slots[j];
            m->slots[j].key = NULL;
            hole = j;
        }
    }
    return value;
}

sb_map_entry *sb_map_next(const sb_map *m, size_t *it)
{
    while (*it < m->cap) {
        sb_map_entry *e = &m->slots[(*it)++];
        if (e->key)
            return e;
    }
    return NULL;
}
