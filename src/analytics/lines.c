/*
 * lines.c: a /write body through tsdb_line_next, with InfluxDB 1.6's
 * answers (see lines.h). Memory: one arena, reset after each point, so a
 * 25 MiB body costs the arena's chunk, not its size.
 */
#include "analytics/lines.h"

#include <stdio.h>

#include "base/arena.h"
#include "base/json.h"

/* InfluxDB joins the messages of every bad line; a body can have millions,
 * so the text is capped (the count of dropped points stays exact). */
#define PARSE_ERRORS_MAX (64u << 10)

void analytics_write_lines(sb_str body, sb_str precision, int64_t now_ns, analytics_point_fn fn,
                           void *arg, analytics_result *out)
{
    tsdb_precision prec = TSDB_PREC_NS;
    if (precision.ptr && precision.len)
        tsdb_precision_parse(precision, &prec);
    tsdb_line_opts opts = {.precision = prec, .now = now_ns, .limits = TSDB_LINE_LIMITS_DEFAULT};
    tsdb_line_reader r;
    tsdb_line_reader_init(&r, body, &opts);
    sb_arena a;
    sb_arena_init(&a, 16384);
    sb_buf parse = SB_BUF_INIT;
    char refusal[256] = "";
    uint64_t refused = 0;
    bool parse_failed = false;
    tsdb_point p;
    sb_errbuf err;
    tsdb_line_status st;
    out->status = 0;
    while ((st = tsdb_line_next(&r, &a, &p, &err)) != TSDB_LINE_END) {
        if (st == TSDB_LINE_ERROR) {
            parse_failed = true;
            if (parse.len < PARSE_ERRORS_MAX) {
                if (parse.len)
                    sb_buf_putc(&parse, '\n');
                sb_buf_puts(&parse, err.msg);
            }
        } else {
            sb_errbuf why = {{0}};
            int rc = fn(arg, &p, &why);
            if (rc >= 500) {
                analytics_result_error(out, rc, "%s", why.msg);
                break;
            }
            if (rc != 0 && refused++ == 0)
                snprintf(refusal, sizeof(refusal), "%s", why.msg);
        }
        sb_arena_reset(&a);
    }
    if (out->status == 0) {
        if (refused)
            analytics_result_error(out, 400, "partial write: %s dropped=%llu", refusal,
                                   (unsigned long long)refused);
        else if (parse_failed)
            analytics_result_error(out, 400, "partial write: %.*s dropped=0",
                                   (int)SB_MIN(parse.len, PARSE_ERRORS_MAX), parse.ptr);
        else
            out->status = 204;
    }
    sb_buf_free(&parse);
    sb_arena_deinit(&a);
}
