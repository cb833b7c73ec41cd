/*
 * wal.c: the write-ahead log: numbered segment files in <dir>/wal, each a
 * header ("TSW1", u32 version 1) and records:
 *
 *   u32 length of payload | u32 CRC-32C of payload | payload
 *   payload: u8 kind (1 write) | u64 database generation | u32 points |
 *            points: uvarint key length, key, zig-zag varint time (ns),
 *            uvarint fields,
 *            per field: uvarint name length, name, u8 type, value (float:
 *            8 bytes; int: zig-zag varint; uint: varint; bool: 1 byte;
 *            string: uvarint length, bytes)
 *
 * All integers little-endian. One record is one acknowledged batch of one
 * database. Appends happen under the log mutex; fdatasync is shared (group
 * commit): a writer that finds a sync in flight waits for it and syncs
 * again only if its bytes came after the sync began.
 *
 * Recovery: a segment may end in a torn record (kill -9 or power loss
 * during an append): a record whose declared extent passes the end of the
 * file, or bad bytes that are all zeros to the end. It is cut off. A bad
 * record with anything else after it is corruption and opening fails
 * rather than silently skipping acknowledged writes.
 */
#include "tsdb/engine_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crc32c.h"

#define WAL_MAX_KEY    65535u
#define WAL_MAX_STRING (16u << 20)

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

size_t tsdb__wal_rec_begin(sb_buf *out, uint64_t gen)
{
    size_t start = out->len;
    uint8_t hdr[8] = {0};
    sb_buf_append(out, hdr, 8); /* length and CRC, filled in at the end */
    sb_buf_putc(out, TSDB__REC_WRITE);
    tsdb__put_u64(out, gen);
    tsdb__put_u32(out, 0); /* points, filled in at the end */
    return start;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static uint8_t *put_bytes(uint8_t *p, sb_str s)
{
    p = put_varint(p, s.len);
    memcpy(p, s.ptr, s.len);
    return p + s.len;
}

/* On the write path for every point: one reservation, then raw stores. */
void tsdb__wal_rec_point(sb_buf *out, sb_str key, int64_t time, const tsdb_field *f, size_t nf)
{
    size_t max = 10 + key.len + 20;
    for (size_t i = 0; i < nf; i++)
        max += 10 + f[i].key.len + 1 + 10 + (f[i].type == TSDB_STRING ? f[i].v.s.len : 0);
    sb_buf_reserve(out, max);
    uint8_t *p = (uint8_t *)out->ptr + out->len;
    p = put_bytes(p, key);
    p = put_varint(p, zigzag(time));
    p = put_varint(p, nf);
    for (size_t i = 0; i < nf; i++) {
        p = put_bytes(p, f[i].key);
        *p++ = (uint8_t)f[i].type;
        switch (f[i].type) {
        case TSDB_FLOAT: {
            uint64_t u;
            memcpy(&u, &f[i].v.f, 8);
            for (int k = 0; k < 8; k++)
                *p++ = (uint8_t)(u >> (8 * k));
            break;
        }
        case TSDB_INT:
            p = put_varint(p, zigzag(f[i].v.i));
            break;
        case TSDB_UINT:
            p = put_varint(p, f[i].v.u);
            break;
        case TSDB_BOOL:
            *p++ = f[i].v.b ? 1 : 0;
            break;
        case TSDB_STRING:
            p = put_bytes(p, f[i].v.s);
            break;
        }
    }
    out->len = (size_t)((char *)p - out->ptr);
    out->ptr[out->len] = 0;
}

void tsdb__wal_rec_end(sb_buf *out, size_t start, size_t npoints)
{
    uint8_t *p = (uint8_t *)out->ptr + start;
    size_t len = out->len - start - 8;
    uint8_t *np = p + 8 + 1 + 8;
    for (int i = 0; i < 4; i++)
        np[i] = (uint8_t)((uint32_t)npoints >> (8 * i));
    uint32_t crc = sb_crc32c(0, p + 8, len);
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)((uint32_t)len >> (8 * i));
        p[4 + i] = (uint8_t)(crc >> (8 * i));
    }
}

