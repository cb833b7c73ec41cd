/*
 * exec_agg.c: the aggregate and selector functions of InfluxQL 1.x over
 * runs of points (a chunk's arrays: one switch a run, then a tight loop,
 * never a call a point).
 *
 * Rules, as InfluxDB's reducers have them: count is an integer; sum keeps
 * the field's type; mean, stddev and median are floats; stddev is the
 * sample standard deviation (n - 1) and null for one point; min and max
 * keep the earliest of equal values; first and last break timestamp ties
 * by the larger value; spread is max - min in the field's type;
 * percentile(p) is the nearest rank, index floor(n * p / 100 + 0.5) - 1 of
 * the sorted values, and no value when that index falls outside; median
 * averages the two middle values of an even count; top and bottom keep
 * the N largest (smallest) values, the earliest first among equals;
 * mode, distinct, count(distinct) and integral keep every point of the
 * bucket (see docs/tsdb.md for their rules, integral's windows above all).
 *
 * Unsigned fields aggregate as floats (InfluxDB 1.x needs a build flag for
 * them at all); count, first and last keep them as they are.
 */
#include <math.h>
#include <stdlib.h>

#include "base/map.h"
#include "tsdb/exec_int.h"

tsdb_type ex__call_type(const ex_call *k, tsdb_type t)
{
    switch (k->fn) {
    case EX_COUNT:
    case EX_COUNT_DISTINCT:
        return TSDB_INT;
    case EX_MEAN:
    case EX_STDDEV:
    case EX_MEDIAN:
    case EX_INTEGRAL:
        return TSDB_FLOAT;
    case EX_FIRST:
    case EX_LAST:
        return t;
    case EX_MODE:
    case EX_DISTINCT:
        return t == TSDB_UINT ? TSDB_FLOAT : t;
    default:
        return t == TSDB_INT ? TSDB_INT : TSDB_FLOAT;
    }
}

/* Room for n points in all (a run's worth at once: a series of a few
 * hundred points was four reallocs). */
static void pts_reserve(ex_acc *a, size_t n)
{
    if (n <= a->cap)
        return;
    size_t cap = a->cap ? a->cap * 2 : 16;
    a->cap = cap > n ? cap : n;
    a->pts = realloc(a->pts, a->cap * sizeof(ex_pt));
    if (!a->pts)
        abort();
}

static void push_pt(ex_acc *a, int64_t t, uint32_t seq, double f, int64_t i, bool is_int)
{
    if (a->npts == a->cap)
        pts_reserve(a, a->npts + 1);
    ex_pt *p = &a->pts[a->npts++];
    p->t = t;
    p->seq = seq;
    if (is_int)
        p->i = i;
    else
        p->f = f;
}

/* percentile/median: exact up to EX_EXACT_MAX points, then a sketch. */
static void quantile_add(ex_acc *a, int64_t t, uint32_t seq, double f, int64_t i, bool is_int)
{
    a->n++;
    if (a->sk) {
        tsdb_sketch_add(a->sk, is_int ? (double)i : f);
        return;
    }
    push_pt(a, t, seq, f, i, is_int);
    if (a->npts > EX_EXACT_MAX) {
        a->sk = malloc(sizeof(*a->sk));
        if (!a->sk)
            abort();
        tsdb_sketch_init(a->sk, EX_SKETCH_ALPHA);
        for (size_t k = 0; k < a->npts; k++)
            tsdb_sketch_add(a->sk, is_int ? (double)a->pts[k].i : a->pts[k].f);
        free(a->pts);
        a->pts = NULL;
        a->npts = a->cap = 0;
    }
}

static void welford_add(ex_acc *a, double y)
{
    a->n++;
    double d = y - a->mean;
    a->mean += d / (double)a->n;
    a->m2 += d * (y - a->mean);
}

/* stddev: the points kept exactly (InfluxDB's two-pass formula over them)
 * up to EX_EXACT_MAX, then Welford's streaming update. NaN is skipped. */
static void stddev_add(ex_acc *a, int64_t t, double y)
{
    if (y != y)
        return;
    if (a->welford) {
        welford_add(a, y);
        return;
    }
    a->n++;
    push_pt(a, t, 0, y, 0, false);
    if (a->npts > EX_EXACT_MAX) {
        a->welford = true;
        a->n = 0;
        for (size_t k = 0; k < a->npts; k++)
            welford_add(a, a->pts[k].f);
        free(a->pts);
        a->pts = NULL;
        a->npts = a->cap = 0;
    }
}

