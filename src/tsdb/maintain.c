/*
 * maintain.c: housekeeping, one caller at a time (tsdb_engine.maint):
 *
 * Flush (InfluxDB's cache snapshot): rotate the log, then per database
 * move every head aside as a frozen head under the write lock (a pointer
 * swap per field), encode the frozen heads into one block file per time
 * window with no lock held (readers still see the frozen heads), write
 * and sync the files, then under the write lock add their blocks to the
 * index and free the frozen heads. Once every database is done the
 * catalog records the rotated segment as the checkpoint and the log
 * segments up to it are deleted. If anything fails the frozen points go
 * back into the heads and the log keeps them.
 *
 * Compaction: the files of a window (when there are compact_files of
 * them, or two once the window has ended) are merged into one, each
 * field's points deduplicated with the newest file winning and cut into
 * blocks of up to 1000 points; the old files are unlinked when the new
 * one is in the index.
 *
 * Retention drops the files of windows that ended before now minus the
 * retention, and the rollup rows before them.
 *
 * Rollup repair recomputes rows that out-of-order writes made dirty, from
 * a scan of their range; if the field was written meanwhile (its write
 * sequence moved) the row stays dirty for the next round.
 */
#include "tsdb/engine_int.h"

#include <errno.h>
#include <fcntl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct job {
    tsdb__series *s;
    tsdb__mfield *mf;
    tsdb__head h;       /* flush: the frozen head (a copy of the struct) */
    size_t ref0, nrefs; /* compaction: its blocks in one refs array */
} job;

typedef SB_VEC(job) jobs;
typedef struct builders {
    const tsdb__db *d;
    SB_VEC(tsdb__tsf_builder *) v;
} builders;

static size_t value_size(tsdb_type t)
{
    return t == TSDB_BOOL ? sizeof(bool) : t == TSDB_STRING ? sizeof(sb_str) : 8;
}

static char *file_path(const tsdb__db *d, uint64_t seq, const char *ext)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_appendf(&b, "%s/%020" PRIu64 ".tsf%s", d->dir, seq, ext);
    return sb_buf_detach(&b, NULL);
}

/* Writes a finished builder to its file, synced; the file's single ref
 * is the caller's. */
static tsdb_err write_file(const tsdb__db *d, tsdb__tsf_builder *b, tsdb__file **out,
                           sb_errbuf *err)
{
    char *tmp = file_path(d, b->seq, ".tmp"), *path = file_path(d, b->seq, "");
    tsdb_err rc = TSDB_E_OK;
    if (b->fd < 0) /* builder_for could not open it: write it all now */
        b->fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int fd = b->fd;
    if (fd < 0 || !tsdb__tsf_spill(b) || fdatasync(fd) != 0 || rename(tmp, path) != 0) {
        sb_errf(err, "write %s: %s", path, strerror(errno));
        rc = TSDB_E_IO; /* builders_free closes and unlinks */
    } else {
        b->fd = -1; /* the file's now */
        tsdb__file *f = sb_calloc(1, sizeof(*f));
        atomic_init(&f->refs, 1);
        f->fd = fd;
        f->seq = b->seq;
        f->window = b->window;
        f->bytes = b->base;
        f->points = b->points;
        *out = f;
    }
    free(tmp);
    free(path);
    return rc;
}

static void files_insert(tsdb__db *d, tsdb__file *f)
{
    size_t i = d->files.len;
    while (i > 0) {
        const tsdb__file *x = d->files.items[i - 1];
        if (x->window < f->window || (x->window == f->window && x->seq < f->seq))
            break;
        i--;
    }
    sb_vec_reserve(&d->files, 1);
    memmove(&d->files.items[i + 1], &d->files.items[i],
            (d->files.len - i) * sizeof(*d->files.items));
    d->files.items[i] = f;
    d->files.len++;
}

/* Adds a written file's blocks to the fields (under the write lock). */
static void install(tsdb__db *d, const tsdb__tsf_builder *b, tsdb__file *f)
{
    for (size_t i = 0; i < b->entries.len; i++) {
        const tsdb__tsf_entry *en = &b->entries.items[i];
        tsdb__series *s = (tsdb__series *)b->ids.items[en->series];
        tsdb__sfield *sf = tsdb__sfield_find(s, b->names.items[en->field]);
        tsdb__file_ref(f);
        tsdb__bref_push(sf, (tsdb__bref){f, en->off, en->len, en->count, en->min, en->max});
    }
    files_insert(d, f);
}

