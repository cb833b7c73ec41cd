/*
 * tsdb_exec_test.c: the InfluxQL executor, answer by answer. Each test runs
 * query text over a small data set (tsdb_fixture.h) and compares the whole
 * JSON document with the answer InfluxDB 1.x gives, derived by hand from
 * its rules (docs/tsdb.md, "Queries"): every aggregate and selector, fill
 * modes, GROUP BY tags and time (offsets, default bounds), raw selects,
 * ordering and limits, regexes, field conditions, arithmetic, SHOW
 * statements, epoch output, error messages; then Go's float and time
 * formats, the percentile sketch's error bound on large seeded data,
 * rollups against scans, limits and a hostile regex.
 */
#include "cmocka_prelude.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "tsdb/exec.h"
#include "tsdb/exec_int.h"
#include "tsdb/sketch.h"
#include "tsdb_fixture.h"

/* 2020-01-01T00:00:00Z plus seconds. */
#define T0   1577836800LL
#define S(x) "" #x "000000000"

static const char DATA[] =
    "cpu,host=a,region=eu value=1,n=1i 1577836800000000000\n"
    "cpu,host=a,region=eu value=3,n=3i 1577836810000000000\n"
    "cpu,host=a,region=eu value=5,n=5i 1577836870000000000\n"
    "cpu,host=b,region=us value=2,n=2i 1577836805000000000\n"
    "cpu,host=b,region=us value=10,n=10i 1577836925000000000\n"
    "cpu,host=c,region=eu value=4 1577836815000000000\n"
    "mem,host=a free=100i 1577836800000000000\n"
    "mem,host=a free=50i 1577836860000000000\n"
    "weather,city=paris temp=12.5,sky=\"sunny\",ok=true 1577836800000000000\n"
    "weather,city=paris temp=13.5,sky=\"rain\",ok=false 1577836860000000000\n"
    "# CONTEXT-DATABASE: other\n"
    "disk,host=z used=1i 1577836800000000000\n"
    "# CREATE-DATABASE: empty\n";

static tsdb_source *src;
static tsdb_exec_opts opts;
static sb_buf out;

/* Every test runs twice: on the engine's heads (points just written) and
 * on its block files (after a checkpoint). */
static int setup_heads(void **state)
{
    src = fixture_source_load(DATA);
    return 0;
}

static int setup_blocks(void **state)
{
    src = fixture_source_load_blocks(DATA);
    return 0;
}

static int teardown(void **state)
{
    fixture_source_free(src);
    sb_buf_free(&out);
    return 0;
}

static void reset_opts(void)
{
    opts = (tsdb_exec_opts){0};
    opts.db = SB_STR("db");
    opts.now_ns = (T0 + 300) * 1000000000LL; /* 00:05:00 */
    fixture_rollups = true;
}

static const char *run(const char *q)
{
    sb_buf_reset(&out);
    tsdb_exec_text(src, sb_str_c(q), &opts, &out);
    return out.ptr;
}

/* One statement's series, wrapped as the whole document. */
#define ONE(series) "{\"results\":[{\"statement_id\":0,\"series\":[" series "]}]}"
#define EMPTY       "{\"results\":[{\"statement_id\":0}]}"
#define ERR(msg)    "{\"results\":[{\"statement_id\":0,\"error\":\"" msg "\"}]}"

static void check(const char *q, const char *want)
{
    const char *got = run(q);
    if (strcmp(got, want) != 0)
        fail_msg("%s\n got: %s\nwant: %s", q, got, want);
}

static void test_count_and_time_zero(void **state)
{
    reset_opts();
    check("SELECT count(value) FROM cpu", ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"count\"],"
                                              "\"values\":[[\"1970-01-01T00:00:00Z\",6]]}"));
    /* With a lower bound, the row's time is that bound. */
    check("SELECT count(value) FROM cpu WHERE time >= '2020-01-01T00:00:05Z'",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"count\"],\"values\":[[\"2020-01-01T00:00:"
              "05Z\",5]]}"));
    check("SELECT count(value) FROM cpu WHERE time > '2020-01-01T00:02:05Z'", EMPTY);
    check("SELECT count(nosuch) FROM cpu", EMPTY);
    check("SELECT count(value) FROM nosuch", EMPTY);
}

static void test_aggregates(void **state)
{
    reset_opts();
    check("SELECT sum(value), mean(value), min(value), max(value), spread(value), stddev(value), "
          "median(value) FROM cpu WHERE time >= '2020-01-01T00:00:00Z'",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"sum\",\"mean\",\"min\",\"max\",\"spread\","
              "\"stddev\",\"median\"],\"values\":[[\"2020-01-01T00:00:00Z\",25,4.166666666666667,1,"
              "10,"
              "9,3.1885210782848317,3.5]]}"));
    /* Integers: sum, min, max and spread stay integers; mean is a float. */
    check("SELECT sum(n), mean(n), max(n), spread(n), count(n) FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"sum\",\"mean\",\"max\",\"spread\","
              "\"count\"],"
              "\"values\":[[\"1970-01-01T00:00:00Z\",21,4.2,10,9,5]]}"));
    /* Strings and booleans: count, first, last. */
    check(
        "SELECT count(sky), first(sky), last(ok) FROM weather",
        ONE("{\"name\":\"weather\",\"columns\":[\"time\",\"count\",\"first\",\"last\"],\"values\":"
            "[[\"1970-01-01T00:00:00Z\",2,\"sunny\",false]]}"));
    check("SELECT mean(sky) FROM weather",
          ERR("unsupported mean iterator type: *query.stringInterruptIterator"));
    /* stddev of one point is null. */
    check("SELECT stddev(value) FROM cpu WHERE host = 'c'",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"stddev\"],\"values\":[[\"1970-01-01T00:00:"
              "00Z\",null]]}"));
}

static void test_selectors_keep_point_time(void **state)
{
    reset_opts();
    check("SELECT max(value) FROM cpu", ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"max\"],"
                                            "\"values\":[[\"2020-01-01T00:02:05Z\",10]]}"));
    check("SELECT min(value) FROM cpu", ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"min\"],"
                                            "\"values\":[[\"2020-01-01T00:00:00Z\",1]]}"));
    check("SELECT first(value) FROM cpu", ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"first\"],"
                                              "\"values\":[[\"2020-01-01T00:00:00Z\",1]]}"));
    check("SELECT last(n) FROM cpu", ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"last\"],"
                                         "\"values\":[[\"2020-01-01T00:02:05Z\",10]]}"));
    /* Sorted 1 2 3 4 5 10: p50 -> index floor(6 * 0.5 + 0.5) - 1 = 2. */
    check("SELECT percentile(value, 50) FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"percentile\"],\"values\":[[\"2020-01-"
              "01T00:00:10Z\",3]]}"));
    check("SELECT percentile(n, 100) FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"percentile\"],\"values\":[[\"2020-01-"
              "01T00:02:05Z\",10]]}"));
    /* Index -1: no value at all. */
    check("SELECT percentile(value, 0) FROM cpu", EMPTY);
    /* Two selectors: the row's time is the range's start. */
    check("SELECT min(value), max(value) FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"min\",\"max\"],\"values\":[[\"1970-01-"
              "01T00:00:00Z\",1,10]]}"));
    /* top/bottom: N rows at their points' times, in time order. */
    check("SELECT top(value, 2) FROM cpu", ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"top\"],"
                                               "\"values\":[[\"2020-01-01T00:01:10Z\",5],"
                                               "[\"2020-01-01T00:02:05Z\",10]]}"));
    check("SELECT bottom(n, 2) FROM cpu", ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"bottom\"],"
                                              "\"values\":[[\"2020-01-01T00:00:00Z\",1],"
                                              "[\"2020-01-01T00:00:05Z\",2]]}"));
}