/* top (sign 1) / bottom (sign -1): is p better than q? Larger (smaller)
 * value, then the earlier time. */
static bool better(const ex_pt *p, const ex_pt *q, int sign, bool is_int)
{
    int d = is_int ? (p->i > q->i) - (p->i < q->i) : (p->f > q->f) - (p->f < q->f);
    d *= sign;
    return d > 0 || (d == 0 && p->t < q->t);
}

static void top_add(ex_acc *a, const ex_call *k, int64_t t, double f, int64_t i, bool is_int)
{
    int sign = k->fn == EX_TOP ? 1 : -1;
    ex_pt p = {.t = t, .seq = k->seq};
    if (is_int)
        p.i = i;
    else
        p.f = f;
    a->n++;
    if (k->ntagargs) {
        /* top(f, tag, N): the best point of each tag value first (InfluxDB
         * runs max/min grouped by the tags); N of those at the end. */
        if (!a->bykey) {
            a->bykey = malloc(sizeof(sb_map));
            if (!a->bykey)
                abort();
            sb_map_init(a->bykey);
        }
        uintptr_t at = (uintptr_t)sb_map_get(a->bykey, k->tagkey);
        if (!at) {
            push_pt(a, 0, 0, 0, 0, false);
            a->pts[a->npts - 1] = p;
            sb_map_put(a->bykey, k->tagkey, (void *)(uintptr_t)a->npts);
        } else if (better(&p, &a->pts[at - 1], sign, is_int)) {
            a->pts[at - 1] = p;
        }
        return;
    }
    /* pts is kept best first; n is small (the query's N). */
    if ((int64_t)a->npts == k->n) {
        if (!better(&p, &a->pts[a->npts - 1], sign, is_int))
            return;
        a->npts--;
    }
    push_pt(a, 0, 0, 0, 0, false);
    size_t j = a->npts - 1;
    while (j > 0 && better(&p, &a->pts[j - 1], sign, is_int)) {
        a->pts[j] = a->pts[j - 1];
        j--;
    }
    a->pts[j] = p;
}

#define FEED_LOOP(T, V, TYPE, FIELD)                                                               \
    do {                                                                                           \
        const T *v = (V);                                                                          \
        switch (k->fn) {                                                                           \
        case EX_COUNT:                                                                             \
            a->n += to - from;                                                                     \
            break;                                                                                 \
        case EX_SUM:                                                                               \
        case EX_MEAN: {                                                                            \
            double s = 0;                                                                          \
            int64_t is = 0;                                                                        \
            for (size_t x = from; x < to; x++) {                                                   \
                s += (double)v[x];                                                                 \
                if (TYPE == TSDB_INT)                                                              \
                    is = (int64_t)((uint64_t)is + (uint64_t)(int64_t)v[x]);                        \
            }                                                                                      \
            a->sum += s;                                                                           \
            a->isum = (int64_t)((uint64_t)a->isum + (uint64_t)is);                                 \
            a->n += to - from;                                                                     \
            break;                                                                                 \
        }                                                                                          \
        case EX_MIN:                                                                               \
        case EX_MAX: {                                                                             \
            bool mx = k->fn == EX_MAX;                                                             \
            for (size_t x = from; x < to; x++) {                                                   \
                T y = v[x];                                                                        \
                if (!a->n || (mx ? y > a->best.FIELD : y < a->best.FIELD) ||                       \
                    (y == a->best.FIELD && t[x] < a->tbest)) {                                     \
                    a->best.type = TYPE;                                                           \
                    a->best.FIELD = y;                                                             \
                    a->tbest = t[x];                                                               \
                    a->sbest = k->seq;                                                             \
                }                                                                                  \
                a->n++;                                                                            \
            }                                                                                      \
            break;                                                                                 \
        }                                                                                          \
        case EX_SPREAD:                                                                            \
            for (size_t x = from; x < to; x++) {                                                   \
                T y = v[x];                                                                        \
                if (!a->n || y < a->lo.FIELD)                                                      \
                    a->lo.FIELD = y;                                                               \
                if (!a->n || y > a->hi.FIELD)                                                      \
                    a->hi.FIELD = y;                                                               \
                a->n++;                                                                            \
            }                                                                                      \
            a->lo.type = a->hi.type = TYPE;                                                        \
            break;                                                                                 \
        case EX_STDDEV:                                                                            \
            for (size_t x = from; x < to; x++)                                                     \
                stddev_add(a, t[x], (double)v[x]);                                                 \
            break;                                                                                 \
        case EX_PERCENTILE:                                                                        \
        case EX_MEDIAN:                                                                            \
            if (!a->sk)                                                                            \
                pts_reserve(a, SB_MIN(a->npts + (to - from), (size_t)EX_EXACT_MAX + 1));           \
            for (size_t x = from; x < to; x++)                                                     \
                quantile_add(a, t[x], k->seq, (double)v[x], TYPE == TSDB_INT ? (int64_t)v[x] : 0,  \
                             TYPE == TSDB_INT);                                                    \
            break;                                                                                 \
        case EX_MODE:                                                                              \
        case EX_DISTINCT:                                                                          \
        case EX_COUNT_DISTINCT:                                                                    \
        case EX_INTEGRAL:                                                                          \
            /* Kept whole: the answer needs every value (and time). */                             \
            for (size_t x = from; x < to; x++)                                                     \
                push_pt(a, t[x], k->seq, (double)v[x], TYPE == TSDB_INT ? (int64_t)v[x] : 0,       \
                        TYPE == TSDB_INT);                                                         \
            a->n += to - from;                                                                     \
            break;                                                                                 \
        case EX_TOP:                                                                               \
        case EX_BOTTOM:                                                                            \
            for (size_t x = from; x < to; x++)                                                     \
                top_add(a, k, t[x], (double)v[x], TYPE == TSDB_INT ? (int64_t)v[x] : 0,            \
                        TYPE == TSDB_INT);                                                         \
            break;                                                                                 \
        default:                                                                                   \
            break;                                                                                 \
        }                                                                                          \
    } while (0)

