/*
 * engine_bench.c: the storage engine alone, without HTTP: line-protocol
 * batches of 5000 lines parsed and written by one or more threads, then a
 * checkpoint (flush and compaction), then a scan of every series; a
 * housekeeping thread calls maintain every 100 ms meanwhile, as the server
 * does (so heads are flushed at the engine's default thresholds).
 * Prints one JSON line:
 *   lines, values (field values), series, threads
 *   ingest_s, lines_per_s      parse + write, wall time
 *   write_s                    the time spent inside tsdb_engine_write
 *                              (summed over threads)
 *   write_cpu_s, write_cpu_ns_per_line, parse_cpu_s: CPU time of the
 *                              writing and parsing threads in those calls
 *                              (steadier than wall time on a shared machine)
 *   checkpoint_s, scan_s, scan_values_per_s
 *   block_bytes, bytes_per_line, bytes_per_value (after compaction)
 *   wal_bytes_peak, rss_after_ingest, rss_after_checkpoint, rss_peak_bytes
 * and a second line: reopen_s, the time tsdb_engine_open takes on the
 * result (file indexes read, rollups rebuilt from the blocks).
 *
 * Workloads (issue 8):
 *   wide  SERIES series (default 25000) x 120 points at 1 s, tags project
 *         and page, fields value (gauge, 2 decimals) and status (code)
 *   long  500 series x 10000 points at 1 s, fields views (a counter,
 *         +20..40) and status (200 90%, 304 4%, 404 3%, 301/500)
 *
 *   engine_bench wide|long [DIR] [THREADS] [SERIES] [POINTS]
 *
 * And for bench/tsdb/run.sh, which measures bytes per point after a full
 * compaction on both servers: engine_bench checkpoint DIR opens an engine
 * directory (a stopped server's <data>/tsdb: the log is replayed), flushes
 * every head and compacts every window (tsdb_engine_checkpoint), and
 * prints {"block_files", "block_bytes", "block_points", "wal_bytes"}.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/arena.h"
#include "tsdb/engine.h"

#define BATCH 5000
#define T0    INT64_C(1764000000000000000)
#define SEC   INT64_C(1000000000)

typedef struct shape {
    bool wide;
    long series, points;
    int threads;
} shape;

typedef struct worker {
    const shape *sh;
    tsdb_engine *e;
    int id;
    double write_s, write_cpu_s, parse_cpu_s;
    long lines;
} worker;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Resident bytes now (Linux). */
static long rss_now(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * sysconf(_SC_PAGESIZE);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static int status_code(uint64_t r)
{
    unsigned p = (unsigned)(r % 1000);
    return p < 900 ? 200 : p < 940 ? 304 : p < 970 ? 404 : p < 985 ? 301 : 500;
}

/* The line of series s at step k (deterministic). */
static void line(sb_buf *b, const shape *sh, long s, long k)
{
    uint64_t r = mix((uint64_t)s * 1000003u + (uint64_t)k);
    int64_t t = T0 + k * SEC;
    if (sh->wide) {
        double v = (double)(int64_t)(mix((uint64_t)s) % 10000 + (r % 201)) / 100.0;
        sb_buf_appendf(b, "pages,project=p%ld,page=/docs/page-%ld value=%.2f,status=%di %lld\n",
                       s / 20, s % 20, v, status_code(r >> 8), (long long)t);
    } else {
        /* A counter: the sum of k increments of 20..40, closed form-ish. */
        long views = k * 30 + (long)(r % 21) - 10;
        sb_buf_appendf(b, "http,host=h%ld views=%ldi,status=%di %lld\n", s, views,
                       status_code(r >> 8), (long long)t);
    }
}

static void *run(void *arg)
{
    worker *w = arg;
    const shape *sh = w->sh;
    sb_buf body = SB_BUF_INIT;
    sb_arena a;
    sb_arena_init(&a, 1 << 20);
    tsdb_point *pts = malloc(BATCH * sizeof(*pts));
    tsdb_line_opts lo = {TSDB_PREC_NS, 0, TSDB_LINE_LIMITS_DEFAULT};
    /* Time-major: every series' point k before any point k + 1, as a live
     * feed arrives; thread i takes series i, i + T, ... */
    long n = 0;
    for (long k = 0; k < sh->points; k++) {
        for (long s = w->id; s < sh->series; s += sh->threads) {
            line(&body, sh, s, k);
            n++;
            bool last = k == sh->points - 1 && s + sh->threads >= sh->series;
            if (n % BATCH && !last)
                continue;
            double c0 = cpu_s();
            tsdb_line_reader r;
            tsdb_line_reader_init(&r, sb_buf_str(&body), &lo);
            size_t np = 0;
            tsdb_point p;
            sb_errbuf err;
            while (tsdb_line_next(&r, &a, &p, &err) == TSDB_LINE_POINT)
                pts[np++] = p;
            tsdb_write_report rep;
            double t0 = now_s(), c1 = cpu_s();
            w->parse_cpu_s += c1 - c0;
            if (tsdb_engine_write(w->e, SB_STR("bench"), pts, np, &rep, &err) != TSDB_E_OK ||
                rep.written != np) {
                fprintf(stderr, "write: %s %s\n", err.msg, rep.first_error);
                exit(1);
            }
            w->write_s += now_s() - t0;
            w->write_cpu_s += cpu_s() - c1;
            w->lines += (long)np;
            sb_buf_reset(&body);
            sb_arena_reset(&a);
        }
    }
    free(pts);
    sb_buf_free(&body);
    sb_arena_deinit(&a);
    return NULL;
}

/* The housekeeping thread a server runs: maintain every 100 ms. */
static volatile int done;

static void *housekeeper(void *arg)
{
    tsdb_engine *e = arg;
    while (!done) {
        sb_errbuf err;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (tsdb_engine_maintain(e, (int64_t)ts.tv_sec * SEC + ts.tv_nsec, &err) != TSDB_E_OK) {
            fprintf(stderr, "maintain: %s\n", err.msg);
            exit(1);
        }
        usleep(100000);
    }
    return NULL;
}

typedef struct scan_ctx {
    uint64_t values;
    tsdb_source *src;
} scan_ctx;

static int chunk_cb(void *arg, const tsdb_chunk *c)
{
    ((scan_ctx *)arg)->values += c->n;
    return 0;
}

static int series_cb(void *arg, const tsdb_series_info *s)
{
    scan_ctx *c = arg;
    sb_errbuf err;
    const char *fields[2] = {"value", "status"};
    if (s->key.ptr[0] == 'h')
        fields[0] = "views";
    for (int i = 0; i < 2; i++)
        c->src->vt->scan(c->src, SB_STR("bench"), s->id, sb_str_c(fields[i]), INT64_MIN, INT64_MAX,
                         chunk_cb, c, &err);
    return 0;
}

/* engine_bench checkpoint DIR (see the top). */
static int checkpoint_dir(const char *dir)
{
    tsdb_engine *e;
    sb_errbuf err;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
    if (tsdb_engine_open(dir, NULL, &e, &err) != TSDB_E_OK) {
        fprintf(stderr, "open %s: %s\n", dir, err.msg);
        return 1;
    }
    if (tsdb_engine_checkpoint(e, now, &err) != TSDB_E_OK) {
        fprintf(stderr, "checkpoint %s: %s\n", dir, err.msg);
        tsdb_engine_close(e);
        return 1;
    }
    tsdb_engine_stats st;
    tsdb_engine_stats_get(e, &st);
    printf("{\"block_files\":%llu,\"block_bytes\":%llu,\"block_points\":%llu,\"wal_bytes\":%llu}\n",
           (unsigned long long)st.block_files, (unsigned long long)st.block_bytes,
           (unsigned long long)st.block_points, (unsigned long long)st.wal_bytes);
    tsdb_engine_close(e);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "checkpoint"))
        return checkpoint_dir(argv[2]);
    shape sh = {true, 25000, 120, 1};
    if (argc > 1 && !strcmp(argv[1], "long"))
        sh = (shape){false, 500, 10000, 1};
    char tmpl[] = "/tmp/tsdb_bench.XXXXXX";
    const char *dir = argc > 2 ? argv[2] : mkdtemp(tmpl);
    if (argc > 3)
        sh.threads = atoi(argv[3]);
    if (argc > 4)
        sh.series = atol(argv[4]);
    if (argc > 5)
        sh.points = atol(argv[5]);
    if (sh.threads < 1)
        sh.threads = 1;
    tsdb_engine *e;
    sb_errbuf err;
    tsdb_engine_opts o = {0};
    if (tsdb_engine_open(dir, &o, &e, &err) != TSDB_E_OK ||
        tsdb_engine_create_db(e, SB_STR("bench"), &err) != TSDB_E_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    worker w[16];
    pthread_t th[16];
    if (sh.threads > 16)
        sh.threads = 16;
    pthread_t hk;
    pthread_create(&hk, NULL, housekeeper, e);
    double t0 = now_s();
    for (int i = 0; i < sh.threads; i++) {
        w[i] = (worker){.sh = &sh, .e = e, .id = i};
        pthread_create(&th[i], NULL, run, &w[i]);
    }
    double write_s = 0, write_cpu = 0, parse_cpu = 0;
    long lines = 0;
    for (int i = 0; i < sh.threads; i++) {
        pthread_join(th[i], NULL);
        write_s += w[i].write_s;
        write_cpu += w[i].write_cpu_s;
        parse_cpu += w[i].parse_cpu_s;
        lines += w[i].lines;
    }
    double ingest = now_s() - t0;
    done = 1;
    pthread_join(hk, NULL);
    long rss_ingest = rss_now();
    tsdb_engine_stats st;
    tsdb_engine_stats_get(e, &st);
    uint64_t wal_peak = st.wal_bytes;
    t0 = now_s();
    if (tsdb_engine_checkpoint(e, T0 + sh.points * SEC, &err) != TSDB_E_OK) {
        fprintf(stderr, "checkpoint: %s\n", err.msg);
        return 1;
    }
    double ck = now_s() - t0;
    long rss_ck = rss_now();
    tsdb_engine_stats_get(e, &st);
    scan_ctx sc = {0, tsdb_engine_source(e)};
    t0 = now_s();
    const char *m = sh.wide ? "pages" : "http";
    sc.src->vt->series(sc.src, SB_STR("bench"), sb_str_c(m), NULL, 0, series_cb, &sc, &err);
    double scan = now_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"workload\":\"%s\",\"lines\":%ld,\"values\":%ld,\"series\":%zu,\"threads\":%d,"
           "\"ingest_s\":%.3f,\"lines_per_s\":%.0f,\"write_s\":%.3f,\"write_cpu_s\":%.3f,"
           "\"write_cpu_ns_per_line\":%.0f,\"parse_cpu_s\":%.3f,\"checkpoint_s\":%.3f,"
           "\"scan_s\":%.3f,\"scan_values_per_s\":%.0f,\"block_bytes\":%llu,"
           "\"bytes_per_line\":%.3f,\"bytes_per_value\":%.3f,\"wal_bytes_peak\":%llu,"
           "\"rss_after_ingest\":%ld,\"rss_after_checkpoint\":%ld,\"rss_peak_bytes\":%ld}\n",
           sh.wide ? "wide" : "long", lines, lines * 2, st.series, sh.threads, ingest,
           lines / ingest, write_s, write_cpu, write_cpu * 1e9 / lines, parse_cpu, ck, scan,
           sc.values / (scan > 0 ? scan : 1), (unsigned long long)st.block_bytes,
           (double)st.block_bytes / lines, (double)st.block_bytes / (lines * 2.0),
           (unsigned long long)wal_peak, rss_ingest, rss_ck, ru.ru_maxrss * 1024L);
    if (sc.values != (uint64_t)lines * 2)
        fprintf(stderr, "scan found %llu values, want %ld\n", (unsigned long long)sc.values,
                lines * 2);
    tsdb_engine_close(e);
    /* Opening again: indexes of the files, rollups rebuilt from the data. */
    t0 = now_s();
    if (tsdb_engine_open(dir, &o, &e, &err) != TSDB_E_OK) {
        fprintf(stderr, "reopen: %s\n", err.msg);
        return 1;
    }
    printf("{\"reopen_s\":%.3f}\n", now_s() - t0);
    tsdb_engine_close(e);
    if (argc <= 2) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
