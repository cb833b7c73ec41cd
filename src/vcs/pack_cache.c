/*
 * pack_cache.c: packs built for git clients, kept for the next client
 * that asks for the same thing. Building a pack is mostly libgit2's delta
 * search (bench/RESULTS.md, "bench/history": ~75% of a clone's server
 * CPU), which git's own upload-pack avoids by reusing the deltas of its
 * packs; a cache gives repeated clones and fetches of the same heads (CI
 * jobs, several collaborators pulling one push) the same saving.
 *
 * Always valid: a pack is a function of the project's objects reachable
 * from the wants and not from the haves, and objects are named by their
 * content and never change, so the key (project, wants, haves) needs no
 * invalidation. Bounded: at most PACKS_MAX packs and PACK_BYTES_MAX bytes
 * in all (least recently used out first); a pack over a quarter of that
 * is not kept. One process-wide table behind a mutex: lookups copy out.
 */
#include <pthread.h>
#include <string.h>

#include "vcs/vcs_int.h"

#define PACKS_MAX      32
#define PACK_BYTES_MAX (64u << 20)

typedef struct entry {
    sb_buf key, pack;
    uint64_t used; /* the tick of its last use; 0: empty */
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry table[PACKS_MAX];
static size_t bytes;
static uint64_t tick;

static entry *find(const sb_buf *key)
{
    for (size_t i = 0; i < PACKS_MAX; i++)
        if (table[i].used && table[i].key.len == key->len &&
            memcmp(table[i].key.ptr, key->ptr, key->len) == 0)
            return &table[i];
    return NULL;
}

static void drop(entry *e)
{
    bytes -= e->pack.len;
    sb_buf_free(&e->key);
    sb_buf_free(&e->pack);
    e->used = 0;
}

void vcs__pack_key(sb_buf *key, const char *project_id, const vcs_upload_request *req)
{
    sb_buf_puts(key, project_id);
    sb_buf_putc(key, '\0');
    sb_buf_appendf(key, "%zu/%zu/", req->nwants, req->nhaves);
    sb_buf_append(key, req->wants, req->nwants * 20);
    sb_buf_append(key, req->haves, req->nhaves * 20);
}

bool vcs__pack_cache_get(const sb_buf *key, sb_buf *out)
{
    pthread_mutex_lock(&lock);
    entry *e = find(key);
    if (e) {
        e->used = ++tick;
        sb_buf_append(out, e->pack.ptr, e->pack.len);
    }
    pthread_mutex_unlock(&lock);
    return e != NULL;
}

void vcs__pack_cache_put(const sb_buf *key, const void *pack, size_t n)
{
    if (n > PACK_BYTES_MAX / 4)
        return;
    pthread_mutex_lock(&lock);
    if (!find(key)) { /* two builders of one pack: the first stays */
        entry *slot = NULL;
        for (;;) {
            entry *oldest = NULL;
            for (size_t i = 0; i < PACKS_MAX; i++) {
                if (!table[i].used)
                    slot = slot ? slot : &table[i];
                else if (!oldest || table[i].used < oldest->used)
                    oldest = &table[i];
            }
            if (slot && bytes + n <= PACK_BYTES_MAX)
                break;
            drop(oldest); /* full, or too many bytes: something is kept */
        }
        sb_buf_append(&slot->key, key->ptr, key->len);
        sb_buf_append(&slot->pack, pack, n);
        slot->used = ++tick;
        bytes += n;
    }
    pthread_mutex_unlock(&lock);
}