static bool first_wins(const ex_acc *a, bool first, int64_t t, const ex_val *v)
{
    if (!a->n)
        return true;
    if (t != a->tbest)
        return first ? t < a->tbest : t > a->tbest;
    /* The same timestamp in two series: the larger value wins. */
    const ex_val *b = &a->best;
    switch (v->type) {
    case TSDB_FLOAT:
        return v->f > b->f;
    case TSDB_INT:
        return v->i > b->i;
    case TSDB_UINT:
        return v->u > b->u;
    case TSDB_BOOL:
        return v->b && !b->b;
    case TSDB_STRING: {
        size_t n = v->s.len < b->s.len ? v->s.len : b->s.len;
        int r = n ? memcmp(v->s.ptr, b->s.ptr, n) : 0;
        return r > 0 || (r == 0 && v->s.len > b->s.len);
    }
    default:
        return false;
    }
}

static ex_val chunk_val(const tsdb_chunk *ch, size_t x)
{
    ex_val v = {.type = (int)ch->type};
    switch (ch->type) {
    case TSDB_FLOAT:
        v.f = ch->v.f[x];
        break;
    case TSDB_INT:
        v.i = ch->v.i[x];
        break;
    case TSDB_UINT:
        v.u = ch->v.u[x];
        break;
    case TSDB_BOOL:
        v.b = ch->v.b[x];
        break;
    case TSDB_STRING:
        v.s = ch->v.s[x];
        break;
    }
    return v;
}

