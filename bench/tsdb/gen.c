/*
 * gen.c: the two workloads of bench/tsdb as line protocol on stdout, with
 * second-precision timestamps, deterministic for a seed (xorshift64*, no
 * libc rand). Points come in time order, every series at each step, as
 * agents that report on an interval send them.
 *
 *   wide  page_views for 1000 projects x 20 pages (region tag), fields
 *         duration_ms (a random walk, 2 decimals) and status (int); plus
 *         performance_metrics for 1000 projects x 5 metric types (value, a
 *         random walk with 2 decimals): 25,000 series, 120 points each
 *         at 60 s, 3 million points.
 *   long  500 series x 10,000 points at 1 s: counters (page views per
 *         second, int), gauges (2 decimals) and status codes, a third each.
 *
 * usage: gen wide|long [SCALE_PERCENT [SEED]]   SCALE_PERCENT (1..100) cuts
 * the points per series, for quick runs of the harness.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE_S 1767225600LL /* 2026-01-01T00:00:00Z */

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, 1). */
static double unit(void)
{
    return (double)(rng() >> 11) / 9007199254740992.0;
}

static const char *const regions[] = {"us-east", "us-west", "eu-west", "eu-central", "ap-south"};
static const char *const metrics[] = {"lcp", "cls", "inp", "ttfb", "fcp"};

/* A walk step of at most +-1.00, kept within [lo, hi], in hundredths. */
static long walk(long v, long lo, long hi)
{
    v += (long)(rng() % 201) - 100;
    return v < lo ? lo + (lo - v) : v > hi ? hi - (v - hi) : v;
}

static int status_code(void)
{
    double u = unit();
    return u < 0.90 ? 200 : u < 0.94 ? 304 : u < 0.97 ? 404 : u < 0.985 ? 301 : 500;
}

static void wide(int points)
{
    enum { PROJECTS = 1000, PAGES = 20, METRICS = 5 };
    long *dur = malloc(sizeof(long) * PROJECTS * PAGES);
    long *perf = malloc(sizeof(long) * PROJECTS * METRICS);
    if (!dur || !perf)
        exit(1);
    for (int i = 0; i < PROJECTS * PAGES; i++)
        dur[i] = 5000 + (long)(rng() % 50000); /* 50.00 .. 550.00 ms */
    for (int i = 0; i < PROJECTS * METRICS; i++)
        perf[i] = 100 + (long)(rng() % 300000);
    for (int t = 0; t < points; t++) {
        long long ts = BASE_S + 60LL * t;
        for (int p = 0; p < PROJECTS; p++) {
            for (int g = 0; g < PAGES; g++) {
                long *d = &dur[p * PAGES + g];
                *d = walk(*d, 100, 1000000);
                printf("page_views,project=p%04d,page=/page-%02d,region=%s duration_ms=%ld.%02ld,"
                       "status=%di %lld\n",
                       p, g, regions[(p + g) % 5], *d / 100, *d % 100, status_code(), ts);
            }
            for (int m = 0; m < METRICS; m++) {
                long *v = &perf[p * METRICS + m];
                *v = walk(*v, 0, 10000000);
                printf("performance_metrics,project=p%04d,metric=%s value=%ld.%02ld %lld\n", p,
                       metrics[m], *v / 100, *v % 100, ts);
            }
        }
    }
    free(dur);
    free(perf);
}

static void long_(int points)
{
    enum { SERIES = 500 };
    long state[SERIES];
    for (int s = 0; s < SERIES; s++)
        state[s] = s % 3 == 1 ? 2000 + (long)(rng() % 8000) : 0;
    for (int t = 0; t < points; t++) {
        long long ts = BASE_S + t;
        for (int s = 0; s < SERIES; s++) {
            switch (s % 3) {
            case 0: /* page views in this second: 20..40 */
                printf("counters,series=c%03d views=%di %lld\n", s, 20 + (int)(rng() % 21), ts);
                break;
            case 1:
                state[s] = walk(state[s], 0, 1000000);
                printf("gauges,series=g%03d value=%ld.%02ld %lld\n", s, state[s] / 100,
                       state[s] % 100, ts);
                break;
            default:
                printf("statuses,series=s%03d code=%di %lld\n", s, status_code(), ts);
            }
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "wide") && strcmp(argv[1], "long"))) {
        fprintf(stderr, "usage: gen wide|long [SCALE_PERCENT [SEED]]\n");
        return 2;
    }
    int scale = argc > 2 ? atoi(argv[2]) : 100;
    if (scale < 1 || scale > 100)
        scale = 100;
    rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) | 1 : 0x9E3779B97F4A7C15ULL;
    static char out[1 << 20];
    setvbuf(stdout, out, _IOFBF, sizeof(out));
    if (strcmp(argv[1], "wide") == 0)
        wide(120 * scale / 100 > 0 ? 120 * scale / 100 : 1);
    else
        long_(10000 * scale / 100);
    return fflush(stdout) == 0 ? 0 : 1;
}