tsdb_err tsdb__wal_rec_decode(const uint8_t *p, size_t n, sb_arena *a, uint64_t *gen,
                              tsdb_point **pts, size_t *npts, sb_errbuf *err)
{
    tsdb__rd r = {p, p + n, false};
    const uint8_t *h = tsdb__rd_bytes(&r, 13);
    if (!h || h[0] != TSDB__REC_WRITE) {
        sb_errf(err, "log record: unknown kind");
        return TSDB_E_CORRUPT;
    }
    *gen = tsdb__get_u64(h + 1);
    uint32_t np = tsdb__get_u32(h + 9);
    /* A point takes at least 4 bytes (key length, a key byte, time,
     * field count): bound the allocation by the payload. */
    if (np > (n - 13) / 4) {
        sb_errf(err, "log record: %" PRIu32 " points in %zu bytes", np, n);
        return TSDB_E_CORRUPT;
    }
    tsdb_point *out = sb_arena_calloc(a, np ? np : 1, sizeof(*out));
    for (uint32_t i = 0; i < np && !r.bad; i++) {
        tsdb_point *pt = &out[i];
        pt->series_key = tsdb__rd_str(&r, WAL_MAX_KEY);
        pt->time = unzigzag(tsdb__rd_uvarint(&r));
        pt->has_time = true;
        uint64_t nf = tsdb__rd_uvarint(&r);
        if (r.bad || pt->series_key.len == 0 || nf == 0 || nf > (size_t)(r.end - r.p) / 3) {
            r.bad = true;
            break;
        }
        pt->fields = sb_arena_calloc(a, (size_t)nf, sizeof(tsdb_field));
        pt->nfields = (size_t)nf;
        for (size_t j = 0; j < nf && !r.bad; j++) {
            tsdb_field *f = &pt->fields[j];
            f->key = tsdb__rd_str(&r, WAL_MAX_KEY);
            const uint8_t *t = tsdb__rd_bytes(&r, 1);
            if (!t || f->key.len == 0) {
                r.bad = true;
                break;
            }
            f->type = (tsdb_type)*t;
            switch (*t) {
            case TSDB_FLOAT: {
                const uint8_t *b = tsdb__rd_bytes(&r, 8);
                uint64_t u = b ? tsdb__get_u64(b) : 0;
                memcpy(&f->v.f, &u, 8);
                break;
            }
            case TSDB_INT:
                f->v.i = unzigzag(tsdb__rd_uvarint(&r));
                break;
            case TSDB_UINT:
                f->v.u = tsdb__rd_uvarint(&r);
                break;
            case TSDB_BOOL: {
                const uint8_t *b = tsdb__rd_bytes(&r, 1);
                if (b && *b > 1)
                    r.bad = true;
                f->v.b = b && *b;
                break;
            }
            case TSDB_STRING:
                f->v.s = tsdb__rd_str(&r, WAL_MAX_STRING);
                break;
            default:
                r.bad = true;
            }
        }
    }
    if (r.bad || r.p != r.end) {
        sb_errf(err, "log record: malformed point");
        return TSDB_E_CORRUPT;
    }
    *pts = out;
    *npts = np;
    return TSDB_E_OK;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

tsdb_err tsdb__wal_walk(const uint8_t *p, size_t n, tsdb__wal_rec_cb cb, void *arg,
                        size_t *good_end, sb_errbuf *err)
{
    *good_end = 0;
    if (n < TSDB__WAL_HEADER)
        return TSDB_E_OK; /* torn while the segment was being created */
    if (memcmp(p, "TSW1", 4) != 0 || tsdb__get_u32(p + 4) != 1) {
        sb_errf(err, "log segment: bad header");
        return TSDB_E_CORRUPT;
    }
    size_t off = TSDB__WAL_HEADER;
    *good_end = off;
    while (off < n) {
        size_t rest = n - off;
        if (rest < 8)
            return TSDB_E_OK; /* torn frame header */
        uint32_t len = tsdb__get_u32(p + off);
        uint32_t crc = tsdb__get_u32(p + off + 4);
        bool sane = len > 0 && len <= TSDB__WAL_MAX_RECORD;
        if (sane && len > rest - 8)
            return TSDB_E_OK; /* the record runs past the end: torn */
        if (!sane || sb_crc32c(0, p + off + 8, len) != crc) {
            if (all_zero(p + off, rest))
                return TSDB_E_OK;
            sb_errf(err, "log segment: bad record at offset %zu", off);
            return TSDB_E_CORRUPT;
        }
        if (cb) {
            int rc = cb(arg, p + off + 8, len);
            if (rc) {
                sb_errf(err, "log segment: record at offset %zu refused", off);
                return TSDB_E_CORRUPT;
            }
        }
        off += 8 + (size_t)len;
        *good_end = off;
    }
    return TSDB_E_OK;
}

/* ---- segment files ---- */

static char *seg_path(const tsdb__wal *w, uint64_t seq)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_appendf(&b, "%s/%020" PRIu64 ".wal", w->dir, seq);
    return sb_buf_detach(&b, NULL);
}

