/*
 * engine.c: opening and closing the engine, the catalog of databases, and
 * the write path.
 *
 * Directory layout (docs/tsdb.md "Engine"):
 *   LOCK          flock'd while open: one process per directory
 *   catalog       databases (name, generation, retention), the log
 *                 checkpoint and the next file number; rewritten whole
 *                 (temporary file, fsync, rename, fsync of the directory)
 *   wal/N.wal     log segments (wal.c)
 *   db-G/N.tsf    block files of the database of generation G (tsf.c)
 *
 * A database's generation is new at each creation, so a drop is durable
 * once the catalog no longer lists it: log records and directories of a
 * generation the catalog does not know are ignored and removed.
 *
 * The write path holds the database's lock exclusively for the in-memory
 * part only: type checks, series lookup, the log append (a write(2) in
 * the order the points are applied, so replay reproduces the same last
 * writes) and the head appends. The fdatasync runs after the lock is
 * released and is shared between concurrent writers (wal.c).
 */
#include "tsdb/engine_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/crc32c.h"

#define NAME_MAX_LEN 255
/* 2: each database names its rollup snapshot (rollup_file.c); 1 is read
 * as "no snapshot". */
#define CATALOG_VERSION 2

int64_t tsdb__now(const tsdb_engine *e)
{
    if (e->o.clock)
        return e->o.clock(e->o.clock_arg);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

tsdb_err tsdb__fsync_dir(const char *dir, sb_errbuf *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        sb_errf(err, "fsync %s: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return TSDB_E_IO;
    }
    close(fd);
    return TSDB_E_OK;
}

void tsdb__rm_dir(const char *dir)
{
    DIR *dd = opendir(dir);
    if (dd) {
        struct dirent *de;
        sb_buf p = SB_BUF_INIT;
        while ((de = readdir(dd))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            sb_buf_reset(&p);
            sb_buf_appendf(&p, "%s/%s", dir, de->d_name);
            unlink(p.ptr);
        }
        sb_buf_free(&p);
        closedir(dd);
    }
    rmdir(dir);
}

static char *path_of(const char *dir, const char *fmt, uint64_t n)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_appendf(&b, "%s/", dir);
    sb_buf_appendf(&b, fmt, n);
    return sb_buf_detach(&b, NULL);
}

static char *join(const char *dir, const char *name)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_appendf(&b, "%s/%s", dir, name);
    return sb_buf_detach(&b, NULL);
}

static bool name_ok(sb_str n)
{
    return n.len > 0 && n.len <= NAME_MAX_LEN && !memchr(n.ptr, 0, n.len);
}

static size_t db_index(const tsdb_engine *e, sb_str name, bool *found)
{
    size_t lo = 0, hi = e->dbs.len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        sb_str x = e->dbs.items[mid]->name;
        int c = memcmp(x.ptr, name.ptr, SB_MIN(x.len, name.len));
        if (!c)
            c = x.len < name.len ? -1 : x.len > name.len;
        if (!c) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static void db_insert(tsdb_engine *e, tsdb__db *d)
{
    bool found;
    size_t i = db_index(e, d->name, &found);
    sb_vec_reserve(&e->dbs, 1);
    memmove(&e->dbs.items[i + 1], &e->dbs.items[i], (e->dbs.len - i) * sizeof(*e->dbs.items));
    e->dbs.items[i] = d;
    e->dbs.len++;
}

/* A ref to the database of that name, or NULL; under e->lock. */
static tsdb__db *db_ref_locked(tsdb_engine *e, sb_str name)
{
    bool found;
    size_t i = db_index(e, name, &found);
    tsdb__db *d = found ? e->dbs.items[i] : NULL;
    if (d)
        tsdb__db_ref(d);
    return d;
}

tsdb__db *tsdb__db_get(tsdb_engine *e, sb_str name)
{
    pthread_rwlock_rdlock(&e->lock);
    tsdb__db *d = db_ref_locked(e, name);
    pthread_rwlock_unlock(&e->lock);
    return d;
}

bool tsdb__db_get_nowait(tsdb_engine *e, sb_str name, tsdb__db **d)
{
    if (pthread_rwlock_tryrdlock(&e->lock) != 0)
        return false;
    *d = db_ref_locked(e, name);
    pthread_rwlock_unlock(&e->lock);
    return true;
}

static tsdb__db *db_by_gen(tsdb_engine *e, uint64_t gen)
{
    for (size_t i = 0; i < e->dbs.len; i++)
        if (e->dbs.items[i]->gen == gen)
            return e->dbs.items[i];
    return NULL;
}

/* ---- the catalog ---- */

tsdb_err tsdb__catalog_write(tsdb_engine *e, sb_errbuf *err)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_append(&b, "TSC1", 4);
    tsdb__put_u32(&b, CATALOG_VERSION);
    pthread_rwlock_rdlock(&e->lock);
    tsdb__put_u64(&b, e->next_gen);
    tsdb__put_u64(&b, e->checkpoint);
    tsdb__put_u64(&b, e->next_file);
    tsdb__put_u32(&b, (uint32_t)e->dbs.len);
    for (size_t i = 0; i < e->dbs.len; i++) {
        const tsdb__db *d = e->dbs.items[i];
        tsdb__put_uvarint(&b, d->name.len);
        sb_buf_append_str(&b, d->name);
        tsdb__put_u64(&b, d->gen);
        tsdb__put_u64(&b, (uint64_t)atomic_load(&d->retention));
        tsdb__put_u64(&b, d->snap);
    }
    pthread_rwlock_unlock(&e->lock);
    tsdb__put_u32(&b, sb_crc32c(0, b.ptr, b.len));
    char *tmp = join(e->dir, "catalog.tmp");
    char *path = join(e->dir, "catalog");
    tsdb_err rc = TSDB_E_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, b.ptr, b.len) != (ssize_t)b.len || fsync(fd) != 0 ||
        rename(tmp, path) != 0) {
        sb_errf(err, "write %s: %s", path, strerror(errno));
        rc = TSDB_E_IO;
    }
    if (fd >= 0)
        close(fd);
    if (rc == TSDB_E_OK)
        rc = tsdb__fsync_dir(e->dir, err);
    free(tmp);
    free(path);
    sb_buf_free(&b);
    return rc;
}

