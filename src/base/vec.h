/*
 * vec.h: a typed growable array as a macro over one generic grow function.
 *
 *     SB_VEC(int) v = {0};
 *     sb_vec_push(&v, 42);
 *     for (size_t i = 0; i < v.len; i++) use(v.items[i]);
 *     sb_vec_free(&v);
 *
 * Growth doubles (minimum 8); sizes are overflow-checked; out-of-memory
 * aborts. The vector owns items, not what they point to.
 */
#ifndef SB_BASE_VEC_H
#define SB_BASE_VEC_H

#include <stdlib.h>

#include "base/common.h"

#define SB_VEC(T)                                                                                  \
    struct {                                                                                       \
        T *items;                                                                                  \
        size_t len;                                                                                \
        size_t cap;                                                                                \
    }

/* Ensures room for `need` elements of `elem` bytes in items and cap. */
void sb__vec_grow(void **items, size_t *cap, size_t elem, size_t need);

#define sb_vec_reserve(v, n)                                                                       \
    ((v)->len + (n) > (v)->cap                                                                     \
         ? sb__vec_grow((void **)&(v)->items, &(v)->cap, sizeof(*(v)->items), (v)->len + (n))      \
         : (void)0)
#define sb_vec_push(v, x) (sb_vec_reserve((v), 1), (v)->items[(v)->len++] = (x))
#define sb_vec_pop(v)     ((v)->items[--(v)->len])
#define sb_vec_clear(v)   ((v)->len = 0)
#define sb_vec_free(v)    (free((v)->items), (v)->items = NULL, (v)->len = (v)->cap = 0)

#endif