static tsdb__tsf_builder *builder_for(tsdb_engine *e, builders *bs, int64_t window)
{
    for (size_t i = 0; i < bs->v.len; i++)
        if (bs->v.items[i]->window == window)
            return bs->v.items[i];
    tsdb__tsf_builder *b = sb_malloc(sizeof(*b));
    tsdb__tsf_builder_init(b, window, e->next_file++);
    char *tmp = file_path(bs->d, b->seq, ".tmp");
    b->fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    free(tmp);
    sb_vec_push(&bs->v, b);
    return b;
}

static void builders_free(builders *bs)
{
    for (size_t i = 0; i < bs->v.len; i++) {
        tsdb__tsf_builder *b = bs->v.items[i];
        if (b->fd >= 0) { /* not committed */
            close(b->fd);
            char *tmp = file_path(bs->d, b->seq, ".tmp");
            unlink(tmp);
            free(tmp);
        }
        tsdb__tsf_builder_deinit(b);
        free(b);
    }
    sb_vec_free(&bs->v);
}

/* Writes the builders' files and installs them. */
static tsdb_err commit_builders(tsdb__db *d, builders *bs, sb_errbuf *err)
{
    tsdb__file **files = sb_calloc(bs->v.len + 1, sizeof(*files));
    tsdb_err rc = TSDB_E_OK;
    for (size_t i = 0; i < bs->v.len && rc == TSDB_E_OK; i++) {
        tsdb__tsf_finish(bs->v.items[i]);
        rc = write_file(d, bs->v.items[i], &files[i], err);
    }
    if (rc == TSDB_E_OK)
        rc = tsdb__fsync_dir(d->dir, err);
    if (rc == TSDB_E_OK) {
        pthread_rwlock_wrlock(&d->lock);
        for (size_t i = 0; i < bs->v.len; i++)
            install(d, bs->v.items[i], files[i]);
        pthread_rwlock_unlock(&d->lock);
    } else {
        for (size_t i = 0; i < bs->v.len; i++) {
            if (!files[i])
                continue;
            char *path = file_path(d, files[i]->seq, "");
            unlink(path);
            free(path);
            tsdb__file_unref(files[i]);
        }
    }
    free(files);
    return rc;
}

/* ---- flush ---- */

static tsdb_err flush_jobs(tsdb_engine *e, tsdb__db *d, const jobs *js, sb_errbuf *err)
{
    builders bs = {d, {0}};
    tsdb_err rc = TSDB_E_OK;
    int64_t W = e->o.window_ns;
    for (size_t k = 0; k < js->len && rc == TSDB_E_OK; k++) {
        const job *j = &js->items[k];
        tsdb_type type = j->mf->type;
        int64_t *t;
        void *v;
        size_t n = tsdb__head_sorted(&j->h, type, &t, &v);
        size_t vs = value_size(type);
        for (size_t i = 0; i < n && rc == TSDB_E_OK;) {
            int64_t w = tsdb__floor(t[i], W);
            size_t end = i + 1;
            while (end < n && tsdb__floor(t[end], W) == w)
                end++;
            tsdb__tsf_builder *b = builder_for(e, &bs, w);
            rc = tsdb__tsf_add(b, j->s, j->s->key, j->mf->name, type, t + i, (char *)v + i * vs,
                               end - i);
            i = end;
        }
        free(t);
        free(v);
    }
    if (rc == TSDB_E_OK)
        rc = commit_builders(d, &bs, err);
    else
        sb_errf(err, "flush: %s", tsdb_err_str(rc));
    builders_free(&bs);
    return rc;
}

/* Puts frozen points back in front of the head (they are older). */
static void unfreeze(tsdb__sfield *sf)
{
    tsdb__head *f = &sf->frozen, *h = &sf->head;
    if (!f->n)
        return;
    uint32_t n = f->n + h->n;
    tsdb__head x = {sb_malloc(n * sizeof(tsdb__hpt)), n, n, true};
    memcpy(x.p, f->p, f->n * sizeof(tsdb__hpt));
    if (h->n)
        memcpy(x.p + f->n, h->p, h->n * sizeof(tsdb__hpt));
    x.sorted = f->sorted && (h->n == 0 || (h->sorted && f->p[f->n - 1].t < h->p[0].t));
    free(f->p);
    free(h->p);
    memset(f, 0, sizeof(*f));
    *h = x;
}

