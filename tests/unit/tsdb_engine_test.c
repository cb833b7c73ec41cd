/*
 * tsdb_engine_test.c: the storage engine through its public API and its
 * source: round trips of every type through heads, block files,
 * compaction and reopening; last write wins on equal timestamps wherever
 * the two writes live; out-of-order writes; field type conflicts; the tag
 * index; listings; retention; rollups against a brute-force recomputation
 * on random data; a log cut at every kind of offset; drop.
 */
#include "cmocka_prelude.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_file.h"
#include "tsdb/engine.h"
#include "tsdb/engine_int.h"

#define SEC INT64_C(1000000000)

static char dir[64];
static sb_errbuf err;
static int64_t fake_now;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

static tsdb_engine_opts test_opts(void)
{
    tsdb_engine_opts o = {0};
    o.window_ns = 3600 * SEC;
    o.clock = fake_clock;
    return o;
}

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/tsdb_engine_test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    fake_now = 1000000 * SEC;
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static tsdb_engine *open_engine(const tsdb_engine_opts *o)
{
    tsdb_engine *e = NULL;
    tsdb_engine_opts def = test_opts();
    tsdb_err rc = tsdb_engine_open(dir, o ? o : &def, &e, &err);
    if (rc != TSDB_E_OK)
        fail_msg("open: %s: %s", tsdb_err_str(rc), err.msg);
    return e;
}

/* Writes line-protocol text (ns timestamps) as one batch. */
static tsdb_write_report write_lines(tsdb_engine *e, const char *db, const char *body)
{
    sb_arena a;
    sb_arena_init(&a, 0);
    tsdb_line_opts lo = {TSDB_PREC_NS, 0, TSDB_LINE_LIMITS_DEFAULT};
    tsdb_line_reader r;
    tsdb_line_reader_init(&r, sb_str_c(body), &lo);
    SB_VEC(tsdb_point) pts = {0};
    tsdb_point p;
    tsdb_line_status st;
    while ((st = tsdb_line_next(&r, &a, &p, &err)) != TSDB_LINE_END) {
        if (st == TSDB_LINE_ERROR)
            fail_msg("bad test line: %s", err.msg);
        sb_vec_push(&pts, p);
    }
    tsdb_write_report rep;
    tsdb_err rc = tsdb_engine_write(e, sb_str_c(db), pts.items, pts.len, &rep, &err);
    if (rc != TSDB_E_OK)
        fail_msg("write: %s: %s", tsdb_err_str(rc), err.msg);
    sb_vec_free(&pts);
    sb_arena_deinit(&a);
    return rep;
}

static void create_db(tsdb_engine *e, const char *db)
{
    assert_int_equal(tsdb_engine_create_db(e, sb_str_c(db), &err), TSDB_E_OK);
}

/* ---- reading back ---- */

typedef struct find_ctx {
    sb_str key;
    uint64_t id;
} find_ctx;

static int find_cb(void *arg, const tsdb_series_info *s)
{
    find_ctx *c = arg;
    if (sb_str_eq(s->key, c->key))
        c->id = s->id;
    return 0;
}

static uint64_t series_id(tsdb_engine *e, const char *db, const char *m, const char *key)
{
    tsdb_source *s = tsdb_engine_source(e);
    find_ctx c = {sb_str_c(key), 0};
    assert_int_equal(s->vt->series(s, sb_str_c(db), sb_str_c(m), NULL, 0, find_cb, &c, &err), 0);
    return c.id;
}

/* A scan rendered as text: "t=v;" per point, values printed by type. */
typedef struct text_ctx {
    sb_buf out;
    int chunks;
} text_ctx;

static int text_cb(void *arg, const tsdb_chunk *c)
{
    text_ctx *x = arg;
    x->chunks++;
    for (size_t i = 0; i < c->n; i++) {
        if (i || x->out.len)
            assert_true(i == 0 || c->times[i] > c->times[i - 1]);
        sb_buf_appendf(&x->out, "%lld=", (long long)c->times[i]);
        switch (c->type) {
        case TSDB_FLOAT:
            sb_buf_appendf(&x->out, "%.17g", c->v.f[i]);
            break;
        case TSDB_INT:
            sb_buf_appendf(&x->out, "%lldi", (long long)c->v.i[i]);
            break;
        case TSDB_UINT:
            sb_buf_appendf(&x->out, "%lluu", (unsigned long long)c->v.u[i]);
            break;
        case TSDB_BOOL:
            sb_buf_appendf(&x->out, "%s", c->v.b[i] ? "true" : "false");
            break;
        case TSDB_STRING:
            sb_buf_appendf(&x->out, "\"%.*s\"", SB_STR_FMT(c->v.s[i]));
            break;
        }
        sb_buf_putc(&x->out, ';');
    }
    return 0;
}

/* Returns a malloc'd string of the points of key's field in [tmin, tmax]. */
static char *scan_text(tsdb_engine *e, const char *db, const char *m, const char *key,
                       const char *field, int64_t tmin, int64_t tmax)
{
    uint64_t id = series_id(e, db, m, key);
    text_ctx x = {SB_BUF_INIT, 0};
    sb_buf_puts(&x.out, "");
    if (id) {
        tsdb_source *s = tsdb_engine_source(e);
        int rc = s->vt->scan(s, sb_str_c(db), id, sb_str_c(field), tmin, tmax, text_cb, &x, &err);
        if (rc)
            fail_msg("scan: %d %s", rc, err.msg);
    }
    return sb_buf_detach(&x.out, NULL);
}

