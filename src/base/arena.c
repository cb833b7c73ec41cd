/*
 * arena.c: chunked bump allocation. Chunks form a list, newest first; an
 * allocation that does not fit the head opens a new chunk (of its own size
 * when it is larger than an ordinary chunk).
 */
#include "base/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 16

struct sb_arena_chunk {
    sb_arena_chunk *next;
    size_t size; /* usable bytes in data */
    _Alignas(ALIGN) unsigned char data[];
};

void sb_arena_init(sb_arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 4096;
    a->used = 0;
    a->total = 0;
}

void sb_arena_deinit(sb_arena *a)
{
    sb_arena_chunk *c = a->head;
    while (c) {
        sb_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
    a->total = 0;
}

void sb_arena_reset(sb_arena *a)
{
    /* Keep the oldest ordinary chunk (the tail), free the rest. */
    sb_arena_chunk *keep = NULL, *c = a->head;
    while (c) {
        sb_arena_chunk *next = c->next;
        if (!keep && !next && c->size == a->chunk_size)
            keep = c;
        else
            free(c);
        c = next;
    }
    if (keep)
        keep->next = NULL;
    a->head = keep;
    a->used = 0;
    a->total = 0;
}

void *sb_arena_alloc(sb_arena *a, size_t size)
{
    size_t rounded;
    if (sb_add_overflows(size, ALIGN - 1, &rounded))
        sb_die("arena allocation of %zu bytes overflows", size);
    rounded &= ~(size_t)(ALIGN - 1);
    if (rounded == 0)
        rounded = ALIGN;
    if (!a->head || a->head->size - a->used < rounded) {
        size_t csize = rounded > a->chunk_size ? rounded : a->chunk_size;
        size_t bytes;
        if (sb_add_overflows(sizeof(sb_arena_chunk), csize, &bytes))
            sb_die("arena allocation of %zu bytes overflows", size);
        sb_arena_chunk *c = sb_malloc(bytes);
        c->size = csize;
        if (csize > a->chunk_size && a->head) {
            /* A big one-off goes behind the head so the head keeps its room. */
            c->next = a->head->next;
            a->head->next = c;
            a->total += rounded;
            return c->data;
        }
        c->next = a->head;
        a->head = c;
        a->used = 0;
    }
    void *p = a->head->data + a->used;
    a->used += rounded;
    a->total += rounded;
    return p;
}

void *sb_arena_calloc(sb_arena *a, size_t n, size_t size)
{
    size_t total;
    if (sb_mul_overflows(n, size, &total))
        sb_die("arena allocation overflows: %zu x %zu", n, size);
    void *p = sb_arena_alloc(a, total);
    memset(p, 0, total);
    return p;
}

char *sb_arena_strndup(sb_arena *a, const char *s, size_t n)
{
    char *p = sb_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sb_arena_sprintf(sb_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        sb_die("bad format string '%s'", fmt);
    char *p = sb_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}