static tsdb_err flush_db(tsdb_engine *e, tsdb__db *d, sb_errbuf *err)
{
    jobs js = {0};
    pthread_rwlock_wrlock(&d->lock);
    for (size_t i = 0; i < d->series.len; i++) {
        tsdb__series *s = d->series.items[i];
        for (uint32_t k = 0; k < s->nfields; k++) {
            tsdb__sfield *sf = &s->fields[k];
            if (!sf->head.n)
                continue;
            sf->frozen = sf->head;
            memset(&sf->head, 0, sizeof(sf->head));
            sb_vec_push(&js, ((job){.s = s, .mf = sf->mf, .h = sf->frozen}));
        }
    }
    uint64_t moved = d->head_points;
    d->head_points = 0;
    d->frozen = true;
    pthread_rwlock_unlock(&d->lock);
    atomic_fetch_sub(&e->head_points, moved);

    tsdb_err rc = js.len ? flush_jobs(e, d, &js, err) : TSDB_E_OK;

    pthread_rwlock_wrlock(&d->lock);
    for (size_t k = 0; k < js.len; k++) {
        tsdb__sfield *sf = tsdb__sfield_get(e, js.items[k].s, js.items[k].mf);
        if (rc == TSDB_E_OK)
            tsdb__head_free(&sf->frozen, sf->mf->type);
        else
            unfreeze(sf);
    }
    d->frozen = false;
    if (rc != TSDB_E_OK)
        d->head_points += moved;
    pthread_rwlock_unlock(&d->lock);
    if (rc != TSDB_E_OK)
        atomic_fetch_add(&e->head_points, moved);
    sb_vec_free(&js);
    return rc;
}

typedef SB_VEC(tsdb__db *) dblist;

static void dbs_snapshot(tsdb_engine *e, dblist *out)
{
    pthread_rwlock_rdlock(&e->lock);
    for (size_t i = 0; i < e->dbs.len; i++) {
        tsdb__db_ref(e->dbs.items[i]);
        sb_vec_push(out, e->dbs.items[i]);
    }
    pthread_rwlock_unlock(&e->lock);
}

/* ---- rollup snapshots (rollup_file.c) ---- */

typedef struct stale_snap {
    tsdb__db *d;
    uint64_t n;
} stale_snap;
typedef SB_VEC(stale_snap) stale_list;

/* Saves a snapshot of d's rows when they changed since its last one and
 * names it in d->snap (0 when it could not be written: opening then
 * recomputes them); the number the catalog stops naming goes to stale. */
static void snapshot_db(tsdb_engine *e, tsdb__db *d, stale_list *stale)
{
    pthread_rwlock_rdlock(&d->lock);
    bool changed = d->roll_version != d->snap_version;
    pthread_rwlock_unlock(&d->lock);
    if (!changed)
        return;
    uint64_t n = e->next_file++;
    sb_errbuf e2;
    if (d->snap)
        sb_vec_push(stale, ((stale_snap){d, d->snap}));
    d->snap = tsdb__rollup_save(e, d, n, &e2) == TSDB_E_OK ? n : 0;
}

/* Once the catalog no longer names them. */
static void remove_stale(stale_list *stale)
{
    for (size_t i = 0; i < stale->len; i++) {
        char *path = tsdb__rollup_path(stale->items[i].d, stale->items[i].n, false);
        unlink(path);
        free(path);
    }
    sb_vec_free(stale);
}

static tsdb_err flush(tsdb_engine *e, const dblist *dbs, sb_errbuf *err)
{
    uint64_t closed;
    tsdb_err rc = tsdb__wal_rotate(&e->wal, &closed, err);
    if (rc != TSDB_E_OK)
        return rc;
    atomic_store(&e->first_unflushed, 0);
    for (size_t i = 0; i < dbs->len && rc == TSDB_E_OK; i++)
        rc = flush_db(e, dbs->items[i], err);
    if (rc == TSDB_E_OK) {
        /* Before the checkpoint moves past the rotated segments: a
         * snapshot's position must stay in the log that opening replays
         * (a database without changes has no record after its position). */
        stale_list stale = {0};
        for (size_t i = 0; i < dbs->len; i++)
            snapshot_db(e, dbs->items[i], &stale);
        uint64_t old = e->checkpoint;
        e->checkpoint = closed;
        rc = tsdb__catalog_write(e, err);
        if (rc == TSDB_E_OK) {
            tsdb__wal_remove_upto(&e->wal, closed);
            remove_stale(&stale);
        } else {
            e->checkpoint = old;
            sb_vec_free(&stale); /* the catalog on disk may still name them */
        }
    }
    return rc;
}