#define assert_scan(e, db, m, key, field, want)                                                    \
    do {                                                                                           \
        char *got_ = scan_text(e, db, m, key, field, INT64_MIN, INT64_MAX);                        \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

static void checkpoint(tsdb_engine *e)
{
    tsdb_err rc = tsdb_engine_checkpoint(e, fake_now, &err);
    if (rc != TSDB_E_OK)
        fail_msg("checkpoint: %s", err.msg);
}

/* ---- tests ---- */

static const char *all_types = "m,host=a f=1.5,i=-3i,u=7u,b=true,s=\"x y\" 100\n"
                               "m,host=a f=-0.25,i=4i,u=0u,b=false,s=\"\" 200\n"
                               "m,host=a f=1e300,i=9223372036854775807i,u=18446744073709551615u,"
                               "b=t,s=\"q\\\"uote\" 300\n";

static void check_all_types(tsdb_engine *e)
{
    assert_scan(e, "db", "m", "m,host=a", "f", "100=1.5;200=-0.25;300=1.0000000000000001e+300;");
    assert_scan(e, "db", "m", "m,host=a", "i", "100=-3i;200=4i;300=9223372036854775807i;");
    assert_scan(e, "db", "m", "m,host=a", "u", "100=7u;200=0u;300=18446744073709551615u;");
    assert_scan(e, "db", "m", "m,host=a", "b", "100=true;200=false;300=true;");
    assert_scan(e, "db", "m", "m,host=a", "s", "100=\"x y\";200=\"\";300=\"q\"uote\";");
    assert_scan(e, "db", "m", "m,host=a", "nope", "");
    char *part = scan_text(e, "db", "m", "m,host=a", "i", 150, 300);
    assert_string_equal(part, "200=4i;300=9223372036854775807i;");
    free(part);
}

static void test_round_trip_types(void **state)
{
    tsdb_engine *e = open_engine(NULL);
    create_db(e, "db");
    tsdb_write_report rep = write_lines(e, "db", all_types);
    assert_int_equal(rep.written, 3);
    check_all_types(e); /* from the head */
    checkpoint(e);
    tsdb_engine_stats st;
    tsdb_engine_stats_get(e, &st);
    assert_int_equal(st.head_points, 0);
    assert_int_equal(st.block_points, 15);
    assert_int_equal(st.block_files, 1);
    check_all_types(e); /* from a block file */
    tsdb_engine_close(e);
    e = open_engine(NULL);
    check_all_types(e); /* reopened */
    tsdb_engine_close(e);
}

static void test_last_write_wins(void **state)
{
    tsdb_engine *e = open_engine(NULL);
    create_db(e, "db");
    /* Within one batch, and across batches, in the head. */
    write_lines(e, "db", "m v=1 10\nm v=2 20\nm v=3 10\n");
    write_lines(e, "db", "m v=4 20\n");
    assert_scan(e, "db", "m", "m", "v", "10=3;20=4;");
    /* The head over a block file. */
    checkpoint(e);
    assert_scan(e, "db", "m", "m", "v", "10=3;20=4;");
    write_lines(e, "db", "m v=5 10\nm v=6 30\n");
    assert_scan(e, "db", "m", "m", "v", "10=5;20=4;30=6;");
    /* A newer file over an older one in the same window, then merged. */
    tsdb_engine_opts o = test_opts();
    o.compact_files = 100; /* keep both files for the first look */
    tsdb_engine_close(e);
    e = open_engine(&o);
    assert_scan(e, "db", "m", "m", "v", "10=5;20=4;30=6;"); /* replayed log over a file */
    tsdb_engine_stats st;
    tsdb_engine_stats_get(e, &st);
    assert_int_equal(st.block_files, 1);
    assert_int_equal(tsdb_engine_maintain(e, fake_now, &err), TSDB_E_OK); /* no threshold */
    tsdb_engine_stats_get(e, &st);
    assert_int_equal(st.block_files, 1);
    checkpoint(e); /* flushes, then compacts the window's two files */
    tsdb_engine_stats_get(e, &st);
    assert_int_equal(st.block_files, 1);
    assert_int_equal(st.block_points, 3);
    assert_scan(e, "db", "m", "m", "v", "10=5;20=4;30=6;");
    write_lines(e, "db", "m v=7 20\n");
    assert_scan(e, "db", "m", "m", "v", "10=5;20=7;30=6;");
    tsdb_engine_close(e);
    e = open_engine(NULL);
    assert_scan(e, "db", "m", "m", "v", "10=5;20=7;30=6;");
    tsdb_engine_close(e);
}

static void test_out_of_order(void **state)
{
    tsdb_engine *e = open_engine(NULL);
    create_db(e, "db");
    sb_buf b = SB_BUF_INIT, want = SB_BUF_INIT;
    /* 0..499 at a stride coprime to 500: every time once, shuffled; over
     * several windows (1 h) so the flush cuts several files. */
    for (int i = 0; i < 500; i++) {
        int k = (i * 263) % 500;
        sb_buf_appendf(&b, "m,t=x v=%di %lld\n", k, (long long)k * 30 * SEC);
    }
    for (int k = 0; k < 500; k++)
        sb_buf_appendf(&want, "%lld=%di;", (long long)k * 30 * SEC, k);
    write_lines(e, "db", b.ptr);
    assert_scan(e, "db", "m", "m,t=x", "v", want.ptr);
    checkpoint(e);
    tsdb_engine_stats st;
    tsdb_engine_stats_get(e, &st);
    assert_int_equal(st.block_files, 5); /* 500 * 30 s = 4.2 h */
    assert_scan(e, "db", "m", "m,t=x", "v", want.ptr);
    sb_buf_free(&b);
    sb_buf_free(&want);
    tsdb_engine_close(e);
}

static void test_type_conflict(void **state)
{
    tsdb_engine *e = open_engine(NULL);
    create_db(e, "db");
    write_lines(e, "db", "cpu,h=a x=1 1\n");
    tsdb_write_report rep = write_lines(e, "db",
                                        "cpu,h=b x=2i 2\ncpu,h=a x=3,y=1i 3\n"
                                        "mem x=4i 4\ncpu,h=a y=2.5 5\n");
    assert_int_equal(rep.written, 2);
    assert_int_equal(rep.dropped_conflict, 2);
    assert_string_equal(rep.first_error,
                        "field type conflict: input field \"x\" on measurement \"cpu\" is type "
                        "integer, already exists as type float");
    assert_scan(e, "db", "cpu", "cpu,h=a", "x", "1=1;3=3;");
    assert_scan(e, "db", "cpu", "cpu,h=a", "y", "3=1i;");
    assert_int_equal(series_id(e, "db", "cpu", "cpu,h=b"), 0); /* refused: no series */
    assert_scan(e, "db", "mem", "mem", "x", "4=4i;"); /* another measurement, its own types */
    /* After a reopen the types come from the files and the log. */
    checkpoint(e);
    tsdb_engine_close(e);
    e = open_engine(NULL);
    rep = write_lines(e, "db", "cpu,h=c x=true 6\n");
    assert_int_equal(rep.dropped_conflict, 1);
    assert_string_equal(rep.first_error,
                        "field type conflict: input field \"x\" on measurement \"cpu\" is type "
                        "boolean, already exists as type float");
    tsdb_engine_close(e);
}

typedef struct names_ctx {
    sb_buf out;
} names_ctx;

static int name_cb(void *arg, sb_str n)
{
    sb_buf_appendf(&((names_ctx *)arg)->out, "%.*s;", SB_STR_FMT(n));
    return 0;
}

static int field_cb(void *arg, sb_str n, tsdb_type t)
{
    sb_buf_appendf(&((names_ctx *)arg)->out, "%.*s:%d;", SB_STR_FMT(n), (int)t);
    return 0;
}

static int series_cb(void *arg, const tsdb_series_info *s)
{
    names_ctx *c = arg;
    sb_buf_appendf(&c->out, "%.*s[", SB_STR_FMT(s->key));
    for (size_t i = 0; i < s->ntags; i++)
        sb_buf_appendf(&c->out, "%.*s=%.*s,", SB_STR_FMT(s->tags[i].key),
                       SB_STR_FMT(s->tags[i].value));
    sb_buf_appendf(&c->out, "]%.*s;", SB_STR_FMT(s->measurement));
    return 0;
}

static char *list_series(tsdb_engine *e, const char *m, const tsdb_tag *must, size_t n)
{
    tsdb_source *s = tsdb_engine_source(e);
    names_ctx c = {SB_BUF_INIT};
    sb_buf_puts(&c.out, "");
    assert_int_equal(s->vt->series(s, SB_STR("db"), sb_str_c(m), must, n, series_cb, &c, &err), 0);
    return sb_buf_detach(&c.out, NULL);
}

static void test_series_lookup(void **state)
{
    tsdb_engine *e = open_engine(NULL);
    create_db(e, "db");
    write_lines(e, "db",
                "http,host=b,code=200 n=1i 1\nhttp,host=a,code=200 n=1i 1\n"
                "http,host=a,code=500 n=1i 1\nhttp n=1i 1\n"
                "http,host=a\\ b,code=404 n=1i 1\nother,host=a n=1i 1\n");
    char *got = list_series(e, "http", NULL, 0);
    assert_string_equal(got, "http[]http;http,code=200,host=a[code=200,host=a,]http;"
                             "http,code=200,host=b[code=200,host=b,]http;"
                             "http,code=404,host=a\\ b[code=404,host=a b,]http;"
                             "http,code=500,host=a[code=500,host=a,]http;");
    free(got);
    tsdb_tag a = {SB_STR("host"), SB_STR("a")}, c200 = {SB_STR("code"), SB_STR("200")};
    tsdb_tag both[2] = {a, c200}, sp = {SB_STR("host"), SB_STR("a b")},
             none = {SB_STR("host"), SB_STR("z")};
    got = list_series(e, "http", &a, 1);
    assert_string_equal(got, "http,code=200,host=a[code=200,host=a,]http;"
                             "http,code=500,host=a[code=500,host=a,]http;");
    free(got);
    got = list_series(e, "http", both, 2);
    assert_string_equal(got, "http,code=200,host=a[code=200,host=a,]http;");
    free(got);
    got = list_series(e, "http", &sp, 1);
    assert_string_equal(got, "http,code=404,host=a\\ b[code=404,host=a b,]http;");
    free(got);
    got = list_series(e, "http", &none, 1);
    assert_string_equal(got, "");
    free(got);
    got = list_series(e, "nothere", NULL, 0);
    assert_string_equal(got, "");
    free(got);
    /* The index is rebuilt from the files at open. */
    checkpoint(e);
    tsdb_engine_close(e);
    e = open_engine(NULL);
    got = list_series(e, "http", both, 2);
    assert_string_equal(got, "http,code=200,host=a[code=200,host=a,]http;");
    free(got);
    tsdb_engine_close(e);
}

static void test_listings(void **state)
{
    tsdb_engine *e = open_engine(NULL);
    create_db(e, "zeta");
    create_db(e, "alpha");
    create_db(e, "alpha"); /* idempotent */
    assert_int_equal(tsdb_engine_create_db(e, SB_STR(""), &err), TSDB_E_NAME);
    write_lines(e, "alpha", "mem x=1,a=\"s\" 1\ncpu z=1i,b=true,y=1u 1\n");
    tsdb_source *s = tsdb_engine_source(e);
    names_ctx c = {SB_BUF_INIT};
    sb_buf_puts(&c.out, "");
    assert_int_equal(s->vt->databases(s, name_cb, &c, &err), 0);
    assert_int_equal(s->vt->measurements(s, SB_STR("alpha"), name_cb, &c, &err), 0);
    assert_int_equal(s->vt->measurements(s, SB_STR("zeta"), name_cb, &c, &err), 0);
    assert_int_equal(s->vt->fields(s, SB_STR("alpha"), SB_STR("cpu"), field_cb, &c, &err), 0);
    assert_int_equal(s->vt->fields(s, SB_STR("alpha"), SB_STR("mem"), field_cb, &c, &err), 0);
    assert_string_equal(c.out.ptr, "alpha;zeta;cpu;mem;b:4;y:3;z:2;a:5;x:1;");
    tsdb_write_report rep;
    assert_int_equal(tsdb_engine_write(e, SB_STR("nope"), NULL, 0, &rep, &err), TSDB_E_NODB);
    assert_string_equal(rep.first_error, "database not found: \"nope\"");
    sb_buf_free(&c.out);
    tsdb_engine_close(e);
}

static void test_retention(void **state)
{
    tsdb_engine *e = open_engine(NULL);
    create_db(e, "db");
    int64_t H = 3600 * SEC;
    fake_now = 10 * H;
    sb_buf b = SB_BUF_INIT;
    for (int h = 0; h < 10; h++)
        sb_buf_appendf(&b, "m v=%di %lld\n", h, (long long)(h * H + 60 * SEC));
    write_lines(e, "db", b.ptr);
    checkpoint(e);
    assert_int_equal(tsdb_engine_set_retention(e, SB_STR("db"), 3 * H, &err), TSDB_E_OK);
    /* Writes older than now - 3 h are refused from now on. */
    tsdb_write_report rep = write_lines(e, "db", "m v=100i 1\nm v=101i 36000000000000\n");
    assert_int_equal(rep.written, 1);
    assert_int_equal(rep.dropped_retention, 1);
    assert_string_equal(rep.first_error, "points beyond retention policy");
    /* Maintain drops whole windows that ended before now - 3 h: 0..6. */
    assert_int_equal(tsdb_engine_maintain(e, fake_now, &err), TSDB_E_OK);
    char want[256];
    snprintf(want, sizeof(want), "%lld=7i;%lld=8i;%lld=9i;%lld=101i;",
             (long long)(7 * H + 60 * SEC), (long long)(8 * H + 60 * SEC),
             (long long)(9 * H + 60 * SEC), (long long)(10 * H));
    assert_scan(e, "db", "m", "m", "v", want);
    tsdb_engine_close(e);
    e = open_engine(NULL);
    int64_t r;
    assert_int_equal(tsdb_engine_retention(e, SB_STR("db"), &r), TSDB_E_OK);
    assert_int_equal(r, 3 * H);
    assert_scan(e, "db", "m", "m", "v", want);
    sb_buf_free(&b);
    tsdb_engine_close(e);
}

/* ---- rollups ---- */

typedef struct rows_ctx {
    SB_VEC(tsdb_rollup_row) rows;
} rows_ctx;

static int rows_cb(void *arg, const tsdb_rollup_row *r, size_t n)
{
    rows_ctx *c = arg;
    for (size_t i = 0; i < n; i++)
        sb_vec_push(&c->rows, r[i]);
    return 0;
}

typedef struct raw_ctx {
    SB_VEC(int64_t) t;
    SB_VEC(double) x;
} raw_ctx;

static int raw_cb(void *arg, const tsdb_chunk *c)
{
    raw_ctx *r = arg;
    for (size_t i = 0; i < c->n; i++) {
        sb_vec_push(&r->t, c->times[i]);
        sb_vec_push(&r->x, c->type == TSDB_INT ? (double)c->v.i[i] : c->v.f[i]);
    }
    return 0;
}

/* Compares the rollup walk of every width with sums over a scan; returns
 * whether the walk answered (it may decline while a bucket is dirty). */
static bool check_rollups(tsdb_engine *e, uint64_t id, const char *field, uint64_t seed)
{
    tsdb_source *s = tsdb_engine_source(e);
    raw_ctx raw = {0};
    assert_int_equal(
        s->vt->scan(s, SB_STR("db"), id, sb_str_c(field), INT64_MIN, INT64_MAX, raw_cb, &raw, &err),
        0);
    int64_t widths[2] = {60 * SEC, 3600 * SEC};
    bool answered = true;
    for (int w = 0; w < 2; w++) {
        int64_t W = widths[w];
        int64_t tmin = 0, tmax = 4 * 3600 * SEC - 1;
        rows_ctx rc = {0};
        int r =
            s->vt->rollup(s, SB_STR("db"), id, sb_str_c(field), W, tmin, tmax, rows_cb, &rc, &err);
        if (r == 1) {
            assert_int_equal(rc.rows.len, 0);
            answered = false;
            continue;
        }
        assert_int_equal(r, 0);
        size_t k = 0;
        for (int64_t b = tmin; b < tmax; b += W) {
            uint64_t count = 0;
            double sum = 0, mn = 0, mx = 0;
            for (size_t i = 0; i < raw.t.len; i++) {
                if (raw.t.items[i] < b || raw.t.items[i] >= b + W)
                    continue;
                double x = raw.x.items[i];
                if (!count)
                    mn = mx = x;
                count++;
                sum += x;
                mn = x < mn ? x : mn;
                mx = x > mx ? x : mx;
            }
            if (!count)
                continue;
            if (k >= rc.rows.len || rc.rows.items[k].start != b ||
                rc.rows.items[k].count != count || rc.rows.items[k].min != mn ||
                rc.rows.items[k].max != mx ||
                (rc.rows.items[k].sum - sum) * (rc.rows.items[k].sum - sum) > 1e-9)
                fail_msg("seed %llu: %s width %lld bucket %lld differs", (unsigned long long)seed,
                         field, (long long)W, (long long)b);
            k++;
        }
        if (k != rc.rows.len)
            fail_msg("seed %llu: %zu extra rollup rows", (unsigned long long)seed, rc.rows.len - k);
        sb_vec_free(&rc.rows);
    }
    sb_vec_free(&raw.t);
    sb_vec_free(&raw.x);
    return answered;
}

static uint64_t rng;
static uint64_t next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Du;
}

