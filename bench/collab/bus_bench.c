/*
 * bus_bench.c: what the bus adds between two nodes: one node publishes, the
 * other's subscription receives; latency (publish call -> callback) and
 * throughput, for mem:// (two peers in one process) or redis:// (two
 * connections to one server, as two Sitebase nodes would have).
 *
 *   build/bus_bench URL [MESSAGES] [BYTES] [RATE]
 *     (defaults: 20000 messages, 64 bytes, 5000 messages/s)
 *
 * Phase "paced": MESSAGES at RATE/s, each stamped with its send time; p50,
 * p99 and max latency. Phase "flood": MESSAGES back to back from one
 * thread; messages/s published and delivered. One JSON line per phase.
 * Bounded: each phase stops waiting for deliveries after 10 s.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "bus/bus.h"

typedef struct sink {
    uint64_t *lat_ns; /* one per message, written by the delivery thread */
    size_t cap;
    _Atomic size_t n;
} sink;

static void on_msg(void *ctx, const bus_msg *m)
{
    sink *s = ctx;
    uint64_t now = sb_mono_ns(), sent;
    if (m->len < 8)
        return; /* a probe */
    memcpy(&sent, m->data, 8);
    size_t i = atomic_load_explicit(&s->n, memory_order_relaxed);
    if (i < s->cap)
        s->lat_ns[i] = now - sent;
    atomic_store_explicit(&s->n, i + 1, memory_order_release);
}

static void sleep_until(uint64_t t)
{
    uint64_t now = sb_mono_ns();
    if (t <= now)
        return;
    struct timespec ts = {(time_t)((t - now) / 1000000000u), (long)((t - now) % 1000000000u)};
    nanosleep(&ts, NULL);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool wait_n(sink *s, size_t n)
{
    uint64_t end = sb_mono_ns() + 10000000000ull;
    while (atomic_load_explicit(&s->n, memory_order_acquire) < n) {
        if (sb_mono_ns() > end)
            return false;
        sleep_until(sb_mono_ns() + 200000);
    }
    return true;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bus_bench URL [MESSAGES] [BYTES] [RATE]\n");
        return 2;
    }
    const char *url = argv[1];
    size_t msgs = argc > 2 ? strtoul(argv[2], NULL, 10) : 20000;
    size_t bytes = argc > 3 ? strtoul(argv[3], NULL, 10) : 64;
    double rate = argc > 4 ? strtod(argv[4], NULL) : 5000;
    if (msgs == 0 || msgs > 10000000 || bytes < 8 || bytes > BUS_MESSAGE_MAX || rate <= 0) {
        fprintf(stderr, "bus_bench: 1..10M messages of 8..16M bytes, rate > 0\n");
        return 2;
    }
    bus *a, *b;
    sb_errbuf err;
    if (bus_open(url, &a, &err) != BUS_OK) {
        fprintf(stderr, "bus_bench: %s\n", err.msg);
        return 1;
    }
    if (strncmp(url, "redis://", 8) == 0 ? bus_open(url, &b, &err) : bus_open_peer(a, &b)) {
        fprintf(stderr, "bus_bench: cannot open the second node\n");
        return 1;
    }
    uint64_t end = sb_mono_ns() + 5000000000ull;
    while (bus_health(a, &err) != BUS_OK || bus_health(b, &err) != BUS_OK) {
        if (sb_mono_ns() > end) {
            fprintf(stderr, "bus_bench: %s\n", err.msg);
            return 1;
        }
        sleep_until(sb_mono_ns() + 5000000);
    }
    sink s = {.lat_ns = calloc(msgs, sizeof(uint64_t)), .cap = msgs};
    uint64_t id;
    sb_str ch = SB_STR("bench:doc");
    bus_subscribe(b, ch, 0, on_msg, &s, &id);
    /* The subscription is live once a probe comes through. */
    atomic_store(&s.n, 0);
    for (int i = 0; i < 500; i++) {
        uint64_t t = sb_mono_ns();
        bus_publish(a, ch, &t, 8);
        sleep_until(sb_mono_ns() + 10000000);
        if (atomic_load(&s.n) > 0)
            break;
    }
    if (atomic_load(&s.n) == 0) {
        fprintf(stderr, "bus_bench: the subscription never saw a message\n");
        return 1;
    }
    sleep_until(sb_mono_ns() + 50000000);
    char *buf = calloc(1, bytes);

    for (int phase = 0; phase < 2; phase++) {
        atomic_store(&s.n, 0);
        uint64_t t0 = sb_mono_ns(), step = (uint64_t)(1e9 / rate);
        size_t failed = 0;
        for (size_t i = 0; i < msgs; i++) {
            if (phase == 0)
                sleep_until(t0 + i * step);
            uint64_t now = sb_mono_ns();
            memcpy(buf, &now, 8);
            failed += bus_publish(a, ch, buf, bytes) != BUS_OK;
        }
        uint64_t t_pub = sb_mono_ns();
        bool all = wait_n(&s, msgs - failed);
        uint64_t t_end = sb_mono_ns();
        size_t got = SB_MIN(atomic_load(&s.n), msgs);
        qsort(s.lat_ns, got, sizeof(uint64_t), cmp_u64);
        double secs = (double)(t_end - t0) / 1e9;
        printf("{\"driver\":\"%s\",\"phase\":\"%s\",\"messages\":%zu,\"bytes\":%zu,"
               "\"failed\":%zu,\"delivered\":%zu,\"complete\":%s,",
               bus_driver_name(a), phase ? "flood" : "paced", msgs, bytes, failed, got,
               all ? "true" : "false");
        if (phase == 0)
            printf("\"rate\":%.0f,", rate);
        printf("\"publish_per_s\":%.0f,\"deliver_per_s\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
               "\"max_us\":%.1f}\n",
               (double)msgs / ((double)(t_pub - t0) / 1e9), (double)got / secs,
               got ? (double)s.lat_ns[got / 2] / 1e3 : 0,
               got ? (double)s.lat_ns[(size_t)((double)got * 0.99)] / 1e3 : 0,
               got ? (double)s.lat_ns[got - 1] / 1e3 : 0);
        fflush(stdout);
    }
    bus_close(a);
    bus_close(b);
    free(buf);
    free(s.lat_ns);
    return 0;
}