tsdb_err tsdb__wal_init(tsdb__wal *w, const char *dir, sb_errbuf *err)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->fd = -1;
    sb_buf b = SB_BUF_INIT;
    sb_buf_appendf(&b, "%s/wal", dir);
    w->dir = sb_buf_detach(&b, NULL);
    if (mkdir(w->dir, 0755) != 0 && errno != EEXIST) {
        sb_errf(err, "mkdir %s: %s", w->dir, strerror(errno));
        return TSDB_E_IO;
    }
    return TSDB_E_OK;
}

void tsdb__wal_deinit(tsdb__wal *w)
{
    if (w->fd >= 0)
        close(w->fd);
    sb_vec_free(&w->old);
    free(w->dir);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Segment numbers in the directory, ascending. */
typedef SB_VEC(uint64_t) u64vec;

static tsdb_err list_segments(const tsdb__wal *w, u64vec *out, sb_errbuf *err)
{
    DIR *dir = opendir(w->dir);
    if (!dir) {
        sb_errf(err, "opendir %s: %s", w->dir, strerror(errno));
        return TSDB_E_IO;
    }
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t l = strlen(de->d_name);
        if (l != 24 || strcmp(de->d_name + 20, ".wal") != 0)
            continue;
        int64_t seq;
        if (!sb_str_to_i64(sb_str_make(de->d_name, 20), 0, INT64_MAX, &seq))
            continue;
        sb_vec_push(out, (uint64_t)seq);
    }
    closedir(dir);
    if (out->len)
        qsort(out->items, out->len, sizeof(uint64_t), cmp_u64);
    return TSDB_E_OK;
}

tsdb_err tsdb__wal_replay(tsdb__wal *w, uint64_t checkpoint, tsdb__wal_rec_cb cb, void *arg,
                          uint64_t *last, sb_errbuf *err)
{
    u64vec segs = {0};
    tsdb_err rc = list_segments(w, &segs, err);
    *last = checkpoint;
    for (size_t i = 0; rc == TSDB_E_OK && i < segs.len; i++) {
        uint64_t seq = segs.items[i];
        char *path = seg_path(w, seq);
        if (seq > *last)
            *last = seq;
        if (seq <= checkpoint) {
            unlink(path); /* its content is in block files */
            free(path);
            continue;
        }
        int fd = open(path, O_RDWR | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            sb_errf(err, "open %s: %s", path, strerror(errno));
            rc = TSDB_E_IO;
        } else {
            size_t size = (size_t)st.st_size, good = 0;
            void *m = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
            if (size && m == MAP_FAILED) {
                sb_errf(err, "mmap %s: %s", path, strerror(errno));
                rc = TSDB_E_IO;
            } else {
                sb_errbuf e2;
                w->replay_seq = seq;
                w->replay_base = m;
                rc = tsdb__wal_walk(m, size, cb, arg, &good, &e2);
                w->replay_base = NULL;
                if (rc != TSDB_E_OK)
                    sb_errf(err, "%s: %s", path, e2.msg);
                if (size)
                    munmap(m, size);
            }
            if (rc == TSDB_E_OK && good < size) {
                /* Cut the torn tail, durably, before anything is appended
                 * after this segment. */
                if (ftruncate(fd, (off_t)good) != 0 || fdatasync(fd) != 0) {
                    sb_errf(err, "truncate %s: %s", path, strerror(errno));
                    rc = TSDB_E_IO;
                }
            }
            if (rc == TSDB_E_OK)
                sb_vec_push(&w->old, ((tsdb__wal_seg){seq, good}));
        }
        if (fd >= 0)
            close(fd);
        free(path);
    }
    sb_vec_free(&segs);
    return rc;
}