void ex__acc_feed(ex_acc *a, const ex_call *k, const tsdb_chunk *ch, size_t from, size_t to)
{
    const int64_t *t = ch->times;
    if (from >= to)
        return;
    if (k->fn == EX_FIRST || k->fn == EX_LAST) {
        /* Only the ends of a sorted run can win. */
        size_t x = k->fn == EX_FIRST ? from : to - 1;
        ex_val v = chunk_val(ch, x);
        if (first_wins(a, k->fn == EX_FIRST, t[x], &v)) {
            if (v.type == TSDB_STRING) {
                sb_buf_reset(&a->best_str);
                sb_buf_append(&a->best_str, v.s.ptr, v.s.len);
                v.s = sb_str_make(a->best_str.ptr ? a->best_str.ptr : "", v.s.len);
            }
            a->best = v;
            a->tbest = t[x];
            a->sbest = k->seq;
        }
        a->n += to - from;
        return;
    }
    if (k->fn == EX_COUNT) {
        a->n += to - from;
        return;
    }
    if ((ch->type == TSDB_BOOL || ch->type == TSDB_STRING) &&
        (k->fn == EX_MODE || k->fn == EX_DISTINCT || k->fn == EX_COUNT_DISTINCT)) {
        /* Booleans kept as 0 for true, 1 for false: InfluxDB orders true
         * first (mode() of one true and one false is true). Strings copied
         * (a chunk's views end with the call), the point holding their
         * offset. */
        for (size_t x = from; x < to; x++) {
            int64_t i = ch->type == TSDB_BOOL ? !ch->v.b[x] : (int64_t)a->strs.len;
            if (ch->type == TSDB_STRING) {
                uint32_t len = (uint32_t)ch->v.s[x].len;
                sb_buf_append(&a->strs, (const char *)&len, sizeof(len));
                sb_buf_append(&a->strs, ch->v.s[x].ptr, len);
            }
            push_pt(a, t[x], k->seq, 0, i, true);
        }
        a->n += to - from;
        return;
    }
    switch (ch->type) {
    case TSDB_FLOAT:
        FEED_LOOP(double, ch->v.f, TSDB_FLOAT, f);
        break;
    case TSDB_INT:
        FEED_LOOP(int64_t, ch->v.i, TSDB_INT, i);
        break;
    case TSDB_UINT: {
        /* As floats (see the file comment). */
        double buf[256];
        for (size_t x = from; x < to;) {
            size_t m = to - x < 256 ? to - x : 256;
            for (size_t y = 0; y < m; y++)
                buf[y] = (double)ch->v.u[x + y];
            tsdb_chunk c2 = {.type = TSDB_FLOAT, .n = m, .times = t + x};
            c2.v.f = buf;
            ex__acc_feed(a, k, &c2, 0, m);
            x += m;
        }
        break;
    }
    default:
        break; /* refused when the query was planned */
    }
}

void ex__acc_feed_val(ex_acc *a, const ex_call *k, int64_t t, const ex_val *v)
{
    tsdb_chunk ch = {.type = (tsdb_type)v->type, .n = 1, .times = &t};
    switch (v->type) {
    case TSDB_FLOAT:
        ch.v.f = &v->f;
        break;
    case TSDB_INT:
        ch.v.i = &v->i;
        break;
    case TSDB_UINT:
        ch.v.u = &v->u;
        break;
    case TSDB_BOOL:
        ch.v.b = &v->b;
        break;
    case TSDB_STRING:
        ch.v.s = &v->s;
        break;
    default:
        return;
    }
    ex__acc_feed(a, k, &ch, 0, 1);
}

void ex__acc_feed_rollup(ex_acc *a, const ex_call *k, const tsdb_rollup_row *r)
{
    if (!r->count)
        return;
    switch (k->fn) {
    case EX_COUNT:
        break;
    case EX_SUM:
    case EX_MEAN:
        a->sum += r->sum;
        break;
    case EX_MIN:
    case EX_MAX: {
        double y = k->fn == EX_MIN ? r->min : r->max;
        /* Rollups are used with GROUP BY time only, where the row's time is
         * the bucket's: which point held the extreme does not matter. */
        if (!a->n || (k->fn == EX_MAX ? y > a->best.f : y < a->best.f)) {
            a->best.type = TSDB_FLOAT;
            a->best.f = y;
            a->tbest = r->start;
        }
        break;
    }
    default:
        return;
    }
    a->n += r->count;
}

static int cmp_f(const void *x, const void *y)
{
    const ex_pt *p = x, *q = y;
    if (p->f != q->f)
        return p->f < q->f ? -1 : 1;
    return (p->t > q->t) - (p->t < q->t);
}

static int cmp_i(const void *x, const void *y)
{
    const ex_pt *p = x, *q = y;
    if (p->i != q->i)
        return p->i < q->i ? -1 : 1;
    return (p->t > q->t) - (p->t < q->t);
}

/*
 * Rank selection for an exact percentile: puts at pts[k] the element a
 * stable sort by (value, time) would put there, in O(n) expected time
 * instead of a full sort through a callback. Equal (value, time) pairs are
 * told apart by their position before the call (ord), which makes the
 * order total and the pick the same as the stable sort's, so the point
 * (its time and series) is the one the sort picked. Other slots are left
 * in no particular order.
 */