/* One selector beside tags or fields: they come from the selected point. */
static void test_selector_with_fields(void **state)
{
    reset_opts();
    check("SELECT max(value), host FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"max\",\"host\"],\"values\":"
              "[[\"2020-01-01T00:02:05Z\",10,\"b\"]]}"));
    check("SELECT last(value), n, region FROM cpu WHERE region = 'eu'",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"last\",\"n\",\"region\"],\"values\":"
              "[[\"2020-01-01T00:01:10Z\",5,5,\"eu\"]]}"));
    check("SELECT top(value, 2), host FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"top\",\"host\"],\"values\":"
              "[[\"2020-01-01T00:01:10Z\",5,\"a\"],[\"2020-01-01T00:02:05Z\",10,\"b\"]]}"));
    check("SELECT max(value), host FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND "
          "time < '2020-01-01T00:02:00Z' GROUP BY time(1m)",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"max\",\"host\"],\"values\":"
              "[[\"2020-01-01T00:00:00Z\",4,\"c\"],[\"2020-01-01T00:01:00Z\",5,\"a\"]]}"));
    /* top(f, tag, N): the best point of each tag value, then the N best. */
    check("SELECT top(value, region, 2) FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"top\",\"region\"],\"values\":"
              "[[\"2020-01-01T00:01:10Z\",5,\"eu\"],[\"2020-01-01T00:02:05Z\",10,\"us\"]]}"));
    check("SELECT bottom(value, host, 2) FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"bottom\",\"host\"],\"values\":"
              "[[\"2020-01-01T00:00:00Z\",1,\"a\"],[\"2020-01-01T00:00:05Z\",2,\"b\"]]}"));
    check("SELECT top(value, 5, 2) FROM cpu",
          ERR("only fields or tags are allowed in top(), found 5"));
    check("SELECT max(value), min(value), host FROM cpu",
          ERR("mixing multiple selector functions with tags or fields is not supported"));
    /* A string field beside a selector: its value outlives the scan that
     * read it (ASan saw a use after free here, found by influxql_exec_fuzz). */
    check("SELECT max(temp), sky FROM weather",
          ONE("{\"name\":\"weather\",\"columns\":[\"time\",\"max\",\"sky\"],\"values\":"
              "[[\"2020-01-01T00:01:00Z\",13.5,\"rain\"]]}"));
    check("SELECT first(temp), sky FROM weather WHERE time < '2020-01-01T00:02:00Z' "
          "GROUP BY time(1m)",
          ONE("{\"name\":\"weather\",\"columns\":[\"time\",\"first\",\"sky\"],\"values\":"
              "[[\"2020-01-01T00:00:00Z\",12.5,\"sunny\"],[\"2020-01-01T00:01:00Z\",13.5,\"rain\"]]"
              "}"));
}

static void test_group_by_tags(void **state)
{
    reset_opts();
    check("SELECT count(value) FROM cpu GROUP BY region",
          ONE("{\"name\":\"cpu\",\"tags\":{\"region\":\"eu\"},\"columns\":[\"time\",\"count\"],"
              "\"values\":"
              "[[\"1970-01-01T00:00:00Z\",4]]},{\"name\":\"cpu\",\"tags\":{\"region\":\"us\"},"
              "\"columns\":"
              "[\"time\",\"count\"],\"values\":[[\"1970-01-01T00:00:00Z\",2]]}"));
    check(
        "SELECT sum(value) FROM cpu GROUP BY *",
        ONE("{\"name\":\"cpu\",\"tags\":{\"host\":\"a\",\"region\":\"eu\"},\"columns\":[\"time\","
            "\"sum\"],"
            "\"values\":[[\"1970-01-01T00:00:00Z\",9]]},{\"name\":\"cpu\",\"tags\":{\"host\":\"b\","
            "\"region\":\"us\"},\"columns\":[\"time\",\"sum\"],\"values\":[[\"1970-01-01T00:00:"
            "00Z\",12]]},"
            "{\"name\":\"cpu\",\"tags\":{\"host\":\"c\",\"region\":\"eu\"},\"columns\":[\"time\","
            "\"sum\"],"
            "\"values\":[[\"1970-01-01T00:00:00Z\",4]]}"));
    /* A tag no series has groups everything under "". */
    check(
        "SELECT count(value) FROM cpu GROUP BY dc",
        ONE("{\"name\":\"cpu\",\"tags\":{\"dc\":\"\"},\"columns\":[\"time\",\"count\"],\"values\":"
            "[[\"1970-01-01T00:00:00Z\",6]]}"));
    check("SELECT count(value) FROM cpu GROUP BY host SLIMIT 1 SOFFSET 1",
          ONE("{\"name\":\"cpu\",\"tags\":{\"host\":\"b\"},\"columns\":[\"time\",\"count\"],"
              "\"values\":"
              "[[\"1970-01-01T00:00:00Z\",2]]}"));
}

#define CNT_HEAD  "{\"name\":\"cpu\",\"columns\":[\"time\",\"count\"],\"values\":["
#define MEAN_HEAD "{\"name\":\"cpu\",\"columns\":[\"time\",\"mean\"],\"values\":["

static void test_group_by_time(void **state)
{
    reset_opts();
    check("SELECT count(value) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND "
          "time < '2020-01-01T00:03:00Z' GROUP BY time(1m)",
          ONE(CNT_HEAD "[\"2020-01-01T00:00:00Z\",4],[\"2020-01-01T00:01:00Z\",1],"
                       "[\"2020-01-01T00:02:00Z\",1]]}"));
    /* No upper bound: now() (00:05); empty buckets count 0. */
    check("SELECT count(value) FROM cpu WHERE time >= '2020-01-01T00:02:00Z' GROUP BY time(1m)",
          ONE(CNT_HEAD "[\"2020-01-01T00:02:00Z\",1],[\"2020-01-01T00:03:00Z\",0],"
                       "[\"2020-01-01T00:04:00Z\",0],[\"2020-01-01T00:05:00Z\",0]]}"));
    /* No lower bound: from the first point's bucket. */
    check("SELECT count(value) FROM cpu WHERE host = 'b' GROUP BY time(1m)",
          ONE(CNT_HEAD "[\"2020-01-01T00:00:00Z\",1],[\"2020-01-01T00:01:00Z\",0],"
                       "[\"2020-01-01T00:02:00Z\",1],[\"2020-01-01T00:03:00Z\",0],"
                       "[\"2020-01-01T00:04:00Z\",0],[\"2020-01-01T00:05:00Z\",0]]}"));
    /* An offset moves the boundaries; the first bucket starts before the
     * lower bound. */
    check("SELECT count(value) FROM cpu WHERE host = 'a' AND time >= '2020-01-01T00:00:00Z' AND "
          "time < '2020-01-01T00:02:00Z' GROUP BY time(1m, 30s)",
          ONE(CNT_HEAD "[\"2019-12-31T23:59:30Z\",2],[\"2020-01-01T00:00:30Z\",1],"
                       "[\"2020-01-01T00:01:30Z\",0]]}"));
    /* With GROUP BY time, selectors give the bucket's time. */
    check("SELECT max(value) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND "
          "time < '2020-01-01T00:02:00Z' GROUP BY time(1m) fill(none)",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"max\"],\"values\":[[\"2020-01-01T00:00:"
              "00Z\",4],"
              "[\"2020-01-01T00:01:00Z\",5]]}"));
    /* ORDER BY time DESC reverses the buckets. */
    check("SELECT count(value) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND "
          "time < '2020-01-01T00:02:00Z' GROUP BY time(1m) ORDER BY time DESC",
          ONE(CNT_HEAD "[\"2020-01-01T00:01:00Z\",1],[\"2020-01-01T00:00:00Z\",4]]}"));
}

#define RANGE4                                                                                     \
    "WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:04:00Z' GROUP BY time(1m) "