/* ---- compaction ---- */

typedef struct acc {
    tsdb_type type;
    SB_VEC(int64_t) t;
    SB_VEC(uint64_t) v;
    SB_VEC(bool) b;
    SB_VEC(sb_str) s;
    sb_arena a;
} acc;

static int acc_chunk(void *arg, const tsdb_chunk *c)
{
    acc *x = arg;
    for (size_t i = 0; i < c->n; i++) {
        sb_vec_push(&x->t, c->times[i]);
        switch (c->type) {
        case TSDB_FLOAT: {
            uint64_t u;
            memcpy(&u, &c->v.f[i], 8);
            sb_vec_push(&x->v, u);
            break;
        }
        case TSDB_INT:
        case TSDB_UINT:
            sb_vec_push(&x->v, (uint64_t)c->v.i[i]);
            break;
        case TSDB_BOOL:
            sb_vec_push(&x->b, c->v.b[i]);
            break;
        case TSDB_STRING: {
            sb_str s = c->v.s[i];
            char *p = sb_arena_alloc(&x->a, s.len ? s.len : 1);
            memcpy(p, s.ptr, s.len);
            sb_vec_push(&x->s, sb_str_make(p, s.len));
            break;
        }
        }
    }
    return 0;
}

typedef SB_VEC(tsdb__bref) brefs;

static void refs_free(brefs *r)
{
    for (size_t i = 0; i < r->len; i++)
        tsdb__file_unref(r->items[i].file);
    sb_vec_free(r);
}

static tsdb_err compact_window(tsdb_engine *e, tsdb__db *d, int64_t window, sb_errbuf *err)
{
    jobs js = {0};
    brefs refs = {0}; /* one array for all jobs: most have one or two */
    pthread_rwlock_rdlock(&d->lock);
    for (size_t i = 0; i < d->series.len; i++) {
        tsdb__series *s = d->series.items[i];
        for (uint32_t k = 0; k < s->nfields; k++) {
            tsdb__sfield *sf = &s->fields[k];
            job j = {.s = s, .mf = sf->mf, .ref0 = refs.len};
            for (size_t b = 0; b < sf->blocks.len; b++) {
                if (sf->blocks.items[b].file->window != window)
                    continue;
                tsdb__file_ref(sf->blocks.items[b].file);
                sb_vec_push(&refs, sf->blocks.items[b]);
            }
            j.nrefs = refs.len - j.ref0;
            if (j.nrefs)
                sb_vec_push(&js, j);
        }
    }
    pthread_rwlock_unlock(&d->lock);

    builders bs = {d, {0}};
    tsdb__tsf_builder *b = builder_for(e, &bs, window);
    int rc = 0;
    acc x = {0};
    sb_arena_init(&x.a, 0);
    for (size_t k = 0; k < js.len && !rc; k++) {
        const job *j = &js.items[k];
        x.t.len = x.v.len = x.b.len = x.s.len = 0;
        sb_arena_reset(&x.a);
        x.type = j->mf->type;
        rc = tsdb__read_refs(refs.items + j->ref0, j->nrefs, x.type, acc_chunk, &x, err);
        if (rc)
            break;
        const void *vals = x.type == TSDB_BOOL     ? (const void *)x.b.items
                           : x.type == TSDB_STRING ? (const void *)x.s.items
                                                   : (const void *)x.v.items;
        tsdb_err r2 =
            tsdb__tsf_add(b, j->s, j->s->key, j->mf->name, x.type, x.t.items, vals, x.t.len);
        if (r2 != TSDB_E_OK) {
            sb_errf(err, "compaction: %s", tsdb_err_str(r2));
            rc = -(int)r2;
        }
    }
    sb_vec_free(&x.t);
    sb_vec_free(&x.v);
    sb_vec_free(&x.b);
    sb_vec_free(&x.s);
    sb_arena_deinit(&x.a);
    tsdb_err trc = rc ? (rc < 0 ? (tsdb_err)-rc : TSDB_E_IO) : TSDB_E_OK;
    tsdb__file *f = NULL;
    if (trc == TSDB_E_OK) {
        tsdb__tsf_finish(b);
        trc = write_file(d, b, &f, err);
    }
    if (trc == TSDB_E_OK)
        trc = tsdb__fsync_dir(d->dir, err);
    if (trc == TSDB_E_OK) {
        /* One critical section: readers see the old files or the new one. */
        SB_VEC(tsdb__file *) old = {0};
        pthread_rwlock_wrlock(&d->lock);
        for (size_t k = 0; k < js.len; k++) {
            tsdb__sfield *sf = tsdb__sfield_get(e, js.items[k].s, js.items[k].mf);
            size_t w = 0;
            for (size_t i = 0; i < sf->blocks.len; i++) {
                if (sf->blocks.items[i].file->window == window)
                    tsdb__file_unref(sf->blocks.items[i].file);
                else
                    sf->blocks.items[w++] = sf->blocks.items[i];
            }
            sf->blocks.len = w;
        }
        size_t w = 0;
        for (size_t i = 0; i < d->files.len; i++) {
            if (d->files.items[i]->window == window)
                sb_vec_push(&old, d->files.items[i]);
            else
                d->files.items[w++] = d->files.items[i];
        }
        d->files.len = w;
        install(d, b, f);
        pthread_rwlock_unlock(&d->lock);
        for (size_t i = 0; i < old.len; i++) {
            char *path = file_path(d, old.items[i]->seq, "");
            unlink(path);
            free(path);
            tsdb__file_unref(old.items[i]);
        }
        sb_vec_free(&old);
    } else if (f) {
        char *path = file_path(d, f->seq, "");
        unlink(path);
        free(path);
        tsdb__file_unref(f);
    }
    builders_free(&bs);
    refs_free(&refs);
    sb_vec_free(&js);
    return trc;
}