tsdb_err tsdb__wal_start(tsdb__wal *w, uint64_t seq, sb_errbuf *err)
{
    char *path = seg_path(w, seq);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    tsdb_err rc = TSDB_E_OK;
    uint8_t hdr[TSDB__WAL_HEADER] = {'T', 'S', 'W', '1', 1, 0, 0, 0};
    if (fd < 0 || write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) || fdatasync(fd) != 0) {
        sb_errf(err, "create %s: %s", path, strerror(errno));
        rc = TSDB_E_IO;
        if (fd >= 0)
            close(fd);
    }
    free(path);
    if (rc == TSDB_E_OK)
        rc = tsdb__fsync_dir(w->dir, err);
    if (rc != TSDB_E_OK)
        return rc;
    w->fd = fd;
    w->seq = seq;
    w->size = w->synced = TSDB__WAL_HEADER;
    return TSDB_E_OK;
}

tsdb_err tsdb__wal_append(tsdb__wal *w, const void *p, size_t n, uint64_t *seq, uint64_t *end)
{
    pthread_mutex_lock(&w->mu);
    tsdb_err rc = TSDB_E_OK;
    if (w->failed || w->fd < 0) {
        rc = TSDB_E_IO;
        goto out;
    }
    const char *c = p;
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(w->fd, c + done, n - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            /* Take back the partial record so the segment stays a clean
             * sequence of records; refuse writes from now on either way. */
            if (ftruncate(w->fd, (off_t)w->size) != 0)
                (void)0;
            w->failed = true;
            rc = TSDB_E_IO;
            goto out;
        }
        done += (size_t)k;
    }
    w->size += n;
    *seq = w->seq;
    *end = w->size;
out:
    pthread_mutex_unlock(&w->mu);
    return rc;
}

tsdb_err tsdb__wal_sync(tsdb__wal *w, uint64_t seq, uint64_t end)
{
    pthread_mutex_lock(&w->mu);
    tsdb_err rc = TSDB_E_OK;
    for (;;) {
        if (w->failed) {
            rc = TSDB_E_IO;
            break;
        }
        /* A rotation syncs the segment it closes. */
        if (seq != w->seq || w->synced >= end)
            break;
        if (w->syncing) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        w->syncing = true;
        int fd = w->fd;
        uint64_t target = w->size;
        pthread_mutex_unlock(&w->mu);
        int r = fdatasync(fd);
        pthread_mutex_lock(&w->mu);
        w->syncing = false;
        if (r != 0)
            w->failed = true; /* PostgreSQL's lesson: never retry fsync */
        else if (target > w->synced)
            w->synced = target;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

tsdb_err tsdb__wal_rotate(tsdb__wal *w, uint64_t *closed, sb_errbuf *err)
{
    pthread_mutex_lock(&w->mu);
    while (w->syncing)
        pthread_cond_wait(&w->cv, &w->mu);
    tsdb_err rc = TSDB_E_OK;
    if (w->failed || fdatasync(w->fd) != 0) {
        w->failed = true;
        sb_errf(err, "log sync failed");
        rc = TSDB_E_IO;
        goto out;
    }
    uint64_t seq = w->seq, size = w->size;
    int fd = w->fd;
    rc = tsdb__wal_start(w, seq + 1, err);
    if (rc != TSDB_E_OK) {
        w->failed = true;
        goto out;
    }
    close(fd);
    sb_vec_push(&w->old, ((tsdb__wal_seg){seq, size}));
    *closed = seq;
    pthread_cond_broadcast(&w->cv);
out:
    pthread_mutex_unlock(&w->mu);
    return rc;
}

void tsdb__wal_remove_upto(tsdb__wal *w, uint64_t seq)
{
    pthread_mutex_lock(&w->mu);
    size_t k = 0;
    for (size_t i = 0; i < w->old.len; i++) {
        if (w->old.items[i].seq <= seq) {
            char *path = seg_path(w, w->old.items[i].seq);
            unlink(path);
            free(path);
        } else {
            w->old.items[k++] = w->old.items[i];
        }
    }
    w->old.len = k;
    pthread_mutex_unlock(&w->mu);
}

uint64_t tsdb__wal_bytes(tsdb__wal *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t n = w->fd >= 0 ? w->size : 0;
    for (size_t i = 0; i < w->old.len; i++)
        n += w->old.items[i].size;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void tsdb__wal_pos(tsdb__wal *w, uint64_t *seq, uint64_t *end)
{
    pthread_mutex_lock(&w->mu);
    *seq = w->seq;
    *end = w->size;
    pthread_mutex_unlock(&w->mu);
}
