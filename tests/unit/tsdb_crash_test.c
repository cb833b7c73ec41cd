/*
 * tsdb_crash_test.c: an acknowledged write survives kill -9. A child
 * process writes batches (each point carries its batch number) while a
 * second thread runs maintain and checkpoints (so kills land in flushes,
 * compactions, log rotations and catalog rewrites too), and reports each
 * batch on a pipe after tsdb_engine_write returned. The parent SIGKILLs it
 * at a random moment, reopens the directory and checks that every
 * acknowledged batch is there whole, and that no batch is there in part
 * (a batch is one log record). It also checks that the rollups recovered
 * (a snapshot of them plus the log after it) are the ones a clean open
 * recomputes from the data: a copy of the directory without its rollup
 * snapshots must give the same rows, bit for bit. Five rounds on the same
 * directory, each well under two seconds.
 */
#include "cmocka_prelude.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/vec.h"
#include "tsdb/engine.h"

#define SERIES      50
#define BATCH       500 /* points per batch, 10 per series */
#define MAX_BATCHES 100000

static char dir[64];
static volatile int stop_maint;

static tsdb_engine_opts crash_opts(void)
{
    tsdb_engine_opts o = {0};
    o.window_ns = INT64_C(1000000); /* 1 ms windows: batches spread over many files */
    o.flush_points = 20000;
    o.compact_files = 3;
    return o;
}

static void *maint_thread(void *arg)
{
    tsdb_engine *e = arg;
    for (unsigned i = 0; !stop_maint; i++) {
        sb_errbuf err;
        if (i % 7 == 6)
            tsdb_engine_checkpoint(e, INT64_MAX / 2, &err);
        else
            tsdb_engine_maintain(e, INT64_MAX / 2, &err);
        usleep(2000);
    }
    return NULL;
}

static void child(int fd, int64_t first)
{
    tsdb_engine *e;
    sb_errbuf err;
    tsdb_engine_opts o = crash_opts();
    if (tsdb_engine_open(dir, &o, &e, &err) != TSDB_E_OK) {
        fprintf(stderr, "child open: %s\n", err.msg);
        _exit(2);
    }
    tsdb_engine_create_db(e, SB_STR("db"), &err);
    pthread_t th;
    pthread_create(&th, NULL, maint_thread, e);
    sb_arena a;
    sb_arena_init(&a, 0);
    tsdb_point pts[BATCH];
    tsdb_field fields[BATCH];
    char keys[SERIES][16];
    for (int s = 0; s < SERIES; s++)
        snprintf(keys[s], sizeof(keys[s]), "m,s=%02d", s);
    tsdb_tag tags[SERIES];
    for (int s = 0; s < SERIES; s++)
        tags[s] = (tsdb_tag){SB_STR("s"), sb_str_make(keys[s] + 4, 2)};
    for (int64_t b = first; b < MAX_BATCHES; b++) {
        for (int k = 0; k < BATCH; k++) {
            int s = k % SERIES;
            fields[k] = (tsdb_field){.key = SB_STR("v"), .type = TSDB_INT, .v.i = b};
            pts[k] = (tsdb_point){.measurement = SB_STR("m"),
                                  .series_key = sb_str_make(keys[s], 7),
                                  .tags = &tags[s],
                                  .ntags = 1,
                                  .fields = &fields[k],
                                  .nfields = 1,
                                  .time = b * 1000 + k,
                                  .has_time = true};
        }
        tsdb_write_report rep;
        if (tsdb_engine_write(e, SB_STR("db"), pts, BATCH, &rep, &err) != TSDB_E_OK ||
            rep.written != BATCH) {
            fprintf(stderr, "child write: %s\n", err.msg);
            _exit(3);
        }
        if (write(fd, &b, sizeof(b)) != sizeof(b))
            _exit(4);
    }
    _exit(0);
}

typedef struct count_ctx {
    uint16_t *per_batch;
} count_ctx;

static int count_cb(void *arg, const tsdb_chunk *c)
{
    count_ctx *x = arg;
    for (size_t i = 0; i < c->n; i++) {
        assert_true(c->v.i[i] >= 0 && c->v.i[i] < MAX_BATCHES);
        assert_int_equal(c->times[i] / 1000, c->v.i[i]);
        x->per_batch[c->v.i[i]]++;
    }
    return 0;
}

typedef struct ids_ctx {
    uint64_t ids[SERIES];
    size_t n;
} ids_ctx;

static int ids_cb(void *arg, const tsdb_series_info *s)
{
    ids_ctx *x = arg;
    if (x->n < SERIES)
        x->ids[x->n++] = s->id;
    return 0;
}

#define HOUR (3600 * INT64_C(1000000000))

typedef struct rows_ctx {
    SB_VEC(tsdb_rollup_row) rows;
} rows_ctx;

static int rows_cb(void *arg, const tsdb_rollup_row *r, size_t n)
{
    rows_ctx *x = arg;
    for (size_t i = 0; i < n; i++)
        sb_vec_push(&x->rows, r[i]);
    return 0;
}

/* Every rollup row of field v of every series, both default widths, with
 * a marker row for a declined walk. */