static void test_fill(void **state)
{
    reset_opts();
    const char *m3 = "[\"2020-01-01T00:00:00Z\",2.5],[\"2020-01-01T00:01:00Z\",5],"
                     "[\"2020-01-01T00:02:00Z\",10]";
    char want[512];
    snprintf(want, sizeof(want), ONE(MEAN_HEAD "%s,[\"2020-01-01T00:03:00Z\",null]]}"), m3);
    check("SELECT mean(value) FROM cpu " RANGE4, want);
    check("SELECT mean(value) FROM cpu " RANGE4 "fill(null)", want);
    snprintf(want, sizeof(want), ONE(MEAN_HEAD "%s]}"), m3);
    check("SELECT mean(value) FROM cpu " RANGE4 "fill(none)", want);
    snprintf(want, sizeof(want), ONE(MEAN_HEAD "%s,[\"2020-01-01T00:03:00Z\",0]]}"), m3);
    check("SELECT mean(value) FROM cpu " RANGE4 "fill(0)", want);
    snprintf(want, sizeof(want), ONE(MEAN_HEAD "%s,[\"2020-01-01T00:03:00Z\",10]]}"), m3);
    check("SELECT mean(value) FROM cpu " RANGE4 "fill(previous)", want);
    snprintf(want, sizeof(want), ONE(MEAN_HEAD "%s,[\"2020-01-01T00:03:00Z\",-1.5]]}"), m3);
    check("SELECT mean(value) FROM cpu " RANGE4 "fill(-1.5)", want);
    /* linear: between neighbours; none after the last value. */
    check("SELECT mean(value) FROM cpu WHERE host = 'a' AND time >= '2020-01-01T00:00:00Z' AND "
          "time < '2020-01-01T00:01:30Z' GROUP BY time(30s) fill(linear)",
          ONE(MEAN_HEAD "[\"2020-01-01T00:00:00Z\",2],[\"2020-01-01T00:00:30Z\",3.5],"
                        "[\"2020-01-01T00:01:00Z\",5]]}"));
    /* count fills 0 with the default and with fill(null) (InfluxDB turns
     * the null fill of count into 0); fill(none) leaves buckets out. */
    const char *cq =
        "SELECT count(value) FROM cpu WHERE host = 'a' AND time >= '2020-01-01T00:00:00Z' "
        "AND time < '2020-01-01T00:01:30Z' GROUP BY time(30s)";
    const char *cw = ONE(CNT_HEAD "[\"2020-01-01T00:00:00Z\",2],[\"2020-01-01T00:00:30Z\",0],"
                                  "[\"2020-01-01T00:01:00Z\",1]]}");
    check(cq, cw);
    char q2[512];
    snprintf(q2, sizeof(q2), "%s fill(null)", cq);
    check(q2, cw);
    snprintf(q2, sizeof(q2), "%s fill(none)", cq);
    check(q2, ONE(CNT_HEAD "[\"2020-01-01T00:00:00Z\",2],[\"2020-01-01T00:01:00Z\",1]]}"));
    /* Two calls: a bucket with one of them empty fills that one only. */
    check("SELECT count(value), mean(n) FROM cpu WHERE host = 'c' AND time >= "
          "'2020-01-01T00:00:00Z' AND time < '2020-01-01T00:01:00Z' GROUP BY time(1m)",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"count\",\"mean\"],\"values\":"
              "[[\"2020-01-01T00:00:00Z\",1,null]]}"));
}

static void test_raw(void **state)
{
    reset_opts();
    check("SELECT value FROM cpu WHERE host = 'a'",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"value\"],\"values\":[[\"2020-01-01T00:00:"
              "00Z\",1],"
              "[\"2020-01-01T00:00:10Z\",3],[\"2020-01-01T00:01:10Z\",5]]}"));
    /* Series merged by time; a missing field is null; tags as columns. */
    check("SELECT value, n, host FROM cpu WHERE region = 'eu'",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"value\",\"n\",\"host\"],\"values\":["
              "[\"2020-01-01T00:00:00Z\",1,1,\"a\"],[\"2020-01-01T00:00:10Z\",3,3,\"a\"],"
              "[\"2020-01-01T00:00:15Z\",4,null,\"c\"],[\"2020-01-01T00:01:10Z\",5,5,\"a\"]]}"));
    /* * is every field and tag, by name. */
    check("SELECT * FROM cpu WHERE host = 'b'",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"host\",\"n\",\"region\",\"value\"],"
              "\"values\":["
              "[\"2020-01-01T00:00:05Z\",\"b\",2,\"us\",2],[\"2020-01-01T00:02:05Z\",\"b\",10,"
              "\"us\",10]]}"));
    /* GROUP BY a tag takes it out of *, into the series' tags. */
    check("SELECT * FROM cpu WHERE host = 'b' GROUP BY host",
          ONE("{\"name\":\"cpu\",\"tags\":{\"host\":\"b\"},\"columns\":[\"time\",\"n\",\"region\","
              "\"value\"],"
              "\"values\":[[\"2020-01-01T00:00:05Z\",2,\"us\",2],[\"2020-01-01T00:02:05Z\",10,"
              "\"us\",10]]}"));
    check("SELECT value AS v, value * 2 FROM cpu WHERE host = 'c'",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"v\",\"value\"],\"values\":"
              "[[\"2020-01-01T00:00:15Z\",4,8]]}"));
    check("SELECT sky, temp FROM weather",
          ONE("{\"name\":\"weather\",\"columns\":[\"time\",\"sky\",\"temp\"],\"values\":["
              "[\"2020-01-01T00:00:00Z\",\"sunny\",12.5],[\"2020-01-01T00:01:00Z\",\"rain\",13.5]]"
              "}"));
    /* Several measurements: one series each, by name. */
    check("SELECT free, temp FROM mem, weather WHERE time < '2020-01-01T00:01:00Z'",
          ONE("{\"name\":\"mem\",\"columns\":[\"time\",\"free\",\"temp\"],\"values\":"
              "[[\"2020-01-01T00:00:00Z\",100,null]]},{\"name\":\"weather\",\"columns\":"
              "[\"time\",\"free\",\"temp\"],\"values\":[[\"2020-01-01T00:00:00Z\",null,12.5]]}"));
    check("SELECT nosuch FROM cpu", EMPTY);
}

static void test_order_limit(void **state)
{
    reset_opts();
    check("SELECT value FROM cpu WHERE host = 'a' ORDER BY time DESC LIMIT 2",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"value\"],\"values\":[[\"2020-01-01T00:01:"
              "10Z\",5],"
              "[\"2020-01-01T00:00:10Z\",3]]}"));
    check("SELECT value FROM cpu WHERE host = 'a' LIMIT 1 OFFSET 1",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"value\"],\"values\":[[\"2020-01-01T00:00:"
              "10Z\",3]]}"));
    check("SELECT count(value) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND "
          "time < '2020-01-01T00:03:00Z' GROUP BY time(1m) LIMIT 1 OFFSET 1",
          ONE(CNT_HEAD "[\"2020-01-01T00:01:00Z\",1]]}"));
}

static void test_conditions(void **state)
{
    reset_opts();
    check("SELECT count(value) FROM cpu WHERE host =~ /^[ab]$/",
          ONE(CNT_HEAD "[\"1970-01-01T00:00:00Z\",5]]}"));
    check("SELECT count(value) FROM cpu WHERE host !~ /a/",
          ONE(CNT_HEAD "[\"1970-01-01T00:00:00Z\",3]]}"));
    check("SELECT count(value) FROM cpu WHERE host != 'a' AND region = 'eu'",
          ONE(CNT_HEAD "[\"1970-01-01T00:00:00Z\",1]]}"));
    check("SELECT count(value) FROM cpu WHERE host = 'a' OR host = 'c'",
          ONE(CNT_HEAD "[\"1970-01-01T00:00:00Z\",4]]}"));
    /* A missing tag reads as "". */
    check("SELECT count(value) FROM cpu WHERE dc = ''",
          ONE(CNT_HEAD "[\"1970-01-01T00:00:00Z\",6]]}"));
    check("SELECT count(value) FROM /c.u/", ONE(CNT_HEAD "[\"1970-01-01T00:00:00Z\",6]]}"));
    /* Field conditions, per point. */
    check("SELECT value FROM cpu WHERE value > 3",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"value\"],\"values\":[[\"2020-01-01T00:00:"
              "15Z\",4],"
              "[\"2020-01-01T00:01:10Z\",5],[\"2020-01-01T00:02:05Z\",10]]}"));
    check("SELECT count(value) FROM cpu WHERE value > 3 AND host != 'b'",
          ONE(CNT_HEAD "[\"1970-01-01T00:00:00Z\",2]]}"));
    /* A field missing at a point compares false, != included. */
    check("SELECT count(value) FROM cpu WHERE n != 100",
          ONE(CNT_HEAD "[\"1970-01-01T00:00:00Z\",5]]}"));
    check("SELECT value FROM cpu WHERE time > now() - 4m AND host = 'b'",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"value\"],\"values\":[[\"2020-01-01T00:02:"
              "05Z\",10]]}"));
    check("SELECT value FROM cpu WHERE time = 1577836815000000000",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"value\"],\"values\":[[\"2020-01-01T00:00:"
              "15Z\",4]]}"));
    check("SELECT sky FROM weather WHERE sky = 'rain'",
          ONE("{\"name\":\"weather\",\"columns\":[\"time\",\"sky\"],\"values\":[[\"2020-01-01T00:"
              "01:00Z\",\"rain\"]]}"));
}