static inline bool rank_less(const ex_pt *p, const ex_pt *q, bool is_int)
{
    if (is_int) {
        if (p->i != q->i)
            return p->i < q->i;
    } else if (p->f < q->f) {
        return true;
    } else if (q->f < p->f) {
        return false;
    } else if (isnan(p->f) != isnan(q->f)) {
        return isnan(q->f); /* NaN last: the order stays total */
    }
    if (p->t != q->t)
        return p->t < q->t;
    return p->ord < q->ord;
}

static int cmp_rank_i(const void *x, const void *y)
{
    return rank_less(x, y, true) ? -1 : rank_less(y, x, true);
}

static int cmp_rank_f(const void *x, const void *y)
{
    return rank_less(x, y, false) ? -1 : rank_less(y, x, false);
}

static void swap_pt(ex_pt *p, ex_pt *q)
{
    ex_pt s = *p;
    *p = *q;
    *q = s;
}

static void select_rank(ex_pt *pts, size_t n, size_t k, bool is_int)
{
    for (size_t x = 0; x < n; x++)
        pts[x].ord = (uint32_t)x; /* n <= EX_EXACT_MAX */
    size_t lo = 0, hi = n - 1;
    /* Quickselect with a median-of-three pivot; past a bounded number of
     * rounds (an adversarial input) finish with a sort by the same total
     * order, so the answer never depends on which path ran. */
    unsigned budget = 64;
    while (hi > lo) {
        if (budget-- == 0) {
            qsort(pts + lo, hi - lo + 1, sizeof(ex_pt), is_int ? cmp_rank_i : cmp_rank_f);
            return;
        }
        size_t mid = lo + (hi - lo) / 2;
        if (rank_less(&pts[mid], &pts[lo], is_int))
            swap_pt(&pts[mid], &pts[lo]);
        if (rank_less(&pts[hi], &pts[lo], is_int))
            swap_pt(&pts[hi], &pts[lo]);
        if (rank_less(&pts[hi], &pts[mid], is_int))
            swap_pt(&pts[hi], &pts[mid]);
        /* pts[lo] <= pivot <= pts[hi]: park the pivot at hi - 1. */
        if (hi - lo < 3)
            return; /* three or fewer, now in order */
        swap_pt(&pts[mid], &pts[hi - 1]);
        ex_pt pv = pts[hi - 1];
        size_t i = lo, j = hi - 1;
        for (;;) {
            while (rank_less(&pts[++i], &pv, is_int))
                ;
            while (rank_less(&pv, &pts[--j], is_int))
                ;
            if (i >= j)
                break;
            swap_pt(&pts[i], &pts[j]);
        }
        swap_pt(&pts[i], &pts[hi - 1]); /* the pivot in its final slot */
        if (k == i)
            return;
        if (k < i)
            hi = i - 1;
        else
            lo = i + 1;
    }
}

static int cmp_t(const void *x, const void *y)
{
    const ex_pt *p = x, *q = y;
    return (p->t > q->t) - (p->t < q->t);
}

/* By value, then time, then series: a total order, so that ties resolve
 * the same way on every run. */
static int cmp_vts_f(const void *x, const void *y)
{
    const ex_pt *p = x, *q = y;
    int r = cmp_f(x, y);
    return r ? r : (p->seq > q->seq) - (p->seq < q->seq);
}

static int cmp_vts_i(const void *x, const void *y)
{
    const ex_pt *p = x, *q = y;
    int r = cmp_i(x, y);
    return r ? r : (p->seq > q->seq) - (p->seq < q->seq);
}

/* By time, then value. */
static int cmp_ti(const void *x, const void *y)
{
    const ex_pt *p = x, *q = y;
    int r = cmp_t(x, y);
    return r ? r : (p->i > q->i) - (p->i < q->i);
}

static int cmp_tf(const void *x, const void *y)
{
    const ex_pt *p = x, *q = y;
    int r = cmp_t(x, y);
    return r ? r : (p->f > q->f) - (p->f < q->f);
}

/* By time, then series (the order of a group's merged points). */
static int cmp_ts(const void *x, const void *y)
{
    const ex_pt *p = x, *q = y;
    int r = cmp_t(x, y);
    return r ? r : (p->seq > q->seq) - (p->seq < q->seq);
}

/* How kept points of a call compare: as floats, as integers (booleans
 * too: true first), or as the strings they point to. */
typedef enum { KIND_FLOAT, KIND_INT, KIND_STR } pt_kind;

