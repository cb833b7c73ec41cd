/*
 * tsdb_wal_fuzz.c: libFuzzer target for what the engine reads back from
 * disk: log segments and their records, and block-file indexes. Byte 0
 * picks the path:
 *   0: the rest is a log segment image, walked record by record, each
 *      record decoded;
 *   1: the rest is one record payload, decoded as it is and also framed
 *      with a valid length and CRC in a segment (to get past the CRC);
 *   2: the rest is a block file image;
 *   3: the rest is a block-file index, sealed into a file with a valid
 *      trailer and CRC (to reach the index decoder).
 * Beyond "no crash, no UB, no out-of-bounds read": a record that decodes
 * encodes again to a record that decodes to the same points.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "tsdb/engine_int.h"

static bool same_field(const tsdb_field *x, const tsdb_field *y)
{
    if (!sb_str_eq(x->key, y->key) || x->type != y->type)
        return false;
    switch (x->type) {
    case TSDB_STRING:
        return sb_str_eq(x->v.s, y->v.s);
    case TSDB_BOOL:
        return x->v.b == y->v.b;
    default:
        return memcmp(&x->v, &y->v, 8) == 0;
    }
}

static int check_record(void *arg, const uint8_t *p, size_t n)
{
    (void)arg;
    sb_arena a;
    sb_arena_init(&a, 0);
    uint64_t gen;
    tsdb_point *pts;
    size_t np;
    sb_errbuf err;
    if (tsdb__wal_rec_decode(p, n, &a, &gen, &pts, &np, &err) == TSDB_E_OK) {
        sb_buf b = SB_BUF_INIT;
        size_t start = tsdb__wal_rec_begin(&b, gen);
        for (size_t i = 0; i < np; i++)
            tsdb__wal_rec_point(&b, pts[i].series_key, pts[i].time, pts[i].fields, pts[i].nfields);
        tsdb__wal_rec_end(&b, start, np);
        uint64_t gen2;
        tsdb_point *p2;
        size_t n2;
        tsdb_err rc =
            tsdb__wal_rec_decode((const uint8_t *)b.ptr + 8, b.len - 8, &a, &gen2, &p2, &n2, &err);
        assert(rc == TSDB_E_OK && gen2 == gen && n2 == np);
        for (size_t i = 0; i < np; i++) {
            assert(sb_str_eq(pts[i].series_key, p2[i].series_key));
            assert(pts[i].time == p2[i].time && pts[i].nfields == p2[i].nfields);
            for (size_t j = 0; j < pts[i].nfields; j++)
                assert(same_field(&pts[i].fields[j], &p2[i].fields[j]));
        }
        sb_buf_free(&b);
    }
    sb_arena_deinit(&a);
    return 0;
}

static void put32(sb_buf *b, uint32_t v)
{
    tsdb__put_u32(b, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    size_t good;
    sb_errbuf err;
    sb_arena a;
    sb_arena_init(&a, 0);
    tsdb__tsf_index ix;
    switch (data[0] & 3) {
    case 0:
        if (tsdb__wal_walk(p, n, check_record, NULL, &good, &err) == TSDB_E_OK)
            assert(good <= n);
        break;
    case 1: {
        check_record(NULL, p, n);
        sb_buf b = SB_BUF_INIT;
        sb_buf_append(&b, "TSW1", 4);
        put32(&b, 1);
        put32(&b, (uint32_t)n);
        put32(&b, sb_crc32c(0, p, n));
        sb_buf_append(&b, p, n);
        tsdb__wal_walk((const uint8_t *)b.ptr, b.len, check_record, NULL, &good, &err);
        sb_buf_free(&b);
        break;
    }
    case 2:
        tsdb__tsf_parse(p, n, &a, &ix, &err);
        break;
    case 3: {
        /* Header, a data region of the first byte's size (zeros), the
         * index, a valid trailer. */
        size_t data_len = n ? p[0] * 8u : 0;
        if (n) {
            p++;
            n--;
        }
        sb_buf b = SB_BUF_INIT;
        sb_buf_append(&b, "TSF1", 4);
        put32(&b, 1);
        tsdb__put_u64(&b, 0);
        tsdb__put_u64(&b, 1);
        for (size_t i = 0; i < data_len; i++)
            sb_buf_putc(&b, 0);
        uint64_t off = b.len;
        sb_buf_append(&b, p, n);
        tsdb__put_u64(&b, off);
        tsdb__put_u64(&b, n);
        put32(&b, sb_crc32c(0, p, n));
        sb_buf_append(&b, "TSFE", 4);
        if (tsdb__tsf_parse((const uint8_t *)b.ptr, b.len, &a, &ix, &err) == TSDB_E_OK) {
            for (size_t i = 0; i < ix.nentries; i++) {
                assert(ix.entries[i].series < ix.nkeys && ix.entries[i].field < ix.nnames);
                assert(ix.entries[i].off + ix.entries[i].len <= off);
                assert(ix.entries[i].min <= ix.entries[i].max);
            }
        }
        sb_buf_free(&b);
        break;
    }
    }
    sb_arena_deinit(&a);
    return 0;
}