static void test_arithmetic_and_names(void **state)
{
    reset_opts();
    check("SELECT sum(value) / count(value) FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"sum_count\"],\"values\":"
              "[[\"1970-01-01T00:00:00Z\",4.166666666666667]]}"));
    check("SELECT mean(value), mean(n), max(n) * 2 AS twice FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"mean\",\"mean_1\",\"twice\"],\"values\":"
              "[[\"1970-01-01T00:00:00Z\",4.166666666666667,4.2,20]]}"));
}

/* fn(*) and fn(/re/): one call per field of fitting type, named fn_field. */
static void test_wildcard_calls(void **state)
{
    reset_opts();
    check("SELECT count(*) FROM weather", ONE("{\"name\":\"weather\",\"columns\":[\"time\",\"count_"
                                              "ok\",\"count_sky\",\"count_temp\"],"
                                              "\"values\":[[\"1970-01-01T00:00:00Z\",2,2,2]]}"));
    check("SELECT mean(*) FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"mean_n\",\"mean_value\"],\"values\":"
              "[[\"1970-01-01T00:00:00Z\",4.2,4.166666666666667]]}"));
    check("SELECT max(/^v/) AS m FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"m_value\"],\"values\":"
              "[[\"2020-01-01T00:02:05Z\",10]]}"));
}

static void test_epoch(void **state)
{
    reset_opts();
    opts.has_epoch = true;
    opts.epoch = TSDB_PREC_S;
    check("SELECT value FROM cpu WHERE host = 'c'",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"value\"],\"values\":[[1577836815,4]]}"));
    opts.epoch = TSDB_PREC_MS;
    check(
        "SELECT value FROM cpu WHERE host = 'c'",
        ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"value\"],\"values\":[[1577836815000,4]]}"));
    opts.epoch = TSDB_PREC_NS;
    check("SELECT count(value) FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"count\"],\"values\":[[0,6]]}"));
}

static void test_show(void **state)
{
    reset_opts();
    check("SHOW DATABASES", ONE("{\"name\":\"databases\",\"columns\":[\"name\"],\"values\":[["
                                "\"db\"],[\"empty\"],[\"other\"]]}"));
    check("SHOW MEASUREMENTS", ONE("{\"name\":\"measurements\",\"columns\":[\"name\"],\"values\":[["
                                   "\"cpu\"],[\"mem\"],[\"weather\"]]}"));
    check(
        "SHOW MEASUREMENTS WHERE host = 'a'",
        ONE("{\"name\":\"measurements\",\"columns\":[\"name\"],\"values\":[[\"cpu\"],[\"mem\"]]}"));
    check("SHOW MEASUREMENTS ON empty", EMPTY);
    check("SHOW TAG KEYS FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"tagKey\"],\"values\":[[\"host\"],[\"region\"]]}"));
    check("SHOW TAG VALUES FROM cpu WITH KEY = \"region\"",
          ONE("{\"name\":\"cpu\",\"columns\":[\"key\",\"value\"],\"values\":[[\"region\",\"eu\"],"
              "[\"region\",\"us\"]]}"));
    check("SHOW TAG VALUES WITH KEY =~ /^h/ WHERE region = 'eu'",
          ONE("{\"name\":\"cpu\",\"columns\":[\"key\",\"value\"],\"values\":[[\"host\",\"a\"],["
              "\"host\",\"c\"]]}"));
    check("SHOW FIELD KEYS FROM weather", ONE("{\"name\":\"weather\",\"columns\":[\"fieldKey\","
                                              "\"fieldType\"],\"values\":[[\"ok\",\"boolean\"],"
                                              "[\"sky\",\"string\"],[\"temp\",\"float\"]]}"));
    check("SHOW SERIES FROM mem", ONE("{\"columns\":[\"key\"],\"values\":[[\"mem,host=a\"]]}"));
    check("SHOW SERIES ON other", ONE("{\"columns\":[\"key\"],\"values\":[[\"disk,host=z\"]]}"));
    check(
        "SHOW RETENTION POLICIES ON db",
        ONE("{\"columns\":[\"name\",\"duration\",\"shardGroupDuration\",\"replicaN\",\"default\"],"
            "\"values\":[[\"autogen\",\"0s\",\"168h0m0s\",1,true]]}"));
    check("SHOW MEASUREMENTS ON nosuch", ERR("database not found: nosuch"));
    check("SHOW MEASUREMENTS WITH MEASUREMENT =~ /^(cpu|weather)$/ LIMIT 1 OFFSET 1",
          ONE("{\"name\":\"measurements\",\"columns\":[\"name\"],\"values\":[[\"weather\"]]}"));
    check("SHOW TAG KEYS",
          ONE("{\"name\":\"cpu\",\"columns\":[\"tagKey\"],\"values\":[[\"host\"],[\"region\"]]},"
              "{\"name\":\"mem\",\"columns\":[\"tagKey\"],\"values\":[[\"host\"]]},"
              "{\"name\":\"weather\",\"columns\":[\"tagKey\"],\"values\":[[\"city\"]]}"));
    check("SHOW TAG VALUES FROM cpu, mem WITH KEY IN (\"host\", \"nosuch\") WHERE host != 'b'",
          ONE("{\"name\":\"cpu\",\"columns\":[\"key\",\"value\"],\"values\":[[\"host\",\"a\"],"
              "[\"host\",\"c\"]]},{\"name\":\"mem\",\"columns\":[\"key\",\"value\"],\"values\":"
              "[[\"host\",\"a\"]]}"));
    check("SHOW SERIES WHERE region = 'eu'", ONE("{\"columns\":[\"key\"],\"values\":[[\"cpu,host=a,"
                                                 "region=eu\"],[\"cpu,host=c,region=eu\"]]}"));
    check(
        "SHOW FIELD KEYS",
        ONE("{\"name\":\"cpu\",\"columns\":[\"fieldKey\",\"fieldType\"],\"values\":[[\"n\","
            "\"integer\"],"
            "[\"value\",\"float\"]]},{\"name\":\"mem\",\"columns\":[\"fieldKey\",\"fieldType\"],"
            "\"values\":[[\"free\",\"integer\"]]},{\"name\":\"weather\",\"columns\":[\"fieldKey\","
            "\"fieldType\"],\"values\":[[\"ok\",\"boolean\"],[\"sky\",\"string\"],[\"temp\","
            "\"float\"]]}"));
    check("SHOW TAG KEYS ON empty", EMPTY);
    opts.db = SB_STR_NULL;
    check("SHOW MEASUREMENTS", ERR("database name required"));
    check("SHOW DATABASES",
          ONE("{\"name\":\"databases\",\"columns\":[\"name\"],\"values\":[[\"db\"],[\"empty\"],"
              "[\"other\"]]}"));
}

