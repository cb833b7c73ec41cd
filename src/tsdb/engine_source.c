/*
 * engine_source.c: the engine as a tsdb_source (source.h): listings from
 * the series index, scans that merge block files and heads with the last
 * write winning, and the rollup walk.
 *
 * Every walk takes a reference to its database, holds the database's
 * lock shared only while it copies out what it needs (pointers to series
 * and names, which live as long as the database; block locations with a
 * reference to their file; head points), and calls back with no lock
 * held, so a callback may start another walk or a write.
 *
 * The non-blocking view (tsdb_engine_source_nowait) runs the same walks
 * with a second vtable: locks only by trylock, block reads only from the
 * page cache (RWF_NOWAIT); what would wait returns -TSDB_E_BUSY.
 *
 * Merging a scan: sources in age order (block files by sequence number,
 * then the head being flushed, then the head). When they are each sorted
 * and follow each other in time (data written in order) they are
 * concatenated; otherwise all points are sorted by time, stably, and of
 * equal times the newest source's last point is kept.
 */
#include "tsdb/engine_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHUNK_POINTS 4096

static int busy(sb_errbuf *err, const char *what)
{
    sb_errf(err, "%s", what);
    return -(int)TSDB_E_BUSY;
}

/* Takes l shared; without waiting (false if a writer holds it) when
 * nowait. */
static bool rdlock(pthread_rwlock_t *l, bool nowait)
{
    if (nowait)
        return pthread_rwlock_tryrdlock(l) == 0;
    pthread_rwlock_rdlock(l);
    return true;
}