static pt_kind kind_of(const ex_call *k)
{
    return k->type == TSDB_STRING                        ? KIND_STR
           : k->type == TSDB_INT || k->type == TSDB_BOOL ? KIND_INT
                                                         : KIND_FLOAT;
}

static sb_str str_at(const ex_acc *a, int64_t off)
{
    uint32_t len;
    memcpy(&len, a->strs.ptr + off, sizeof(len));
    return sb_str_make(a->strs.ptr + off + sizeof(len), len);
}

/* Go's string order: bytewise, a prefix first. */
static int cmp_str_val(const ex_acc *a, const ex_pt *p, const ex_pt *q)
{
    sb_str x = str_at(a, p->i), y = str_at(a, q->i);
    size_t n = x.len < y.len ? x.len : y.len;
    int r = n ? memcmp(x.ptr, y.ptr, n) : 0;
    return r ? r : (x.len > y.len) - (x.len < y.len);
}

static int cmp_vts_s(const void *x, const void *y, void *arg)
{
    const ex_pt *p = x, *q = y;
    int r = cmp_str_val(arg, p, q);
    if (!r)
        r = cmp_t(x, y);
    return r ? r : (p->seq > q->seq) - (p->seq < q->seq);
}

static int cmp_ts_s(const void *x, const void *y, void *arg)
{
    int r = cmp_t(x, y);
    return r ? r : cmp_str_val(arg, x, y);
}

/* Sorted by value, then time, then series. */
static void sort_by_value(ex_acc *a, pt_kind kd)
{
    if (kd == KIND_STR)
        qsort_r(a->pts, a->npts, sizeof(ex_pt), cmp_vts_s, a);
    else
        qsort(a->pts, a->npts, sizeof(ex_pt), kd == KIND_INT ? cmp_vts_i : cmp_vts_f);
}

static bool pt_same(const ex_acc *a, const ex_pt *p, const ex_pt *q, pt_kind kd)
{
    switch (kd) {
    case KIND_STR:
        return cmp_str_val(a, p, q) == 0;
    case KIND_INT:
        return p->i == q->i;
    default:
        return p->f == q->f;
    }
}

ex_val ex__acc_pt_val(const ex_acc *a, const ex_call *k, const ex_pt *p)
{
    ex_val v = {.type = (int)ex__call_type(k, k->type)};
    switch (v.type) {
    case TSDB_INT:
        v.i = p->i;
        break;
    case TSDB_BOOL:
        v.b = p->i == 0;
        break;
    case TSDB_STRING:
        v.s = str_at(a, p->i);
        break;
    default:
        v.type = TSDB_FLOAT;
        v.f = p->f;
        break;
    }
    return v;
}

/* mode(): the most frequent value. The points sorted by value (then
 * time), InfluxDB's scan: a value becomes the answer when its count
 * reaches the best count so far, unless its run began after the point
 * that set the best; the first value of all stands for a count of one. */
static size_t mode_of(ex_acc *a, pt_kind kd)
{
    sort_by_value(a, kd);
    size_t best = 0, run = 0;
    uint64_t best_n = 0, run_n = 0;
    int64_t best_t = a->pts[0].t, run_t = a->pts[0].t;
    for (size_t x = 0; x < a->npts; x++) {
        if (!pt_same(a, &a->pts[x], &a->pts[run], kd)) {
            run = x;
            run_n = 1;
            run_t = a->pts[x].t;
            continue;
        }
        run_n++;
        if (best_n > run_n || (best_n == run_n && run_t > best_t))
            continue;
        best_n = run_n;
        best = x;
        best_t = a->pts[x].t;
    }
    return best;
}

static size_t count_distinct(ex_acc *a, pt_kind kd)
{
    sort_by_value(a, kd);
    size_t n = 0;
    for (size_t x = 0; x < a->npts; x++)
        n += x == 0 || !pt_same(a, &a->pts[x], &a->pts[x - 1], kd);
    return n;
}

/* The line through (t0, y0) and (t1, y1) at t: slope first, as InfluxDB. */
static double lerp(int64_t t, int64_t t0, int64_t t1, double y0, double y1)
{
    double m = (y1 - y0) / (double)(t1 - t0);
    return m * (double)(t - t0) + y0;
}

