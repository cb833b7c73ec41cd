/*
 * rollup_file.c: a database's rollup rows on disk, so that opening the
 * engine reads them instead of recomputing them from every block.
 *
 * A snapshot is the rows of every numeric field of one database as they
 * were at one point of the log, P: they reflect every record of that
 * database appended before P and none after (P is read under the
 * database's lock, which writers hold across their log append and their
 * in-memory append, so log order is apply order). Opening loads the
 * snapshot the catalog names, then replays the log: records before P
 * only refill heads, records from P on also update rollups, exactly as
 * the write did. The catalog names a snapshot only while it is valid:
 *
 *   - flush writes a new snapshot of every database changed since its
 *     last one after rotating the log and before the catalog moves the
 *     checkpoint past the rotated segments, so P is always in a segment
 *     the log still replays; an unchanged database has no record after
 *     its P, so its snapshot stays valid whatever the checkpoint;
 *   - retention trims rows, then writes a snapshot and the catalog, and
 *     only then deletes the expired block files.
 * A snapshot that cannot be written leaves its database without one (the
 * catalog says 0): opening then recomputes its rows as before. One that
 * does not read back whole (CRC, versions, rollup widths) likewise.
 *
 * The log up to P is synced before the snapshot is written, so a snapshot
 * never holds a write the log could lose in a crash.
 *
 * Format (integers little endian, varints LEB128):
 *   "TSR1" u32 version=1, u64 P's segment, u64 P's offset,
 *   u32 number of widths, u64 each width,
 *   per series with rows: its key front-coded against the previous one
 *     (varint length of the rest, > 0; varint bytes shared; the rest),
 *     varint fields, per field: its name (varint 0, varint length, name
 *     for a name not seen before in the file; else varint 1 + its index
 *     among those), u8 type, u8 widths without rows (bit w: sparse, see
 *     head.c), per width: varint rows, per row: varint start step (the
 * first: zig-zag start/width, then (start - previous)/width), varint count << 2 | dirty << 1 |
 *     single, then the value (single: sum, min and max are one number, the
 *     common row of one point) or sum, min, max; a number is varint
 *     zig-zag(m) << 3 | k when it is exactly m / 10^k with k <= 4 and
 *     |m| < 2^53 (integers, values written with a few decimals), else
 *     varint 7 and the double's 8 bytes;
 *   varint 0, u32 CRC-32C of everything before.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "tsdb/engine_int.h"

#define SNAP_VERSION  1
#define SNAP_SPILL    (1u << 20) /* bytes buffered before a write() */
#define SNAP_MAX_ROWS (UINT32_MAX / 2)
#define COUNT_MAX     (UINT64_C(1) << 61)

char *tsdb__rollup_path(const tsdb__db *d, uint64_t n, bool tmp)
{
    sb_buf b = SB_BUF_INIT;
    sb_buf_appendf(&b, "%s/rollups-%020" PRIu64 ".tsr%s", d->dir, n, tmp ? ".tmp" : "");
    return b.ptr;
}

/* ---- writing ---- */

typedef struct writer {
    int fd;
    sb_buf buf;
    uint32_t crc;
    bool failed;
} writer;

static void spill(writer *w, bool all)
{
    if (w->failed || (!all && w->buf.len < SNAP_SPILL) || !w->buf.len)
        return;
    w->crc = sb_crc32c(w->crc, w->buf.ptr, w->buf.len);
    size_t off = 0;
    while (off < w->buf.len) {
        ssize_t k = write(w->fd, w->buf.ptr + off, w->buf.len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            w->failed = true;
            return;
        }
        off += (size_t)k;
    }
    sb_buf_reset(&w->buf);
}

static const double POW10[] = {1, 10, 100, 1000, 10000};
#define NUM_RAW   7
#define MAX_EXACT 9007199254740992.0 /* 2^53 */

static double num_value(int64_t m, unsigned k)
{
    return k ? (double)m / POW10[k] : (double)m;
}