static void collect_rollups(tsdb_engine *e, const uint64_t *ids, size_t n, rows_ctx *out)
{
    tsdb_source *s = tsdb_engine_source(e);
    sb_errbuf err;
    const int64_t widths[] = {60 * INT64_C(1000000000), HOUR};
    for (size_t i = 0; i < n; i++)
        for (size_t w = 0; w < 2; w++)
            if (s->vt->rollup(s, SB_STR("db"), ids[i], SB_STR("v"), widths[w], 0, HOUR - 1, rows_cb,
                              out, &err) != 0)
                sb_vec_push(&out->rows, ((tsdb_rollup_row){.start = -1}));
}

/* The rollups of dir recomputed: a copy without its snapshots, opened. */
static void recomputed_rollups(uint64_t seed, rows_ctx *out)
{
    char copy[96], cmd[512];
    snprintf(copy, sizeof(copy), "%s.copy", dir);
    snprintf(cmd, sizeof(cmd), "rm -rf %s && cp -r %s %s && rm -f %s/db-*/rollups-*", copy, dir,
             copy, copy);
    assert_int_equal(system(cmd), 0);
    tsdb_engine *e;
    sb_errbuf err;
    tsdb_engine_opts o = crash_opts();
    if (tsdb_engine_open(copy, &o, &e, &err) != TSDB_E_OK)
        fail_msg("seed %llu: open the copy: %s", (unsigned long long)seed, err.msg);
    tsdb_source *s = tsdb_engine_source(e);
    ids_ctx ids = {{0}, 0};
    assert_int_equal(s->vt->series(s, SB_STR("db"), SB_STR("m"), NULL, 0, ids_cb, &ids, &err), 0);
    collect_rollups(e, ids.ids, ids.n, out);
    tsdb_engine_close(e);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", copy);
    assert_int_equal(system(cmd), 0);
}

/* Reopens and checks; returns the highest batch present + 1. */
static int64_t verify(int64_t acked, uint64_t seed)
{
    tsdb_engine *e;
    sb_errbuf err;
    tsdb_engine_opts o = crash_opts();
    if (tsdb_engine_open(dir, &o, &e, &err) != TSDB_E_OK)
        fail_msg("seed %llu: reopen: %s", (unsigned long long)seed, err.msg);
    tsdb_source *s = tsdb_engine_source(e);
    ids_ctx ids = {{0}, 0};
    assert_int_equal(s->vt->series(s, SB_STR("db"), SB_STR("m"), NULL, 0, ids_cb, &ids, &err), 0);
    count_ctx c = {calloc(MAX_BATCHES, sizeof(uint16_t))};
    for (size_t i = 0; i < ids.n; i++)
        assert_int_equal(s->vt->scan(s, SB_STR("db"), ids.ids[i], SB_STR("v"), INT64_MIN, INT64_MAX,
                                     count_cb, &c, &err),
                         0);
    int64_t top = 0;
    for (int64_t b = 0; b < MAX_BATCHES; b++) {
        if (b <= acked && c.per_batch[b] != BATCH)
            fail_msg("seed %llu: acknowledged batch %lld has %u of %d points",
                     (unsigned long long)seed, (long long)b, c.per_batch[b], BATCH);
        if (c.per_batch[b] != 0 && c.per_batch[b] != BATCH)
            fail_msg("seed %llu: batch %lld is partly there (%u points)", (unsigned long long)seed,
                     (long long)b, c.per_batch[b]);
        if (c.per_batch[b])
            top = b + 1;
    }
    free(c.per_batch);
    rows_ctx got = {0}, want = {0};
    collect_rollups(e, ids.ids, ids.n, &got);
    tsdb_engine_close(e);
    recomputed_rollups(seed, &want);
    if (got.rows.len != want.rows.len)
        fail_msg("seed %llu: %zu rollup rows recovered, %zu recomputed", (unsigned long long)seed,
                 got.rows.len, want.rows.len);
    for (size_t i = 0; i < got.rows.len; i++)
        if (memcmp(&got.rows.items[i], &want.rows.items[i], sizeof(tsdb_rollup_row)) != 0)
            fail_msg("seed %llu: rollup row %zu: recovered count %llu sum %.17g, recomputed "
                     "count %llu sum %.17g",
                     (unsigned long long)seed, i, (unsigned long long)got.rows.items[i].count,
                     got.rows.items[i].sum, (unsigned long long)want.rows.items[i].count,
                     want.rows.items[i].sum);
    sb_vec_free(&got.rows);
    sb_vec_free(&want.rows);
    return top;
}

static void test_kill9(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/tsdb_crash_test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    uint64_t seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
    srand((unsigned)seed);
    int64_t next = 0, acked = -1;
    for (int round = 0; round < 5; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child(p[1], next);
        }
        close(p[1]);
        /* Let it run 100..900 ms (after it acknowledged something). */
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        long run_ms = 100 + rand() % 800;
        int64_t b;
        for (;;) {
            ssize_t k = read(p[0], &b, sizeof(b));
            assert_int_equal(k, sizeof(b));
            acked = b;
            struct timespec t1;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
            if (ms >= run_ms)
                break;
        }
        kill(pid, SIGKILL);
        /* Acknowledgements already in the pipe count too. */
        while (read(p[0], &b, sizeof(b)) == sizeof(b))
            acked = b;
        close(p[0]);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        next = verify(acked, seed);
        assert_true(next > acked);
        printf("round %d: acknowledged up to batch %lld, found %lld\n", round, (long long)acked,
               (long long)next - 1);
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill9)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