static void test_errors(void **state)
{
    reset_opts();
    check("SELECT foo(value) FROM cpu", ERR("undefined function foo()"));
    check("SELECT value, mean(value) FROM cpu",
          ERR("mixing aggregate and non-aggregate queries is not supported"));
    check("SELECT top(value, 1), max(value) FROM cpu",
          ERR("selector function top() cannot be combined with other functions"));
    check("SELECT mean(value, n) FROM cpu",
          ERR("invalid number of arguments for mean, expected 1, got 2"));
    check("SELECT percentile(value) FROM cpu",
          ERR("invalid number of arguments for percentile, expected 2, got 1"));
    check("SELECT value FROM cpu GROUP BY time(1m)",
          ERR("GROUP BY requires at least one aggregate function"));
    check("SELECT value FROM cpu GROUP BY host fill(none)",
          ERR("fill(none) must be used with a function"));
    check("SELECT time FROM cpu", ERR("at least 1 non-time field must be queried"));
    check("SELECT value FROM cpu WHERE time > now() - 1h OR time < now() - 2h",
          ERR("cannot use OR with time conditions"));
    check("SELECT value FROM nosuch.autogen.cpu", ERR("database not found: nosuch"));
    check("SELECT value FROM db.weekly.cpu", ERR("retention policy not found: weekly"));
    check("SELECT count(value) FROM db..cpu", ONE(CNT_HEAD "[\"1970-01-01T00:00:00Z\",6]]}"));
    check("SELECT count(value) FROM cpu WHERE host =~ /(/",
          ERR("error parsing regexp: missing closing parenthesis at offset 1"));
    opts.db = SB_STR_NULL;
    check("SELECT value FROM cpu", ERR("database name required"));
    reset_opts();
    check("CREATE DATABASE x", ERR("CREATE DATABASE is not supported here"));
    /* Statements are independent. */
    check("SELECT count(value) FROM cpu; SELECT bad(value) FROM cpu",
          "{\"results\":[{\"statement_id\":0,\"series\":[" CNT_HEAD
          "[\"1970-01-01T00:00:00Z\",6]]}]},"
          "{\"statement_id\":1,\"error\":\"undefined function bad()\"}]}");
    /* A parse error is the document's error (the parser's words). */
    check("SELEC x",
          "{\"error\":\"error parsing query: found SELEC, expected SELECT, SHOW, CREATE or "
          "DROP at line 1, char 1\"}");
}

static bool ddl_ok(void *arg, iql_stmt_kind kind, sb_str db, sb_errbuf *err)
{
    int *calls = arg;
    (*calls)++;
    if (sb_str_eq(db, SB_STR("bad")))
        return sb_errf(err, "no");
    return kind == IQL_CREATE_DATABASE || kind == IQL_DROP_DATABASE;
}

static void test_ddl_callback(void **state)
{
    reset_opts();
    int calls = 0;
    opts.ddl = ddl_ok;
    opts.ddl_arg = &calls;
    check("CREATE DATABASE x; DROP DATABASE bad",
          "{\"results\":[{\"statement_id\":0},{\"statement_id\":1,\"error\":\"no\"}]}");
    assert_int_equal(calls, 2);
}

static void test_json_formats(void **state)
{
    static const struct {
        double v;
        const char *want;
    } F[] = {
        {1, "1"},
        {0.1, "0.1"},
        {-2.5, "-2.5"},
        {123456789, "123456789"},
        {1e20, "100000000000000000000"},
        {1e21, "1e+21"},
        {1.5e300, "1.5e+300"},
        {1e-6, "0.000001"},
        {1e-7, "1e-7"},
        {1.25e-10, "1.25e-10"},
        {0.30000000000000004, "0.30000000000000004"},
        {-0.0, "-0"},
        {0, "0"},
        {NAN, "null"},
    };
    sb_buf b = SB_BUF_INIT;
    for (size_t i = 0; i < sizeof(F) / sizeof(F[0]); i++) {
        sb_buf_reset(&b);
        ex__json_float(&b, F[i].v);
        assert_string_equal(b.ptr, F[i].want);
    }
    char t[48];
    ex__rfc3339(t, 1577836800123000000LL);
    assert_string_equal(t, "2020-01-01T00:00:00.123Z");
    ex__rfc3339(t, -1);
    assert_string_equal(t, "1969-12-31T23:59:59.999999999Z");
    ex__rfc3339(t, EX_MIN_TIME);
    assert_string_equal(t, "1677-09-21T00:12:43.145224194Z");
    sb_buf_reset(&b);
    ex__json_str(&b, sb_str_make("a<b>&\"\\\n\x01\xff", 10));
    assert_string_equal(b.ptr, "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\u0001\\ufffd\"");
    sb_buf_free(&b);
}

/* ---- large data: the percentile sketch, rollups ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void test_sketch_bound(void **state)
{
    /* Direct: log-normal-ish values over 6 decades, and negatives. */
    enum { N = 200000 };
    double *v = malloc(N * sizeof(double));
    tsdb_sketch a, b;
    tsdb_sketch_init(&a, 0.01);
    tsdb_sketch_init(&b, 0.01);
    for (size_t i = 0; i < N; i++) {
        v[i] = exp(rnd() * 14 - 7) * (rnd() < 0.1 ? -1 : 1);
        tsdb_sketch_add(i % 2 ? &a : &b, v[i]);
    }
    tsdb_sketch_merge(&a, &b);
    assert_int_equal(a.n, N);
    assert_false(a.collapsed);
    qsort(v, N, sizeof(double), cmp_d);
    for (size_t r = 0; r < N; r += 997) {
        double got = tsdb_sketch_rank(&a, r);
        if (fabs(got - v[r]) > 0.01 * fabs(v[r]) + 1e-300)
            fail_msg("rank %zu: %g vs %g", r, got, v[r]);
    }
    assert_true(tsdb_sketch_rank(&a, 0) == v[0]);
    assert_true(tsdb_sketch_rank(&a, N - 1) == v[N - 1]);
    tsdb_sketch_deinit(&a);
    tsdb_sketch_deinit(&b);
    free(v);
}

static void test_percentile_sketch_query(void **state)
{
    /* 150k points in one group (over EX_EXACT_MAX): percentile() answers
     * from the sketch, within 1% of the exact nearest-rank value. */
    enum { N = 150000 };
    sb_buf lp = SB_BUF_INIT;
    double *v = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++) {
        v[i] = exp(rnd() * 10);
        sb_buf_appendf(&lp, "lat,s=%zu ms=%.17g %lld\n", i % 3, v[i],
                       (long long)(T0 * 1000000000LL + (long long)i * 1000));
    }
    tsdb_source *big = fixture_source_load_blocks(lp.ptr);
    sb_buf_free(&lp);
    qsort(v, N, sizeof(double), cmp_d);
    reset_opts();
    static const double P[] = {1, 50, 90, 99, 99.9};
    for (size_t i = 0; i < sizeof(P) / sizeof(P[0]); i++) {
        char q[128];
        snprintf(q, sizeof(q), "SELECT percentile(ms, %g) FROM lat", P[i]);
        sb_buf_reset(&out);
        tsdb_exec_text(big, sb_str_c(q), &opts, &out);
        const char *num = strstr(out.ptr, "Z\",");
        assert_non_null(num);
        double got = strtod(num + 3, NULL);
        size_t idx = (size_t)floor((double)N * P[i] / 100 + 0.5) - 1;
        if (fabs(got - v[idx]) > 0.01 * v[idx])
            fail_msg("p%g: %.17g vs exact %.17g", P[i], got, v[idx]);
    }
    /* Below the limit, exact: a filter leaves 50k points of one series. */
    sb_buf_reset(&out);
    tsdb_exec_text(big, SB_STR("SELECT count(ms), median(ms) FROM lat WHERE s = '1'"), &opts, &out);
    assert_non_null(strstr(out.ptr, ",50000,"));
    fixture_source_free(big);
    free(v);
}

typedef struct {
    double v;
    long long t;
} vt_pair;

static int cmp_vt(const void *x, const void *y)
{
    const vt_pair *a = x, *b = y;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->t > b->t) - (a->t < b->t);
}