static tsdb_err compact_db(tsdb_engine *e, tsdb__db *d, int64_t now, bool force, sb_errbuf *err)
{
    SB_VEC(int64_t) windows = {0};
    int64_t W = e->o.window_ns;
    pthread_rwlock_rdlock(&d->lock);
    for (size_t i = 0; i < d->files.len;) {
        size_t j = i + 1;
        int64_t w = d->files.items[i]->window;
        while (j < d->files.len && d->files.items[j]->window == w)
            j++;
        size_t count = j - i;
        bool ended = w < now - W; /* w + W <= now, without overflow */
        if (count >= e->o.compact_files || (count >= 2 && (force || ended)))
            sb_vec_push(&windows, w);
        i = j;
    }
    pthread_rwlock_unlock(&d->lock);
    tsdb_err rc = TSDB_E_OK;
    for (size_t i = 0; i < windows.len && rc == TSDB_E_OK; i++)
        rc = compact_window(e, d, windows.items[i], err);
    sb_vec_free(&windows);
    return rc;
}

/* ---- retention ---- */

static void retention_db(tsdb_engine *e, tsdb__db *d, int64_t now)
{
    int64_t ret = atomic_load(&d->retention);
    if (ret <= 0 || now < INT64_MIN + ret)
        return;
    int64_t W = e->o.window_ns;
    int64_t T = tsdb__floor(now - ret, W); /* windows ending by T go */
    SB_VEC(tsdb__file *) old = {0};
    pthread_rwlock_wrlock(&d->lock);
    size_t w = 0;
    for (size_t i = 0; i < d->files.len; i++) {
        tsdb__file *f = d->files.items[i];
        if (f->window <= T - W)
            sb_vec_push(&old, f);
        else
            d->files.items[w++] = f;
    }
    d->files.len = w;
    /* Nothing expired (the common case): no walk over every series under
     * the write lock. */
    for (size_t i = 0; old.len && i < d->series.len; i++) {
        tsdb__series *s = d->series.items[i];
        for (uint32_t k = 0; k < s->nfields; k++) {
            tsdb__sfield *sf = &s->fields[k];
            size_t n = 0;
            for (size_t b = 0; b < sf->blocks.len; b++) {
                tsdb__file *f = sf->blocks.items[b].file;
                if (f->window <= T - W)
                    tsdb__file_unref(f);
                else
                    sf->blocks.items[n++] = sf->blocks.items[b];
            }
            sf->blocks.len = n;
            for (unsigned r = 0; tsdb__has_roll(sf) && r < e->o.nrollups; r++) {
                tsdb__rvec *rv = &sf->roll[r];
                int64_t width = e->o.rollups[r];
                size_t cut = 0;
                while (cut < rv->len && rv->items[cut].start <= T - width)
                    cut++;
                if (cut) {
                    memmove(rv->items, rv->items + cut, (rv->len - cut) * sizeof(*rv->items));
                    rv->len -= cut;
                }
                if (rv->len && rv->items[0].start < T) {
                    tsdb__rrow_mark(&rv->items[0]); /* straddles the cut */
                    d->roll_dirty = true;
                }
            }
        }
    }
    if (old.len)
        d->roll_version++;
    pthread_rwlock_unlock(&d->lock);
    bool unlink_old = true;
    if (old.len) {
        /* The trimmed rows are named in the catalog before the files go: a
         * snapshot with rows of deleted windows would outlive them. */
        stale_list stale = {0};
        sb_errbuf e2;
        snapshot_db(e, d, &stale);
        if (tsdb__catalog_write(e, &e2) == TSDB_E_OK) {
            remove_stale(&stale);
        } else {
            sb_vec_free(&stale);
            unlink_old = false; /* opening finds them and expires them again */
        }
    }
    for (size_t i = 0; i < old.len; i++) {
        char *path = file_path(d, old.items[i]->seq, "");
        if (unlink_old)
            unlink(path);
        free(path);
        tsdb__file_unref(old.items[i]);
    }
    if (old.len)
        tsdb__fsync_dir(d->dir, NULL);
    sb_vec_free(&old);
}

