/*
 * tsf.c: block files. One file holds the blocks (block.h) of one time
 * window written by one flush or compaction, followed by an index that
 * says where each series' field's blocks are, so that opening the engine
 * reads indexes only and a scan reads only the blocks it needs.
 *
 *   0   "TSF1", u32 version 1, i64 window start, u64 sequence number
 *   24  blocks, back to back
 *   ..  index: uvarint n, n series keys front-coded (uvarint bytes shared
 *              with the previous key, uvarint length of the rest, the
 *              rest); uvarint n, n field names (uvarint length, bytes);
 *              uvarint n, n entries in file order: uvarint series index
 *              minus the previous entry's (entries go by series), uvarint
 *              field, u8 type, uvarint count, zig-zag varint min time
 *              minus the window start, uvarint max - min, uvarint offset
 *              minus the previous block's end (the first: minus 24),
 *              uvarint length
 *   end-24  u64 index offset, u64 index length, u32 CRC-32C of the
 *           index, "TSFE"
 *
 * Little-endian. Files are written whole to a temporary name, synced and
 * renamed, so a file either exists complete or not at all; the CRC still
 * guards against a damaged disk. Decoding checks every count against the
 * bytes left before allocating and every reference against its table.
 */
#include "tsdb/engine_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/crc32c.h"

#define TSF_MAX_KEY 65535u

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

void tsdb__file_ref(tsdb__file *f)
{
    atomic_fetch_add(&f->refs, 1);
}

void tsdb__file_unref(tsdb__file *f)
{
    if (f && atomic_fetch_sub(&f->refs, 1) == 1) {
        close(f->fd);
        free(f);
    }
}

void tsdb__tsf_builder_init(tsdb__tsf_builder *b, int64_t window, uint64_t seq)
{
    memset(b, 0, sizeof(*b));
    b->fd = -1;
    b->window = window;
    b->seq = seq;
    sb_map_init(&b->name_idx);
    sb_buf_append(&b->data, "TSF1", 4);
    tsdb__put_u32(&b->data, 1);
    tsdb__put_u64(&b->data, (uint64_t)window);
    tsdb__put_u64(&b->data, seq);
}

void tsdb__tsf_builder_deinit(tsdb__tsf_builder *b)
{
    sb_buf_free(&b->data);
    sb_vec_free(&b->entries);
    sb_vec_free(&b->keys);
    sb_vec_free(&b->ids);
    sb_vec_free(&b->names);
    sb_map_deinit(&b->name_idx);
}

static size_t value_size(tsdb_type t)
{
    switch (t) {
    case TSDB_BOOL:
        return sizeof(bool);
    case TSDB_STRING:
        return sizeof(sb_str);
    default:
        return 8;
    }
}

tsdb_err tsdb__tsf_add(tsdb__tsf_builder *b, const void *series_id, sb_str key, sb_str field,
                       tsdb_type type, const int64_t *t, const void *v, size_t n)
{
    if (n == 0)
        return TSDB_E_OK;
    if (b->last_key_id != series_id || b->keys.len == 0) {
        sb_vec_push(&b->keys, key);
        sb_vec_push(&b->ids, series_id);
        b->last_key_id = series_id;
    }
    uintptr_t fi = (uintptr_t)sb_map_get(&b->name_idx, field);
    if (!fi) {
        sb_vec_push(&b->names, field);
        fi = b->names.len;
        sb_map_put(&b->name_idx, field, (void *)fi);
    }
    size_t nblocks = (n + TSDB__BLOCK_POINTS - 1) / TSDB__BLOCK_POINTS;
    size_t per = (n + nblocks - 1) / nblocks;
    size_t vs = value_size(type);
    for (size_t i = 0; i < n; i += per) {
        size_t k = SB_MIN(per, n - i);
        size_t off = b->data.len;
        uint64_t at = tsdb__tsf_size(b);
        tsdb_err rc = tsdb_block_encode(&b->data, type, t + i, (const char *)v + i * vs, k);
        if (rc != TSDB_E_OK)
            return rc;
        tsdb__tsf_entry en = {
            .series = (uint32_t)(b->keys.len - 1),
            .field = (uint32_t)(fi - 1),
            .type = type,
            .count = (uint32_t)k,
            .len = (uint32_t)(b->data.len - off),
            .min = t[i],
            .max = t[i + k - 1],
            .off = at,
        };
        sb_vec_push(&b->entries, en);
    }
    b->points += n;
    /* A flush or compaction of a big window need not hold its file. */
    if (b->fd >= 0 && b->data.len >= (1u << 20) && !tsdb__tsf_spill(b))
        return TSDB_E_IO;
    return TSDB_E_OK;
}