static void test_percentile_exact_ties(void **state)
{
    /* 20k points in 4 series with only 37 distinct values: the exact
     * percentile (a rank selection, not a sort) must pick the value of the
     * nearest rank and, among equal values, the earliest point's time, as
     * a sort by (value, time) does. */
    enum { N = 20000 };
    sb_buf lp = SB_BUF_INIT;
    vt_pair *v = malloc(N * sizeof(*v));
    for (size_t i = 0; i < N; i++) {
        v[i].v = (double)(int)(rnd() * 37) / 4;
        v[i].t = T0 + (long long)i;
        sb_buf_appendf(&lp, "lat,s=%zu ms=%.17g %lld000000000\n", i % 4, v[i].v, v[i].t);
    }
    tsdb_source *ties = fixture_source_load_blocks(lp.ptr);
    sb_buf_free(&lp);
    qsort(v, N, sizeof(*v), cmp_vt);
    reset_opts();
    static const double P[] = {0.01, 1, 5, 25, 50, 50.005, 90, 95, 99, 99.99, 100};
    for (size_t i = 0; i < sizeof(P) / sizeof(P[0]); i++) {
        char q[128], want[128], ts[32];
        snprintf(q, sizeof(q), "SELECT percentile(ms, %g) FROM lat", P[i]);
        size_t idx = (size_t)floor((double)N * P[i] / 100 + 0.5) - 1;
        time_t tt = (time_t)v[idx].t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(want, sizeof(want), "[[\"%s\",%.17g]]", ts, v[idx].v);
        sb_buf_reset(&out);
        tsdb_exec_text(ties, sb_str_c(q), &opts, &out);
        /* Compare the number as a number: the formatter picks the digits. */
        const char *num = strstr(out.ptr, "Z\",");
        assert_non_null(num);
        if (strtod(num + 3, NULL) != v[idx].v || !strstr(out.ptr, ts))
            fail_msg("p%g: got %s, want %s", P[i], out.ptr, want);
    }
    fixture_source_free(ties);
    free(v);
}

/* The same document, numbers equal within rel (exactly when rel is 0). */
static void same_numbers(const char *a, const char *b, double rel)
{
    json_error_t e;
    json_t *x = json_loads(a, JSON_DECODE_INT_AS_REAL, &e),
           *y = json_loads(b, JSON_DECODE_INT_AS_REAL, &e);
    assert_non_null(x);
    assert_non_null(y);
    json_t *sx = json_object_get(json_array_get(json_object_get(x, "results"), 0), "series");
    json_t *sy = json_object_get(json_array_get(json_object_get(y, "results"), 0), "series");
    assert_int_equal(json_array_size(sx), json_array_size(sy));
    assert_true(json_array_size(sx) > 0);
    for (size_t i = 0; i < json_array_size(sx); i++) {
        json_t *vx = json_object_get(json_array_get(sx, i), "values");
        json_t *vy = json_object_get(json_array_get(sy, i), "values");
        assert_int_equal(json_array_size(vx), json_array_size(vy));
        for (size_t r = 0; r < json_array_size(vx); r++)
            for (size_t k = 0; k < json_array_size(json_array_get(vx, r)); k++) {
                json_t *p = json_array_get(json_array_get(vx, r), k);
                json_t *q = json_array_get(json_array_get(vy, r), k);
                if (json_is_number(p) && json_is_number(q)) {
                    double u = json_number_value(p), v = json_number_value(q);
                    if (fabs(u - v) > rel * fabs(v))
                        fail_msg("row %zu col %zu: %.17g vs %.17g", r, k, u, v);
                } else {
                    assert_true(json_equal(p, q));
                }
            }
    }
    json_decref(x);
    json_decref(y);
}

/* Against the engine's rollups (1 min and 1 h), kept as points are
 * written (heads) and after a checkpoint (blocks). */
static void rollups_match_scans(tsdb_source *s2)
{
    reset_opts();
    /* Bounds inside buckets: rollups for the whole buckets, scans at the
     * ends; min, max and count exact, sums up to rounding. */
    static const char *const Q[] = {
        "SELECT count(v), sum(v), mean(v), min(v), max(v) FROM m WHERE "
        "time >= '2020-01-01T00:03:30Z' AND time <= '2020-01-01T05:17:03Z' GROUP BY time(10m), h",
        "SELECT count(v), max(v) FROM m WHERE time >= '2020-01-01T00:00:00Z' AND "
        "time < '2020-01-01T06:00:00Z' GROUP BY time(1h, 20m) fill(none)",
        /* Without GROUP BY time: the whole hours (then minutes) inside the
         * range from rollups, the ends scanned; no range at all too. */
        "SELECT count(v), sum(v), mean(v) FROM m WHERE time >= '2020-01-01T00:03:30Z' AND "
        "time <= '2020-01-01T05:17:03Z' GROUP BY h",
        "SELECT count(v), mean(v) FROM m",
    };
    for (size_t i = 0; i < sizeof(Q) / sizeof(Q[0]); i++) {
        sb_buf a = SB_BUF_INIT;
        fixture_rollups = true;
        fixture_rollup_rows = 0;
        tsdb_exec_text(s2, sb_str_c(Q[i]), &opts, &a);
        assert_true(fixture_rollup_rows > 0);
        fixture_rollups = false;
        sb_buf_reset(&out);
        tsdb_exec_text(s2, sb_str_c(Q[i]), &opts, &out);
        same_numbers(a.ptr, out.ptr, 1e-12);
        sb_buf_free(&a);
    }
    /* A condition on field values reads points, never rollups. */
    fixture_rollups = true;
    fixture_rollup_rows = 0;
    sb_buf_reset(&out);
    tsdb_exec_text(s2,
                   SB_STR("SELECT count(v) FROM m WHERE v > 50 AND time >= '2020-01-01T00:00:00Z' "
                          "AND time < '2020-01-01T01:00:00Z' GROUP BY time(10m)"),
                   &opts, &out);
    assert_int_equal(fixture_rollup_rows, 0);
    /* Nor does a lone min/max without GROUP BY time: its row carries the
     * time of the selected point. */
    sb_buf_reset(&out);
    tsdb_exec_text(s2, SB_STR("SELECT max(v) FROM m"), &opts, &out);
    assert_int_equal(fixture_rollup_rows, 0);
}

static void test_rollups_match_scans(void **state)
{
    sb_buf lp = SB_BUF_INIT;
    for (int i = 0; i < 3000; i++)
        sb_buf_appendf(&lp, "m,h=%d v=%.3f %lld\n", i % 4, rnd() * 100,
                       (long long)((T0 + i * 7) * 1000000000LL));
    tsdb_source *heads = fixture_source_load(lp.ptr), *blocks = fixture_source_load_blocks(lp.ptr);
    sb_buf_free(&lp);
    rollups_match_scans(heads);
    rollups_match_scans(blocks);
    /* 10 min buckets have no rollup of their own: the engine's 1 min rows
     * answer them, one per series and minute (4 series, a point of each
     * every 28 s), and the 1 h rollup is not asked (it does not divide
     * 10 min). */
    fixture_rollups = true;
    fixture_rollup_rows = 0;
    sb_buf_reset(&out);
    tsdb_exec_text(blocks,
                   SB_STR("SELECT count(v) FROM m WHERE time >= '2020-01-01T00:00:00Z' AND "
                          "time < '2020-01-01T01:00:00Z' GROUP BY time(10m)"),
                   &opts, &out);
    assert_int_equal(fixture_rollup_rows, 4 * 60);
    fixture_source_free(heads);
    fixture_source_free(blocks);
}

static void test_limits(void **state)
{
    reset_opts();
    opts.max_points = 3;
    const char *got = run("SELECT value FROM cpu");
    assert_non_null(strstr(got, "max-select-point limit exceeed"));
    reset_opts();
    opts.max_series = 2;
    got = run("SELECT count(value) FROM cpu");
    assert_non_null(strstr(got, "max-select-series limit exceeded: (3/2)"));
    reset_opts();
    got =
        run("SELECT count(value) FROM cpu WHERE time >= '1970-01-01T00:00:00Z' GROUP BY time(1s)");
    assert_non_null(strstr(got, "max-select-buckets limit exceeded"));
}

static void test_hostile_regex(void **state)
{
    sb_buf lp = SB_BUF_INIT;
    sb_buf_puts(&lp, "r,t=");
    for (int i = 0; i < 5000; i++)
        sb_buf_putc(&lp, 'a');
    sb_buf_puts(&lp, "b v=1 1\n");
    tsdb_source *s2 = fixture_source_load(lp.ptr);
    sb_buf_free(&lp);
    reset_opts();
    sb_buf_reset(&out);
    tsdb_exec_text(s2, SB_STR("SELECT count(v) FROM r WHERE t =~ /^(a|aa)+$/"), &opts, &out);
    /* Either PCRE2 proves no match fast or the limit stops it: no hang. */
    assert_true(strstr(out.ptr, "exceeded its match limit") || !strcmp(out.ptr, EMPTY));
    fixture_source_free(s2);
}