/* Counters, status codes and their sums are integers; gauges written with
 * a few decimals are m / 10^k exactly (both the parser and this division
 * round correctly): a few bytes instead of 8. Anything else, raw. */
static void put_num(sb_buf *b, double x)
{
    for (unsigned k = 0; k < SB_ARRAY_LEN(POW10); k++) {
        double t = x * POW10[k];
        if (!(t > -MAX_EXACT && t < MAX_EXACT)) /* also NaN */
            break;
        int64_t m = llround(t);
        double back = num_value(m, k);
        if (memcmp(&back, &x, sizeof(x)) == 0) { /* bitwise: -0 is raw */
            uint64_t z = ((uint64_t)m << 1) ^ (uint64_t)(m >> 63);
            tsdb__put_uvarint(b, z << 3 | k);
            return;
        }
    }
    uint64_t u;
    memcpy(&u, &x, 8);
    tsdb__put_uvarint(b, NUM_RAW);
    tsdb__put_u64(b, u);
}

static bool same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

/* The rows of one field and width. False for a count the format cannot
 * carry (2^61 points in a bucket). */
static bool put_rows(sb_buf *b, const tsdb__rvec *rv, int64_t width)
{
    tsdb__put_uvarint(b, rv->len);
    int64_t prev = 0;
    for (uint32_t i = 0; i < rv->len; i++) {
        const tsdb__rrow *r = &rv->items[i];
        int64_t q = r->start / width; /* starts are multiples of width */
        if (i == 0)
            tsdb__put_uvarint(b, ((uint64_t)q << 1) ^ (uint64_t)(q >> 63));
        else
            tsdb__put_uvarint(b, (uint64_t)(q - prev));
        prev = q;
        bool dirty = tsdb__rrow_dirty(r);
        uint64_t count = r->count & ~TSDB__RROW_DIRTY;
        if (count >= COUNT_MAX)
            return false;
        bool single =
            !dirty && count == 1 && same_bits(r->sum, r->min) && same_bits(r->sum, r->max);
        tsdb__put_uvarint(b, count << 2 | (uint64_t)dirty << 1 | (uint64_t)single);
        put_num(b, r->sum);
        if (!single) {
            put_num(b, r->min);
            put_num(b, r->max);
        }
    }
    return true;
}

/* A numeric field with rows, or sparse and still holding data (a sparse
 * field whose data all expired is left out: its series would come back
 * at open with nothing in it). */
static bool in_snapshot(const tsdb_engine *e, const tsdb__sfield *sf)
{
    if (!tsdb__has_roll(sf))
        return false;
    for (unsigned r = 0; r < e->o.nrollups; r++)
        if (sf->roll[r].len)
            return true;
    return sf->roll_off && (sf->blocks.len || sf->head.n || sf->frozen.n);
}

/* Encodes d's rows into w under d's read lock and reads P and the change
 * count they belong to. */
