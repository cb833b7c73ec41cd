/*
 * head.c: the in-memory head of a series' field (points since the last
 * flush, in write order) and the rollups kept as points arrive.
 *
 * A head is two parallel arrays (time, value bits) grown by doubling: 16
 * bytes a point, no per-point allocation except for string values. It
 * remembers whether its times are strictly increasing, so the common case
 * (a series written in order) is copied, not sorted, at flush and scan.
 *
 * Rollups: per numeric field and per width, rows (bucket start, count,
 * sum, min, max) ascending by start. A point later than every point the
 * field ever had cannot replace one, so it updates its buckets exactly;
 * any other point may overwrite an earlier value, so its buckets are
 * marked dirty: the source's rollup walk declines a range with a dirty
 * bucket and maintain recomputes them from the data.
 *
 * Sparse fields keep no rows: a row costs 40 bytes, and one that sums a
 * single point saves nothing over reading that point from its block (the
 * wide workload has ~5 M one-minute rows of one point each: 216 MB). When
 * a width's rows reach SPARSE_ROWS by appends in time order and the ones
 * before the newest hold fewer than SPARSE_MIN points on average, the
 * width's rows go and the field's bit in roll_off says so for good: the
 * source's rollup walk declines the width, the executor tries the next
 * or scans. Rollup snapshots keep the bit; a recomputation decides anew.
 */
#include <string.h>

#include "tsdb/engine_int.h"

#include <stdlib.h>

void tsdb__head_append(tsdb__head *h, int64_t t, const tsdb_field *f)
{
    if (h->n == h->cap) {
        /* 1.5x: most series hold tens of points between flushes, and the
         * slack of doubling would be a third of the head's memory. */
        uint32_t cap = h->cap < 2 ? 2 : h->cap + h->cap / 2;
        h->p = sb_realloc(h->p, cap * sizeof(*h->p));
        h->cap = cap;
    }
    if (h->n == 0)
        h->sorted = true;
    else if (t <= h->p[h->n - 1].t)
        h->sorted = false;
    uint64_t bits = 0;
    switch (f->type) {
    case TSDB_FLOAT:
        memcpy(&bits, &f->v.f, 8);
        break;
    case TSDB_INT:
        bits = (uint64_t)f->v.i;
        break;
    case TSDB_UINT:
        bits = f->v.u;
        break;
    case TSDB_BOOL:
        bits = f->v.b;
        break;
    case TSDB_STRING: {
        tsdb__hstr *s = sb_malloc(sizeof(*s) + f->v.s.len);
        s->len = (uint32_t)f->v.s.len;
        memcpy(s->b, f->v.s.ptr, f->v.s.len);
        bits = (uint64_t)(uintptr_t)s;
        break;
    }
    }
    h->p[h->n] = (tsdb__hpt){t, bits};
    h->n++;
}

void tsdb__head_free(tsdb__head *h, tsdb_type type)
{
    if (type == TSDB_STRING)
        for (uint32_t i = 0; i < h->n; i++)
            free((void *)(uintptr_t)h->p[i].v);
    free(h->p);
    memset(h, 0, sizeof(*h));
}

double tsdb__as_double(tsdb_type type, uint64_t bits)
{
    double d;
    switch (type) {
    case TSDB_FLOAT:
        memcpy(&d, &bits, 8);
        return d;
    case TSDB_INT:
        return (double)(int64_t)bits;
    default:
        return (double)bits;
    }
}

typedef struct ord {
    int64_t t;
    size_t i;
} ord;

/* Merges the sorted runs a[lo, mid) and a[mid, hi) into out[lo, hi); of
 * equal times the left run's first, so the merge is stable. */
static void merge_runs(const ord *a, ord *out, size_t lo, size_t mid, size_t hi)
{
    size_t x = lo, y = mid, k = lo;
    while (x < mid && y < hi)
        out[k++] = a[y].t < a[x].t ? a[y++] : a[x++];
    while (x < mid)
        out[k++] = a[x++];
    while (y < hi)
        out[k++] = a[y++];
}