static tsdb_err catalog_read(tsdb_engine *e, sb_errbuf *err)
{
    char *path = join(e->dir, "catalog");
    FILE *f = fopen(path, "rbe");
    free(path);
    if (!f) {
        if (errno == ENOENT)
            return TSDB_E_OK;
        sb_errf(err, "open catalog: %s", strerror(errno));
        return TSDB_E_IO;
    }
    sb_buf b = SB_BUF_INIT;
    char tmp[4096];
    size_t k;
    while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
        sb_buf_append(&b, tmp, k);
    fclose(f);
    tsdb_err rc = TSDB_E_CORRUPT;
    const uint8_t *p = (const uint8_t *)b.ptr;
    uint32_t version = b.len >= 8 ? tsdb__get_u32(p + 4) : 0;
    if (b.len < 36 || memcmp(p, "TSC1", 4) || version < 1 || version > CATALOG_VERSION ||
        sb_crc32c(0, p, b.len - 4) != tsdb__get_u32(p + b.len - 4))
        goto out;
    tsdb__rd r = {p + 8, p + b.len - 4, false};
    const uint8_t *h = tsdb__rd_bytes(&r, 28);
    if (!h)
        goto out;
    e->next_gen = tsdb__get_u64(h);
    e->checkpoint = tsdb__get_u64(h + 8);
    e->next_file = tsdb__get_u64(h + 16);
    uint32_t n = tsdb__get_u32(h + 24);
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        sb_str name = tsdb__rd_str(&r, NAME_MAX_LEN);
        const uint8_t *x = tsdb__rd_bytes(&r, version >= 2 ? 24 : 16);
        if (!x || !name_ok(name))
            goto out;
        uint64_t gen = tsdb__get_u64(x);
        char *dir = path_of(e->dir, "db-%" PRIu64, gen);
        tsdb__db *d = tsdb__db_new(name, gen, (int64_t)tsdb__get_u64(x + 8), dir);
        if (version >= 2)
            d->snap = tsdb__get_u64(x + 16);
        free(dir);
        db_insert(e, d);
    }
    if (!r.bad && r.p == r.end)
        rc = TSDB_E_OK;
out:
    if (rc != TSDB_E_OK)
        sb_errf(err, "catalog is corrupt");
    sb_buf_free(&b);
    return rc;
}

/* ---- loading block files ---- */