static bool encode(tsdb_engine *e, tsdb__db *d, writer *w, uint64_t *pseq, uint64_t *poff,
                   uint64_t *version)
{
    bool ok = true;
    pthread_rwlock_rdlock(&d->lock);
    tsdb__wal_pos(&e->wal, pseq, poff);
    *version = d->roll_version;
    sb_buf_append(&w->buf, "TSR1", 4);
    tsdb__put_u32(&w->buf, SNAP_VERSION);
    tsdb__put_u64(&w->buf, *pseq);
    tsdb__put_u64(&w->buf, *poff);
    tsdb__put_u32(&w->buf, e->o.nrollups);
    for (unsigned r = 0; r < e->o.nrollups; r++)
        tsdb__put_u64(&w->buf, (uint64_t)e->o.rollups[r]);
    sb_str prev = SB_STR("");
    sb_map names; /* name -> index + 1 */
    sb_map_init(&names);
    for (size_t i = 0; ok && i < d->series.len; i++) {
        const tsdb__series *s = d->series.items[i];
        uint32_t nf = 0;
        for (uint32_t k = 0; k < s->nfields; k++) {
            const tsdb__sfield *sf = &s->fields[k];
            nf += in_snapshot(e, sf);
        }
        if (!nf)
            continue;
        /* Series come in creation order, next to their neighbours: keys
         * share most of their bytes with the previous one. */
        size_t shared = 0;
        while (shared < prev.len && shared + 1 < s->key.len &&
               prev.ptr[shared] == s->key.ptr[shared])
            shared++;
        tsdb__put_uvarint(&w->buf, s->key.len - shared);
        tsdb__put_uvarint(&w->buf, shared);
        sb_buf_append(&w->buf, s->key.ptr + shared, s->key.len - shared);
        prev = s->key;
        tsdb__put_uvarint(&w->buf, nf);
        for (uint32_t k = 0; ok && k < s->nfields; k++) {
            const tsdb__sfield *sf = &s->fields[k];
            if (!in_snapshot(e, sf))
                continue;
            uintptr_t idx = (uintptr_t)sb_map_get(&names, sf->mf->name);
            if (idx) {
                tsdb__put_uvarint(&w->buf, idx);
            } else {
                sb_map_put(&names, sf->mf->name, (void *)(uintptr_t)(names.len + 1));
                tsdb__put_uvarint(&w->buf, 0);
                tsdb__put_uvarint(&w->buf, sf->mf->name.len);
                sb_buf_append_str(&w->buf, sf->mf->name);
            }
            sb_buf_putc(&w->buf, (char)sf->mf->type);
            sb_buf_putc(&w->buf, (char)sf->roll_off);
            for (unsigned r = 0; ok && r < e->o.nrollups; r++)
                ok = put_rows(&w->buf, &sf->roll[r], e->o.rollups[r]);
        }
        spill(w, false);
        ok = ok && !w->failed;
    }
    pthread_rwlock_unlock(&d->lock);
    sb_map_deinit(&names);
    tsdb__put_uvarint(&w->buf, 0);
    return ok;
}

tsdb_err tsdb__rollup_save(tsdb_engine *e, tsdb__db *d, uint64_t n, sb_errbuf *err)
{
    char *tmp = tsdb__rollup_path(d, n, true), *path = tsdb__rollup_path(d, n, false);
    writer w = {open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), SB_BUF_INIT, 0, false};
    tsdb_err rc = TSDB_E_OK;
    uint64_t pseq = 0, poff = 0, version = 0;
    if (w.fd < 0) {
        sb_errf(err, "create %s: %s", tmp, strerror(errno));
        rc = TSDB_E_IO;
        goto out;
    }
    if (!encode(e, d, &w, &pseq, &poff, &version)) {
        sb_errf(err, "write %s: %s", tmp, w.failed ? strerror(errno) : "a rollup count too large");
        rc = TSDB_E_IO;
        goto out;
    }
    spill(&w, true);
    tsdb__put_u32(&w.buf, w.crc);
    spill(&w, true);
    /* The snapshot holds every record before P: those must be durable
     * before it is. */
    if (w.failed || tsdb__wal_sync(&e->wal, pseq, poff) != TSDB_E_OK || fsync(w.fd) != 0 ||
        rename(tmp, path) != 0) {
        sb_errf(err, "write %s: %s", path, strerror(errno));
        rc = TSDB_E_IO;
        goto out;
    }
    rc = tsdb__fsync_dir(d->dir, err);
out:
    if (w.fd >= 0)
        close(w.fd);
    if (rc != TSDB_E_OK)
        unlink(tmp);
    else
        d->snap_version = version;
    sb_buf_free(&w.buf);
    free(tmp);
    free(path);
    return rc;
}

/* ---- reading ---- */

