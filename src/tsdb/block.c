/*
 * block.c: framing of tsdb blocks around the column codecs (codec.h).
 * Invariant of every block this file writes or accepts: the checksum
 * matches, the two columns fill the frame exactly, and the timestamps are
 * strictly increasing from min_time to max_time.
 */
#include "tsdb/block.h"

#include <stdlib.h>

#include "tsdb/codec.h"
#include "base/crc32c.h"

enum { HEADER = 36, VERSION = 1 };

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static bool type_valid(int t)
{
    return t >= TSDB_FLOAT && t <= TSDB_STRING;
}

static void encode_values(sb_buf *out, tsdb_type type, const void *values, size_t n)
{
    switch (type) {
    case TSDB_FLOAT:
        tsdb_float_encode(out, values, n);
        break;
    case TSDB_INT:
    case TSDB_UINT:
        tsdb_int_encode(out, values, n);
        break;
    case TSDB_BOOL:
        tsdb_bool_encode(out, values, n);
        break;
    case TSDB_STRING:
        tsdb_str_encode(out, values, n);
        break;
    }
}

tsdb_err tsdb_block_encode(sb_buf *out, tsdb_type type, const int64_t *times, const void *values,
                           size_t n)
{
    if (!type_valid((int)type))
        return TSDB_E_TYPE;
    if (n == 0 || n > TSDB_BLOCK_MAX_POINTS)
        return TSDB_E_LIMIT;
    for (size_t i = 1; i < n; i++)
        if (times[i] <= times[i - 1])
            return TSDB_E_UNSORTED;
    size_t start = out->len;
    uint8_t head[HEADER] = {'T', 'S', 'B', '1', VERSION, (uint8_t)type, 0, 0};
    sb_buf_append(out, head, HEADER);
    tsdb_ts_encode(out, times, n);
    size_t ts_len = out->len - start - HEADER;
    encode_values(out, type, values, n);
    size_t val_len = out->len - start - HEADER - ts_len;
    if (ts_len > UINT32_MAX || val_len > UINT32_MAX) {
        out->len = start;
        return TSDB_E_LIMIT;
    }
    uint8_t *h = (uint8_t *)out->ptr + start;
    put_u32(h + 8, (uint32_t)n);
    put_u64(h + 12, (uint64_t)times[0]);
    put_u64(h + 20, (uint64_t)times[n - 1]);
    put_u32(h + 28, (uint32_t)ts_len);
    put_u32(h + 32, (uint32_t)val_len);
    uint8_t crc[4];
    put_u32(crc, sb_crc32c(0, h, out->len - start));
    sb_buf_append(out, crc, 4);
    return TSDB_E_OK;
}

/* Framing checks shared by peek and decode; sets the column lengths. */
static tsdb_err check_frame(const uint8_t *p, size_t len, tsdb_block_info *info, size_t *ts_len,
                            size_t *val_len)
{
    if (len < TSDB_BLOCK_OVERHEAD || memcmp(p, "TSB1", 4) != 0 || p[4] != VERSION || p[6] || p[7])
        return TSDB_E_CORRUPT;
    if (get_u32(p + len - 4) != sb_crc32c(0, p, len - 4))
        return TSDB_E_CHECKSUM;
    if (!type_valid(p[5]))
        return TSDB_E_TYPE;
    uint64_t tl = get_u32(p + 28), vl = get_u32(p + 32);
    if (tl + vl != len - TSDB_BLOCK_OVERHEAD)
        return TSDB_E_CORRUPT;
    uint32_t count = get_u32(p + 8);
    /* Every timestamp costs at least a bit: a count the column cannot hold
     * is a lie, and would make us allocate for nothing. */
    if (count == 0 || count > TSDB_BLOCK_MAX_POINTS || count > tl * 8)
        return TSDB_E_CORRUPT;
    info->type = (tsdb_type)p[5];
    info->count = count;
    info->min_time = (int64_t)get_u64(p + 12);
    info->max_time = (int64_t)get_u64(p + 20);
    if (info->min_time > info->max_time || (count == 1 && info->min_time != info->max_time))
        return TSDB_E_CORRUPT;
    *ts_len = (size_t)tl;
    *val_len = (size_t)vl;
    return TSDB_E_OK;
}

