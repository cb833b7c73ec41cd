/*
 * exec_bench.c: the executor's half of the query targets, timed
 * over an in-memory source (arrays and a per-tag inverted index, no
 * storage engine): 25,000 series (5 regions x 250 projects x 20 pages) of
 * 120 points at 1-minute steps, 3 million points of a float field.
 *
 *   count by region over all data       target < 100 ms
 *   mean per minute of one project      target < 1 ms
 *
 * Prints the median of several runs of each query. What it measures is the
 * executor's own cost (planning, series walk, grouping, feeding chunks,
 * output) with a source that costs nothing; the engine's decoding adds to
 * it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tsdb/exec.h"

#define REGIONS  5
#define PROJECTS 250
#define PAGES    20
#define NSERIES  (REGIONS * PROJECTS * PAGES)
#define NPOINTS  120
#define T0       1577836800000000000LL
#define MINUTE   60000000000LL

typedef struct bseries {
    char key[96];
    char tagv[3][16];
    tsdb_tag tags[3];
    int64_t times[NPOINTS];
    double vals[NPOINTS];
} bseries;

static bseries *S;
static uint32_t *by_project[PROJECTS]; /* the inverted index of one tag */

static int b_databases(tsdb_source *s, tsdb_name_cb cb, void *arg, sb_errbuf *err)
{
    return cb(arg, SB_STR("db"));
}
static int b_measurements(tsdb_source *s, sb_str db, tsdb_name_cb cb, void *arg, sb_errbuf *err)
{
    return cb(arg, SB_STR("page_views"));
}
static int b_fields(tsdb_source *s, sb_str db, sb_str m, tsdb_field_cb cb, void *arg,
                    sb_errbuf *err)
{
    return cb(arg, SB_STR("duration_ms"), TSDB_FLOAT);
}
static int emit(uint32_t i, tsdb_series_cb cb, void *arg)
{
    tsdb_series_info info = {i, sb_str_c(S[i].key), SB_STR("page_views"), S[i].tags, 3};
    return cb(arg, &info);
}
static int b_series(tsdb_source *s, sb_str db, sb_str m, const tsdb_tag *must, size_t nmust,
                    tsdb_series_cb cb, void *arg, sb_errbuf *err)
{
    for (size_t k = 0; k < nmust; k++) {
        if (sb_str_eq(must[k].key, SB_STR("project"))) {
            int p = atoi(must[k].value.ptr + 1);
            for (size_t j = 0; j < REGIONS * PAGES; j++) {
                int rc = emit(by_project[p][j], cb, arg);
                if (rc)
                    return rc;
            }
            return 0;
        }
    }
    for (uint32_t i = 0; i < NSERIES; i++) {
        int rc = emit(i, cb, arg);
        if (rc)
            return rc;
    }
    return 0;
}
static int b_scan(tsdb_source *s, sb_str db, uint64_t id, sb_str field, int64_t tmin, int64_t tmax,
                  tsdb_chunk_cb cb, void *arg, sb_errbuf *err)
{
    bseries *se = &S[id];
    size_t a = 0, b = NPOINTS;
    while (a < b && se->times[a] < tmin)
        a++;
    while (b > a && se->times[b - 1] > tmax)
        b--;
    if (a == b)
        return 0;
    tsdb_chunk c = {.type = TSDB_FLOAT, .n = b - a, .times = se->times + a};
    c.v.f = se->vals + a;
    return cb(arg, &c);
}
static const tsdb_source_vt vt = {b_databases, b_measurements, b_fields, b_series, b_scan, NULL};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void bench(tsdb_source *src, const char *name, const char *q, int runs)
{
    tsdb_exec_opts o = {0};
    o.db = SB_STR("db");
    o.now_ns = T0 + 3 * 3600 * 1000000000LL;
    double t[64];
    sb_buf out = SB_BUF_INIT;
    for (int r = 0; r < runs; r++) {
        sb_buf_reset(&out);
        double a = now_ms();
        tsdb_exec_text(src, sb_str_c(q), &o, &out);
        t[r] = now_ms() - a;
    }
    qsort(t, (size_t)runs, sizeof(double), cmp_d);
    printf("%-40s median %8.3f ms  (min %.3f, %zu bytes out)\n", name, t[runs / 2], t[0], out.len);
    if (getenv("BENCH_SHOW"))
        printf("  %.300s\n", out.ptr);
    sb_buf_free(&out);
}

int main(void)
{
    S = calloc(NSERIES, sizeof(bseries));
    uint64_t rng = 42;
    for (int p = 0; p < PROJECTS; p++)
        by_project[p] = malloc(REGIONS * PAGES * sizeof(uint32_t));
    int fill[PROJECTS] = {0};
    /* Series in key order: page, project, region (sorted tag keys). */
    uint32_t i = 0;
    for (int pg = 0; pg < PAGES; pg++)
        for (int p = 0; p < PROJECTS; p++)
            for (int r = 0; r < REGIONS; r++, i++) {
                bseries *se = &S[i];
                snprintf(se->tagv[0], 16, "pg%02d", pg);
                snprintf(se->tagv[1], 16, "p%d", p);
                snprintf(se->tagv[2], 16, "r%d", r);
                snprintf(se->key, sizeof(se->key), "page_views,page=%s,project=%s,region=%s",
                         se->tagv[0], se->tagv[1], se->tagv[2]);
                se->tags[0] = (tsdb_tag){SB_STR("page"), sb_str_c(se->tagv[0])};
                se->tags[1] = (tsdb_tag){SB_STR("project"), sb_str_c(se->tagv[1])};
                se->tags[2] = (tsdb_tag){SB_STR("region"), sb_str_c(se->tagv[2])};
                for (int k = 0; k < NPOINTS; k++) {
                    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                    se->times[k] = T0 + k * MINUTE + (int64_t)(rng >> 40) % 1000000000;
                    se->vals[k] = (double)(rng >> 44) / 1000.0;
                }
                by_project[p][fill[p]++] = i;
            }
    tsdb_source src = {&vt};
    bench(&src, "count by region, all data (3M points)",
          "SELECT count(duration_ms) FROM page_views GROUP BY region", 9);
    bench(&src, "mean by region, all data",
          "SELECT mean(duration_ms) FROM page_views GROUP BY region", 9);
    bench(&src, "mean per minute, one project (12k points)",
          "SELECT mean(duration_ms) FROM page_views WHERE project = 'p42' AND time >= "
          "'2020-01-01T00:00:00Z' AND time < '2020-01-01T02:00:00Z' GROUP BY time(1m)",
          31);
    bench(&src, "p95 per minute, one project",
          "SELECT percentile(duration_ms, 95) FROM page_views WHERE project = 'p42' AND time >= "
          "'2020-01-01T00:00:00Z' AND time < '2020-01-01T02:00:00Z' GROUP BY time(1m)",
          31);
    bench(&src, "p95 by page, one project (query c)",
          "SELECT percentile(duration_ms, 95) FROM page_views WHERE project = 'p42' GROUP BY page",
          31);
    for (int p = 0; p < PROJECTS; p++)
        free(by_project[p]);
    free(S);
    return 0;
}