static int cmp_file_seq(const void *a, const void *b)
{
    const tsdb__file *x = *(tsdb__file *const *)a, *y = *(tsdb__file *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_file_window(const void *a, const void *b)
{
    const tsdb__file *x = *(tsdb__file *const *)a, *y = *(tsdb__file *const *)b;
    if (x->window != y->window)
        return x->window < y->window ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Adds the blocks of one file to the index (at open, or after a flush or
 * compaction wrote it: then under the database's write lock). */
static tsdb_err index_file(tsdb_engine *e, tsdb__db *d, tsdb__file *f, const tsdb__tsf_index *ix,
                           sb_errbuf *err)
{
    tsdb__series **ser = sb_calloc(ix->nkeys + 1, sizeof(*ser));
    tsdb_err rc = TSDB_E_OK;
    for (size_t i = 0; i < ix->nkeys && rc == TSDB_E_OK; i++) {
        uint64_t h = tsdb__key_hash(ix->keys[i]);
        ser[i] = tsdb__series_find(d, ix->keys[i], h);
        if (!ser[i])
            ser[i] = tsdb__series_add(d, ix->keys[i], h, NULL);
        if (!ser[i]) {
            sb_errf(err, "block file %" PRIu64 ": bad series key", f->seq);
            rc = TSDB_E_CORRUPT;
        }
    }
    for (size_t i = 0; i < ix->nentries && rc == TSDB_E_OK; i++) {
        const tsdb__tsf_entry *en = &ix->entries[i];
        tsdb__series *s = ser[en->series];
        sb_str name = ix->names[en->field];
        tsdb__mfield *mf = tsdb__mfield_find(s->m, name);
        if (!mf)
            mf = tsdb__mfield_add(s->m, name, en->type);
        if (mf->type != en->type) {
            sb_errf(err, "block file %" PRIu64 ": field %.*s has two types", f->seq,
                    SB_STR_FMT(name));
            rc = TSDB_E_CORRUPT;
            break;
        }
        tsdb__sfield *sf = tsdb__sfield_get(e, s, mf);
        tsdb__file_ref(f);
        tsdb__bref_push(sf, (tsdb__bref){f, en->off, en->len, en->count, en->min, en->max});
        if (en->max > sf->max_time)
            sf->max_time = en->max;
        f->points += en->count;
    }
    free(ser);
    return rc;
}

static tsdb_err load_db(tsdb_engine *e, tsdb__db *d, sb_errbuf *err)
{
    if (mkdir(d->dir, 0755) != 0 && errno != EEXIST) {
        sb_errf(err, "mkdir %s: %s", d->dir, strerror(errno));
        return TSDB_E_IO;
    }
    DIR *dd = opendir(d->dir);
    if (!dd) {
        sb_errf(err, "opendir %s: %s", d->dir, strerror(errno));
        return TSDB_E_IO;
    }
    struct dirent *de;
    tsdb_err rc = TSDB_E_OK;
    sb_buf path = SB_BUF_INIT;
    SB_VEC(tsdb__file *) files = {0};
    while (rc == TSDB_E_OK && (de = readdir(dd))) {
        size_t l = strlen(de->d_name);
        sb_buf_reset(&path);
        sb_buf_appendf(&path, "%s/%s", d->dir, de->d_name);
        if (l > 4 && !strcmp(de->d_name + l - 4, ".tmp")) {
            unlink(path.ptr); /* a flush or compaction that did not finish */
            continue;
        }
        uint64_t snap;
        if (sscanf(de->d_name, "rollups-%20" SCNu64 ".tsr", &snap) == 1 && l > 4 &&
            !strcmp(de->d_name + l - 4, ".tsr")) {
            if (snap != d->snap)
                unlink(path.ptr); /* written by a flush whose catalog did not follow */
            continue;
        }
        if (l < 5 || strcmp(de->d_name + l - 4, ".tsf"))
            continue;
        int fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            sb_errf(err, "open %s: %s", path.ptr, strerror(errno));
            if (fd >= 0)
                close(fd);
            rc = TSDB_E_IO;
            break;
        }
        tsdb__file *f = sb_calloc(1, sizeof(*f));
        atomic_init(&f->refs, 1);
        f->fd = fd;
        f->bytes = (uint64_t)st.st_size;
        sb_vec_push(&files, f);
    }
    closedir(dd);
    /* Oldest first, so each field's blocks end up in age order. */
    if (files.len)
        qsort(files.items, files.len, sizeof(*files.items), cmp_file_seq);
    sb_arena a;
    sb_arena_init(&a, 0);
    sb_buf scratch = SB_BUF_INIT;
    for (size_t i = 0; i < files.len; i++) {
        tsdb__file *f = files.items[i];
        if (rc == TSDB_E_OK) {
            tsdb__tsf_index ix;
            sb_errbuf e2;
            sb_arena_reset(&a);
            rc = tsdb__tsf_read_index(f->fd, f->bytes, &a, &scratch, &ix, &e2);
            if (rc != TSDB_E_OK)
                sb_errf(err, "%s: block file: %s", d->dir, e2.msg);
            f->window = ix.window;
            f->seq = ix.seq;
            if (rc == TSDB_E_OK)
                rc = index_file(e, d, f, &ix, err);
            if (f->seq >= e->next_file)
                e->next_file = f->seq + 1;
        }
        sb_vec_push(&d->files, f);
    }
    if (d->files.len)
        qsort(d->files.items, d->files.len, sizeof(*d->files.items), cmp_file_window);
    sb_buf_free(&scratch);
    sb_arena_deinit(&a);
    sb_vec_free(&files);
    sb_buf_free(&path);
    return rc;
}

/* Removes directories of generations the catalog does not list (drops
 * that were durable before the crash that interrupted their cleanup). */
static void remove_stray_dbs(tsdb_engine *e)
{
    DIR *dd = opendir(e->dir);
    if (!dd)
        return;
    struct dirent *de;
    sb_buf p = SB_BUF_INIT;
    while ((de = readdir(dd))) {
        int64_t gen;
        if (strncmp(de->d_name, "db-", 3) ||
            !sb_str_to_i64(sb_str_c(de->d_name + 3), 0, INT64_MAX, &gen))
            continue;
        if (db_by_gen(e, (uint64_t)gen))
            continue;
        sb_buf_reset(&p);
        sb_buf_appendf(&p, "%s/%s", e->dir, de->d_name);
        tsdb__rm_dir(p.ptr);
    }
    sb_buf_free(&p);
    closedir(dd);
}

/* ---- applying points ---- */

typedef struct replay_ctx {
    tsdb_engine *e;
    sb_arena a;
    sb_errbuf *err;
} replay_ctx;

static int replay_record(void *arg, const uint8_t *p, size_t n)
{
    replay_ctx *c = arg;
    tsdb_engine *e = c->e;
    uint64_t gen;
    tsdb_point *pts;
    size_t np;
    sb_arena_reset(&c->a);
    if (tsdb__wal_rec_decode(p, n, &c->a, &gen, &pts, &np, c->err) != TSDB_E_OK)
        return 1;
    tsdb__db *d = db_by_gen(e, gen);
    if (!d)
        return 0; /* a dropped database */
    /* Rows loaded from a snapshot hold the records before its position;
     * later ones update them as their write did. Without a snapshot, the
     * rows are recomputed from all the data after the replay. */
    uint64_t off = (uint64_t)(p - e->wal.replay_base) - 8;
    bool roll = d->roll_loaded && (e->wal.replay_seq > d->snap_seq ||
                                   (e->wal.replay_seq == d->snap_seq && off >= d->snap_off));
    if (roll)
        d->roll_version++;
    for (size_t i = 0; i < np; i++) {
        const tsdb_point *pt = &pts[i];
        uint64_t h = tsdb__key_hash(pt->series_key);
        tsdb__series *s = tsdb__series_find(d, pt->series_key, h);
        if (!s)
            s = tsdb__series_add(d, pt->series_key, h, NULL);
        if (!s) {
            sb_errf(c->err, "log record: bad series key");
            return 1;
        }
        for (size_t j = 0; j < pt->nfields; j++) {
            const tsdb_field *f = &pt->fields[j];
            tsdb__mfield *mf = tsdb__mfield_find(s->m, f->key);
            if (!mf)
                mf = tsdb__mfield_add(s->m, f->key, f->type);
            if (mf->type != f->type)
                continue; /* cannot happen: types were checked at write */
            tsdb__sfield *sf = tsdb__sfield_get(e, s, mf);
            tsdb__sfield_append(e, d, sf, pt->time, f, roll);
            d->head_points++;
            atomic_fetch_add(&e->head_points, 1);
        }
    }
    return 0;
}

static void opts_fill(tsdb_engine_opts *o, const tsdb_engine_opts *in)
{
    if (in)
        *o = *in;
    else
        memset(o, 0, sizeof(*o));
    if (o->window_ns <= 0)
        o->window_ns = 24 * 3600 * INT64_C(1000000000);
    if (!o->flush_points)
        o->flush_points = 2u << 20;
    if (!o->flush_wal_bytes)
        o->flush_wal_bytes = 256u << 20;
    if (o->flush_age_ns <= 0)
        o->flush_age_ns = 600 * INT64_C(1000000000);
    if (!o->compact_files)
        o->compact_files = 4;
    if (o->compact_files < 2)
        o->compact_files = 2;
    if (o->nrollups > TSDB_MAX_ROLLUPS)
        o->nrollups = TSDB_MAX_ROLLUPS;
    if (!o->nrollups) {
        o->rollups[0] = 60 * INT64_C(1000000000);
        o->rollups[1] = 3600 * INT64_C(1000000000);
        o->nrollups = 2;
    }
}

tsdb_err tsdb_engine_open(const char *dir, const tsdb_engine_opts *opts, tsdb_engine **out,
                          sb_errbuf *err)
{
    tsdb_engine *e = sb_calloc(1, sizeof(*e));
    e->src.vt = &tsdb__engine_vt;
    e->dir = sb_strdup(dir);
    e->lockfd = -1;
    opts_fill(&e->o, opts);
    for (unsigned i = 0; i < e->o.nrollups; i++)
        if (e->o.rollups[i] <= 0) {
            sb_errf(err, "rollup width must be positive");
            free(e->dir);
            free(e);
            return TSDB_E_RANGE;
        }
    pthread_mutex_init(&e->maint, NULL);
    pthread_rwlock_init(&e->lock, NULL);
    tsdb__bc_init(&e->bcache, TSDB__BCACHE_BYTES);
    e->next_gen = 1;
    e->next_file = 1;
    tsdb_err rc = TSDB_E_OK;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        sb_errf(err, "mkdir %s: %s", dir, strerror(errno));
        rc = TSDB_E_IO;
    }
    /* Also creates dir/wal; deinit is safe after a failed init. */
    tsdb_err rc2 = tsdb__wal_init(&e->wal, dir, err);
    if (rc == TSDB_E_OK)
        rc = rc2;
    if (rc == TSDB_E_OK) {
        char *lock = join(dir, "LOCK");
        e->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        free(lock);
        if (e->lockfd < 0 || flock(e->lockfd, LOCK_EX | LOCK_NB) != 0) {
            sb_errf(err, "%s is in use by another process", dir);
            rc = TSDB_E_IO;
        }
    }
    if (rc == TSDB_E_OK)
        rc = catalog_read(e, err);
    if (rc == TSDB_E_OK)
        remove_stray_dbs(e);
    for (size_t i = 0; rc == TSDB_E_OK && i < e->dbs.len; i++) {
        tsdb__db *d = e->dbs.items[i];
        rc = load_db(e, d, err);
        if (rc == TSDB_E_OK)
            d->roll_loaded = tsdb__rollup_load(e, d, NULL);
        if (!d->roll_loaded)
            d->roll_version = 1; /* recomputed: the next flush saves them */
    }
    uint64_t last = 0;
    if (rc == TSDB_E_OK) {
        replay_ctx c = {e, {0}, err};
        sb_arena_init(&c.a, 0);
        rc = tsdb__wal_replay(&e->wal, e->checkpoint, replay_record, &c, &last, err);
        sb_arena_deinit(&c.a);
    }
    if (rc == TSDB_E_OK)
        rc = tsdb__wal_start(&e->wal, last + 1, err);
    for (size_t i = 0; rc == TSDB_E_OK && i < e->dbs.len; i++)
        if (!e->dbs.items[i]->roll_loaded)
            rc = tsdb__rollup_rebuild(e, e->dbs.items[i], err);
        else if (e->dbs.items[i]->roll_dirty) /* rows usable from the start */
            tsdb__rollup_repair(e, e->dbs.items[i], err);
    if (rc == TSDB_E_OK && atomic_load(&e->head_points))
        atomic_store(&e->first_unflushed, tsdb__now(e));
    if (rc != TSDB_E_OK) {
        tsdb_engine_close(e);
        return rc;
    }
    *out = e;
    return TSDB_E_OK;
}

void tsdb_engine_close(tsdb_engine *e)
{
    if (!e)
        return;
    tsdb__wal_deinit(&e->wal);
    for (size_t i = 0; i < e->dbs.len; i++)
        tsdb__db_unref(e->dbs.items[i]);
    sb_vec_free(&e->dbs);
    if (e->lockfd >= 0)
        close(e->lockfd);
    tsdb__bc_deinit(&e->bcache);
    pthread_mutex_destroy(&e->maint);
    pthread_rwlock_destroy(&e->lock);
    free(e->dir);
    free(e);
}

tsdb_source *tsdb_engine_source(tsdb_engine *e)
{
    return &e->src;
}

tsdb_source *tsdb_engine_nowait(tsdb_nowait *v, tsdb_engine *e, size_t budget)
{
    *v = (tsdb_nowait){.src = {&tsdb__engine_nowait_vt}, .e = e, .budget = budget};
    return &v->src;
}

/* ---- writes ---- */

typedef struct pending {
    uint64_t hash;
    size_t rec_off, rec_end; /* the point's bytes in the log record */
    tsdb__series *s;
    size_t mf; /* index of its first field in the mfs array */
    bool keep;
} pending;

tsdb_err tsdb_engine_write(tsdb_engine *e, sb_str db, const tsdb_point *pts, size_t n,
                           tsdb_write_report *rep, sb_errbuf *err)
{
    tsdb_write_report local;
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof(*rep));
    tsdb__db *d = tsdb__db_get(e, db);
    if (!d) {
        snprintf(rep->first_error, sizeof(rep->first_error), "database not found: \"%.*s\"",
                 (int)SB_MIN(db.len, 200), db.ptr);
        sb_errf(err, "%s", rep->first_error);
        return TSDB_E_NODB;
    }
    int64_t now = tsdb__now(e);
    int64_t ret = atomic_load(&d->retention);
    int64_t cutoff = ret > 0 && now > INT64_MIN + ret ? now - ret : INT64_MIN;
    size_t nf = 0;
    for (size_t i = 0; i < n; i++)
        nf += pts[i].nfields;
    pending *pd = sb_malloc((n ? n : 1) * sizeof(*pd));
    tsdb__mfield **mfs = sb_malloc((nf ? nf : 1) * sizeof(*mfs));
    size_t nkeep = 0, values = 0;
    uint64_t seq = 0, end = 0;
    tsdb_err rc = TSDB_E_OK;

    /* Outside the lock: hashes, the retention check and the log record as
     * if every point were kept (type conflicts, rare, are cut out below). */
    sb_buf rec = SB_BUF_INIT;
    sb_buf_reserve(&rec, 64 + n * 96);
    size_t start = tsdb__wal_rec_begin(&rec, d->gen);
    for (size_t i = 0; i < n; i++) {
        const tsdb_point *p = &pts[i];
        pd[i].keep = p->time >= cutoff;
        if (!pd[i].keep) {
            if (!rep->first_error[0])
                snprintf(rep->first_error, sizeof(rep->first_error),
                         "points beyond retention policy");
            rep->dropped_retention++;
            continue;
        }
        pd[i].hash = tsdb__key_hash(p->series_key);
        pd[i].rec_off = rec.len;
        tsdb__wal_rec_point(&rec, p->series_key, p->time, p->fields, p->nfields);
        pd[i].rec_end = rec.len;
    }

    pthread_rwlock_wrlock(&d->lock);
    size_t nmf = 0;
    bool refused = false;
    size_t mask = d->nslots ? d->nslots - 1 : 0;
    for (size_t i = 0; i < n; i++) {
        const tsdb_point *p = &pts[i];
        /* The table is far bigger than the caches: fetch ahead, the slot
         * four points ahead and the series its slot names two ahead. */
        if (i + 4 < n && d->nslots)
            __builtin_prefetch(&d->slots[pd[i + 4].hash & mask]);
        if (i + 2 < n && d->nslots && d->slots[pd[i + 2].hash & mask])
            __builtin_prefetch(d->slots[pd[i + 2].hash & mask]);
        if (!pd[i].keep)
            continue;
        tsdb__series *s = tsdb__series_find(d, p->series_key, pd[i].hash);
        tsdb__meas *m = s ? s->m : tsdb__meas_get(d, p->measurement, false);
        const tsdb_field *bad = NULL;
        tsdb__mfield *had = NULL;
        for (size_t j = 0; j < p->nfields; j++) {
            tsdb__mfield *mf = m ? tsdb__mfield_find(m, p->fields[j].key) : NULL;
            mfs[nmf + j] = mf;
            if (mf && mf->type != p->fields[j].type) {
                bad = &p->fields[j];
                had = mf;
                break;
            }
        }
        if (bad) {
            if (!rep->first_error[0])
                snprintf(rep->first_error, sizeof(rep->first_error),
                         "field type conflict: input field \"%.*s\" on measurement \"%.*s\" "
                         "is type %s, already exists as type %s",
                         (int)SB_MIN(bad->key.len, 64), bad->key.ptr,
                         (int)SB_MIN(p->measurement.len, 64), p->measurement.ptr,
                         tsdb_type_name(bad->type), tsdb_type_name(had->type));
            rep->dropped_conflict++;
            pd[i].keep = false;
            refused = true;
            continue;
        }
        if (!m)
            m = tsdb__meas_get(d, p->measurement, true);
        for (size_t j = 0; j < p->nfields; j++)
            if (!mfs[nmf + j])
                mfs[nmf + j] = tsdb__mfield_add(m, p->fields[j].key, p->fields[j].type);
        if (!s)
            s = tsdb__series_add(d, p->series_key, pd[i].hash, p);
        pd[i].s = s;
        pd[i].mf = nmf;
        nmf += p->nfields;
        nkeep++;
    }
    if (refused) {
        /* Cut the refused points out of the record, keeping the order. */
        size_t w = start + TSDB__WAL_REC_HEAD;
        for (size_t i = 0; i < n; i++) {
            if (!pd[i].keep)
                continue;
            size_t len = pd[i].rec_end - pd[i].rec_off;
            memmove(rec.ptr + w, rec.ptr + pd[i].rec_off, len);
            w += len;
        }
        rec.len = w;
    }
    if (nkeep) {
        tsdb__wal_rec_end(&rec, start, nkeep);
        rc = tsdb__wal_append(&e->wal, rec.ptr, rec.len, &seq, &end);
    }
    if (nkeep && rc == TSDB_E_OK) {
        for (size_t i = 0; i < n; i++) {
            /* Likewise: a series' fields four ahead, their heads two. */
            if (i + 4 < n && pd[i + 4].keep)
                __builtin_prefetch(pd[i + 4].s->fields);
            if (i + 2 < n && pd[i + 2].keep) {
                const tsdb__series *ns = pd[i + 2].s;
                for (uint32_t k = 0; k < ns->nfields && k < 4; k++) {
                    const tsdb__sfield *q = &ns->fields[k];
                    __builtin_prefetch(q->head.p + q->head.n, 1);
                    if (q->roll[0].len)
                        __builtin_prefetch(q->roll[0].items + q->roll[0].len - 1, 1);
                    if (q->roll[1].len)
                        __builtin_prefetch(q->roll[1].items + q->roll[1].len - 1, 1);
                }
            }
            if (!pd[i].keep)
                continue;
            const tsdb_point *p = &pts[i];
            for (size_t j = 0; j < p->nfields; j++) {
                tsdb__sfield *sf = tsdb__sfield_get(e, pd[i].s, mfs[pd[i].mf + j]);
                tsdb__sfield_append(e, d, sf, p->time, &p->fields[j], true);
            }
            values += p->nfields;
        }
        d->head_points += values;
        d->roll_version++;
    }
    pthread_rwlock_unlock(&d->lock);

    if (nkeep && rc == TSDB_E_OK) {
        atomic_fetch_add(&e->head_points, values);
        int64_t zero = 0;
        atomic_compare_exchange_strong(&e->first_unflushed, &zero, now ? now : 1);
        rc = tsdb__wal_sync(&e->wal, seq, end);
    }
    if (rc != TSDB_E_OK)
        sb_errf(err, "write-ahead log: I/O error");
    else
        rep->written = nkeep;
    sb_buf_free(&rec);
    free(pd);
    free(mfs);
    tsdb__db_unref(d);
    return rc;
}

/* ---- databases ---- */

tsdb_err tsdb_engine_create_db(tsdb_engine *e, sb_str db, sb_errbuf *err)
{
    if (!name_ok(db)) {
        sb_errf(err, "invalid database name");
        return TSDB_E_NAME;
    }
    pthread_mutex_lock(&e->maint);
    tsdb_err rc = TSDB_E_OK;
    tsdb__db *d = tsdb__db_get(e, db);
    if (d) {
        tsdb__db_unref(d);
        goto out;
    }
    uint64_t gen = e->next_gen;
    char *dir = path_of(e->dir, "db-%" PRIu64, gen);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        sb_errf(err, "mkdir %s: %s", dir, strerror(errno));
        free(dir);
        rc = TSDB_E_IO;
        goto out;
    }
    d = tsdb__db_new(db, gen, 0, dir);
    free(dir);
    pthread_rwlock_wrlock(&e->lock);
    e->next_gen++;
    db_insert(e, d);
    pthread_rwlock_unlock(&e->lock);
    rc = tsdb__catalog_write(e, err);
    if (rc != TSDB_E_OK) {
        pthread_rwlock_wrlock(&e->lock);
        bool found;
        size_t i = db_index(e, db, &found);
        memmove(&e->dbs.items[i], &e->dbs.items[i + 1],
                (e->dbs.len - i - 1) * sizeof(*e->dbs.items));
        e->dbs.len--;
        pthread_rwlock_unlock(&e->lock);
        tsdb__rm_dir(d->dir);
        tsdb__db_unref(d);
    }
out:
    pthread_mutex_unlock(&e->maint);
    return rc;
}

