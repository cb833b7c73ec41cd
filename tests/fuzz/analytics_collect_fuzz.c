/*
 * analytics_collect_fuzz.c: libFuzzer target for the /api/collect body
 * decoder (analytics/collect.c). Beyond "no crash, no UB, no leak": a body
 * it accepts becomes exactly as many lines as it reports points, each of
 * which the line-protocol reader takes as a good point with the server's
 * timestamp, in one of the three measurements; a body it refuses leaves the
 * output untouched and names a reason.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/collect.h"
#include "base/arena.h"
#include "tsdb/line.h"

#define NOW_NS 1767225600123456789LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_buf lines = SB_BUF_INIT;
    sb_buf_puts(&lines, "");
    char site[37];
    size_t n = 0;
    analytics_collect_error err;
    memset(&err, 0, sizeof(err));
    bool ok = analytics_collect_decode(sb_str_make((const char *)data, size), NOW_NS, &lines, site,
                                       &n, &err);
    if (!ok) {
        assert(lines.len == 0);
        assert(err.message[0] != '\0');
        sb_buf_free(&lines);
        return 0;
    }
    assert(n >= 1 && n <= ANALYTICS_COLLECT_MAX_EVENTS);
    assert(strlen(site) == 36);
    tsdb_line_opts opts = {.precision = TSDB_PREC_NS, .now = 0, .limits = TSDB_LINE_LIMITS_DEFAULT};
    tsdb_line_reader r;
    tsdb_line_reader_init(&r, sb_buf_str(&lines), &opts);
    sb_arena a;
    sb_arena_init(&a, 4096);
    size_t got = 0;
    tsdb_point p;
    sb_errbuf e;
    tsdb_line_status st;
    while ((st = tsdb_line_next(&r, &a, &p, &e)) != TSDB_LINE_END) {
        assert(st == TSDB_LINE_POINT);
        assert(p.has_time && p.time == NOW_NS);
        assert(sb_str_eq(p.measurement, SB_STR("page_views")) ||
               sb_str_eq(p.measurement, SB_STR("web_vitals")) ||
               sb_str_eq(p.measurement, SB_STR("events")));
        got++;
    }
    assert(got == n);
    sb_arena_deinit(&a);
    sb_buf_free(&lines);
    return 0;
}
