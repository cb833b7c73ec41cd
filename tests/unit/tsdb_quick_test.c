/*
 * tsdb_quick_test.c: quick runs, what the server answers small queries
 * with on its loop thread: the engine's non-blocking view
 * (tsdb_engine_nowait) under the executor with quick_buckets. A quick run
 * either gives exactly the full run's document or gives up with
 * TSDB_E_BUSY: when a writer holds the database's lock or the database
 * list's, when a block is not in the page cache, when the points, rows and
 * series it reads pass its budget, when a SELECT needs more buckets than
 * quick_buckets, and before any CREATE or DROP DATABASE. Blocks a scan
 * read stay decoded in the engine's block cache, which answers without the
 * page cache.
 */
#include "cmocka_prelude.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tsdb/engine_int.h"
#include "tsdb/exec.h"
#include "tsdb_fixture.h"

#define T0 1577836800LL /* 2020-01-01T00:00:00Z */

static tsdb_source *src;
static tsdb_engine *eng;
static tsdb_exec_opts opts;
static sb_buf want, got;
static bool ddl_called;

static bool ddl(void *arg, iql_stmt_kind kind, sb_str db, sb_errbuf *err)
{
    (void)arg;
    (void)kind;
    (void)db;
    (void)err;
    ddl_called = true;
    return true;
}

/* 4 projects x 5 pages, 200 points each at 10 s from T0. */
static char *data(void)
{
    sb_buf b = SB_BUF_INIT;
    for (int p = 0; p < 4; p++)
        for (int g = 0; g < 5; g++)
            for (int i = 0; i < 200; i++)
                sb_buf_appendf(&b, "pv,page=g%d,project=p%d v=%d.%02d,n=%di %lld000000000\n", g, p,
                               (p * 31 + g * 7 + i * 13) % 500, i % 100, i, T0 + 10LL * i);
    return b.ptr;
}

static int setup_mode(bool blocks)
{
    char *lines = data();
    src = blocks ? fixture_source_load_blocks(lines) : fixture_source_load(lines);
    free(lines);
    eng = ((fx_source *)src)->e;
    opts = (tsdb_exec_opts){
        .db = SB_STR("db"),
        .now_ns = (T0 + 3600) * 1000000000LL,
        .ddl = ddl,
    };
    ddl_called = false;
    return 0;
}

static int setup_heads(void **state)
{
    (void)state;
    return setup_mode(false);
}

static int setup_blocks(void **state)
{
    (void)state;
    return setup_mode(true);
}

static int teardown(void **state)
{
    (void)state;
    fixture_source_free(src);
    sb_buf_free(&want);
    sb_buf_free(&got);
    return 0;
}

static void full(const char *q, sb_buf *out)
{
    sb_buf_reset(out);
    tsdb_exec_text(tsdb_engine_source(eng), sb_str_c(q), &opts, out);
}

/* A quick run of q with a budget of items and buckets. */
static tsdb_err quick(const char *q, size_t budget, size_t buckets, sb_buf *out)
{
    sb_arena a;
    sb_arena_init(&a, 0);
    iql_query parsed;
    iql_error perr;
    if (!iql_parse(sb_str_c(q), &a, &parsed, &perr))
        fail_msg("%s: %s", q, perr.message);
    tsdb_exec_opts o = opts;
    o.quick_buckets = buckets;
    tsdb_nowait view;
    sb_buf_reset(out);
    tsdb_err rc = tsdb_exec_query(tsdb_engine_nowait(&view, eng, budget), &parsed, &o, out);
    sb_arena_deinit(&a);
    return rc;
}

static const char *const QUERIES[] = {
    "SELECT mean(v) FROM pv WHERE project = 'p1' AND time >= 1577836800s AND time < 1577838800s "
    "GROUP BY time(1m)",
    "SELECT percentile(v, 95) FROM pv WHERE project = 'p1' GROUP BY page",
    "SELECT count(v), sum(n) FROM pv GROUP BY project",
    "SELECT * FROM pv WHERE project = 'p2' AND page = 'g3' LIMIT 5",
    "SELECT max(v), min(v) FROM pv WHERE time > 1577836800s GROUP BY time(5m), project fill(0)",
    "SELECT v FROM pv WHERE n > 190 AND page =~ /g[12]/",
    "SHOW TAG VALUES FROM pv WITH KEY = page",
    "SHOW SERIES WHERE project = 'p3'",
    "SHOW MEASUREMENTS; SHOW FIELD KEYS",
    "SELECT mean(v) FROM nothing; SELECT mean(v) FROM pv WHERE project = 'none'",
};