static double get_num(tsdb__rd *r)
{
    uint64_t v = tsdb__rd_uvarint(r);
    unsigned k = (unsigned)(v & 7);
    if (k == NUM_RAW && v == NUM_RAW) {
        const uint8_t *p = tsdb__rd_bytes(r, 8);
        uint64_t u = p ? tsdb__get_u64(p) : 0;
        double x;
        memcpy(&x, &u, 8);
        return x;
    }
    uint64_t z = v >> 3;
    int64_t m = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    if (k >= SB_ARRAY_LEN(POW10) || m <= -(INT64_C(1) << 53) || m >= (INT64_C(1) << 53)) {
        r->bad = true;
        return 0;
    }
    return num_value(m, k);
}

typedef SB_VEC(sb_str) name_list;

/* One pass over the body after the header: checks it (apply false) or
 * installs its rows into d (apply true, after a checking pass). kb holds
 * the previous key, names the field names seen so far. */
static bool walk_body(tsdb_engine *e, tsdb__db *d, tsdb__rd r, bool apply, sb_buf *kb,
                      name_list *names)
{
    for (;;) {
        uint64_t rest = tsdb__rd_uvarint(&r);
        if (!r.bad && rest == 0)
            return r.p == r.end;
        uint64_t shared = tsdb__rd_uvarint(&r);
        if (r.bad || shared > kb->len || rest > 65535 - shared)
            return false;
        const uint8_t *kp = tsdb__rd_bytes(&r, (size_t)rest);
        uint64_t nf = tsdb__rd_uvarint(&r);
        if (!kp || r.bad || nf == 0 || nf > 1u << 20)
            return false;
        kb->len = (size_t)shared;
        sb_buf_append(kb, kp, (size_t)rest);
        sb_str key = sb_buf_str(kb);
        tsdb__series *s = NULL;
        if (apply) {
            uint64_t h = tsdb__key_hash(key);
            s = tsdb__series_find(d, key, h);
            if (!s)
                s = tsdb__series_add(d, key, h, NULL);
            if (!s)
                return false;
        }
        for (uint64_t k = 0; k < nf; k++) {
            sb_str name = {0};
            uint64_t ni = tsdb__rd_uvarint(&r);
            if (ni == 0) {
                name = tsdb__rd_str(&r, 65535);
                sb_vec_push(names, name);
            } else if (ni <= names->len) {
                name = names->items[ni - 1];
            }
            const uint8_t *tp = tsdb__rd_bytes(&r, 2);
            if (r.bad || !tp || name.len == 0 || (tp[1] >> e->o.nrollups) != 0)
                return false;
            tsdb_type type = (tsdb_type)tp[0];
            if (!tsdb__numeric(type))
                return false;
            tsdb__sfield *sf = NULL;
            if (apply) {
                tsdb__mfield *mf = tsdb__mfield_find(s->m, name);
                if (!mf)
                    mf = tsdb__mfield_add(s->m, name, type);
                if (mf->type != type)
                    return false;
                sf = tsdb__sfield_get(e, s, mf);
                sf->roll_off = tp[1];
            }
            for (unsigned w = 0; w < e->o.nrollups; w++) {
                int64_t width = e->o.rollups[w];
                uint64_t n = tsdb__rd_uvarint(&r);
                /* a row is at least 3 bytes: no allocation past the file */
                if (r.bad || n > SNAP_MAX_ROWS || n > (uint64_t)(r.end - r.p) / 3 ||
                    (n && (tp[1] & (1u << w))))
                    return false;
                tsdb__rvec *rv = sf ? &sf->roll[w] : NULL;
                if (rv) {
                    free(rv->items);
                    rv->items = n ? sb_malloc((size_t)n * sizeof(*rv->items)) : NULL;
                    rv->len = rv->cap = (uint32_t)n;
                }
                int64_t q = 0;
                for (uint64_t i = 0; i < n; i++) {
                    uint64_t step = tsdb__rd_uvarint(&r);
                    if (i == 0)
                        q = (int64_t)(step >> 1) ^ -(int64_t)(step & 1);
                    else if (step == 0 || __builtin_add_overflow(q, (int64_t)step, &q))
                        return false;
                    int64_t start;
                    if (__builtin_mul_overflow(q, width, &start))
                        return false;
                    uint64_t c = tsdb__rd_uvarint(&r);
                    bool single = c & 1, dirty = c & 2;
                    tsdb__rrow row = {.start = start, .count = c >> 2};
                    row.sum = get_num(&r);
                    row.min = row.max = row.sum;
                    if (!single) {
                        row.min = get_num(&r);
                        row.max = get_num(&r);
                    }
                    if (r.bad || (single && dirty))
                        return false;
                    if (dirty) {
                        tsdb__rrow_mark(&row);
                        if (apply)
                            d->roll_dirty = true;
                    }
                    if (rv)
                        rv->items[i] = row;
                }
            }
        }
    }
}