static void test_rollups_random(void **state)
{
    uint64_t seed = (uint64_t)time(NULL);
    const char *env = getenv("TSDB_TEST_SEED");
    if (env)
        seed = strtoull(env, NULL, 10);
    rng = seed | 1;
    tsdb_engine *e = open_engine(NULL);
    create_db(e, "db");
    sb_buf b = SB_BUF_INIT;
    int64_t t = 0;
    for (int round = 0; round < 20; round++) {
        sb_buf_reset(&b);
        for (int i = 0; i < 200; i++) {
            int64_t ts;
            uint64_t r = next_rand();
            if (r % 10 < 7) {
                t += (int64_t)(next_rand() % 20) * SEC + 1; /* in order */
                ts = t;
            } else {
                ts = t > 0 ? (int64_t)(next_rand() % (uint64_t)t) : 0; /* late or overwrite */
                if (r % 10 == 9)
                    ts -= ts % SEC; /* land on earlier times */
            }
            if (ts >= 4 * 3600 * SEC)
                ts = 4 * 3600 * SEC - 1;
            sb_buf_appendf(&b, "m v=%d,c=%di %lld\n", (int)(next_rand() % 2001) - 1000,
                           (int)(next_rand() % 100), (long long)ts);
        }
        write_lines(e, "db", b.ptr);
        uint64_t id = series_id(e, "db", "m", "m");
        check_rollups(e, id, "v", seed); /* exact or declined */
        if (round % 5 == 4)
            checkpoint(e);
        else
            assert_int_equal(tsdb_engine_maintain(e, fake_now, &err), TSDB_E_OK);
        /* After maintain nothing is dirty (no writes raced it). */
        if (!check_rollups(e, id, "v", seed) || !check_rollups(e, id, "c", seed))
            fail_msg("seed %llu: rollup declined after maintain", (unsigned long long)seed);
    }
    tsdb_engine_close(e);
    e = open_engine(NULL); /* rebuilt at open */
    uint64_t id = series_id(e, "db", "m", "m");
    if (!check_rollups(e, id, "v", seed))
        fail_msg("seed %llu: rollup declined after open", (unsigned long long)seed);
    tsdb_source *s = tsdb_engine_source(e);
    rows_ctx rc = {0};
    /* Not a configured width, not a numeric field: declined. */
    assert_int_equal(s->vt->rollup(s, SB_STR("db"), id, SB_STR("v"), 10 * SEC, 0, 10 * SEC - 1,
                                   rows_cb, &rc, &err),
                     1);
    sb_buf_free(&b);
    tsdb_engine_close(e);
}

