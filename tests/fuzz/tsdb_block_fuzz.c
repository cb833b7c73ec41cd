/*
 * tsdb_block_fuzz.c: libFuzzer target for the block decoder and its column
 * codecs. Byte 0 picks the path:
 *   even: the input is a block as it would come off disk;
 *   odd:  byte 1 picks the value type, bytes 2-3 the count, byte 4 where the
 *         rest splits into the timestamp and value columns; the target seals
 *         them into a block with the right min/max and checksum, so the
 *         fuzzer reaches the codecs instead of the CRC check.
 * Beyond "no crash, no UB, no out-of-bounds read": whatever decodes must
 * encode again and decode to the same bits.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tsdb/block.h"
#include "tsdb/codec.h"
#include "base/crc32c.h"

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void check_round_trip(const tsdb_block *a)
{
    size_t n = a->info.count;
    sb_buf b = SB_BUF_INIT;
    tsdb_err e = tsdb_block_encode(&b, a->info.type, a->times, a->values.any, n);
    assert(e == TSDB_E_OK);
    tsdb_block c;
    e = tsdb_block_decode(b.ptr, b.len, &c);
    assert(e == TSDB_E_OK);
    assert(c.info.type == a->info.type && c.info.count == n);
    assert(memcmp(c.times, a->times, n * sizeof(int64_t)) == 0);
    for (size_t i = 0; i < n; i++) {
        switch (a->info.type) {
        case TSDB_STRING:
            assert(sb_str_eq(c.values.s[i], a->values.s[i]));
            break;
        case TSDB_BOOL:
            assert(c.values.b[i] == a->values.b[i]);
            break;
        default: /* floats compared as bits: NaN payloads must survive */
            assert(memcmp(&c.values.i[i], &a->values.i[i], 8) == 0);
        }
    }
    tsdb_block_deinit(&c);
    sb_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tsdb_block blk;
    if (size < 1)
        return 0;
    if (!(data[0] & 1)) {
        if (tsdb_block_decode(data + 1, size - 1, &blk) == TSDB_E_OK) {
            check_round_trip(&blk);
            tsdb_block_deinit(&blk);
        }
        return 0;
    }
    if (size < 5)
        return 0;
    size_t n = (size_t)data[2] | (size_t)data[3] << 8;
    const uint8_t *cols = data + 5;
    size_t clen = size - 5, tl = clen * data[4] / 255;
    if (n == 0 || n > tl * 8)
        return 0;
    int64_t *t = malloc(n * sizeof(*t));
    if (tsdb_ts_decode(cols, tl, n, t) == TSDB_E_OK) {
        uint8_t *blkbytes = malloc(36 + clen + 4);
        memcpy(blkbytes, "TSB1\x01", 5);
        blkbytes[5] = (uint8_t)(data[1] % 5 + 1);
        blkbytes[6] = blkbytes[7] = 0;
        put_le(blkbytes + 8, n, 4);
        put_le(blkbytes + 12, (uint64_t)t[0], 8);
        put_le(blkbytes + 20, (uint64_t)t[n - 1], 8);
        put_le(blkbytes + 28, tl, 4);
        put_le(blkbytes + 32, clen - tl, 4);
        memcpy(blkbytes + 36, cols, clen);
        put_le(blkbytes + 36 + clen, sb_crc32c(0, blkbytes, 36 + clen), 4);
        if (tsdb_block_decode(blkbytes, 36 + clen + 4, &blk) == TSDB_E_OK) {
            check_round_trip(&blk);
            tsdb_block_deinit(&blk);
        }
        free(blkbytes);
    }
    free(t);
    return 0;
}
