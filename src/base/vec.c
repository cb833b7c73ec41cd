/* vec.c: the one growth function behind SB_VEC (see vec.h). */
#include "base/vec.h"

void sb__vec_grow(void **items, size_t *cap, size_t elem, size_t need)
{
    size_t cap2 = *cap ? *cap : 8;
    while (cap2 < need)
        if (sb_mul_overflows(cap2, 2, &cap2))
            sb_die("vector size overflows");
    size_t bytes;
    if (sb_mul_overflows(cap2, elem, &bytes))
        sb_die("vector size overflows");
    *items = sb_realloc(*items, bytes);
    *cap = cap2;
}
