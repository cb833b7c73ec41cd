/*
 * lines.c: a /write body through tsdb_line_next, with InfluxDB 1.6's
 * answers (see lines.h). Memory: one arena holds every point's tags,
 * fields and unescaped strings until fn has written them (about 150 bytes
 * a point of two tags and two fields), then goes at once.
 */
#include "analytics/lines.h"

#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/vec.h"
#include "base/json.h"

/* InfluxDB joins the messages of every bad line; a body can have millions,
 * so the text is capped (the count of dropped points stays exact). */
#define PARSE_ERRORS_MAX (64u << 10)

void analytics_write_lines(sb_str body, sb_str precision, int64_t now_ns, analytics_points_fn fn,
                           void *arg, analytics_result *out)
{
    tsdb_precision prec = TSDB_PREC_NS;
    if (precision.ptr && precision.len)
        tsdb_precision_parse(precision, &prec);
    tsdb_line_opts opts = {.precision = prec, .now = now_ns, .limits = TSDB_LINE_LIMITS_DEFAULT};
    tsdb_line_reader r;
    tsdb_line_reader_init(&r, body, &opts);
    sb_arena a; /* every point's escaped strings, until fn has them */
    sb_arena_init(&a, 64 << 10);
    SB_VEC(tsdb_point) pts = {0};
    /* One point a line at most: reserve them at once instead of doubling
     * (each realloc of a multi-MiB array copied it into fresh pages). */
    size_t lines = 1;
    for (const char *c = body.ptr, *end = body.ptr + body.len;
         c && (c = memchr(c, '\n', (size_t)(end - c))) != NULL; c++)
        lines++;
    sb_vec_reserve(&pts, lines);
    sb_buf parse = SB_BUF_INIT;
    bool parse_failed = false;
    sb_errbuf err;
    tsdb_line_status st;
    /* Each line is parsed straight into the next slot (reserved above:
     * one a line) and kept by counting it; a bad line's slot is reused. */
    while ((st = tsdb_line_next(&r, &a, &pts.items[pts.len], &err)) != TSDB_LINE_END) {
        if (st == TSDB_LINE_POINT) {
            pts.len++;
            continue;
        }
        parse_failed = true;
        if (parse.len < PARSE_ERRORS_MAX) {
            if (parse.len)
                sb_buf_putc(&parse, '\n');
            sb_buf_puts(&parse, err.msg);
        }
    }
    size_t refused = 0;
    sb_errbuf why = {{0}};
    int rc = pts.len ? fn(arg, pts.items, pts.len, &refused, &why) : 0;
    int plen = (int)SB_MIN(parse.len, PARSE_ERRORS_MAX);
    if (rc >= 500)
        analytics_result_error(out, rc, "%s", why.msg);
    else if (refused)
        analytics_result_error(out, 400, "partial write: %s dropped=%zu", why.msg, refused);
    else if (parse_failed && !pts.len) /* influxd: nothing parsed, the parse errors alone */
        analytics_result_error(out, 400, "%.*s", plen, parse.ptr);
    else if (parse_failed)
        analytics_result_error(out, 400, "partial write: %.*s dropped=0", plen, parse.ptr);
    else
        out->status = 204;
    sb_vec_free(&pts);
    sb_buf_free(&parse);
    sb_arena_deinit(&a);
}