/* mode(), distinct(), count(distinct()) and integral(): the answers of
 * InfluxDB 1.6 for the same data (asked of a real influxd). */
#define RANGE_4M "WHERE time >= '2020-01-01T00:00:00Z' AND time < '2020-01-01T00:04:00Z' "

static void test_mode_distinct(void **state)
{
    reset_opts();
    /* All once: the smallest; else the most frequent. */
    check("SELECT mode(n) FROM cpu", ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"mode\"],"
                                         "\"values\":[[\"1970-01-01T00:00:00Z\",1]]}"));
    check("SELECT mode(free) FROM mem", ONE("{\"name\":\"mem\",\"columns\":[\"time\",\"mode\"],"
                                            "\"values\":[[\"1970-01-01T00:00:00Z\",50]]}"));
    check(
        "SELECT mode(value) FROM cpu GROUP BY region",
        ONE("{\"name\":\"cpu\",\"tags\":{\"region\":\"eu\"},\"columns\":[\"time\",\"mode\"],"
            "\"values\":[[\"1970-01-01T00:00:00Z\",1]]},{\"name\":\"cpu\",\"tags\":{\"region\":"
            "\"us\"},\"columns\":[\"time\",\"mode\"],\"values\":[[\"1970-01-01T00:00:00Z\",2]]}"));
    /* Rows in the order values were first seen, at the bucket's time. */
    check("SELECT distinct(value) FROM cpu " RANGE_4M "GROUP BY time(1m)",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"distinct\"],\"values\":[[\"2020-01-01T00:"
              "00:00Z\",1],[\"2020-01-01T00:00:00Z\",2],[\"2020-01-01T00:00:00Z\",3],[\"2020-01-01T"
              "00:00:00Z\",4],[\"2020-01-01T00:01:00Z\",5],[\"2020-01-01T00:02:00Z\",10]]}"));
    check(
        "SELECT distinct(value) FROM cpu " RANGE_4M "GROUP BY time(1m) ORDER BY time DESC",
        ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"distinct\"],\"values\":[[\"2020-01-01T00:"
            "02:00Z\",10],[\"2020-01-01T00:01:00Z\",5],[\"2020-01-01T00:00:00Z\",1],[\"2020-01-01T"
            "00:00:00Z\",2],[\"2020-01-01T00:00:00Z\",3],[\"2020-01-01T00:00:00Z\",4]]}"));
    check("SELECT distinct(free) FROM mem",
          ONE("{\"name\":\"mem\",\"columns\":[\"time\",\"distinct\"],\"values\":[[\"1970-01-01T00:"
              "00:00Z\",100],[\"1970-01-01T00:00:00Z\",50]]}"));
    /* DISTINCT f is distinct(f). */
    check("SELECT DISTINCT n FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"distinct\"],\"values\":[[\"1970-01-01T00:"
              "00:00Z\",1],[\"1970-01-01T00:00:00Z\",2],[\"1970-01-01T00:00:00Z\",3],[\"1970-01-01T"
              "00:00:00Z\",5],[\"1970-01-01T00:00:00Z\",10]]}"));
    check("SELECT distinct(value) FROM cpu LIMIT 2 OFFSET 1",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"distinct\"],\"values\":[[\"1970-01-01T00:"
              "00:00Z\",2],[\"1970-01-01T00:00:00Z\",3]]}"));
    check(
        "SELECT count(distinct(n)) FROM cpu GROUP BY region",
        ONE("{\"name\":\"cpu\",\"tags\":{\"region\":\"eu\"},\"columns\":[\"time\",\"count\"],"
            "\"values\":[[\"1970-01-01T00:00:00Z\",3]]},{\"name\":\"cpu\",\"tags\":{\"region\":"
            "\"us\"},\"columns\":[\"time\",\"count\"],\"values\":[[\"1970-01-01T00:00:00Z\",2]]}"));
    /* Strings and booleans too: strings in byte order, true first. */
    check("SELECT mode(sky) FROM weather",
          ONE("{\"name\":\"weather\",\"columns\":[\"time\",\"mode\"],\"values\":[[\"1970-01-01T"
              "00:00:00Z\",\"rain\"]]}"));
    check("SELECT mode(*) FROM weather",
          ONE("{\"name\":\"weather\",\"columns\":[\"time\",\"mode_ok\",\"mode_sky\",\"mode_temp\"],"
              "\"values\":[[\"1970-01-01T00:00:00Z\",true,\"rain\",12.5]]}"));
    check("SELECT distinct(sky) FROM weather",
          ONE("{\"name\":\"weather\",\"columns\":[\"time\",\"distinct\"],\"values\":[[\"1970-01-"
              "01T00:00:00Z\",\"sunny\"],[\"1970-01-01T00:00:00Z\",\"rain\"]]}"));
    check("SELECT count(distinct(sky)) FROM weather",
          ONE("{\"name\":\"weather\",\"columns\":[\"time\",\"count\"],\"values\":[[\"1970-01-01T"
              "00:00:00Z\",2]]}"));
    check("SELECT distinct(ok) FROM weather WHERE time >= '2020-01-01T00:00:00Z' AND "
          "time < '2020-01-01T00:03:00Z' GROUP BY time(1m)",
          ONE("{\"name\":\"weather\",\"columns\":[\"time\",\"distinct\"],\"values\":[[\"2020-01-"
              "01T00:00:00Z\",true],[\"2020-01-01T00:01:00Z\",false]]}"));
    check("SELECT distinct(value), mean(value) FROM cpu",
          ERR("aggregate function distinct() cannot be combined with other functions or fields"));
    check("SELECT distinct(*) FROM cpu", ERR("expected field argument in distinct()"));
    check("SELECT distinct(value, n) FROM cpu",
          ERR("distinct function can only have one argument"));
    check("SELECT mode(value, 1) FROM cpu",
          ERR("invalid number of arguments for mode, expected 1, got 2"));
}