/*
 * A stable sort by time of points in write order, which is the order by
 * (time, write position). Heads and scans hand it a few long runs already
 * in time order (batches that arrived out of order, blocks that overlap),
 * so it is a natural merge sort: find the runs, then merge neighbours
 * pass by pass, O(n log runs) with the comparison inline (qsort's
 * callback was most of a flush's and a compaction's sort time).
 */
static ord *sort_by_time(ord *a, ord *tmp, size_t n)
{
    size_t *ends = sb_malloc((n ? n : 1) * sizeof(*ends)), nr = 0;
    for (size_t i = 1; i <= n; i++)
        if (i == n || a[i].t < a[i - 1].t)
            ends[nr++] = i;
    while (nr > 1) {
        size_t w = 0;
        for (size_t r = 0; r < nr; r += 2) {
            size_t lo = r ? ends[r - 1] : 0;
            if (r + 1 == nr) {
                memcpy(tmp + lo, a + lo, (ends[r] - lo) * sizeof(*a));
                ends[w++] = ends[r];
            } else {
                merge_runs(a, tmp, lo, ends[r], ends[r + 1]);
                ends[w++] = ends[r + 1];
            }
        }
        nr = w;
        ord *s = a;
        a = tmp;
        tmp = s;
    }
    free(ends);
    return a;
}