tsdb_err tsdb_engine_drop_db(tsdb_engine *e, sb_str db, sb_errbuf *err)
{
    pthread_mutex_lock(&e->maint);
    pthread_rwlock_wrlock(&e->lock);
    bool found;
    size_t i = db_index(e, db, &found);
    tsdb__db *d = found ? e->dbs.items[i] : NULL;
    if (d) {
        memmove(&e->dbs.items[i], &e->dbs.items[i + 1],
                (e->dbs.len - i - 1) * sizeof(*e->dbs.items));
        e->dbs.len--;
    }
    pthread_rwlock_unlock(&e->lock);
    tsdb_err rc = TSDB_E_OK;
    if (!d) {
        sb_errf(err, "database not found: %.*s", (int)SB_MIN(db.len, 200), db.ptr);
        rc = TSDB_E_NODB;
    } else {
        /* Durable once the catalog forgets it; the files go after. */
        rc = tsdb__catalog_write(e, err);
        if (rc == TSDB_E_OK) {
            uint64_t pts = 0;
            pthread_rwlock_wrlock(&d->lock);
            pts = d->head_points;
            d->head_points = 0;
            pthread_rwlock_unlock(&d->lock);
            atomic_fetch_sub(&e->head_points, pts);
            tsdb__rm_dir(d->dir);
            tsdb__fsync_dir(e->dir, NULL);
            tsdb__db_unref(d);
        } else {
            pthread_rwlock_wrlock(&e->lock);
            db_insert(e, d);
            pthread_rwlock_unlock(&e->lock);
        }
    }
    pthread_mutex_unlock(&e->maint);
    return rc;
}