void ex__acc_integral(ex_acc *accs, size_t nb, size_t stride, const ex_call *k, int64_t base,
                      int64_t interval, int64_t end)
{
    bool is_int = k->type == TSDB_INT;
    double unit = (double)(k->unit > 0 ? k->unit : 1000000000);
    bool have = false;
    int64_t pt_t = 0, ws = 0, we = 0; /* the previous point; its window */
    double py = 0, sum = 0;
    size_t wb = 0;
    for (size_t b = 0; b < nb; b++) {
        ex_acc *acc = &accs[b * stride];
        if (!acc->npts)
            continue;
        qsort(acc->pts, acc->npts, sizeof(ex_pt), cmp_ts);
        int64_t bs = interval ? base + (int64_t)b * interval : base;
        int64_t be = interval ? bs + interval : end;
        for (size_t x = 0; x < acc->npts; x++) {
            const ex_pt *p = &acc->pts[x];
            double y = is_int ? (double)p->i : p->f;
            if (!have) {
                have = true;
                pt_t = p->t;
                py = y;
                wb = b;
                ws = bs;
                we = be;
                continue;
            }
            if (p->t == pt_t) { /* the same time again: the later one stands */
                py = y;
                continue;
            }
            if (p->t >= we) {
                /* Close the window: the area up to its end, interpolated. */
                if (pt_t != we) {
                    double v = lerp(we, pt_t, p->t, py, y);
                    sum += 0.5 * (v + py) * ((double)(we - pt_t) / unit);
                    pt_t = we;
                    /* InfluxDB's integer reducer keeps the previous value
                     * and carries the interpolated one as the next point's
                     * (its float reducer does the reverse); the answers
                     * follow it. */
                    if (is_int)
                        y = v;
                    else
                        py = v;
                }
                accs[wb * stride].integ = sum;
                accs[wb * stride].integ_has = true;
                sum = 0;
                wb = b;
                ws = bs;
                we = be;
            }
            sum += 0.5 * (y + py) * ((double)(p->t - pt_t) / unit);
            pt_t = p->t;
            py = is_int ? (double)p->i : p->f;
        }
    }
    /* The last window, unless its only point lies on its start. */
    if (have && pt_t != ws) {
        accs[wb * stride].integ = sum;
        accs[wb * stride].integ_has = true;
    }
}