static int str_cmp(sb_str a, sb_str b)
{
    int c = memcmp(a.ptr, b.ptr, SB_MIN(a.len, b.len));
    if (c)
        return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

static int cmp_str(const void *a, const void *b)
{
    return str_cmp(*(const sb_str *)a, *(const sb_str *)b);
}

/* ---- scan ---- */

typedef struct run {
    size_t start, n; /* into the merged arrays */
    bool sorted;     /* strictly increasing */
} run;

typedef struct merge {
    SB_VEC(int64_t) t;
    SB_VEC(uint64_t) v; /* bit patterns; strings: index into strs */
    SB_VEC(sb_str) strs;
    SB_VEC(run) runs;
    SB_VEC(char *) keep; /* buffers strings point into */
} merge;

static void merge_free(merge *m)
{
    sb_vec_free(&m->t);
    sb_vec_free(&m->v);
    sb_vec_free(&m->strs);
    sb_vec_free(&m->runs);
    for (size_t i = 0; i < m->keep.len; i++)
        free(m->keep.items[i]);
    sb_vec_free(&m->keep);
}

/* Starts a run of at most n points: the arrays grow once for it instead
 * of doubling their way up (a scan of a few blocks was a dozen reallocs a
 * series). */
static void run_begin(merge *m, size_t n)
{
    sb_vec_push(&m->runs, ((run){m->t.len, 0, true}));
    sb_vec_reserve(&m->t, n);
    sb_vec_reserve(&m->v, n);
}

static void run_push(merge *m, int64_t t, uint64_t v)
{
    run *r = &m->runs.items[m->runs.len - 1];
    if (r->n && m->t.items[m->t.len - 1] >= t)
        r->sorted = false;
    sb_vec_push(&m->t, t);
    sb_vec_push(&m->v, v);
    r->n++;
}

/* Copies a head's points in range (under the database lock). */
/* The first index in [from, to) of a sorted head whose time is >= t. */
static uint32_t head_lower(const tsdb__head *h, uint32_t from, uint32_t to, int64_t t)
{
    while (from < to) {
        uint32_t mid = from + (to - from) / 2;
        if (h->p[mid].t < t)
            from = mid + 1;
        else
            to = mid;
    }
    return from;
}

static void collect_head(merge *m, const tsdb__head *h, tsdb_type type, int64_t tmin, int64_t tmax)
{
    uint32_t from = 0, to = h->n;
    if (h->sorted && to) {
        /* In time order (the common case): the range is a slice, found by
         * bisection; a scan of a range without points costs no walk. */
        from = head_lower(h, 0, to, tmin);
        to = tmax == INT64_MAX ? to : head_lower(h, from, to, tmax + 1);
    }
    if (from >= to)
        return;
    run_begin(m, to - from);
    char *copy = NULL;
    size_t used = 0;
    if (type == TSDB_STRING) {
        size_t bytes = 0;
        for (uint32_t i = from; i < to; i++)
            if (h->p[i].t >= tmin && h->p[i].t <= tmax)
                bytes += ((const tsdb__hstr *)(uintptr_t)h->p[i].v)->len;
        copy = sb_malloc(bytes ? bytes : 1);
        sb_vec_push(&m->keep, copy);
    }
    for (uint32_t i = from; i < to; i++) {
        if (h->p[i].t < tmin || h->p[i].t > tmax)
            continue;
        uint64_t v = h->p[i].v;
        if (type == TSDB_STRING) {
            const tsdb__hstr *s = (const tsdb__hstr *)(uintptr_t)v;
            memcpy(copy + used, s->b, s->len);
            sb_vec_push(&m->strs, sb_str_make(copy + used, s->len));
            used += s->len;
            v = m->strs.len - 1;
        }
        run_push(m, h->p[i].t, v);
    }
}

/* Reads a block's bytes into buf; 0 or a negative tsdb_err. */
static int read_bytes(const tsdb__bref *b, char *buf, bool nowait, sb_errbuf *err)
{
    size_t done = 0;
    while (done < b->len) {
        struct iovec iov = {buf + done, b->len - done};
        ssize_t k = preadv2(b->file->fd, &iov, 1, (off_t)(b->off + done), nowait ? RWF_NOWAIT : 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && nowait) {
            /* EAGAIN: not in the page cache; EOPNOTSUPP: a file system
             * that cannot tell. Either way a thread that may wait reads
             * it. */
            return busy(err, "a block is not in memory");
        }
        if (k <= 0) {
            sb_errf(err, "block file %lld-%llu: read failed", (long long)b->file->window,
                    (unsigned long long)b->file->seq);
            return -(int)TSDB_E_IO;
        }
        done += (size_t)k;
    }
    return 0;
}

static int corrupt(const tsdb__bref *b, tsdb_err rc, sb_errbuf *err)
{
    sb_errf(err, "block file %lld-%llu at %llu: %s", (long long)b->file->window,
            (unsigned long long)b->file->seq, (unsigned long long)b->off, tsdb_err_str(rc));
    return -(int)rc;
}

size_t tsdb__times_lower(const int64_t *times, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (times[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A block of 8-byte numbers (float, int, uint), whose values are their
 * own bit patterns: copied from the cache (bc, NULL: none) when it keeps
 * the block, else read and decoded straight into the merge arrays (and
 * kept); the slice in [tmin, tmax] stays (a block's times are strictly
 * increasing, so the run stays sorted). */
static int read_numbers(merge *m, const tsdb__bref *b, tsdb_type type, int64_t tmin, int64_t tmax,
                        bool nowait, tsdb__bcache *bc, sb_errbuf *err)
{
    sb_vec_reserve(&m->t, b->count);
    sb_vec_reserve(&m->v, b->count);
    int64_t *t = m->t.items + m->t.len;
    uint64_t *v = m->v.items + m->v.len;
    size_t lo = 0, hi;
    if (!bc || !tsdb__bc_get(bc, b->file->seq, b->off, b->count, tmin, tmax, t, v, &hi)) {
        /* Most blocks are small: their bytes need no allocation. */
        char small[8192];
        char *buf = b->len <= sizeof(small) ? small : sb_malloc(b->len);
        int rc = read_bytes(b, buf, nowait, err);
        tsdb_block_info info;
        tsdb_err e = TSDB_E_OK;
        if (!rc) {
            e = tsdb_block_decode_into(buf, b->len, type, b->count, t, v, &info);
            if (e == TSDB_E_OK && info.count != b->count)
                e = TSDB_E_CORRUPT;
            if (e == TSDB_E_TYPE || e == TSDB_E_LIMIT)
                e = TSDB_E_CORRUPT; /* not the block its index entry says */
        }
        if (buf != small)
            free(buf);
        if (rc)
            return rc;
        if (e != TSDB_E_OK)
            return corrupt(b, e, err);
        if (bc)
            tsdb__bc_put(bc, b->file->seq, b->off, b->count, t, v);
        lo = tmin <= info.min_time ? 0 : tsdb__times_lower(t, info.count, tmin);
        hi = tmax >= info.max_time
                 ? info.count
                 : tsdb__times_lower(t, info.count, tmax == INT64_MAX ? tmax : tmax + 1);
        if (lo >= hi)
            return 0;
        if (lo) {
            memmove(t, t + lo, (hi - lo) * sizeof(*t));
            memmove(v, v + lo, (hi - lo) * sizeof(*v));
        }
    }
    if (hi > lo) {
        sb_vec_push(&m->runs, ((run){m->t.len, hi - lo, true}));
        m->t.len += hi - lo;
        m->v.len += hi - lo;
    }
    return 0;
}

/* Reads a block's points in [tmin, tmax] into a run of m; numbers through
 * the cache bc (NULL: none). */
static int read_block(merge *m, const tsdb__bref *b, tsdb_type type, int64_t tmin, int64_t tmax,
                      bool nowait, tsdb__bcache *bc, sb_errbuf *err)
{
    if (type == TSDB_FLOAT || type == TSDB_INT || type == TSDB_UINT)
        return read_numbers(m, b, type, tmin, tmax, nowait, bc, err);
    char *buf = sb_malloc(b->len);
    int rc = read_bytes(b, buf, nowait, err);
    if (rc) {
        free(buf);
        return rc;
    }
    tsdb_block blk;
    tsdb_err e = tsdb_block_decode(buf, b->len, &blk);
    if (e == TSDB_E_OK && (blk.info.type != type || blk.info.count != b->count)) {
        tsdb_block_deinit(&blk);
        e = TSDB_E_CORRUPT;
    }
    if (e != TSDB_E_OK) {
        free(buf);
        return corrupt(b, e, err);
    }
    run_begin(m, blk.info.count);
    for (uint32_t i = 0; i < blk.info.count; i++) {
        int64_t t = blk.times[i];
        if (t < tmin || t > tmax)
            continue;
        uint64_t v;
        if (type == TSDB_BOOL) {
            v = blk.values.b[i];
        } else {
            sb_vec_push(&m->strs, blk.values.s[i]);
            v = m->strs.len - 1;
        }
        run_push(m, t, v);
    }
    tsdb_block_deinit(&blk);
    if (type == TSDB_STRING)
        sb_vec_push(&m->keep, buf);
    else
        free(buf);
    return 0;
}

/* Emits the merged points in chunks. */
static int emit(merge *m, tsdb_type type, tsdb_chunk_cb cb, void *arg)
{
    size_t n = m->t.len;
    bool simple = true;
    for (size_t r = 0; r < m->runs.len && simple; r++) {
        const run *x = &m->runs.items[r];
        if (!x->sorted)
            simple = false;
        else if (r && x->n && x->start > 0 && m->t.items[x->start - 1] >= m->t.items[x->start])
            simple = false;
    }
    size_t *order = NULL, k = n;
    if (!simple) {
        order = sb_malloc((n ? n : 1) * sizeof(*order));
        k = tsdb__newest_order(m->t.items, sizeof(int64_t), n, order);
    } else if (type == TSDB_FLOAT || type == TSDB_INT || type == TSDB_UINT) {
        /* In order, and the values are their own bit patterns: the chunks
         * are slices of the merge arrays. */
        int rc = 0;
        for (size_t at = 0; at < n && !rc; at += CHUNK_POINTS) {
            tsdb_chunk ch = {
                .type = type, .n = SB_MIN(CHUNK_POINTS, n - at), .times = m->t.items + at};
            const uint64_t *v = m->v.items + at;
            if (type == TSDB_FLOAT)
                ch.v.f = (const double *)(const void *)v;
            else if (type == TSDB_INT)
                ch.v.i = (const int64_t *)v;
            else
                ch.v.u = v;
            rc = cb(arg, &ch);
        }
        return rc;
    }
    /* A series of a few hundred points needs no 96 KiB of chunk buffers. */
    size_t cap = SB_MAX(SB_MIN(CHUNK_POINTS, k), 1);
    int64_t *ct = sb_malloc(cap * sizeof(*ct));
    uint64_t *cv = sb_malloc(cap * SB_MAX(sizeof(uint64_t), sizeof(sb_str)));
    int rc = 0;
    for (size_t at = 0; at < k && !rc; at += CHUNK_POINTS) {
        size_t c = SB_MIN(CHUNK_POINTS, k - at);
        tsdb_chunk ch = {.type = type, .n = c, .times = ct};
        for (size_t j = 0; j < c; j++) {
            size_t i = order ? order[at + j] : at + j;
            ct[j] = m->t.items[i];
            uint64_t v = m->v.items[i];
            switch (type) {
            case TSDB_BOOL:
                ((bool *)cv)[j] = v != 0;
                break;
            case TSDB_STRING:
                ((sb_str *)cv)[j] = m->strs.items[v];
                break;
            default:
                cv[j] = v;
            }
        }
        switch (type) {
        case TSDB_FLOAT:
            ch.v.f = (const double *)(const void *)cv;
            break;
        case TSDB_INT:
            ch.v.i = (const int64_t *)cv;
            break;
        case TSDB_UINT:
            ch.v.u = cv;
            break;
        case TSDB_BOOL:
            ch.v.b = (const bool *)cv;
            break;
        case TSDB_STRING:
            ch.v.s = (const sb_str *)(const void *)cv;
            break;
        }
        rc = cb(arg, &ch);
    }
    free(ct);
    free(cv);
    free(order);
    return rc;
}

int tsdb__read_refs(const tsdb__bref *refs, size_t n, tsdb_type type, tsdb_chunk_cb cb, void *arg,
                    sb_errbuf *err)
{
    merge m = {0};
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = read_block(&m, &refs[i], type, INT64_MIN, INT64_MAX, false, NULL, err);
    if (!rc)
        rc = emit(&m, type, cb, arg);
    merge_free(&m);
    return rc;
}

static bool is_nowait(const tsdb_source *s);
static tsdb_engine *eng(tsdb_source *s);
static int spend(tsdb_source *s, size_t n, sb_errbuf *err);

/* The scan of source s (NULL: maintain's, which may wait). */
static int scan(tsdb_source *s, tsdb__db *d, uint64_t series, sb_str field, int64_t tmin,
                int64_t tmax, tsdb_chunk_cb cb, void *arg, uint64_t *wseq, sb_errbuf *err)
{
    bool nowait = s && is_nowait(s);
    tsdb__bcache *bc = s ? &eng(s)->bcache : NULL; /* maintain's reads would wash it out */
    if (tmin > tmax)
        return 0;
    merge m = {0};
    SB_VEC(tsdb__bref) refs = {0};
    tsdb_type type = 0;
    if (!rdlock(&d->lock, nowait))
        return busy(err, "the database is being written");
    tsdb__sfield *sf = NULL;
    if (series >= 1 && series <= d->series.len)
        sf = tsdb__sfield_find(d->series.items[series - 1], field);
    if (sf) {
        type = sf->mf->type;
        for (size_t i = 0; i < sf->blocks.len; i++) {
            const tsdb__bref *b = &sf->blocks.items[i];
            if (b->max < tmin || b->min > tmax)
                continue;
            tsdb__file_ref(b->file);
            sb_vec_push(&refs, *b);
        }
        /* Blocks are read outside the lock; the heads are newer than every
         * block, so they go after them: remember where. */
        collect_head(&m, &sf->frozen, type, tmin, tmax);
        collect_head(&m, &sf->head, type, tmin, tmax);
        if (wseq)
            *wseq = sf->wseq;
    }
    pthread_rwlock_unlock(&d->lock);
    if (!sf) {
        merge_free(&m);
        return 0;
    }
    int rc = 0;
    if (s) {
        size_t items = m.t.len;
        for (size_t i = 0; i < refs.len; i++)
            items += refs.items[i].count;
        rc = spend(s, items, err);
    }
    if (refs.len) {
        /* Put the block runs before the head runs. */
        merge h = m;
        memset(&m, 0, sizeof(m));
        for (size_t i = 0; i < refs.len && !rc; i++)
            rc = read_block(&m, &refs.items[i], type, tmin, tmax, nowait, bc, err);
        for (size_t r = 0; r < h.runs.len && !rc; r++) {
            run x = h.runs.items[r];
            run_begin(&m, x.n);
            for (size_t i = x.start; i < x.start + x.n; i++) {
                uint64_t v = h.v.items[i];
                if (type == TSDB_STRING) {
                    sb_vec_push(&m.strs, h.strs.items[v]);
                    v = m.strs.len - 1;
                }
                run_push(&m, h.t.items[i], v);
            }
        }
        /* The head's string copies move over with the rest. */
        for (size_t i = 0; i < h.keep.len; i++)
            sb_vec_push(&m.keep, h.keep.items[i]);
        h.keep.len = 0;
        merge_free(&h);
        for (size_t i = 0; i < refs.len; i++)
            tsdb__file_unref(refs.items[i].file);
    }
    sb_vec_free(&refs);
    if (!rc)
        rc = emit(&m, type, cb, arg);
    merge_free(&m);
    return rc;
}

int tsdb__scan(tsdb_engine *e, tsdb__db *d, uint64_t series, sb_str field, int64_t tmin,
               int64_t tmax, tsdb_chunk_cb cb, void *arg, uint64_t *wseq, sb_errbuf *err)
{
    (void)e;
    return scan(NULL, d, series, field, tmin, tmax, cb, arg, wseq, err);
}

/* ---- the vtables ---- */

static bool is_nowait(const tsdb_source *s)
{
    return s->vt == &tsdb__engine_nowait_vt;
}

static tsdb_engine *eng(tsdb_source *s)
{
    return is_nowait(s) ? ((tsdb_nowait *)s)->e : (tsdb_engine *)s;
}

/* Charges n items to a non-blocking view's budget: 0, or -TSDB_E_BUSY
 * once it is spent. Free for the blocking view. */
static int spend(tsdb_source *s, size_t n, sb_errbuf *err)
{
    if (!is_nowait(s))
        return 0;
    tsdb_nowait *v = (tsdb_nowait *)s;
    v->spent += n;
    return v->spent <= v->budget ? 0 : busy(err, "over the budget of a quick read");
}

/* The database a walk reads: 0 with *d a ref or NULL (none of that name),
 * or -TSDB_E_BUSY from the non-blocking view when the list is locked. */
static int walk_db(tsdb_source *s, sb_str name, tsdb__db **d, sb_errbuf *err)
{
    if (!is_nowait(s)) {
        *d = tsdb__db_get(eng(s), name);
        return 0;
    }
    if (!tsdb__db_get_nowait(eng(s), name, d))
        return busy(err, "the database list is being changed");
    return 0;
}

/* walk_db, then the database's lock shared: 0 with *d locked (or NULL),
 * or -TSDB_E_BUSY with nothing held. */
static int walk_begin(tsdb_source *s, sb_str name, tsdb__db **d, sb_errbuf *err)
{
    int rc = walk_db(s, name, d, err);
    if (rc || !*d)
        return rc;
    if (!rdlock(&(*d)->lock, is_nowait(s))) {
        tsdb__db_unref(*d);
        *d = NULL;
        return busy(err, "the database is being written");
    }
    return 0;
}

static int src_databases(tsdb_source *s, tsdb_name_cb cb, void *arg, sb_errbuf *err)
{
    tsdb_engine *e = eng(s);
    SB_VEC(tsdb__db *) dbs = {0};
    if (!rdlock(&e->lock, is_nowait(s)))
        return busy(err, "the database list is being changed");
    for (size_t i = 0; i < e->dbs.len; i++) {
        tsdb__db_ref(e->dbs.items[i]);
        sb_vec_push(&dbs, e->dbs.items[i]);
    }
    pthread_rwlock_unlock(&e->lock);
    int rc = spend(s, dbs.len, err);
    for (size_t i = 0; i < dbs.len; i++) {
        if (!rc)
            rc = cb(arg, dbs.items[i]->name);
        tsdb__db_unref(dbs.items[i]);
    }
    sb_vec_free(&dbs);
    return rc;
}

static int src_measurements(tsdb_source *s, sb_str db, tsdb_name_cb cb, void *arg, sb_errbuf *err)
{
    tsdb__db *d;
    int rc = walk_begin(s, db, &d, err);
    if (rc || !d)
        return rc;
    SB_VEC(sb_str) names = {0};
    size_t it = 0;
    sb_map_entry *me;
    while ((me = sb_map_next(&d->meas, &it))) {
        tsdb__meas *m = me->value;
        if (m->series.len)
            sb_vec_push(&names, m->name);
    }
    pthread_rwlock_unlock(&d->lock);
    rc = spend(s, names.len, err);
    if (names.len && !rc)
        qsort(names.items, names.len, sizeof(sb_str), cmp_str);
    for (size_t i = 0; i < names.len && !rc; i++)
        rc = cb(arg, names.items[i]);
    sb_vec_free(&names);
    tsdb__db_unref(d);
    return rc;
}

static int cmp_mfield(const void *a, const void *b)
{
    return str_cmp((*(tsdb__mfield *const *)a)->name, (*(tsdb__mfield *const *)b)->name);
}

static int src_fields(tsdb_source *s, sb_str db, sb_str measurement, tsdb_field_cb cb, void *arg,
                      sb_errbuf *err)
{
    tsdb__db *d;
    int rc = walk_begin(s, db, &d, err);
    if (rc || !d)
        return rc;
    SB_VEC(tsdb__mfield *) fs = {0};
    tsdb__meas *m = tsdb__meas_get(d, measurement, false);
    for (size_t i = 0; m && i < m->fields.len; i++)
        sb_vec_push(&fs, m->fields.items[i]);
    pthread_rwlock_unlock(&d->lock);
    rc = spend(s, fs.len, err);
    if (fs.len && !rc)
        qsort(fs.items, fs.len, sizeof(*fs.items), cmp_mfield);
    for (size_t i = 0; i < fs.len && !rc; i++)
        rc = cb(arg, fs.items[i]->name, fs.items[i]->type);
    sb_vec_free(&fs);
    tsdb__db_unref(d);
    return rc;
}

static bool has_tag(const tsdb__series *s, const tsdb_tag *t)
{
    size_t lo = 0, hi = s->ntags;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = str_cmp(s->tags[mid].key, t->key);
        if (c == 0)
            return sb_str_eq(s->tags[mid].value, t->value);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int cmp_series(const void *a, const void *b)
{
    return str_cmp((*(tsdb__series *const *)a)->key, (*(tsdb__series *const *)b)->key);
}

static int src_series(tsdb_source *s, sb_str db, sb_str measurement, const tsdb_tag *must,
                      size_t nmust, tsdb_series_cb cb, void *arg, sb_errbuf *err)
{
    tsdb__db *d;
    int rc = walk_begin(s, db, &d, err);
    if (rc || !d)
        return rc;
    SB_VEC(tsdb__series *) out = {0};
    sb_buf pair = SB_BUF_INIT;
    tsdb__meas *m = tsdb__meas_get(d, measurement, false);
    const tsdb__posting *best = m ? &m->series : NULL;
    /* Walk the shortest posting list and check the other pairs on each
     * series' own (sorted) tags. */
    for (size_t i = 0; m && i < nmust; i++) {
        tsdb__tag_pair(&pair, must[i].key, must[i].value);
        const tsdb__posting *p = sb_map_get(&m->tags, sb_buf_str(&pair));
        if (!p) {
            best = NULL;
            break;
        }
        if (p->len < best->len)
            best = p;
    }
    if (best)
        rc = spend(s, best->len * TSDB_NOWAIT_SERIES_COST, err);
    for (size_t i = 0; best && !rc && i < best->len; i++) {
        tsdb__series *x = best->items[i];
        bool ok = true;
        for (size_t j = 0; j < nmust && ok; j++)
            ok = has_tag(x, &must[j]);
        if (ok)
            sb_vec_push(&out, x);
    }
    pthread_rwlock_unlock(&d->lock);
    sb_buf_free(&pair);
    if (out.len)
        qsort(out.items, out.len, sizeof(*out.items), cmp_series);
    for (size_t i = 0; i < out.len && !rc; i++) {
        tsdb__series *x = out.items[i];
        tsdb_series_info info = {x->id, x->key, x->m->name, x->tags, x->ntags};
        rc = cb(arg, &info);
    }
    sb_vec_free(&out);
    tsdb__db_unref(d);
    return rc;
}

static int src_scan(tsdb_source *s, sb_str db, uint64_t series, sb_str field, int64_t tmin,
                    int64_t tmax, tsdb_chunk_cb cb, void *arg, sb_errbuf *err)
{
    tsdb__db *d;
    int rc = walk_db(s, db, &d, err);
    if (rc || !d)
        return rc;
    rc = scan(s, d, series, field, tmin, tmax, cb, arg, NULL, err);
    tsdb__db_unref(d);
    return rc;
}

static int src_rollup(tsdb_source *s, sb_str db, uint64_t series, sb_str field, int64_t width,
                      int64_t tmin, int64_t tmax, tsdb_rollup_cb cb, void *arg, sb_errbuf *err)
{
    tsdb_engine *e = eng(s);
    unsigned w = 0;
    while (w < e->o.nrollups && e->o.rollups[w] != width)
        w++;
    if (w == e->o.nrollups || tmin > tmax)
        return 1;
    tsdb__db *d;
    int rc = walk_begin(s, db, &d, err);
    if (rc || !d)
        return rc ? rc : 1;
    SB_VEC(tsdb_rollup_row) rows = {0};
    bool decline = false;
    tsdb__sfield *sf = NULL;
    if (series >= 1 && series <= d->series.len)
        sf = tsdb__sfield_find(d->series.items[series - 1], field);
    if (!sf || !tsdb__has_roll(sf) || (sf->roll_off & (1u << w))) {
        decline = true;
    } else {
        const tsdb__rvec *rv = &sf->roll[w];
        size_t lo = tsdb__rrow_lower(rv, tmin), hi = tsdb__rrow_lower(rv, tmax - (width - 1) + 1);
        /* Charged before the copy: a wide range must not hold the lock. */
        rc = spend(s, hi - lo, err);
        for (size_t i = lo; i < hi && !decline && !rc; i++) {
            const tsdb__rrow *r = &rv->items[i];
            if (tsdb__rrow_dirty(r))
                decline = true;
            else if (r->count)
                sb_vec_push(&rows, *r);
        }
    }
    pthread_rwlock_unlock(&d->lock);
    tsdb__db_unref(d);
    if (!rc && decline)
        rc = 1;
    for (size_t i = 0; i < rows.len && !rc; i += 1024)
        rc = cb(arg, rows.items + i, SB_MIN(1024, rows.len - i));
    sb_vec_free(&rows);
    return rc;
}

/* Both views run the same functions, which tell them apart by the vtable. */
#define ENGINE_VT                                                                                  \
    {                                                                                              \
        .databases = src_databases, .measurements = src_measurements, .fields = src_fields,        \
        .series = src_series, .scan = src_scan, .rollup = src_rollup,                              \
    }
const tsdb_source_vt tsdb__engine_vt = ENGINE_VT;
const tsdb_source_vt tsdb__engine_nowait_vt = ENGINE_VT;