tsdb_err tsdb_engine_set_retention(tsdb_engine *e, sb_str db, int64_t duration_ns, sb_errbuf *err)
{
    if (duration_ns < 0) {
        sb_errf(err, "retention must not be negative");
        return TSDB_E_RANGE;
    }
    pthread_mutex_lock(&e->maint);
    tsdb_err rc = TSDB_E_OK;
    tsdb__db *d = tsdb__db_get(e, db);
    if (!d) {
        sb_errf(err, "database not found: %.*s", (int)SB_MIN(db.len, 200), db.ptr);
        rc = TSDB_E_NODB;
    } else {
        int64_t old = atomic_exchange(&d->retention, duration_ns);
        rc = tsdb__catalog_write(e, err);
        if (rc != TSDB_E_OK)
            atomic_store(&d->retention, old);
        tsdb__db_unref(d);
    }
    pthread_mutex_unlock(&e->maint);
    return rc;
}

tsdb_err tsdb_engine_retention(tsdb_engine *e, sb_str db, int64_t *duration_ns)
{
    tsdb__db *d = tsdb__db_get(e, db);
    if (!d)
        return TSDB_E_NODB;
    *duration_ns = atomic_load(&d->retention);
    tsdb__db_unref(d);
    return TSDB_E_OK;
}

void tsdb_engine_stats_get(tsdb_engine *e, tsdb_engine_stats *st)
{
    memset(st, 0, sizeof(*st));
    pthread_rwlock_rdlock(&e->lock);
    st->databases = e->dbs.len;
    for (size_t i = 0; i < e->dbs.len; i++) {
        tsdb__db *d = e->dbs.items[i];
        pthread_rwlock_rdlock(&d->lock);
        st->series += d->series.len;
        st->head_points += d->head_points;
        for (size_t j = 0; j < d->files.len; j++) {
            st->block_files++;
            st->block_bytes += d->files.items[j]->bytes;
            st->block_points += d->files.items[j]->points;
        }
        pthread_rwlock_unlock(&d->lock);
    }
    pthread_rwlock_unlock(&e->lock);
    st->wal_bytes = tsdb__wal_bytes(&e->wal);
}