ex_val ex__acc_result(ex_acc *a, const ex_call *k, int64_t *t, uint32_t *seq)
{
    ex_val r = {.type = EX_NULL};
    bool is_int = k->type == TSDB_INT;
    if (!a->n && k->fn != EX_COUNT)
        return r;
    switch (k->fn) {
    case EX_COUNT:
        r.type = TSDB_INT;
        r.i = (int64_t)a->n;
        return r;
    case EX_SUM:
        if (is_int) {
            r.type = TSDB_INT;
            r.i = a->isum;
        } else {
            r.type = TSDB_FLOAT;
            r.f = a->sum;
        }
        return r;
    case EX_MEAN:
        r.type = TSDB_FLOAT;
        r.f = a->sum / (double)a->n;
        return r;
    case EX_MIN:
    case EX_MAX:
    case EX_FIRST:
    case EX_LAST:
        *t = a->tbest;
        *seq = a->sbest;
        return a->best;
    case EX_SPREAD:
        r.type = a->lo.type;
        if (r.type == TSDB_INT)
            r.i = (int64_t)((uint64_t)a->hi.i - (uint64_t)a->lo.i);
        else
            r.f = a->hi.f - a->lo.f;
        return r;
    case EX_STDDEV:
        if (a->n < 2)
            return r;
        r.type = TSDB_FLOAT;
        if (a->welford) {
            r.f = sqrt(a->m2 / (double)(a->n - 1));
            return r;
        }
        {
            /* In time order: the running mean, then the squared deviations. */
            qsort(a->pts, a->npts, sizeof(ex_pt), cmp_t);
            double mean = 0, var = 0;
            for (size_t x = 0; x < a->npts; x++)
                mean += (a->pts[x].f - mean) / (double)(x + 1);
            for (size_t x = 0; x < a->npts; x++)
                var += (a->pts[x].f - mean) * (a->pts[x].f - mean);
            r.f = sqrt(var / (double)(a->npts - 1));
        }
        return r;
    case EX_PERCENTILE: {
        double idx = floor((double)a->n * k->pct / 100.0 + 0.5) - 1;
        if (!(idx >= 0 && idx < (double)a->n))
            return r;
        size_t i = (size_t)idx;
        if (a->sk) {
            double v = tsdb_sketch_rank(a->sk, i);
            r.type = is_int ? TSDB_INT : TSDB_FLOAT;
            if (is_int)
                r.i = (int64_t)llround(v);
            else
                r.f = v;
            return r;
        }
        select_rank(a->pts, a->npts, i, is_int);
        *t = a->pts[i].t;
        *seq = a->pts[i].seq;
        r.type = is_int ? TSDB_INT : TSDB_FLOAT;
        if (is_int)
            r.i = a->pts[i].i;
        else
            r.f = a->pts[i].f;
        return r;
    }
    case EX_MODE:
        return ex__acc_pt_val(a, k, &a->pts[mode_of(a, kind_of(k))]);
    case EX_COUNT_DISTINCT:
        r.type = TSDB_INT;
        r.i = (int64_t)count_distinct(a, kind_of(k));
        return r;
    case EX_INTEGRAL:
        if (a->integ_has) {
            r.type = TSDB_FLOAT;
            r.f = a->integ;
        }
        return r;
    case EX_MEDIAN: {
        r.type = TSDB_FLOAT;
        size_t n = (size_t)a->n;
        if (a->sk) {
            if (n % 2)
                r.f = tsdb_sketch_rank(a->sk, n / 2);
            else {
                double lo = tsdb_sketch_rank(a->sk, n / 2 - 1), hi = tsdb_sketch_rank(a->sk, n / 2);
                r.f = lo + (hi - lo) / 2;
            }
            return r;
        }
        qsort(a->pts, a->npts, sizeof(ex_pt), is_int ? cmp_i : cmp_f);
        if (n % 2) {
            r.f = is_int ? (double)a->pts[n / 2].i : a->pts[n / 2].f;
        } else if (is_int) {
            r.f = (double)a->pts[n / 2 - 1].i +
                  (double)(int64_t)((uint64_t)a->pts[n / 2].i - (uint64_t)a->pts[n / 2 - 1].i) / 2;
        } else {
            r.f = a->pts[n / 2 - 1].f + (a->pts[n / 2].f - a->pts[n / 2 - 1].f) / 2;
        }
        return r;
    }
    default:
        return r;
    }
}

static int cmp_better(const void *x, const void *y, void *arg)
{
    const ex_call *k = arg;
    bool is_int = k->type == TSDB_INT;
    int sign = k->fn == EX_TOP ? 1 : -1;
    if (better(x, y, sign, is_int))
        return -1;
    return better(y, x, sign, is_int);
}

const ex_pt *ex__acc_top(ex_acc *a, const ex_call *k, size_t *n)
{
    *n = a->npts;
    if (!a->npts) /* an empty bucket that a fill brings in */
        return a->pts;
    if (k->fn == EX_DISTINCT) {
        /* Each value once, at its earliest time; then in time order (by
         * value among equal times), as InfluxDB's reducer lists them. */
        pt_kind kd = kind_of(k);
        sort_by_value(a, kd);
        size_t m = 0;
        for (size_t x = 0; x < a->npts; x++)
            if (m == 0 || !pt_same(a, &a->pts[x], &a->pts[m - 1], kd))
                a->pts[m++] = a->pts[x];
        a->npts = m;
        if (kd == KIND_STR)
            qsort_r(a->pts, a->npts, sizeof(ex_pt), cmp_ts_s, a);
        else
            qsort(a->pts, a->npts, sizeof(ex_pt), kd == KIND_INT ? cmp_ti : cmp_tf);
        *n = a->npts;
        return a->pts;
    }
    if (k->ntagargs && (int64_t)a->npts > k->n) {
        /* The N best of the tag values' best points. */
        qsort_r(a->pts, a->npts, sizeof(ex_pt), cmp_better, (void *)k);
        a->npts = (size_t)k->n;
    }
    qsort(a->pts, a->npts, sizeof(ex_pt), cmp_t);
    *n = a->npts;
    return a->pts;
}

void ex__acc_deinit(ex_acc *a)
{
    free(a->pts);
    sb_buf_free(&a->best_str);
    sb_buf_free(&a->strs);
    if (a->bykey) {
        sb_map_deinit(a->bykey);
        free(a->bykey);
    }
    if (a->sk) {
        tsdb_sketch_deinit(a->sk);
        free(a->sk);
    }
}