/* ---- rollups ---- */

typedef struct pts {
    SB_VEC(int64_t) t;
    SB_VEC(double) x;
} pts;

static int pts_chunk(void *arg, const tsdb_chunk *c)
{
    pts *p = arg;
    for (size_t i = 0; i < c->n; i++) {
        double x = c->type == TSDB_FLOAT ? c->v.f[i]
                   : c->type == TSDB_INT ? (double)c->v.i[i]
                                         : (double)c->v.u[i];
        sb_vec_push(&p->t, c->times[i]);
        sb_vec_push(&p->x, x);
    }
    return 0;
}

/* The row of [start, start + width) from sorted points. */
static tsdb_rollup_row aggregate(const pts *p, int64_t start, int64_t width)
{
    tsdb_rollup_row r = {.start = start};
    size_t lo = 0, hi = p->t.len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->t.items[mid] < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < p->t.len && p->t.items[i] - start < width; i++) {
        double x = p->x.items[i];
        if (!r.count)
            r.min = r.max = x;
        r.count++;
        r.sum += x;
        if (x < r.min)
            r.min = x;
        if (x > r.max)
            r.max = x;
    }
    return r;
}

tsdb_err tsdb__rollup_rebuild(tsdb_engine *e, tsdb__db *d, sb_errbuf *err)
{
    pts p = {0};
    int rc = 0;
    for (size_t i = 0; i < d->series.len && !rc; i++) {
        tsdb__series *s = d->series.items[i];
        for (uint32_t k = 0; k < s->nfields && !rc; k++) {
            if (!tsdb__has_roll(&s->fields[k]))
                continue;
            p.t.len = p.x.len = 0;
            rc = tsdb__scan(e, d, s->id, s->fields[k].mf->name, INT64_MIN, INT64_MAX, pts_chunk, &p,
                            NULL, err);
            tsdb__sfield *sf = &s->fields[k];
            for (unsigned r = 0; r < e->o.nrollups; r++)
                sf->roll[r].len = 0;
            sf->roll_off = 0;
            for (size_t j = 0; j < p.t.len; j++)
                tsdb__rollup_add(e, sf, p.t.items[j], p.x.items[j], true);
        }
    }
    sb_vec_free(&p.t);
    sb_vec_free(&p.x);
    return rc ? (rc < 0 ? (tsdb_err)-rc : TSDB_E_IO) : TSDB_E_OK;
}

typedef struct dirty {
    uint64_t series;
    tsdb__mfield *mf;
    int64_t lo, hi; /* the span of its dirty rows */
} dirty;

