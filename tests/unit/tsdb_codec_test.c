/*
 * tsdb_codec_test.c: the column codecs and the block format: bit-exact
 * round trips on random and adversarial series (NaN payloads, -0.0,
 * infinities, subnormals, huge and wrapping deltas, unsorted and duplicate
 * timestamps), the block's ordering rule, its refusal of corrupt and forged
 * bytes, and the bytes per point of the three shapes docs/tsdb.md reports.
 */
#include "cmocka_prelude.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tsdb/bits.h"
#include "tsdb/block.h"
#include "tsdb/codec.h"
#include "tsdb/codec_int.h"
#include "base/crc32c.h"

/* A fixed generator, so failures and measurements repeat (xorshift64*). */
static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Du;
}

static double double_of(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* name(v, n): encodes, decodes to the same bits (floats too: NaN payloads
 * and -0.0 compare by memory), and refuses the column one byte short. */
#define DEFINE_ROUND_TRIP(name, T, encode, decode)                                                 \
    static void name(const T *v, size_t n)                                                         \
    {                                                                                              \
        sb_buf b = SB_BUF_INIT;                                                                    \
        encode(&b, v, n);                                                                          \
        T *got = sb_calloc(n + 1, sizeof(*got));                                                   \
        assert_int_equal(decode(b.ptr, b.len, n, got), TSDB_E_OK);                                 \
        assert_memory_equal(got, v, n * sizeof(*v));                                               \
        if (b.len > 0)                                                                             \
            assert_int_equal(decode(b.ptr, b.len - 1, n, got), TSDB_E_CORRUPT);                    \
        free(got);                                                                                 \
        sb_buf_free(&b);                                                                           \
    }

DEFINE_ROUND_TRIP(ts_round_trip, int64_t, tsdb_ts_encode, tsdb_ts_decode)
DEFINE_ROUND_TRIP(float_round_trip, double, tsdb_float_encode, tsdb_float_decode)
DEFINE_ROUND_TRIP(int_round_trip, int64_t, tsdb_int_encode, tsdb_int_decode)

static void test_crc32c(void **state)
{
    assert_int_equal(sb_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(sb_crc32c(0, "", 0), 0);
    /* Against the bitwise definition, and piecewise continuation. */
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)next();
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < sizeof(buf); i++) {
        c ^= buf[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
    }
    assert_int_equal(sb_crc32c(0, buf, sizeof(buf)), ~c);
    assert_int_equal(sb_crc32c(sb_crc32c(0, buf, 100), buf + 100, 200), ~c);
}

static void test_bits(void **state)
{
    sb_buf b = SB_BUF_INIT;
    tsdb__bitw w;
    tsdb__bitw_init(&w, &b);
    uint64_t vals[500];
    unsigned widths[500];
    for (int i = 0; i < 500; i++) {
        widths[i] = (unsigned)(next() % 65);
        vals[i] = widths[i] == 64 ? next() : next() & ((UINT64_C(1) << widths[i]) - 1);
        tsdb__bitw_put(&w, vals[i], widths[i]);
    }
    tsdb__bitw_flush(&w);
    tsdb__bitr r;
    tsdb__bitr_init(&r, b.ptr, b.len);
    for (int i = 0; i < 500; i++)
        assert_true(tsdb__bitr_get(&r, widths[i]) == vals[i]);
    assert_false(r.err);
    assert_int_equal(tsdb__bitr_finish(&r), TSDB_E_OK);
    tsdb__bitr_get(&r, 9); /* past the end: 0 and a sticky error */
    assert_true(r.err);
    assert_int_equal(tsdb__bitr_get(&r, 1), 0);
    assert_true(tsdb__zigzag(-1) == 1 && tsdb__zigzag(1) == 2);
    assert_true(tsdb__unzigzag(tsdb__zigzag(INT64_MIN)) == INT64_MIN);
    sb_buf_free(&b);
}

static void test_timestamps(void **state)
{
    enum { N = 2000 };
    static int64_t t[N];
    const int64_t base = INT64_C(1700000000000000000);
    /* Regular at 1 s in ns: one bit a point after the start. */
    for (int i = 0; i < N; i++)
        t[i] = base + (int64_t)i * 1000000000;
    ts_round_trip(t, N);
    sb_buf b = SB_BUF_INIT;
    tsdb_ts_encode(&b, t, N);
    assert_true(b.len <= 8 + 9 + N / 8 + 1);
    sb_buf_free(&b);
    /* ms jitter around 1 s, and us and ns jitter. */
    int64_t units[3] = {1000000, 1000, 1};
    for (int u = 0; u < 3; u++) {
        for (int i = 0; i < N; i++)
            t[i] = base + (int64_t)i * 1000000000 + (int64_t)(next() % 50) * units[u];
        ts_round_trip(t, N);
    }
    /* Random, unsorted, duplicates, extremes: the codec keeps them all. */
    for (int i = 0; i < N; i++)
        t[i] = (int64_t)next();
    ts_round_trip(t, N);
    for (int i = 0; i < N; i++)
        t[i] = base + (int64_t)(next() % 5) * 1000000000;
    ts_round_trip(t, N);
    int64_t ext[] = {INT64_MIN, INT64_MAX, INT64_MIN, 0, INT64_MAX, INT64_MAX, -1, INT64_MIN + 1};
    ts_round_trip(ext, SB_ARRAY_LEN(ext));
    for (size_t n = 1; n <= SB_ARRAY_LEN(ext); n++)
        ts_round_trip(ext, n);
    int64_t big[] = {0, INT64_C(1000000000000000000), -INT64_C(1000000000000000000), 0};
    ts_round_trip(big, 4);
    ts_round_trip(t, 0);
}

static void test_floats(void **state)
{
    double special[] = {
        0.0,
        -0.0,
        INFINITY,
        -INFINITY,
        NAN,
        double_of(0x7ff0000000000001u), /* signalling NaN payload */
        double_of(0xfff8dead0000beefu), /* negative quiet NaN payload */
        double_of(1),                   /* smallest subnormal */
        double_of(0x000fffffffffffffu), /* largest subnormal */
        2.2250738585072014e-308,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        1.0,
        1.0,
        0.1,
        -0.0,
        0.0,
    };
    size_t ns = SB_ARRAY_LEN(special);
    float_round_trip(special, ns);
    for (size_t n = 1; n <= ns; n++)
        float_round_trip(special + ns - n, n);
    enum { N = 3000 };
    static double v[N];
    for (int i = 0; i < N; i++)
        v[i] = double_of(next());
    float_round_trip(v, N);
    for (int i = 0; i < N; i++) /* decimals, with a -0.0 that forbids the decimal layout */
        v[i] = (double)((int64_t)(next() % 100000) - 50000) / 100.0;
    float_round_trip(v, N);
    v[N / 2] = -0.0;
    float_round_trip(v, N);
    for (int i = 0; i < N; i++) /* 6 decimals near the 2^53 edge */
        v[i] = (double)(INT64_C(9007199254) - (int64_t)(next() % 1000)) / 1000000.0;
    float_round_trip(v, N);
    for (int i = 0; i < N; i++)
        v[i] = i % 3 ? 42.0 : 1e300 * (double)(i % 7);
    float_round_trip(v, N);
}

static void test_integers(void **state)
{
    enum { N = 3000 };
    static int64_t v[N];
    for (int i = 0; i < N; i++)
        v[i] = (int64_t)next();
    int_round_trip(v, N);
    int64_t ext[] = {INT64_MIN, INT64_MAX, 0, INT64_MIN, -1, INT64_MAX, INT64_MAX, 1};
    for (size_t n = 1; n <= SB_ARRAY_LEN(ext); n++)
        int_round_trip(ext, n);
    for (int i = 0; i < N; i++) /* few distinct values, some extreme: the dictionary */
        v[i] = i % 5 ? 200 : (i % 2 ? INT64_MIN : INT64_MAX);
    int_round_trip(v, N);
    for (int i = 0; i < N; i++) /* exactly 256 distinct, then 257 */
        v[i] = (int64_t)(i % 256) * 1000;
    int_round_trip(v, N);
    v[7] = -5;
    int_round_trip(v, N);
    for (int i = 0; i < N; i++)
        v[i] = 7;
    int_round_trip(v, N);
    int64_t c = 0;
    for (int i = 0; i < N; i++)
        v[i] = c += (int64_t)(next() % 7);
    int_round_trip(v, N);
}

static void test_bools_and_strings(void **state)
{
    bool bv[77], bg[100];
    for (int i = 0; i < 77; i++)
        bv[i] = next() & 1;
    sb_buf b = SB_BUF_INIT;
    tsdb_bool_encode(&b, bv, 77);
    assert_int_equal(b.len, 10);
    assert_int_equal(tsdb_bool_decode(b.ptr, b.len, 77, bg), TSDB_E_OK);
    assert_memory_equal(bg, bv, sizeof(bv));
    assert_int_equal(tsdb_bool_decode(b.ptr, b.len, 100, bg), TSDB_E_CORRUPT);
    assert_int_equal(tsdb_bool_decode(b.ptr, b.len, 60, bg), TSDB_E_CORRUPT); /* trailing byte */

    sb_str sv[6] = {SB_STR("GET"), SB_STR(""), SB_STR("/a b\0c"),
                    SB_STR("GET"), SB_STR(""), SB_STR("GET")};
    sb_str sg[6];
    sb_buf_reset(&b);
    tsdb_str_encode(&b, sv, 6);
    /* 4+1+7 bytes for the new ones, one byte per repeat. */
    assert_int_equal(b.len, 4 + 1 + 7 + 3);
    assert_int_equal(tsdb_str_decode(b.ptr, b.len, 6, sg), TSDB_E_OK);
    for (int i = 0; i < 6; i++)
        assert_true(sb_str_eq(sg[i], sv[i]));
    for (size_t cut = 0; cut < b.len; cut++)
        assert_int_equal(tsdb_str_decode(b.ptr, cut, 6, sg), TSDB_E_CORRUPT);
    /* A back-reference before the first value, a length past the end. */
    assert_int_equal(tsdb_str_decode("\x01", 1, 1, sg), TSDB_E_CORRUPT);
    assert_int_equal(tsdb_str_decode("\x08"
                                     "ab",
                                     3, 1, sg),
                     TSDB_E_CORRUPT);
    assert_int_equal(tsdb_str_decode("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10, 1, sg),
                     TSDB_E_CORRUPT);
    sb_buf_free(&b);
}

static void test_block_round_trip(void **state)
{
    enum { N = 1000 };
    static int64_t t[N], iv[N];
    static double fv[N];
    static bool bv[N];
    static sb_str sv[N];
    for (int i = 0; i < N; i++) {
        t[i] = INT64_C(1700000000000000000) + (int64_t)i * 10000000;
        iv[i] = (int64_t)next();
        fv[i] = double_of(next());
        bv[i] = i % 3 == 0;
        sv[i] = i % 4 ? SB_STR("/index.html") : SB_STR("/about");
    }
    const void *vals[] = {fv, iv, iv, bv, sv};
    for (int type = TSDB_FLOAT; type <= TSDB_STRING; type++) {
        sb_buf b = SB_BUF_INIT;
        assert_int_equal(tsdb_block_encode(&b, (tsdb_type)type, t, vals[type - 1], N), TSDB_E_OK);
        tsdb_block_info info;
        assert_int_equal(tsdb_block_peek(b.ptr, b.len, &info), TSDB_E_OK);
        assert_int_equal(info.type, type);
        assert_int_equal(info.count, N);
        assert_true(info.min_time == t[0] && info.max_time == t[N - 1]);
        tsdb_block blk;
        assert_int_equal(tsdb_block_decode(b.ptr, b.len, &blk), TSDB_E_OK);
        assert_memory_equal(blk.times, t, sizeof(t));
        if (type == TSDB_STRING) {
            for (int i = 0; i < N; i++)
                assert_true(sb_str_eq(blk.values.s[i], sv[i]));
        } else if (type == TSDB_BOOL) {
            assert_memory_equal(blk.values.b, bv, sizeof(bv));
        } else {
            assert_memory_equal(blk.values.any, vals[type - 1], N * 8);
        }
        tsdb_block_deinit(&blk);
        /* Any flipped bit or lost tail is refused. */
        for (size_t i = 0; i < b.len; i += 7) {
            b.ptr[i] ^= 0x10;
            assert_int_not_equal(tsdb_block_decode(b.ptr, b.len, &blk), TSDB_E_OK);
            assert_null(blk.times);
            b.ptr[i] ^= 0x10;
        }
        for (size_t cut = 0; cut < b.len; cut += 13)
            assert_int_not_equal(tsdb_block_decode(b.ptr, cut, &blk), TSDB_E_OK);
        sb_buf_free(&b);
    }
}

/* Rewrites the checksum after tampering, as a forger would. */
static void reseal(sb_buf *b)
{
    uint32_t c = sb_crc32c(0, b->ptr, b->len - 4);
    for (int i = 0; i < 4; i++)
        b->ptr[b->len - 4 + i] = (char)(c >> (8 * i));
}

static void test_block_rules(void **state)
{
    int64_t t[4] = {10, 20, 20, 30}, v[4] = {1, 2, 3, 4};
    sb_buf b = SB_BUF_INIT;
    assert_int_equal(tsdb_block_encode(&b, TSDB_INT, t, v, 4), TSDB_E_UNSORTED);
    int64_t back[3] = {10, 30, 20};
    assert_int_equal(tsdb_block_encode(&b, TSDB_INT, back, v, 3), TSDB_E_UNSORTED);
    assert_int_equal(tsdb_block_encode(&b, TSDB_INT, t, v, 0), TSDB_E_LIMIT);
    assert_int_equal(tsdb_block_encode(&b, (tsdb_type)9, t, v, 2), TSDB_E_TYPE);
    assert_int_equal(b.len, 0);
    assert_int_equal(tsdb_block_encode(&b, TSDB_INT, t, v, 2), TSDB_E_OK);
    tsdb_block blk;
    /* A forged count the columns cannot hold: refused before allocating. */
    b.ptr[8] = (char)0xff;
    b.ptr[9] = (char)0xff;
    b.ptr[10] = (char)0x0f;
    reseal(&b);
    assert_int_equal(tsdb_block_decode(b.ptr, b.len, &blk), TSDB_E_CORRUPT);
    /* A forged max_time that disagrees with the timestamps. */
    sb_buf_reset(&b);
    assert_int_equal(tsdb_block_encode(&b, TSDB_INT, t, v, 2), TSDB_E_OK);
    b.ptr[20] = 21;
    reseal(&b);
    assert_int_equal(tsdb_block_decode(b.ptr, b.len, &blk), TSDB_E_CORRUPT);
    /* Unsorted timestamps smuggled in under a valid checksum. */
    sb_buf_reset(&b);
    assert_int_equal(tsdb_block_encode(&b, TSDB_INT, t, v, 2), TSDB_E_OK);
    sb_buf col = SB_BUF_INIT;
    int64_t bad[2] = {10, 5};
    tsdb_ts_encode(&col, bad, 2);
    assert_int_equal(col.len, 17); /* 64 + 5 + 64 bits, as for {10, 20} */
    memcpy(b.ptr + 36, col.ptr, col.len);
    b.ptr[20] = 10; /* min == max would still need order */
    reseal(&b);
    assert_int_equal(tsdb_block_decode(b.ptr, b.len, &blk), TSDB_E_UNSORTED);
    assert_string_equal(tsdb_err_str(TSDB_E_UNSORTED), "timestamps not strictly increasing");
    sb_buf_free(&col);
    sb_buf_free(&b);
}

/* Random garbage through every column decoder and through sealed blocks
 * (valid checksum, random columns): errors, never a stray read (the ASan
 * build of this test is the guard), and whatever decodes is consistent. */
static void test_garbage(void **state)
{
    enum { ROUNDS = 20000, MAXLEN = 64 };
    static int64_t out[MAXLEN * 8 + 1];
    static sb_str strs[MAXLEN * 8 + 1];
    uint8_t buf[MAXLEN];
    size_t ok = 0;
    for (int round = 0; round < ROUNDS; round++) {
        size_t len = (size_t)(next() % MAXLEN), n = 1 + (size_t)(next() % (len * 8 + 1));
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)next();
        if (round % 4 == 0 && len > 0)
            buf[0] = (uint8_t)(buf[0] & 0x3f); /* int layouts 0..2 */
        ok += tsdb_ts_decode(buf, len, n, out) == TSDB_E_OK;
        ok += tsdb_float_decode(buf, len, n, (double *)(void *)out) == TSDB_E_OK;
        ok += tsdb_int_decode(buf, len, n, out) == TSDB_E_OK;
        ok += tsdb_bool_decode(buf, len, n, (bool *)(void *)out) == TSDB_E_OK;
        ok += tsdb_str_decode(buf, len, n, strs) == TSDB_E_OK;
        for (size_t i = 0; i < n && tsdb_str_decode(buf, len, n, strs) == TSDB_E_OK; i++)
            assert_true(strs[i].ptr >= (const char *)buf &&
                        strs[i].ptr + strs[i].len <= (const char *)buf + len);
        /* The same bytes as a block's columns, sealed. */
        sb_buf b = SB_BUF_INIT;
        int64_t t[2] = {1, 2}, v[2] = {0, 0};
        assert_int_equal(tsdb_block_encode(&b, TSDB_INT, t, v, 2), TSDB_E_OK);
        b.len = 36; /* keep the header, with any value type */
        b.ptr[5] = (char)(1 + round % 5);
        sb_buf_append(&b, buf, len);
        sb_buf_append(&b, "\0\0\0\0", 4);
        size_t tl = len ? (size_t)(next() % len) : 0;
        for (int i = 0; i < 4; i++) {
            b.ptr[8 + i] = (char)(n >> (8 * i));
            b.ptr[28 + i] = (char)(tl >> (8 * i));
            b.ptr[32 + i] = (char)((len - tl) >> (8 * i));
        }
        reseal(&b);
        tsdb_block blk;
        if (tsdb_block_decode(b.ptr, b.len, &blk) == TSDB_E_OK) {
            for (size_t i = 1; i < blk.info.count; i++)
                assert_true(blk.times[i - 1] < blk.times[i]);
            tsdb_block_deinit(&blk);
        }
        sb_buf_free(&b);
    }
    assert_true(ok > 0); /* some garbage is a valid column: the loop reached the decoders */
}

/* Bytes per point of a series stored as blocks of `per` points,
 * timestamps, checksum and header included. */
static double bytes_per_point(tsdb_type type, const int64_t *t, const void *v, size_t n, size_t per)
{
    size_t total = 0, step = type == TSDB_FLOAT ? sizeof(double) : sizeof(int64_t);
    for (size_t at = 0; at < n; at += per) {
        sb_buf b = SB_BUF_INIT;
        size_t k = SB_MIN(per, n - at);
        assert_int_equal(tsdb_block_encode(&b, type, t + at, (const char *)v + at * step, k),
                         TSDB_E_OK);
        total += b.len;
        sb_buf_free(&b);
    }
    return (double)total / (double)n;
}

static void test_measured_sizes(void **state)
{
    rng = 0x9E3779B97F4A7C15u; /* the same series whatever ran before */
    enum { N = 10000 };        /* the long workload: 10,000 points at 1 s */
    static int64_t t[N], counter[N], status[N];
    static double gauge[N];
    int64_t views = 0, cents = 25000;
    for (int i = 0; i < N; i++) {
        t[i] = INT64_C(1700000000000000000) + (int64_t)i * 1000000000;
        views += 20 + (int64_t)(next() % 21); /* 20..40 page views a second */
        counter[i] = views;
        cents += (int64_t)(next() % 201) - 100; /* +-1.00 a step, 2 decimals */
        gauge[i] = (double)cents / 100.0;
        unsigned r = (unsigned)(next() % 1000);
        status[i] = r < 900 ? 200 : r < 940 ? 304 : r < 970 ? 404 : r < 985 ? 301 : 500;
    }
    /* The long workload: blocks of 1000 (InfluxDB's TSM block size). */
    double c = bytes_per_point(TSDB_INT, t, counter, N, 1000);
    double g = bytes_per_point(TSDB_FLOAT, t, gauge, N, 1000);
    double s = bytes_per_point(TSDB_INT, t, status, N, 1000);
    /* The wide workload: about 120 points a series, so one block each. */
    double gw = bytes_per_point(TSDB_FLOAT, t, gauge, 120 * 80, 120);
    double sw = bytes_per_point(TSDB_INT, t, status, 120 * 80, 120);
    /* The two integer layouts on the counter, values only, per point. */
    double cd = (double)tsdb__int_mode_bits(counter, 1000, 0) / 8000.0;
    double cdd = (double)tsdb__int_mode_bits(counter, 1000, 1) / 8000.0;
    sb_buf xb = SB_BUF_INIT;
    double *xs = sb_calloc(1000, sizeof(double));
    memcpy(xs, gauge, 1000 * sizeof(double));
    xs[999] = -0.0; /* forces the XOR layout, to compare */
    tsdb_float_encode(&xb, xs, 1000);
    print_message("tsdb bytes/point: counter %.3f, gauge %.3f, status %.3f\n", c, g, s);
    print_message("tsdb bytes/point in blocks of 120: gauge %.3f, status %.3f\n", gw, sw);
    print_message("tsdb counter values only: delta %.3f, dod %.3f; gauge XOR-only %.3f\n", cd, cdd,
                  (double)xb.len / 1000.0);
    free(xs);
    sb_buf_free(&xb);
    assert_true(c <= 1.5);
    assert_true(s <= 1.5);
    assert_true(g <= 2.0);
    assert_true(gw + sw < 12.9); /* InfluxDB 1.6's TSM files on the wide workload */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),           cmocka_unit_test(test_bits),
        cmocka_unit_test(test_timestamps),       cmocka_unit_test(test_floats),
        cmocka_unit_test(test_integers),         cmocka_unit_test(test_bools_and_strings),
        cmocka_unit_test(test_block_round_trip), cmocka_unit_test(test_block_rules),
        cmocka_unit_test(test_garbage),          cmocka_unit_test(test_measured_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