bool tsdb__tsf_spill(tsdb__tsf_builder *b)
{
    size_t done = 0;
    while (b->fd >= 0 && !b->failed && done < b->data.len) {
        ssize_t k = write(b->fd, b->data.ptr + done, b->data.len - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            b->failed = true;
        else
            done += (size_t)k;
    }
    if (b->fd >= 0 && !b->failed) {
        b->base += b->data.len;
        sb_buf_reset(&b->data);
    }
    return !b->failed;
}

void tsdb__tsf_finish(tsdb__tsf_builder *b)
{
    uint64_t idx_off = tsdb__tsf_size(b);
    size_t idx_at = b->data.len;
    sb_buf *d = &b->data;
    /* Keys front-coded: series of a measurement share long prefixes. */
    tsdb__put_uvarint(d, b->keys.len);
    sb_str prev = SB_STR_NULL;
    for (size_t i = 0; i < b->keys.len; i++) {
        sb_str k = b->keys.items[i];
        size_t shared = 0;
        while (shared < prev.len && shared < k.len && prev.ptr[shared] == k.ptr[shared])
            shared++;
        tsdb__put_uvarint(d, shared);
        tsdb__put_uvarint(d, k.len - shared);
        sb_buf_append(d, k.ptr + shared, k.len - shared);
        prev = k;
    }
    tsdb__put_uvarint(d, b->names.len);
    for (size_t i = 0; i < b->names.len; i++) {
        tsdb__put_uvarint(d, b->names.items[i].len);
        sb_buf_append_str(d, b->names.items[i]);
    }
    /* Entries come in file order and series order: deltas. */
    tsdb__put_uvarint(d, b->entries.len);
    uint64_t prev_s = 0, prev_end = TSDB__TSF_HEADER;
    for (size_t i = 0; i < b->entries.len; i++) {
        const tsdb__tsf_entry *en = &b->entries.items[i];
        tsdb__put_uvarint(d, en->series - prev_s);
        tsdb__put_uvarint(d, en->field);
        sb_buf_putc(d, (char)en->type);
        tsdb__put_uvarint(d, en->count);
        tsdb__put_uvarint(d, zigzag((int64_t)((uint64_t)en->min - (uint64_t)b->window)));
        tsdb__put_uvarint(d, (uint64_t)en->max - (uint64_t)en->min);
        tsdb__put_uvarint(d, en->off - prev_end);
        tsdb__put_uvarint(d, en->len);
        prev_s = en->series;
        prev_end = en->off + en->len;
    }
    uint64_t idx_len = d->len - idx_at;
    uint32_t crc = sb_crc32c(0, d->ptr + idx_at, idx_len);
    tsdb__put_u64(d, idx_off);
    tsdb__put_u64(d, idx_len);
    tsdb__put_u32(d, crc);
    sb_buf_append(d, "TSFE", 4);
}

tsdb_err tsdb__tsf_index_decode(const uint8_t *idx, size_t n, uint64_t data_end, sb_arena *a,
                                tsdb__tsf_index *out, sb_errbuf *err)
{
    tsdb__rd r = {idx, idx + n, false};
    /* Each key takes at least two bytes, a name one, an entry eight; the
     * bytes keys expand to are bounded too (front coding could otherwise
     * turn a small index into gigabytes). */
    uint64_t nk = tsdb__rd_uvarint(&r);
    if (r.bad || nk > (size_t)(r.end - r.p) / 2)
        goto bad;
    out->keys = sb_arena_calloc(a, (size_t)nk + 1, sizeof(sb_str));
    out->nkeys = (size_t)nk;
    uint64_t budget = (uint64_t)n * 64 + 65536;
    sb_str prev = SB_STR_NULL;
    for (size_t i = 0; i < nk; i++) {
        uint64_t shared = tsdb__rd_uvarint(&r), rest = tsdb__rd_uvarint(&r);
        if (r.bad || shared > prev.len || rest > TSF_MAX_KEY || shared + rest > TSF_MAX_KEY ||
            shared + rest == 0 || shared + rest > budget)
            goto bad;
        const uint8_t *p = tsdb__rd_bytes(&r, (size_t)rest);
        if (!p)
            goto bad;
        budget -= shared + rest;
        char *k = sb_arena_alloc(a, (size_t)(shared + rest));
        if (shared)
            memcpy(k, prev.ptr, (size_t)shared);
        memcpy(k + shared, p, (size_t)rest);
        out->keys[i] = prev = sb_str_make(k, (size_t)(shared + rest));
    }
    uint64_t nn = tsdb__rd_uvarint(&r);
    if (r.bad || nn > (size_t)(r.end - r.p))
        goto bad;
    out->names = sb_arena_calloc(a, (size_t)nn + 1, sizeof(sb_str));
    out->nnames = (size_t)nn;
    for (size_t i = 0; i < nn; i++) {
        out->names[i] = tsdb__rd_str(&r, TSF_MAX_KEY);
        if (r.bad || out->names[i].len == 0)
            goto bad;
    }
    uint64_t ne = tsdb__rd_uvarint(&r);
    if (r.bad || ne > (size_t)(r.end - r.p) / 8)
        goto bad;
    out->entries = sb_arena_calloc(a, (size_t)ne + 1, sizeof(tsdb__tsf_entry));
    out->nentries = (size_t)ne;
    uint64_t s = 0, end = TSDB__TSF_HEADER;
    for (size_t i = 0; i < ne && !r.bad; i++) {
        tsdb__tsf_entry *en = &out->entries[i];
        uint64_t ds = tsdb__rd_uvarint(&r), f = tsdb__rd_uvarint(&r);
        const uint8_t *t = tsdb__rd_bytes(&r, 1);
        uint64_t count = tsdb__rd_uvarint(&r);
        int64_t dmin = unzigzag(tsdb__rd_uvarint(&r));
        uint64_t span = tsdb__rd_uvarint(&r);
        uint64_t doff = tsdb__rd_uvarint(&r), len = tsdb__rd_uvarint(&r);
        int64_t min, max;
        uint64_t off;
        if (r.bad || ds >= nk || (s += ds) >= nk || f >= nn || *t < TSDB_FLOAT ||
            *t > TSDB_STRING || count == 0 || count > TSDB_BLOCK_MAX_POINTS ||
            __builtin_add_overflow(out->window, dmin, &min) || span > (uint64_t)INT64_MAX ||
            __builtin_add_overflow(min, (int64_t)span, &max) || doff > data_end ||
            (off = end + doff) > data_end || len < TSDB_BLOCK_OVERHEAD || len > UINT32_MAX ||
            len > data_end - off)
            goto bad;
        end = off + len;
        *en = (tsdb__tsf_entry){(uint32_t)s,   (uint32_t)f, (tsdb_type)*t, (uint32_t)count,
                                (uint32_t)len, min,         max,           off};
    }
    if (r.bad || r.p != r.end)
        goto bad;
    return TSDB_E_OK;
bad:
    sb_errf(err, "block file index is malformed");
    return TSDB_E_CORRUPT;
}

/* Header and trailer: where the index is. */
static tsdb_err check_frame(const uint8_t *hdr, const uint8_t *tr, uint64_t size,
                            tsdb__tsf_index *out, uint64_t *idx_off, uint64_t *idx_len,
                            uint32_t *crc, sb_errbuf *err)
{
    if (memcmp(hdr, "TSF1", 4) != 0 || tsdb__get_u32(hdr + 4) != 1 ||
        memcmp(tr + 20, "TSFE", 4) != 0) {
        sb_errf(err, "not a block file");
        return TSDB_E_CORRUPT;
    }
    out->window = (int64_t)tsdb__get_u64(hdr + 8);
    out->seq = tsdb__get_u64(hdr + 16);
    *idx_off = tsdb__get_u64(tr);
    *idx_len = tsdb__get_u64(tr + 8);
    *crc = tsdb__get_u32(tr + 16);
    uint64_t body = size - TSDB__TSF_TRAILER;
    if (*idx_off < TSDB__TSF_HEADER || *idx_off > body || *idx_len != body - *idx_off) {
        sb_errf(err, "block file trailer is malformed");
        return TSDB_E_CORRUPT;
    }
    return TSDB_E_OK;
}

tsdb_err tsdb__tsf_parse(const uint8_t *p, size_t n, sb_arena *a, tsdb__tsf_index *out,
                         sb_errbuf *err)
{
    memset(out, 0, sizeof(*out));
    if (n < TSDB__TSF_HEADER + TSDB__TSF_TRAILER) {
        sb_errf(err, "block file too short");
        return TSDB_E_CORRUPT;
    }
    uint64_t off, len;
    uint32_t crc;
    tsdb_err rc = check_frame(p, p + n - TSDB__TSF_TRAILER, n, out, &off, &len, &crc, err);
    if (rc != TSDB_E_OK)
        return rc;
    if (sb_crc32c(0, p + off, len) != crc) {
        sb_errf(err, "block file index checksum mismatch");
        return TSDB_E_CHECKSUM;
    }
    return tsdb__tsf_index_decode(p + off, len, off, a, out, err);
}

static bool pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    char *p = buf;
    while (n > 0) {
        ssize_t k = pread(fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return true;
}

tsdb_err tsdb__tsf_read_index(int fd, uint64_t size, sb_arena *a, sb_buf *scratch,
                              tsdb__tsf_index *out, sb_errbuf *err)
{
    memset(out, 0, sizeof(*out));
    uint8_t hdr[TSDB__TSF_HEADER], tr[TSDB__TSF_TRAILER];
    if (size < sizeof(hdr) + sizeof(tr)) {
        sb_errf(err, "block file too short");
        return TSDB_E_CORRUPT;
    }
    if (!pread_all(fd, hdr, sizeof(hdr), 0) ||
        !pread_all(fd, tr, sizeof(tr), size - TSDB__TSF_TRAILER)) {
        sb_errf(err, "read: %s", strerror(errno));
        return TSDB_E_IO;
    }
    uint64_t off, len;
    uint32_t crc;
    tsdb_err rc = check_frame(hdr, tr, size, out, &off, &len, &crc, err);
    if (rc != TSDB_E_OK)
        return rc;
    sb_buf_reset(scratch);
    sb_buf_reserve(scratch, (size_t)len);
    if (!pread_all(fd, scratch->ptr, (size_t)len, off)) {
        sb_errf(err, "read: %s", strerror(errno));
        return TSDB_E_IO;
    }
    scratch->len = (size_t)len;
    if (sb_crc32c(0, scratch->ptr, len) != crc) {
        sb_errf(err, "block file index checksum mismatch");
        return TSDB_E_CHECKSUM;
    }
    return tsdb__tsf_index_decode((const uint8_t *)scratch->ptr, (size_t)len, off, a, out, err);
}