void tsdb__rollup_repair(tsdb_engine *e, tsdb__db *d, sb_errbuf *err)
{
    SB_VEC(dirty) ds = {0};
    pthread_rwlock_wrlock(&d->lock);
    if (d->roll_dirty) {
        d->roll_dirty = false; /* writes from here on set it again */
        for (size_t i = 0; i < d->series.len; i++) {
            tsdb__series *s = d->series.items[i];
            for (uint32_t k = 0; k < s->nfields; k++) {
                tsdb__sfield *sf = &s->fields[k];
                dirty x = {s->id, sf->mf, INT64_MAX, INT64_MIN};
                for (unsigned r = 0; tsdb__has_roll(sf) && r < e->o.nrollups; r++) {
                    const tsdb__rvec *rv = &sf->roll[r];
                    int64_t width = e->o.rollups[r];
                    for (size_t j = 0; j < rv->len; j++) {
                        if (!tsdb__rrow_dirty(&rv->items[j]))
                            continue;
                        int64_t st = rv->items[j].start;
                        int64_t en = st > INT64_MAX - (width - 1) ? INT64_MAX : st + (width - 1);
                        x.lo = SB_MIN(x.lo, st);
                        x.hi = SB_MAX(x.hi, en);
                    }
                }
                if (x.lo <= x.hi)
                    sb_vec_push(&ds, x);
            }
        }
    }
    pthread_rwlock_unlock(&d->lock);
    pts p = {0};
    for (size_t i = 0; i < ds.len; i++) {
        dirty *x = &ds.items[i];
        uint64_t wseq = 0;
        p.t.len = p.x.len = 0;
        int rc = tsdb__scan(e, d, x->series, x->mf->name, x->lo, x->hi, pts_chunk, &p, &wseq, err);
        pthread_rwlock_wrlock(&d->lock);
        tsdb__sfield *sf = tsdb__sfield_get(e, d->series.items[x->series - 1], x->mf);
        if (rc || sf->wseq != wseq) {
            d->roll_dirty = true; /* written meanwhile: next round */
        } else {
            for (unsigned r = 0; r < e->o.nrollups; r++) {
                tsdb__rvec *rv = &sf->roll[r];
                size_t w = 0;
                for (size_t j = 0; j < rv->len; j++) {
                    tsdb__rrow *row = &rv->items[j];
                    if (tsdb__rrow_dirty(row)) {
                        *row = aggregate(&p, row->start, e->o.rollups[r]);
                        if (!row->count)
                            continue;
                    }
                    rv->items[w++] = *row;
                }
                rv->len = w;
            }
        }
        pthread_rwlock_unlock(&d->lock);
    }
    sb_vec_free(&p.t);
    sb_vec_free(&p.x);
    sb_vec_free(&ds);
}

/* ---- the entry points ---- */

static tsdb_err maintain(tsdb_engine *e, int64_t now, bool force, sb_errbuf *err)
{
    pthread_mutex_lock(&e->maint);
    dblist dbs = {0};
    dbs_snapshot(e, &dbs);
    tsdb_err rc = TSDB_E_OK;
    uint64_t hp = atomic_load(&e->head_points);
    int64_t first = atomic_load(&e->first_unflushed);
    uint64_t wal = tsdb__wal_bytes(&e->wal);
    bool pending = hp > 0 || wal > TSDB__WAL_HEADER, flushed = false;
    if (pending && (force || hp >= e->o.flush_points || wal >= e->o.flush_wal_bytes ||
                    (first && now - first >= e->o.flush_age_ns))) {
        rc = flush(e, &dbs, err);
        flushed = true;
    }
    for (size_t i = 0; i < dbs.len && rc == TSDB_E_OK; i++)
        rc = compact_db(e, dbs.items[i], now, force, err);
    for (size_t i = 0; i < dbs.len; i++) {
        retention_db(e, dbs.items[i], now);
        tsdb__rollup_repair(e, dbs.items[i], err);
    }
    for (size_t i = 0; i < dbs.len; i++)
        tsdb__db_unref(dbs.items[i]);
    sb_vec_free(&dbs);
#if defined(__GLIBC__)
    /* A flush frees the heads: megabytes in small chunks all over the heap,
     * which glibc keeps mapped; hand the free pages back. */
    if (flushed)
        malloc_trim(0);
#endif
    pthread_mutex_unlock(&e->maint);
    return rc;
}

tsdb_err tsdb_engine_maintain(tsdb_engine *e, int64_t now_ns, sb_errbuf *err)
{
    return maintain(e, now_ns, false, err);
}

tsdb_err tsdb_engine_checkpoint(tsdb_engine *e, int64_t now_ns, sb_errbuf *err)
{
    return maintain(e, now_ns, true, err);
}