/* ---- rollup snapshots ---- */

/* Every row of both widths of fields v and c of every series, bit for
 * bit, with a marker row for a declined walk. */
static void all_rollups(tsdb_engine *e, size_t nseries, rows_ctx *out)
{
    tsdb_source *s = tsdb_engine_source(e);
    const int64_t widths[2] = {60 * SEC, 3600 * SEC};
    for (size_t k = 0; k < nseries; k++) {
        char key[32];
        snprintf(key, sizeof(key), "m,s=%zu", k);
        uint64_t id = series_id(e, "db", "m", key);
        for (int f = 0; f < 2; f++)
            for (int w = 0; w < 2; w++)
                if (s->vt->rollup(s, SB_STR("db"), id, sb_str_c(f ? "c" : "v"), widths[w], 0,
                                  4 * 3600 * SEC - 1, rows_cb, out, &err) != 0)
                    sb_vec_push(&out->rows, ((tsdb_rollup_row){.start = -1}));
    }
}

static void assert_same_rows(const rows_ctx *a, const rows_ctx *b, const char *what)
{
    if (a->rows.len != b->rows.len)
        fail_msg("%s: %zu rows, want %zu", what, a->rows.len, b->rows.len);
    for (size_t i = 0; i < a->rows.len; i++)
        if (memcmp(&a->rows.items[i], &b->rows.items[i], sizeof(tsdb_rollup_row)) != 0)
            fail_msg("%s: row %zu differs", what, i);
}