/* With room enough, every query's quick answer is the full one. */
static void test_same_answers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(QUERIES) / sizeof(QUERIES[0]); i++) {
        full(QUERIES[i], &want);
        assert_int_equal(quick(QUERIES[i], 1000000, 100000, &got), TSDB_E_OK);
        if (strcmp(want.ptr, got.ptr) != 0)
            fail_msg("%s\nquick: %s\n full: %s", QUERIES[i], got.ptr, want.ptr);
        assert_non_null(strstr(want.ptr, "\"results\""));
    }
}

/* The budget counts what is read: one series' 200 points, the 4 series of
 * the shorter posting list (page g1) at TSDB_NOWAIT_SERIES_COST each, and
 * a few names, pass at the smallest budget that holds them and give up
 * one item below it. */
static void test_budget(void **state)
{
    (void)state;
    const char *q = "SELECT percentile(v, 50) FROM pv WHERE project = 'p1' AND page = 'g1'";
    full(q, &want);
    size_t b = 0;
    while (b < 10000 && quick(q, b, 1000, &got) == TSDB_E_BUSY)
        b++;
    size_t least = 200 + 4 * TSDB_NOWAIT_SERIES_COST;
    assert_true(b >= least && b <= least + 10);
    assert_string_equal(got.ptr, want.ptr);
    assert_int_equal(quick(q, b - 1, 1000, &got), TSDB_E_BUSY);
    /* A walk of all 20 series gives up under a budget of 20 series. */
    assert_int_equal(quick("SHOW SERIES", 20 * TSDB_NOWAIT_SERIES_COST, 1000, &got), TSDB_E_BUSY);
    assert_int_equal(quick("SHOW SERIES", 21 * TSDB_NOWAIT_SERIES_COST, 1000, &got), TSDB_E_OK);
}

/* GROUP BY time(1s) over 2,000 s needs 2,000 buckets a group. */
static void test_buckets(void **state)
{
    (void)state;
    const char *q = "SELECT count(v) FROM pv WHERE project = 'p0' AND page = 'g0' AND "
                    "time >= 1577836800s AND time < 1577838800s GROUP BY time(1s)";
    full(q, &want);
    assert_int_equal(quick(q, 1000000, 1999, &got), TSDB_E_BUSY);
    assert_int_equal(quick(q, 1000000, 2000, &got), TSDB_E_OK);
    assert_string_equal(got.ptr, want.ptr);
}

/* A writer holding the database's lock, or the list's, makes a quick run
 * give up instead of waiting; once it lets go the run answers. */
static void test_locks(void **state)
{
    (void)state;
    const char *q = QUERIES[1];
    full(q, &want);
    tsdb__db *d = tsdb__db_get(eng, SB_STR("db"));
    assert_non_null(d);
    pthread_rwlock_wrlock(&d->lock);
    assert_int_equal(quick(q, 1000000, 1000, &got), TSDB_E_BUSY);
    pthread_rwlock_unlock(&d->lock);
    tsdb__db_unref(d);
    pthread_rwlock_wrlock(&eng->lock);
    assert_int_equal(quick(q, 1000000, 1000, &got), TSDB_E_BUSY);
    pthread_rwlock_unlock(&eng->lock);
    assert_int_equal(quick(q, 1000000, 1000, &got), TSDB_E_OK);
    assert_string_equal(got.ptr, want.ptr);
}

/* CREATE and DROP DATABASE are never run quick: nothing happens twice. */
static void test_no_ddl(void **state)
{
    (void)state;
    assert_int_equal(quick("SHOW MEASUREMENTS; CREATE DATABASE x", 1000000, 1000, &got),
                     TSDB_E_BUSY);
    assert_int_equal(quick("DROP DATABASE db", 1000000, 1000, &got), TSDB_E_BUSY);
    assert_false(ddl_called);
}