tsdb_err tsdb_block_peek(const void *p, size_t len, tsdb_block_info *info)
{
    size_t tl, vl;
    tsdb_block_info tmp;
    tsdb_err e = check_frame(p, len, &tmp, &tl, &vl);
    if (e == TSDB_E_OK)
        *info = tmp;
    return e;
}

static size_t value_size(tsdb_type t)
{
    switch (t) {
    case TSDB_FLOAT:
        return sizeof(double);
    case TSDB_INT:
    case TSDB_UINT:
        return sizeof(int64_t);
    case TSDB_BOOL:
        return sizeof(bool);
    case TSDB_STRING:
        return sizeof(sb_str);
    }
    return 0;
}

static tsdb_err decode_values(const uint8_t *p, size_t len, tsdb_type type, size_t n, void *values)
{
    switch (type) {
    case TSDB_FLOAT:
        return tsdb_float_decode(p, len, n, values);
    case TSDB_INT:
    case TSDB_UINT:
        return tsdb_int_decode(p, len, n, values);
    case TSDB_BOOL:
        return tsdb_bool_decode(p, len, n, values);
    case TSDB_STRING:
        return tsdb_str_decode(p, len, n, values);
    }
    return TSDB_E_TYPE;
}

/* Decodes and checks the columns of a block whose frame check_frame
 * passed, into arrays of info->count entries. */
static tsdb_err decode_columns(const uint8_t *p, size_t tl, size_t vl, const tsdb_block_info *info,
                               int64_t *times, void *values)
{
    size_t n = info->count;
    tsdb_err e = tsdb_ts_decode(p + HEADER, tl, n, times);
    if (e != TSDB_E_OK)
        return e;
    for (size_t i = 1; i < n; i++)
        if (times[i] <= times[i - 1])
            return TSDB_E_UNSORTED;
    if (times[0] != info->min_time || times[n - 1] != info->max_time)
        return TSDB_E_CORRUPT;
    return decode_values(p + HEADER + tl, vl, info->type, n, values);
}

tsdb_err tsdb_block_decode(const void *bytes, size_t len, tsdb_block *out)
{
    const uint8_t *p = bytes;
    tsdb_block b = {0};
    size_t tl, vl;
    tsdb_err e = check_frame(p, len, &b.info, &tl, &vl);
    if (e != TSDB_E_OK)
        goto fail;
    b.times = sb_calloc(b.info.count, sizeof(int64_t));
    b.values.any = sb_calloc(b.info.count, value_size(b.info.type));
    e = decode_columns(p, tl, vl, &b.info, b.times, b.values.any);
    if (e != TSDB_E_OK)
        goto fail;
    *out = b;
    return TSDB_E_OK;
fail:
    tsdb_block_deinit(&b);
    *out = (tsdb_block){0};
    return e;
}

tsdb_err tsdb_block_decode_into(const void *bytes, size_t len, tsdb_type type, size_t cap,
                                int64_t *times, void *values, tsdb_block_info *info)
{
    const uint8_t *p = bytes;
    tsdb_block_info bi;
    size_t tl, vl;
    tsdb_err e = check_frame(p, len, &bi, &tl, &vl);
    if (e != TSDB_E_OK)
        return e;
    if (bi.type != type)
        return TSDB_E_TYPE;
    if (bi.count > cap)
        return TSDB_E_LIMIT;
    e = decode_columns(p, tl, vl, &bi, times, values);
    if (e == TSDB_E_OK)
        *info = bi;
    return e;
}

void tsdb_block_deinit(tsdb_block *b)
{
    free(b->times);
    free(b->values.any);
    b->times = NULL;
    b->values.any = NULL;
}

const char *tsdb_type_name(tsdb_type t)
{
    switch (t) {
    case TSDB_FLOAT:
        return "float";
    case TSDB_INT:
        return "integer";
    case TSDB_UINT:
        return "unsigned";
    case TSDB_BOOL:
        return "boolean";
    default:
        return "string";
    }
}
