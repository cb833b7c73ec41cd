/*
 * line_reader.c: walking a write body line by line for partial writes
 * (good lines give points, bad ones errors with their 1-based number, as
 * InfluxDB reports them), and the precisions a write may name.
 */
#include "tsdb/line.h"

void tsdb_line_reader_init(tsdb_line_reader *r, sb_str body, const tsdb_line_opts *opts)
{
    r->body = body;
    r->pos = 0;
    r->line_no = 0;
    r->opts = *opts;
}

tsdb_line_status tsdb_line_next(tsdb_line_reader *r, sb_arena *a, tsdb_point *out, sb_errbuf *err)
{
    while (r->pos < r->body.len) {
        const char *start = r->body.ptr + r->pos;
        size_t left = r->body.len - r->pos;
        const char *nl = memchr(start, '\n', left);
        size_t len = nl ? (size_t)(nl - start) : left;
        r->pos += nl ? len + 1 : len;
        r->line_no++;
        size_t i = 0;
        while (i < len && (start[i] == ' ' || start[i] == '\t' || start[i] == '\r'))
            i++;
        if (i == len || start[i] == '#')
            continue; /* blank line or comment */
        if (tsdb_line_parse(sb_str_make(start, len), &r->opts, a, out, err) != TSDB_E_OK)
            return TSDB_LINE_ERROR;
        return TSDB_LINE_POINT;
    }
    return TSDB_LINE_END;
}

bool tsdb_precision_parse(sb_str s, tsdb_precision *out)
{
    static const struct {
        const char *name;
        tsdb_precision p;
    } names[] = {{"n", TSDB_PREC_NS},  {"ns", TSDB_PREC_NS}, {"u", TSDB_PREC_US},
                 {"us", TSDB_PREC_US}, {"ms", TSDB_PREC_MS}, {"s", TSDB_PREC_S},
                 {"m", TSDB_PREC_M},   {"h", TSDB_PREC_H}};
    for (size_t i = 0; i < SB_ARRAY_LEN(names); i++) {
        if (sb_str_eq(s, sb_str_c(names[i].name))) {
            *out = names[i].p;
            return true;
        }
    }
    return false;
}

int64_t tsdb_precision_ns(tsdb_precision p)
{
    switch (p) {
    case TSDB_PREC_NS:
        return 1;
    case TSDB_PREC_US:
        return 1000;
    case TSDB_PREC_MS:
        return 1000000;
    case TSDB_PREC_S:
        return 1000000000;
    case TSDB_PREC_M:
        return INT64_C(60000000000);
    case TSDB_PREC_H:
        return INT64_C(3600000000000);
    }
    return 1;
}
