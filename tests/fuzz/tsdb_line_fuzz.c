/*
 * tsdb_line_fuzz.c: libFuzzer target for the line protocol. The input is a
 * write body. Beyond "no crash, no UB": every point that parses can be
 * written (tsdb_line_write never refuses a parsed point), and the written
 * line parses back to the same point: measurement, series key, tags,
 * fields (floats by their bits), time.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tsdb/line.h"

static bool same_point(const tsdb_point *a, const tsdb_point *b)
{
    if (!sb_str_eq(a->measurement, b->measurement) || !sb_str_eq(a->series_key, b->series_key) ||
        a->ntags != b->ntags || a->nfields != b->nfields || a->has_time != b->has_time ||
        a->time != b->time)
        return false;
    for (size_t i = 0; i < a->ntags; i++)
        if (!sb_str_eq(a->tags[i].key, b->tags[i].key) ||
            !sb_str_eq(a->tags[i].value, b->tags[i].value))
            return false;
    for (size_t i = 0; i < a->nfields; i++) {
        const tsdb_field *x = &a->fields[i], *y = &b->fields[i];
        if (!sb_str_eq(x->key, y->key) || x->type != y->type)
            return false;
        if (x->type == TSDB_STRING ? !sb_str_eq(x->v.s, y->v.s)
            : x->type == TSDB_BOOL ? x->v.b != y->v.b
                                   : memcmp(&x->v, &y->v, 8) != 0)
            return false;
    }
    return true;
}

/* Reads back a written line the way a write body is read: through the
 * reader, so its line splitting is checked too. Exactly one line is due. */
static tsdb_err read_back(sb_buf *out, const tsdb_line_opts *opts, sb_arena *a, tsdb_point *q)
{
    tsdb_line_reader r;
    sb_errbuf err;
    tsdb_point extra;
    tsdb_line_reader_init(&r, sb_buf_str(out), opts);
    tsdb_line_status st = tsdb_line_next(&r, a, q, &err);
    assert(st != TSDB_LINE_END);
    assert(tsdb_line_next(&r, a, &extra, &err) == TSDB_LINE_END);
    return st == TSDB_LINE_POINT ? TSDB_E_OK : TSDB_E_SYNTAX;
}

static int cmp_tag(const void *x, const void *y)
{
    sb_str a = ((const tsdb_tag *)x)->key, b = ((const tsdb_tag *)y)->key;
    int c = memcmp(a.ptr, b.ptr, a.len < b.len ? a.len : b.len);
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

static void write_arbitrary(const uint8_t *data, size_t size, sb_arena *a)
{
    sb_str parts[9];
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= size && n < SB_ARRAY_LEN(parts); i++) {
        if (i == size || data[i] == 0xff) {
            parts[n++] = sb_str_make((const char *)data + start, i - start);
            start = i + 1;
        }
    }
    if (n < 3)
        return;
    tsdb_tag tags[3];
    size_t ntags = (n - 3) / 2;
    for (size_t i = 0; i < ntags; i++)
        tags[i] = (tsdb_tag){parts[1 + 2 * i], parts[2 + 2 * i]};
    tsdb_field f = {parts[n - 2], TSDB_STRING, {.s = parts[n - 1]}};
    tsdb_point p = {parts[0], SB_STR_NULL, tags, ntags, &f, 1, -1, true};
    sb_buf out = SB_BUF_INIT;
    if (tsdb_line_write(&out, &p) == TSDB_E_OK) {
        tsdb_line_opts opts = {TSDB_PREC_NS, 7, TSDB_LINE_LIMITS_DEFAULT};
        tsdb_point q;
        tsdb_err e = read_back(&out, &opts, a, &q);
        qsort(tags, ntags, sizeof(tsdb_tag), cmp_tag);
        bool dup = false;
        for (size_t i = 1; i < ntags; i++)
            dup |= sb_str_eq(tags[i - 1].key, tags[i].key);
        if (dup) {
            assert(e == TSDB_E_SYNTAX);
        } else {
            assert(e == TSDB_E_OK);
            p.series_key = q.series_key;
            assert(same_point(&p, &q));
        }
    }
    sb_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && (data[0] & 0x80)) {
        sb_arena a;
        sb_arena_init(&a, 0);
        write_arbitrary(data + 1, size - 1, &a);
        sb_arena_deinit(&a);
        return 0;
    }
    tsdb_line_opts opts = {TSDB_PREC_NS, 7, TSDB_LINE_LIMITS_DEFAULT};
    if (size > 0)
        opts.precision = (tsdb_precision)(data[0] % 6);
    tsdb_line_opts ns = opts;
    ns.precision = TSDB_PREC_NS; /* the writer writes nanoseconds */
    sb_arena a;
    sb_arena_init(&a, 0);
    tsdb_line_reader r;
    tsdb_line_reader_init(&r, sb_str_make((const char *)data, size), &opts);
    tsdb_point p, q;
    sb_errbuf err;
    sb_buf out = SB_BUF_INIT;
    tsdb_line_status st;
    while ((st = tsdb_line_next(&r, &a, &p, &err)) != TSDB_LINE_END) {
        if (st == TSDB_LINE_ERROR) {
            assert(memcmp(err.msg, "unable to parse '", 17) == 0);
            continue;
        }
        sb_buf_reset(&out);
        tsdb_err e = tsdb_line_write(&out, &p);
        assert(e == TSDB_E_OK);
        assert(out.len > 0 && out.ptr[out.len - 1] == '\n');
        e = read_back(&out, &ns, &a, &q);
        assert(e == TSDB_E_OK);
        if (!p.has_time)
            q.has_time = false; /* the writer omits the default time */
        assert(same_point(&p, &q));
    }
    sb_buf_free(&out);
    sb_arena_deinit(&a);
    return 0;
}