static bool walk(tsdb_engine *e, tsdb__db *d, tsdb__rd r, bool apply)
{
    sb_buf key = SB_BUF_INIT;
    name_list names = {0};
    bool ok = walk_body(e, d, r, apply, &key, &names);
    sb_buf_free(&key);
    sb_vec_free(&names);
    return ok;
}

/* The header of a snapshot image n >= 36 bytes long: magic, version, CRC
 * and the widths this engine has; *body is then the rows. */
static bool header(const tsdb_engine *e, const uint8_t *p, size_t n, tsdb__rd *body, uint64_t *pseq,
                   uint64_t *poff)
{
    if (n < 36 || memcmp(p, "TSR1", 4) != 0 || tsdb__get_u32(p + 4) != SNAP_VERSION ||
        sb_crc32c(0, p, n - 4) != tsdb__get_u32(p + n - 4))
        return false;
    tsdb__rd r = {p + 8, p + n - 4, false};
    const uint8_t *h = tsdb__rd_bytes(&r, 20);
    if (!h || tsdb__get_u32(h + 16) != e->o.nrollups)
        return false;
    *pseq = tsdb__get_u64(h);
    *poff = tsdb__get_u64(h + 8);
    for (unsigned w = 0; w < e->o.nrollups; w++) {
        const uint8_t *x = tsdb__rd_bytes(&r, 8);
        if (!x || (int64_t)tsdb__get_u64(x) != e->o.rollups[w])
            return false;
    }
    *body = r;
    return true;
}

bool tsdb__rollup_check(tsdb_engine *e, const uint8_t *p, size_t n)
{
    tsdb__rd r;
    uint64_t pseq, poff;
    return header(e, p, n, &r, &pseq, &poff) && walk(e, NULL, r, false);
}

bool tsdb__rollup_load(tsdb_engine *e, tsdb__db *d, sb_errbuf *err)
{
    if (!d->snap)
        return false;
    char *path = tsdb__rollup_path(d, d->snap, false);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    bool ok = false;
    uint8_t *p = NULL;
    size_t n = 0;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size >= 36) {
        n = (size_t)st.st_size;
        p = sb_malloc(n);
        size_t off = 0;
        while (off < n) {
            ssize_t k = pread(fd, p + off, n - off, (off_t)off);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                break;
            off += (size_t)k;
        }
        ok = off == n;
    }
    if (fd >= 0)
        close(fd);
    tsdb__rd r;
    uint64_t pseq = 0, poff = 0;
    /* Checked whole before anything is installed: a bad file changes
     * nothing and the rows are recomputed instead. */
    ok = ok && header(e, p, n, &r, &pseq, &poff) && walk(e, d, r, false) && walk(e, d, r, true);
    if (ok) {
        d->snap_seq = pseq;
        d->snap_off = poff;
    } else if (err) {
        sb_errf(err, "%s: not a usable rollup snapshot: recomputing the rollups", path);
    }
    free(p);
    free(path);
    return ok;
}