static void test_integral(void **state)
{
    reset_opts();
    check("SELECT integral(value) FROM cpu",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"integral\"],\"values\":[[\"1970-01-01T00:"
              "00:00Z\",697.5]]}"));
    /* One point: no area, still a row. (InfluxDB lists these groups in an
     * order of its own; ours are sorted.) */
    check(
        "SELECT integral(value, 1m) FROM cpu GROUP BY host",
        ONE("{\"name\":\"cpu\",\"tags\":{\"host\":\"a\"},\"columns\":[\"time\",\"integral\"],"
            "\"values\":[[\"1970-01-01T00:00:00Z\",4.333333333333333]]},{\"name\":\"cpu\","
            "\"tags\":{\"host\":\"b\"},\"columns\":[\"time\",\"integral\"],\"values\":[[\"1970-01-"
            "01T00:00:00Z\",12]]},{\"name\":\"cpu\",\"tags\":{\"host\":\"c\"},\"columns\":["
            "\"time\","
            "\"integral\"],\"values\":[[\"1970-01-01T00:00:00Z\",0]]}"));
    /* Windows: the segment across a window's end is cut there, by linear
     * interpolation; floats and integers differ in which value carries
     * on (as InfluxDB's two reducers do). */
    check("SELECT integral(value) FROM cpu " RANGE_4M "GROUP BY time(1m)",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"integral\"],\"values\":[[\"2020-01-01T00:"
              "00:00Z\",235.9090909090909],[\"2020-01-01T00:01:00Z\",412.72727272727275],[\"2020-"
              "01-01T00:02:00Z\",48.86363636363637]]}"));
    /* Alone it is never filled; beside another call its empty buckets
     * take the row's fill, but for linear (null). */
    check("SELECT integral(value) FROM cpu " RANGE_4M "GROUP BY time(30s) fill(0)",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"integral\"],\"values\":[[\"2020-01-01T00:"
              "00:00Z\",99.54545454545455],[\"2020-01-01T00:01:00Z\",303.6363636363636],[\"2020-"
              "01-01T00:02:00Z\",294.31818181818187]]}"));
    check(
        "SELECT integral(value), mean(value) FROM cpu WHERE time >= '2019-12-31T23:59:00Z' AND "
        "time < '2020-01-01T00:04:00Z' GROUP BY time(1m) fill(0)",
        ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"integral\",\"mean\"],\"values\":[[\"2019-"
            "12-31T23:59:00Z\",0,0],[\"2020-01-01T00:00:00Z\",235.9090909090909,2.5],[\"2020-01-"
            "01T00:01:00Z\",412.72727272727275,5],[\"2020-01-01T00:02:00Z\",48.86363636363637,10],"
            "[\"2020-01-01T00:03:00Z\",0,0]]}"));
    check(
        "SELECT integral(value), mean(value) FROM cpu WHERE time >= '2019-12-31T23:59:00Z' AND "
        "time < '2020-01-01T00:04:00Z' GROUP BY time(1m) fill(previous)",
        ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"integral\",\"mean\"],\"values\":[[\"2019-"
            "12-31T23:59:00Z\",null,null],[\"2020-01-01T00:00:00Z\",235.9090909090909,2.5],[\"2020-"
            "01-01T00:01:00Z\",412.72727272727275,5],[\"2020-01-01T00:02:00Z\",48.86363636363637,"
            "10],[\"2020-01-01T00:03:00Z\",48.86363636363637,10]]}"));
    check("SELECT integral(value), count(value) FROM cpu WHERE time >= '2020-01-01T00:00:00Z' AND "
          "time < '2020-01-01T00:03:00Z' GROUP BY time(30s) fill(linear)",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"integral\",\"count\"],\"values\":[[\"2020-"
              "01-01T00:00:00Z\",99.54545454545455,4],[\"2020-01-01T00:00:30Z\",null,2],[\"2020-01-"
              "01T00:01:00Z\",303.6363636363636,1],[\"2020-01-01T00:01:30Z\",null,1],[\"2020-01-01T"
              "00:02:00Z\",294.31818181818187,1],[\"2020-01-01T00:02:30Z\",null,null]]}"));
    check("SELECT integral(n) FROM cpu " RANGE_4M "GROUP BY time(1m) fill(none)",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"integral\"],\"values\":[[\"2020-01-01T00:"
              "00:00Z\",211.66666666666669],[\"2020-01-01T00:01:00Z\",401.969696969697],[\"2020-"
              "01-01T00:02:00Z\",36.36363636363637]]}"));
    check("SELECT integral(value, 0s) FROM cpu", ERR("duration argument must be positive, got 0s"));
    check("SELECT integral(value, 5) FROM cpu", ERR("second argument must be a duration"));
    check("SELECT integral(value, 1s, 2s) FROM cpu",
          ERR("invalid number of arguments for integral, expected at least 1 but no more than 2, "
              "got 3"));
    check("SELECT integral(sky) FROM weather",
          ERR("unsupported integral iterator type: *query.stringInterruptIterator"));
}

/* fill() without GROUP BY: parsed; ignored but for none and linear. */
static void test_fill_alone(void **state)
{
    reset_opts();
    check("SELECT mean(value) FROM cpu fill(0)",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"mean\"],\"values\":[[\"1970-01-01T00:00:"
              "00Z\",4.166666666666667]]}"));
    check("SELECT value FROM cpu WHERE host = 'b' fill(previous)",
          ONE("{\"name\":\"cpu\",\"columns\":[\"time\",\"value\"],\"values\":[[\"2020-01-01T00:00:"
              "05Z\",2],[\"2020-01-01T00:02:05Z\",10]]}"));
    check("SELECT value FROM cpu fill(none)", ERR("fill(none) must be used with a function"));
    check("SELECT value FROM cpu fill(linear)", ERR("fill(linear) must be used with a function"));
}

/* The float writer skips digit counts that cannot read back; its output
 * must be what trying every count from 1 to 17 gives (the shortest that
 * reads back), here recomputed the slow way on random bit patterns, means
 * of two-decimal values, neighbours of powers of two and ten, integers. */
static void reference_float(char *dst, size_t cap, double v)
{
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
        if (strtod(buf, NULL) == v || p == 17)
            break;
    }
    snprintf(dst, cap, "%s", buf);
}

/* The significant digits of a number's text, without leading and
 * trailing zeros. */
static void digits_of(const char *text, char *d, size_t cap)
{
    size_t k = 0;
    bool lead = true;
    for (const char *c = text; *c && *c != 'e' && k + 1 < cap; c++) {
        if (*c < '0' || *c > '9' || (lead && *c == '0'))
            continue;
        lead = false;
        d[k++] = *c;
    }
    while (k > 1 && d[k - 1] == '0')
        k--;
    d[k] = 0;
}

static void test_float_shortest(void **state)
{
    (void)state;
    uint64_t x = 0x243F6A8885A308D3u;
    sb_buf got = SB_BUF_INIT;
    for (int i = 0; i < 120000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        switch (i % 6) {
        case 5: /* log-uniform over the integer path's range, 1e-5 to 1e15 */
            v = pow(10, -5 + 20 * (double)(x >> 11) / 9007199254740992.0);
            if (x & 1)
                v = nextafter(v, (x & 2) ? INFINITY : 0);
            break;
        case 0: /* any finite bit pattern */
            memcpy(&v, &x, 8);
            if (!isfinite(v))
                continue;
            break;
        case 1: /* a mean of values with two decimals */
            v = (double)(int64_t)(x % 2000000) / 100 / (double)(1 + (x >> 40) % 97);
            break;
        case 2: /* next to a power of two */
            v = ldexp(1.0, (int)((x >> 8) % 200) - 100);
            v = (x & 1) ? nextafter(v, 0) : (x & 2) ? nextafter(v, INFINITY) : v;
            break;
        case 3: /* next to a power of ten */
            v = pow(10, (int)((x >> 8) % 40) - 20);
            v = (x & 1) ? nextafter(v, 0) : (x & 2) ? nextafter(v, INFINITY) : v;
            break;
        default: /* integers and their neighbours */
            v = (double)(int64_t)(x >> 11);
            if (x & 1)
                v = nextafter(v, INFINITY);
            break;
        }
        if (v == 0)
            continue;
        sb_buf_reset(&got);
        ex__json_float(&got, v);
        sb_buf_putc(&got, 0);
        char want[40], wd[40], gd[40];
        reference_float(want, sizeof(want), v);
        digits_of(want, wd, sizeof(wd));
        digits_of(got.ptr, gd, sizeof(gd));
        if (strtod(got.ptr, NULL) != v || strcmp(wd, gd) != 0)
            fail_msg("%.17g: wrote %s, the shortest is %s", v, got.ptr, want);
    }
    sb_buf_free(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_and_time_zero),
        cmocka_unit_test(test_aggregates),
        cmocka_unit_test(test_selectors_keep_point_time),
        cmocka_unit_test(test_selector_with_fields),
        cmocka_unit_test(test_group_by_tags),
        cmocka_unit_test(test_group_by_time),
        cmocka_unit_test(test_fill),
        cmocka_unit_test(test_mode_distinct),
        cmocka_unit_test(test_integral),
        cmocka_unit_test(test_fill_alone),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_order_limit),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_arithmetic_and_names),
        cmocka_unit_test(test_wildcard_calls),
        cmocka_unit_test(test_epoch),
        cmocka_unit_test(test_show),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_ddl_callback),
        cmocka_unit_test(test_json_formats),
        cmocka_unit_test(test_sketch_bound),
        cmocka_unit_test(test_percentile_sketch_query),
        cmocka_unit_test(test_percentile_exact_ties),
        cmocka_unit_test(test_rollups_match_scans),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_hostile_regex),
        cmocka_unit_test(test_float_shortest),
    };
    int failed = cmocka_run_group_tests_name("on heads", tests, setup_heads, teardown);
    failed += cmocka_run_group_tests_name("on blocks", tests, setup_blocks, teardown);
    return failed;
}