/* Drops the page cache of every block file; whether all of it went. */
static bool evicted;
static int evict_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    size_t n = strlen(path);
    if (flag != FTW_F || n < 4 || strcmp(path + n - 4, ".tsf") != 0 || st->st_size == 0)
        return 0;
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    void *m = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(m != MAP_FAILED);
    long page = sysconf(_SC_PAGESIZE);
    size_t pages = ((size_t)st->st_size + (size_t)page - 1) / (size_t)page;
    unsigned char *vec = malloc(pages);
    assert_int_equal(mincore(m, (size_t)st->st_size, vec), 0);
    for (size_t i = 0; i < pages; i++)
        if (vec[i] & 1)
            evicted = false;
    free(vec);
    munmap(m, (size_t)st->st_size);
    close(fd);
    return 0;
}

static bool evict_blocks(void)
{
    evicted = true;
    assert_int_equal(nftw(((fx_source *)src)->dir, evict_one, 16, FTW_PHYS), 0);
    return evicted;
}

/* A block in neither the page cache nor the engine's block cache makes a
 * quick run give up; a full run reads it in, after which the quick run
 * answers, from the block cache even once the page cache lost it. */
static void test_page_cache(void **state)
{
    (void)state;
    const char *q = QUERIES[1];
    if (!evict_blocks()) {
        /* tmpfs and the like keep pages: nothing to see here. */
        print_message("tsdb_quick_test: block files stayed in memory; skipped\n");
        skip();
    }
    assert_int_equal(quick(q, 1000000, 1000, &got), TSDB_E_BUSY);
    full(q, &want);
    assert_int_equal(quick(q, 1000000, 1000, &got), TSDB_E_OK);
    assert_string_equal(got.ptr, want.ptr);
    assert_true(evict_blocks());
    assert_int_equal(quick(q, 1000000, 1000, &got), TSDB_E_OK);
    assert_string_equal(got.ptr, want.ptr);
}

/* Ranges cut out of cached blocks: count and sum of the integer field n
 * (i at T0 + 10 i s) over many windows, checked against the arithmetic,
 * by quick and full runs, with each block cached whole by the first. */
static void test_cached_slices(void **state)
{
    (void)state;
    opts.has_epoch = true;
    opts.epoch = TSDB_PREC_NS;
    static const int W[][2] = {{0, 199}, {5, 17},    {0, 0},    {199, 199}, {37, 150},
                               {-20, 3}, {190, 400}, {100, 99}, {64, 65}};
    for (size_t w = 0; w < sizeof(W) / sizeof(W[0]); w++)
        for (int mode = 0; mode < 2; mode++) {
            long long lo = T0 + 10LL * W[w][0], hi = T0 + 10LL * W[w][1];
            char q[256];
            snprintf(q, sizeof(q),
                     "SELECT count(v), sum(n) FROM pv WHERE project = 'p1' AND page = 'g1' AND "
                     "time >= %llds AND time <= %llds",
                     lo, hi);
            if (mode == 0)
                assert_int_equal(quick(q, 1000000, 1000, &got), TSDB_E_OK);
            else
                full(q, &got);
            long long count = 0, sum = 0;
            for (int i = 0; i < 200; i++)
                if (i >= W[w][0] && i <= W[w][1]) {
                    count++;
                    sum += i;
                }
            char want_values[128];
            snprintf(want_values, sizeof(want_values), "\"values\":[[%lld000000000,%lld,%lld]]", lo,
                     count, sum);
            if (count ? !strstr(got.ptr, want_values) : strstr(got.ptr, "values") != NULL)
                fail_msg("%s\n got: %s\nwant: %s", q, got.ptr, count ? want_values : "none");
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_answers, setup_heads, teardown),
        cmocka_unit_test_setup_teardown(test_same_answers, setup_blocks, teardown),
        cmocka_unit_test_setup_teardown(test_budget, setup_heads, teardown),
        cmocka_unit_test_setup_teardown(test_budget, setup_blocks, teardown),
        cmocka_unit_test_setup_teardown(test_buckets, setup_blocks, teardown),
        cmocka_unit_test_setup_teardown(test_locks, setup_blocks, teardown),
        cmocka_unit_test_setup_teardown(test_no_ddl, setup_blocks, teardown),
        cmocka_unit_test_setup_teardown(test_page_cache, setup_blocks, teardown),
        cmocka_unit_test_setup_teardown(test_cached_slices, setup_heads, teardown),
        cmocka_unit_test_setup_teardown(test_cached_slices, setup_blocks, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