static size_t count_snapshots(void)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "ls %s/db-*/rollups-*.tsr 2>/dev/null | wc -l", dir);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    unsigned long n = 0;
    assert_int_equal(fscanf(f, "%lu", &n), 1);
    pclose(f);
    return n;
}

/* Rows written to a snapshot at flush and the log after it give, after a
 * reopen, the rows a recomputation from the data gives: late points and
 * overwrites (dirty rows) both before and after the snapshot, records of
 * the rotated segment before its position, and a database unchanged
 * across a later checkpoint keeps its snapshot. */
static void test_rollup_snapshot(void **state)
{
    (void)state;
    rng = 0x5EED5EED;
    enum { NS = 6 };
    tsdb_engine *e = open_engine(NULL);
    create_db(e, "db");
    create_db(e, "other");
    sb_buf b = SB_BUF_INIT;
    int64_t t = 0;
    for (int round = 0; round < 12; round++) {
        sb_buf_reset(&b);
        for (int i = 0; i < 300; i++) {
            uint64_t r = next_rand();
            int64_t ts;
            if (r % 10 < 7) {
                t += (int64_t)(next_rand() % 8) * SEC + 1; /* dense: rows kept */
                ts = t;
            } else {
                ts = t > 0 ? (int64_t)(next_rand() % (uint64_t)t) : 0;
            }
            if (ts >= 4 * 3600 * SEC)
                ts = 4 * 3600 * SEC - 1;
            sb_buf_appendf(&b, "m,s=%d v=%d.%02d,c=%di %lld\n", (int)(next_rand() % NS),
                           (int)(next_rand() % 2001) - 1000, (int)(next_rand() % 100),
                           (int)(next_rand() % 100), (long long)ts);
        }
        write_lines(e, "db", b.ptr);
        if (round == 5)
            checkpoint(e); /* a snapshot with the first half */
        if (round == 8)
            assert_int_equal(tsdb_engine_maintain(e, fake_now, &err), TSDB_E_OK);
    }
    /* A sparse series: one point every 2 minutes keeps no one-minute rows
     * (declined), its hourly rows stay. */
    sb_buf_reset(&b);
    for (int i = 0; i < 40; i++)
        sb_buf_appendf(&b, "m,s=sparse v=%d,c=1i %lld\n", i, (long long)i * 120 * SEC);
    write_lines(e, "db", b.ptr);
    /* The last rounds are in the log only; some of their rows are dirty. */
    assert_int_equal(count_snapshots(), 1);
    tsdb_engine_close(e);

    e = open_engine(NULL); /* snapshot + log */
    assert_true(e->dbs.items[0]->roll_loaded);
    rows_ctx loaded = {0};
    all_rollups(e, NS, &loaded);
    assert_false(check_rollups(e, series_id(e, "db", "m", "m,s=sparse"), "v", 0));
    tsdb_source *src = tsdb_engine_source(e);
    rows_ctx hourly = {0};
    assert_int_equal(src->vt->rollup(src, SB_STR("db"), series_id(e, "db", "m", "m,s=sparse"),
                                     SB_STR("v"), 3600 * SEC, 0, 4 * 3600 * SEC - 1, rows_cb,
                                     &hourly, &err),
                     0);
    assert_int_equal(hourly.rows.len, 2); /* 80 minutes: two hours */
    assert_int_equal(hourly.rows.items[0].count + hourly.rows.items[1].count, 40);
    sb_vec_free(&hourly.rows);
    /* A flush caused by another database: db's snapshot is rewritten (its
     * rows changed since: the replayed records) and stays valid after. */
    write_lines(e, "other", "x v=1 1\n");
    checkpoint(e);
    write_lines(e, "other", "x v=2 2\n");
    checkpoint(e); /* db unchanged: its snapshot is kept across this one */
    assert_int_equal(count_snapshots(), 2);
    tsdb_engine_close(e);

    e = open_engine(NULL);
    assert_true(e->dbs.items[0]->roll_loaded);
    rows_ctx again = {0};
    all_rollups(e, NS, &again);
    tsdb_engine_close(e);

    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -f %s/db-*/rollups-*.tsr", dir);
    assert_int_equal(system(cmd), 0);
    e = open_engine(NULL); /* recomputed from the data */
    assert_false(e->dbs.items[0]->roll_loaded);
    rows_ctx rebuilt = {0};
    all_rollups(e, NS, &rebuilt);
    for (size_t k = 0; k < NS; k++) {
        char key[32];
        snprintf(key, sizeof(key), "m,s=%zu", k);
        if (!check_rollups(e, series_id(e, "db", "m", key), "v", 0))
            fail_msg("rollups declined after a recomputing open");
    }
    tsdb_engine_close(e);
    assert_same_rows(&loaded, &rebuilt, "snapshot + log vs recomputed");
    assert_same_rows(&again, &rebuilt, "kept snapshot vs recomputed");
    for (size_t i = 0; i < rebuilt.rows.len; i++)
        if (rebuilt.rows.items[i].start < 0)
            fail_msg("row %zu of %zu declined", i, rebuilt.rows.len);

    /* A damaged snapshot is not used: recomputed, same rows. */
    e = open_engine(NULL);
    checkpoint(e); /* nothing pending: no flush, no snapshot */
    write_lines(e, "db", "m,s=0 v=1.5,c=1i 1\n");
    checkpoint(e);
    tsdb_engine_close(e);
    snprintf(cmd, sizeof(cmd),
             "for f in %s/db-*/rollups-*.tsr; do printf 'XXXX' | dd of=$f bs=1 seek=40 "
             "conv=notrunc 2>/dev/null; done",
             dir);
    assert_int_equal(system(cmd), 0);
    e = open_engine(NULL);
    assert_false(e->dbs.items[0]->roll_loaded);
    for (size_t k = 0; k < NS; k++) {
        char key[32];
        snprintf(key, sizeof(key), "m,s=%zu", k);
        if (!check_rollups(e, series_id(e, "db", "m", key), "v", 0))
            fail_msg("rollups declined after a damaged snapshot");
    }
    tsdb_engine_close(e);
    sb_vec_free(&loaded.rows);
    sb_vec_free(&again.rows);
    sb_vec_free(&rebuilt.rows);
    sb_buf_free(&b);
}