size_t tsdb__newest_order(const void *times, size_t stride, size_t n, size_t *pick)
{
    ord *o = sb_malloc((n ? n : 1) * 2 * sizeof(*o));
    for (size_t i = 0; i < n; i++) {
        memcpy(&o[i].t, (const char *)times + i * stride, sizeof(int64_t));
        o[i].i = i;
    }
    const ord *s = sort_by_time(o, o + (n ? n : 1), n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (i + 1 == n || s[i + 1].t != s[i].t) /* of equal times the last written */
            pick[k++] = s[i].i;
    free(o);
    return k;
}

size_t tsdb__head_sorted(const tsdb__head *h, tsdb_type type, int64_t **tp, void **vp)
{
    size_t n = h->n;
    int64_t *t = sb_malloc((n ? n : 1) * sizeof(*t));
    size_t vs = type == TSDB_BOOL ? sizeof(bool) : type == TSDB_STRING ? sizeof(sb_str) : 8;
    char *v = sb_malloc((n ? n : 1) * vs);
    size_t *pick = NULL;
    size_t k = n;
    if (!h->sorted && n > 1) {
        pick = sb_malloc(n * sizeof(*pick));
        k = tsdb__newest_order(&h->p[0].t, sizeof(h->p[0]), n, pick);
    }
    for (size_t j = 0; j < k; j++) {
        size_t i = pick ? pick[j] : j;
        t[j] = h->p[i].t;
        uint64_t bits = h->p[i].v;
        switch (type) {
        case TSDB_BOOL:
            ((bool *)v)[j] = bits != 0;
            break;
        case TSDB_STRING: {
            const tsdb__hstr *s = (const tsdb__hstr *)(uintptr_t)bits;
            ((sb_str *)v)[j] = sb_str_make(s->b, s->len);
            break;
        }
        default:
            memcpy(v + j * 8, &bits, 8);
        }
    }
    free(pick);
    *tp = t;
    *vp = v;
    return k;
}

static void row_add(tsdb_rollup_row *r, double x)
{
    if (r->count == 0) {
        r->min = r->max = x;
        r->sum = 0;
    }
    r->count++;
    r->sum += x;
    if (x < r->min)
        r->min = x;
    if (x > r->max)
        r->max = x;
}

/* Room for one more row. Grows from 1 (sb_vec starts at 8): a series
 * written for a minute has one row per width, and there may be 100,000s. */
static void rvec_grow(tsdb__rvec *rv)
{
    if (rv->len < rv->cap)
        return;
    uint32_t cap = rv->cap < 4 ? rv->cap + 1 : rv->cap * 2;
    rv->items = sb_realloc(rv->items, cap * sizeof(*rv->items));
    rv->cap = cap;
}

void tsdb__bref_push(tsdb__sfield *sf, tsdb__bref b)
{
    if (sf->blocks.len == sf->blocks.cap) {
        uint32_t cap = sf->blocks.cap < 4 ? sf->blocks.cap + 1 : sf->blocks.cap * 2;
        sf->blocks.items = sb_realloc(sf->blocks.items, cap * sizeof(*sf->blocks.items));
        sf->blocks.cap = cap;
    }
    sf->blocks.items[sf->blocks.len++] = b;
}

#define SPARSE_ROWS 16
#define SPARSE_MIN  2

/* Called when rv has just reached SPARSE_ROWS by an append: drops its rows
 * if the complete ones (all but the newest) are sparse. */
static bool sparse(tsdb__rvec *rv)
{
    uint64_t points = 0;
    for (uint32_t i = 0; i + 1 < rv->len; i++)
        points += rv->items[i].count & ~TSDB__RROW_DIRTY;
    if (points >= (uint64_t)SPARSE_MIN * (rv->len - 1))
        return false;
    free(rv->items);
    *rv = (tsdb__rvec){0};
    return true;
}

bool tsdb__rollup_add(const tsdb_engine *e, tsdb__sfield *sf, int64_t t, double x, bool exact)
{
    for (unsigned w = 0; w < e->o.nrollups; w++) {
        if (sf->roll_off & (1u << w))
            continue;
        tsdb__rvec *rv = &sf->roll[w];
        int64_t width = e->o.rollups[w];
        tsdb__rrow *row = NULL;
        /* The common case, the newest bucket, without a division. */
        if (rv->len) {
            int64_t last = rv->items[rv->len - 1].start;
            if (t >= last && (uint64_t)t - (uint64_t)last < (uint64_t)width) {
                row = &rv->items[rv->len - 1];
                if (exact)
                    row_add(row, x);
                else
                    tsdb__rrow_mark(row);
                continue;
            }
        }
        int64_t b = tsdb__floor(t, width);
        if (!rv->len || rv->items[rv->len - 1].start < b) {
            rvec_grow(rv);
            rv->items[rv->len++] = (tsdb__rrow){.start = b};
            if (rv->len == SPARSE_ROWS && sparse(rv)) {
                sf->roll_off |= (uint8_t)(1u << w);
                continue;
            }
            row = &rv->items[rv->len - 1];
        } else {
            size_t lo = tsdb__rrow_lower(rv, b);
            if (lo == rv->len || rv->items[lo].start != b) {
                rvec_grow(rv);
                memmove(&rv->items[lo + 1], &rv->items[lo], (rv->len - lo) * sizeof(*rv->items));
                rv->items[lo] = (tsdb__rrow){.start = b};
                rv->len++;
            }
            row = &rv->items[lo];
        }
        if (exact)
            row_add(row, x);
        else
            tsdb__rrow_mark(row);
    }
    return !exact && e->o.nrollups;
}

void tsdb__sfield_append(const tsdb_engine *e, tsdb__db *d, tsdb__sfield *sf, int64_t t,
                         const tsdb_field *f, bool roll)
{
    tsdb__head_append(&sf->head, t, f);
    if (roll && tsdb__has_roll(sf)) {
        double x = f->type == TSDB_FLOAT ? f->v.f
                   : f->type == TSDB_INT ? (double)f->v.i
                                         : (double)f->v.u;
        if (tsdb__rollup_add(e, sf, t, x, t > sf->max_time))
            d->roll_dirty = true;
    }
    if (t > sf->max_time)
        sf->max_time = t;
    sf->wseq++;
}

size_t tsdb__rrow_lower(const tsdb__rvec *rv, int64_t t)
{
    size_t lo = 0, hi = rv->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rv->items[mid].start < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