/* ---- the log ---- */

static char *wal_segment(void)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "ls %s/wal/*.wal | tail -1", dir);
    FILE *p = popen(cmd, "r");
    char *line = calloc(1, 256);
    assert_non_null(fgets(line, 256, p));
    pclose(p);
    line[strcspn(line, "\n")] = 0;
    return line;
}

static int count_points(tsdb_engine *e)
{
    char *s = scan_text(e, "db", "m", "m", "v", INT64_MIN, INT64_MAX);
    int n = 0;
    for (char *p = s; *p; p++)
        n += *p == ';';
    free(s);
    return n;
}

static void test_torn_wal(void **state)
{
    tsdb_engine *e = open_engine(NULL);
    create_db(e, "db");
    checkpoint(e); /* the catalog on disk; later writes in a fresh segment */
    uint64_t ends[12];
    sb_buf b = SB_BUF_INIT;
    for (int i = 0; i < 12; i++) {
        sb_buf_reset(&b);
        for (int k = 0; k < 3; k++)
            sb_buf_appendf(&b, "m v=%d %d\n", i, i * 3 + k);
        write_lines(e, "db", b.ptr);
        tsdb_engine_stats st;
        tsdb_engine_stats_get(e, &st);
        ends[i] = st.wal_bytes;
    }
    tsdb_engine_close(e);
    char *seg = wal_segment();
    char saved[300];
    snprintf(saved, sizeof(saved), "%s/saved", dir);
    test_copy_file(seg, saved);
    uint64_t seed = (uint64_t)time(NULL);
    rng = seed | 1;
    for (int round = 0; round < 40; round++) {
        test_copy_file(saved, seg);
        uint64_t cut = round == 0 ? ends[11] : next_rand() % (ends[11] + 1);
        if (round == 1)
            cut = ends[4] + 1; /* one byte of the next record's header */
        if (round == 2)
            cut = 3; /* inside the segment header */
        assert_int_equal(truncate(seg, (off_t)cut), 0);
        int whole = 0;
        while (whole < 12 && ends[whole] <= cut)
            whole++;
        e = open_engine(NULL);
        if (count_points(e) != whole * 3)
            fail_msg("seed %llu: cut at %llu: %d points, want %d", (unsigned long long)seed,
                     (unsigned long long)cut, count_points(e), whole * 3);
        tsdb_engine_close(e);
        /* What was cut is gone for good: a second open agrees. */
        e = open_engine(NULL);
        assert_int_equal(count_points(e), whole * 3);
        tsdb_engine_close(e);
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -f %s/wal/*.wal && cp %s %s", dir, saved, seg);
        assert_int_equal(system(cmd), 0);
    }
    /* Zeros after the last record (a preallocated tail) are a torn tail. */
    {
        FILE *f = fopen(seg, "ab");
        char zeros[100] = {0};
        fwrite(zeros, 1, sizeof(zeros), f);
        fclose(f);
        e = open_engine(NULL);
        assert_int_equal(count_points(e), 36);
        tsdb_engine_close(e);
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -f %s/wal/*.wal && cp %s %s", dir, saved, seg);
        assert_int_equal(system(cmd), 0);
    }
    /* A damaged record with good ones after it is corruption, not a tail. */
    int fd = open(seg, O_RDWR);
    uint8_t byte;
    assert_int_equal(pread(fd, &byte, 1, (off_t)ends[3] + 12), 1);
    byte ^= 0x40;
    assert_int_equal(pwrite(fd, &byte, 1, (off_t)ends[3] + 12), 1);
    close(fd);
    tsdb_engine_opts o = test_opts();
    assert_int_equal(tsdb_engine_open(dir, &o, &e, &err), TSDB_E_CORRUPT);
    free(seg);
    sb_buf_free(&b);
}

static void test_drop_db(void **state)
{
    tsdb_engine *e = open_engine(NULL);
    create_db(e, "db");
    create_db(e, "keep");
    write_lines(e, "db", "m v=1 1\n");
    write_lines(e, "keep", "m v=2 1\n");
    checkpoint(e);
    write_lines(e, "db", "m v=3 2\n"); /* in the log only */
    assert_int_equal(tsdb_engine_drop_db(e, SB_STR("db"), &err), TSDB_E_OK);
    assert_int_equal(tsdb_engine_drop_db(e, SB_STR("db"), &err), TSDB_E_NODB);
    assert_scan(e, "db", "m", "m", "v", "");
    create_db(e, "db"); /* a new, empty database of the same name */
    assert_scan(e, "db", "m", "m", "v", "");
    write_lines(e, "db", "m v=4 3\n");
    tsdb_engine_close(e);
    e = open_engine(NULL); /* the old log record is not replayed into it */
    assert_scan(e, "db", "m", "m", "v", "3=4;");
    assert_scan(e, "keep", "m", "m", "v", "1=2;");
    assert_int_equal(tsdb_engine_drop_db(e, SB_STR("db"), &err), TSDB_E_OK);
    tsdb_engine_close(e);
    e = open_engine(NULL);
    tsdb_engine_stats st;
    tsdb_engine_stats_get(e, &st);
    assert_int_equal(st.databases, 1);
    tsdb_write_report rep;
    assert_int_equal(tsdb_engine_write(e, SB_STR("db"), NULL, 0, &rep, &err), TSDB_E_NODB);
    tsdb_engine_close(e);
}

static void test_reopen_many(void **state)
{
    /* Many series and windows through flush, compaction and reopen: the
     * text of every scan is the same before and after. */
    tsdb_engine_opts o = test_opts();
    o.compact_files = 3;
    tsdb_engine *e = open_engine(&o);
    create_db(e, "db");
    sb_buf b = SB_BUF_INIT;
    for (int round = 0; round < 6; round++) {
        sb_buf_reset(&b);
        for (int s = 0; s < 50; s++)
            for (int k = 0; k < 20; k++)
                sb_buf_appendf(&b, "m,s=%d v=%d,w=\"%d\" %lld\n", s, round * 100 + k, s % 3,
                               (long long)((k * 400 + round * 7) % 7200) * SEC);
        write_lines(e, "db", b.ptr);
        checkpoint(e);
        tsdb_engine_stats st;
        tsdb_engine_stats_get(e, &st);
        assert_true(st.block_files <= 2 * 2); /* compacted as it goes */
    }
    char *before[50];
    for (int s = 0; s < 50; s++) {
        char key[32];
        snprintf(key, sizeof(key), "m,s=%d", s);
        before[s] = scan_text(e, "db", "m", key, "v", INT64_MIN, INT64_MAX);
    }
    tsdb_engine_close(e);
    e = open_engine(&o);
    for (int s = 0; s < 50; s++) {
        char key[32];
        snprintf(key, sizeof(key), "m,s=%d", s);
        char *after = scan_text(e, "db", "m", key, "v", INT64_MIN, INT64_MAX);
        assert_string_equal(after, before[s]);
        free(after);
        free(before[s]);
    }
    sb_buf_free(&b);
    tsdb_engine_close(e);
}

/* ---- threads ---- */

typedef struct conc {
    tsdb_engine *e;
    int id;
    atomic_int *stop;
    long reads;
} conc;

#define CONC_BATCHES 60

static void *conc_writer(void *arg)
{
    conc *c = arg;
    sb_buf b = SB_BUF_INIT;
    for (int k = 0; k < CONC_BATCHES; k++) {
        sb_buf_reset(&b);
        for (int s = 0; s < 20; s++)
            for (int j = 0; j < 5; j++)
                sb_buf_appendf(&b, "m,w=%d,s=%d v=%di %lld\n", c->id, s, k,
                               (long long)(k * 5 + j) * SEC);
        write_lines(c->e, "db", b.ptr);
    }
    sb_buf_free(&b);
    return NULL;
}

typedef struct check_ctx {
    int64_t last;
    long n;
} check_ctx;

static int check_cb(void *arg, const tsdb_chunk *ch)
{
    check_ctx *x = arg;
    for (size_t i = 0; i < ch->n; i++) {
        if (ch->times[i] <= x->last)
            return 1; /* not ascending: fail below */
        x->last = ch->times[i];
        x->n++;
    }
    return 0;
}

typedef struct reader_ctx {
    conc *c;
    int bad;
} reader_ctx;

static int reader_series_cb(void *arg, const tsdb_series_info *si)
{
    reader_ctx *r = arg;
    tsdb_source *s = tsdb_engine_source(r->c->e);
    check_ctx x = {INT64_MIN, 0};
    sb_errbuf e2;
    if (s->vt->scan(s, SB_STR("db"), si->id, SB_STR("v"), INT64_MIN, INT64_MAX, check_cb, &x,
                    &e2) != 0 ||
        x.n > CONC_BATCHES * 5 || x.n % 5 != 0)
        r->bad++; /* a batch is seen whole or not at all, per series */
    return 0;
}

static void *conc_reader(void *arg)
{
    conc *c = arg;
    reader_ctx r = {c, 0};
    tsdb_source *s = tsdb_engine_source(c->e);
    while (!atomic_load(c->stop)) {
        sb_errbuf e2;
        s->vt->series(s, SB_STR("db"), SB_STR("m"), NULL, 0, reader_series_cb, &r, &e2);
        c->reads++;
    }
    return (void *)(intptr_t)r.bad;
}

static void *conc_maint(void *arg)
{
    conc *c = arg;
    for (int i = 0; !atomic_load(c->stop); i++) {
        sb_errbuf e2;
        tsdb_err rc = i % 3 == 2 ? tsdb_engine_checkpoint(c->e, fake_now, &e2)
                                 : tsdb_engine_maintain(c->e, fake_now, &e2);
        if (rc != TSDB_E_OK)
            return (void *)1;
        usleep(1000);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    tsdb_engine_opts o = test_opts();
    o.window_ns = 60 * SEC; /* many windows, many files */
    o.compact_files = 2;
    tsdb_engine *e = open_engine(&o);
    create_db(e, "db");
    atomic_int stop = 0;
    conc w[2] = {{e, 0, &stop, 0}, {e, 1, &stop, 0}};
    conc r[2] = {{e, 0, &stop, 0}, {e, 1, &stop, 0}};
    conc m = {e, 0, &stop, 0};
    pthread_t tw[2], tr[2], tm;
    for (int i = 0; i < 2; i++) {
        pthread_create(&tw[i], NULL, conc_writer, &w[i]);
        pthread_create(&tr[i], NULL, conc_reader, &r[i]);
    }
    pthread_create(&tm, NULL, conc_maint, &m);
    for (int i = 0; i < 2; i++)
        pthread_join(tw[i], NULL);
    atomic_store(&stop, 1);
    void *ret;
    for (int i = 0; i < 2; i++) {
        pthread_join(tr[i], &ret);
        assert_int_equal((intptr_t)ret, 0);
        assert_true(r[i].reads > 0);
    }
    pthread_join(tm, &ret);
    assert_null(ret);
    checkpoint(e);
    for (int pass = 0; pass < 2; pass++) {
        for (int id = 0; id < 2; id++)
            for (int s = 0; s < 20; s++) {
                char key[32];
                snprintf(key, sizeof(key), "m,s=%d,w=%d", s, id);
                check_ctx x = {INT64_MIN, 0};
                tsdb_source *src = tsdb_engine_source(e);
                assert_int_equal(src->vt->scan(src, SB_STR("db"), series_id(e, "db", "m", key),
                                               SB_STR("v"), INT64_MIN, INT64_MAX, check_cb, &x,
                                               &err),
                                 0);
                assert_int_equal(x.n, CONC_BATCHES * 5);
            }
        tsdb_engine_close(e);
        e = open_engine(&o);
    }
    tsdb_engine_close(e);
}

typedef struct ti_pair {
    int64_t t;
    size_t i;
} ti_pair;

static int cmp_ti_pair(const void *x, const void *y)
{
    const ti_pair *a = x, *b = y;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* tsdb__newest_order against a sort by (time, write position): runs in
 * order, shuffled runs, repeated times, one point, none. */
static void test_newest_order(void **state)
{
    (void)state;
    enum { N = 5000 };
    int64_t *t = malloc(N * sizeof(*t));
    size_t *got = malloc(N * sizeof(*got)), *want = malloc(N * sizeof(*want));
    ti_pair *ref = malloc(N * sizeof(*ref));
    uint64_t lcg = 7;
    static const size_t sizes[] = {0, 1, 2, 17, N};
    for (size_t shape = 0; shape < 4; shape++)
        for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
            size_t n = sizes[z];
            for (size_t i = 0; i < n; i++) {
                lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
                size_t r = (size_t)(lcg >> 33);
                switch (shape) {
                case 0:
                    t[i] = (int64_t)i;
                    break; /* one run */
                case 1:
                    t[i] = (int64_t)((i % 700) * 3 + i / 700);
                    break; /* runs */
                case 2:
                    t[i] = (int64_t)(r % 50);
                    break; /* many ties */
                default:
                    t[i] = (int64_t)(n - i) / 3;
                    break; /* reversed */
                }
            }
            for (size_t i = 0; i < n; i++)
                ref[i] = (ti_pair){t[i], i};
            if (n)
                qsort(ref, n, sizeof(*ref), cmp_ti_pair);
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (i + 1 == n || ref[i + 1].t != ref[i].t)
                    want[k++] = ref[i].i;
            assert_int_equal(tsdb__newest_order(t, sizeof(*t), n, got), k);
            for (size_t i = 0; i < k; i++)
                assert_int_equal(got[i], want[i]);
        }
    free(t);
    free(got);
    free(want);
    free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newest_order),
        cmocka_unit_test_setup_teardown(test_round_trip_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_write_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_series_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollups_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollup_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_db, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
