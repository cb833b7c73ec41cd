/* bus_api_test.c: the bus contract (bus.h), run against the driver named
 * by SITEBASE_TEST_BUS_URL: mem:// by default (ctest's unit.bus_api_test),
 * a real redis-server when tests/integration/bus_redis.sh starts one and
 * runs this program with its URL. A "node" is a second handle: a peer on
 * the same in-process hub, or a second connection to the same Redis.
 * The Redis-only cases (connections killed under the bus) are skipped for
 * mem://. Waits are bounded (5 s). */
#include "cmocka_prelude.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/clock.h"
#include "base/str.h"
#include "bus/bus.h"

#define WAIT_NS (5ull * 1000000000ull)

static const char *url(void)
{
    const char *u = getenv("SITEBASE_TEST_BUS_URL");
    return u && u[0] ? u : "mem://";
}

static bool is_redis(void)
{
    return strncmp(url(), "redis://", 8) == 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What a subscription received, in order. */
typedef struct got {
    pthread_mutex_t lock;
    char channel[64][BUS_NAME_MAX + 1];
    char data[64][64];
    size_t len[64];
    uint64_t from[64];
    int n;
    bus *unsub_bus; /* when set: the callback unsubscribes unsub_id */
    uint64_t unsub_id;
} got;

static void got_init(got *g)
{
    memset(g, 0, sizeof(*g));
    pthread_mutex_init(&g->lock, NULL);
}

static void collect(void *ctx, const bus_msg *m)
{
    got *g = ctx;
    pthread_mutex_lock(&g->lock);
    if (g->n < 64) {
        snprintf(g->channel[g->n], sizeof(g->channel[0]), "%.*s", (int)m->channel.len,
                 m->channel.ptr);
        size_t n = SB_MIN(m->len, sizeof(g->data[0]) - 1);
        memcpy(g->data[g->n], m->data, n);
        g->data[g->n][n] = '\0';
        g->len[g->n] = m->len;
        g->from[g->n] = m->from_node;
    }
    g->n++;
    pthread_mutex_unlock(&g->lock);
    if (g->unsub_bus)
        assert_int_equal(bus_unsubscribe(g->unsub_bus, g->unsub_id), BUS_OK);
}

static int got_count(got *g)
{
    pthread_mutex_lock(&g->lock);
    int n = g->n;
    pthread_mutex_unlock(&g->lock);
    return n;
}

/* Waits until g holds n messages; false after WAIT_NS. */
static bool wait_for(got *g, int n)
{
    uint64_t end = sb_mono_ns() + WAIT_NS;
    while (got_count(g) < n) {
        if (sb_mono_ns() > end)
            return false;
        sleep_ms(2);
    }
    return true;
}

static void got_reset(got *g)
{
    pthread_mutex_lock(&g->lock);
    g->n = 0;
    pthread_mutex_unlock(&g->lock);
}

/* With Redis a subscription starts once the server has it: publish a probe
 * on channel until g sees one, then forget the probes. */
static void settle(bus *pub, got *g, const char *channel)
{
    uint64_t end = sb_mono_ns() + WAIT_NS;
    while (got_count(g) == 0) {
        assert_true(sb_mono_ns() < end);
        assert_int_equal(bus_publish(pub, sb_str_c(channel), "probe", 5), BUS_OK);
        sleep_ms(10);
    }
    sleep_ms(20); /* probes still in flight */
    got_reset(g);
}

static void wait_up(bus *b)
{
    uint64_t end = sb_mono_ns() + WAIT_NS;
    sb_errbuf err;
    while (bus_health(b, &err) != BUS_OK) {
        assert_true(sb_mono_ns() < end);
        sleep_ms(5);
    }
}

static bus *open_node(void)
{
    bus *b = NULL;
    sb_errbuf err;
    assert_int_equal(bus_open(url(), &b, &err), BUS_OK);
    wait_up(b);
    return b;
}

/* A second node: a peer on the in-process hub, or another Redis client. */
static bus *open_second(bus *first)
{
    if (!is_redis()) {
        bus *p = NULL;
        assert_int_equal(bus_open_peer(first, &p), BUS_OK);
        return p;
    }
    return open_node();
}

/* Channel names unique to this run, so runs against one Redis never mix. */
static char run_tag[24];

static const char *chan(char *buf, const char *name)
{
    snprintf(buf, BUS_NAME_MAX, "t%s:%s", run_tag, name);
    return buf;
}

static void test_names(void **state)
{
    assert_true(bus_name_valid(SB_STR("doc:1f2e/abc"), false));
    assert_true(bus_name_valid(SB_STR("doc:*"), true));
    assert_false(bus_name_valid(SB_STR(""), false));
    assert_false(bus_name_valid(SB_STR("*"), true));
    assert_false(bus_name_valid(SB_STR("doc:*"), false));
    assert_false(bus_name_valid(SB_STR("a b"), false));
    assert_false(bus_name_valid(SB_STR("a?"), false));
    assert_false(bus_name_valid(SB_STR("a[1]"), false));
    assert_false(bus_name_valid(sb_str_make("a\0b", 3), false));
    assert_false(bus_name_valid(SB_STR("a*b*"), true));
    char longname[BUS_NAME_MAX + 2];
    memset(longname, 'x', sizeof(longname));
    assert_true(bus_name_valid(sb_str_make(longname, BUS_NAME_MAX), false));
    assert_false(bus_name_valid(sb_str_make(longname, BUS_NAME_MAX + 1), false));

    bus *b = open_node();
    uint64_t id;
    assert_int_equal(bus_publish(b, SB_STR("bad channel"), "x", 1), BUS_ENAME);
    assert_int_equal(bus_publish(b, SB_STR("ok"), "x", BUS_MESSAGE_MAX + 1), BUS_ETOOBIG);
    assert_int_equal(bus_subscribe(b, SB_STR("a*b"), 0, collect, NULL, &id), BUS_ENAME);
    assert_int_equal(bus_unsubscribe(b, 12345), BUS_ENOTFOUND);
    int64_t v;
    assert_int_equal(bus_counter_add(b, SB_STR("k*"), 1, 0, &v), BUS_ENAME);
    bus_stats st;
    bus_stats_get(b, &st);
    assert_int_equal(st.published, 0);
    assert_int_equal(st.dropped, 0);
    bus_close(b);

    sb_errbuf err;
    assert_int_equal(bus_open("http://x", &b, &err), BUS_EURL);
    assert_int_equal(bus_open("redis://", &b, &err), BUS_EURL);
    assert_int_equal(bus_open("redis://host:99999", &b, &err), BUS_EURL);
    assert_int_equal(bus_open("redis://host:6379/x", &b, &err), BUS_EURL);
    assert_int_equal(bus_open("redis://u:p@host", &b, &err), BUS_EURL);
    assert_string_equal(bus_strerror(BUS_EDOWN), "bus unreachable");
}

static void test_publish_subscribe(void **state)
{
    char c1[BUS_NAME_MAX], c2[BUS_NAME_MAX];
    bus *a = open_node(), *b = open_second(a);
    assert_int_not_equal(bus_node_id(a), bus_node_id(b));
    got g;
    got_init(&g);
    uint64_t id;
    assert_int_equal(bus_subscribe(b, sb_str_c(chan(c1, "doc:1")), 0, collect, &g, &id), BUS_OK);
    settle(a, &g, c1);

    assert_int_equal(bus_publish(a, sb_str_c(chan(c2, "doc:2")), "other", 5), BUS_OK);
    assert_int_equal(bus_publish(a, sb_str_c(c1), "hello", 5), BUS_OK);
    assert_int_equal(bus_publish(a, sb_str_c(c1), "", 0), BUS_OK);
    static const char bin[4] = {0, 1, 0, (char)0xff};
    assert_int_equal(bus_publish(b, sb_str_c(c1), bin, 4), BUS_OK);
    assert_true(wait_for(&g, 3));
    sleep_ms(50);
    assert_int_equal(got_count(&g), 3); /* nothing from doc:2 */
    assert_string_equal(g.channel[0], c1);
    assert_string_equal(g.data[0], "hello");
    assert_int_equal(g.from[0], bus_node_id(a));
    assert_int_equal(g.len[1], 0);
    assert_int_equal(g.len[2], 4);
    assert_memory_equal(g.data[2], bin, 4);
    assert_int_equal(g.from[2], bus_node_id(b));

    bus_stats st;
    bus_stats_get(b, &st);
    assert_true(st.up);
    assert_true(st.delivered >= 3);
    assert_int_equal(bus_unsubscribe(b, id), BUS_OK);
    assert_int_equal(bus_unsubscribe(b, id), BUS_ENOTFOUND);
    bus_close(b);
    bus_close(a);
}

/* BUS_CONFIRMED: what is published right after bus_subscribe returns is
 * delivered, with no probing (twenty fresh channels in a row). */
static void test_confirmed(void **state)
{
    char c[BUS_NAME_MAX], name[32];
    bus *a = open_node(), *b = open_second(a);
    /* With Redis, ask the server itself too: it has the subscription. */
    redisContext *admin = NULL;
    int port = 0, db = 0;
    if (is_redis()) {
        assert_true(sscanf(url(), "redis://127.0.0.1:%d/%d", &port, &db) >= 1);
        admin = redisConnect("127.0.0.1", port);
        assert_true(admin && !admin->err);
    }
    for (int i = 0; i < 20; i++) {
        got g;
        got_init(&g);
        uint64_t id;
        snprintf(name, sizeof(name), "confirmed:%d", i);
        assert_int_equal(bus_subscribe(b, sb_str_c(chan(c, name)), BUS_CONFIRMED, collect, &g, &id),
                         BUS_OK);
        if (admin) {
            redisReply *r = redisCommand(admin, "PUBSUB NUMSUB sb%d:%s", db, c);
            assert_true(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
            assert_int_equal(r->element[1]->integer, 1);
            freeReplyObject(r);
        }
        assert_int_equal(bus_publish(a, sb_str_c(c), "now", 3), BUS_OK);
        assert_true(wait_for(&g, 1));
        assert_string_equal(g.data[0], "now");
        assert_int_equal(bus_unsubscribe(b, id), BUS_OK);
    }
    if (admin)
        redisFree(admin);
    bus_close(a);
    bus_close(b);
}

static void test_patterns(void **state)
{
    char p[BUS_NAME_MAX], c[BUS_NAME_MAX];
    bus *a = open_node(), *b = open_second(a);
    got gp, ge;
    got_init(&gp);
    got_init(&ge);
    uint64_t idp, ide;
    assert_int_equal(bus_subscribe(b, sb_str_c(chan(p, "room:*")), 0, collect, &gp, &idp), BUS_OK);
    settle(a, &gp, chan(c, "room:probe"));
    assert_int_equal(bus_subscribe(b, sb_str_c(chan(c, "room:x")), 0, collect, &ge, &ide), BUS_OK);
    settle(a, &ge, c);
    got_reset(&gp);

    assert_int_equal(bus_publish(a, sb_str_c(chan(c, "room:x")), "1", 1), BUS_OK);
    assert_int_equal(bus_publish(a, sb_str_c(chan(c, "roomy")), "2", 1), BUS_OK);
    assert_int_equal(bus_publish(a, sb_str_c(chan(c, "room:y")), "3", 1), BUS_OK);
    assert_true(wait_for(&gp, 2));
    assert_true(wait_for(&ge, 1));
    sleep_ms(50);
    /* The pattern saw room:x and room:y, once each; the exact one room:x. */
    assert_int_equal(got_count(&gp), 2);
    assert_int_equal(got_count(&ge), 1);
    assert_string_equal(gp.data[0], "1");
    assert_string_equal(gp.channel[1], chan(c, "room:y"));
    assert_string_equal(ge.data[0], "1");
    bus_close(b);
    bus_close(a);
}

static void test_skip_own_and_order(void **state)
{
    char c[BUS_NAME_MAX];
    bus *a = open_node(), *b = open_second(a);
    got g;
    got_init(&g);
    uint64_t id;
    assert_int_equal(bus_subscribe(a, sb_str_c(chan(c, "own")), BUS_SKIP_OWN, collect, &g, &id),
                     BUS_OK);
    settle(b, &g, c);
    /* a's own message is not delivered to a; b's arrive in order. */
    assert_int_equal(bus_publish(a, sb_str_c(c), "mine", 4), BUS_OK);
    char buf[16];
    for (int i = 0; i < 40; i++) {
        int n = snprintf(buf, sizeof(buf), "m%d", i);
        assert_int_equal(bus_publish(b, sb_str_c(c), buf, (size_t)n), BUS_OK);
    }
    assert_true(wait_for(&g, 40));
    sleep_ms(50);
    assert_int_equal(got_count(&g), 40);
    for (int i = 0; i < 40; i++) {
        snprintf(buf, sizeof(buf), "m%d", i);
        assert_string_equal(g.data[i], buf);
        assert_int_equal(g.from[i], bus_node_id(b));
    }
    bus_close(a);
    bus_close(b);
}

/* bus_publish_others reaches the other nodes; on the mem bus a node's own
 * subscriptions do not get it even without BUS_SKIP_OWN, and a node alone
 * queues nothing at all. */
static void test_publish_others(void **state)
{
    char c[BUS_NAME_MAX];
    bus *a = open_node();
    got mine, theirs;
    got_init(&mine);
    got_init(&theirs);
    uint64_t id;
    int own_flags = is_redis() ? BUS_SKIP_OWN : 0; /* Redis echoes everything */
    assert_int_equal(bus_subscribe(a, sb_str_c(chan(c, "others")), own_flags | BUS_CONFIRMED,
                                   collect, &mine, &id),
                     BUS_OK);
    assert_int_equal(bus_publish_others(a, sb_str_c(c), "alone", 5), BUS_OK);
    sleep_ms(50);
    if (!is_redis())
        assert_int_equal(got_count(&mine), 0);
    bus *b = open_second(a);
    assert_int_equal(
        bus_subscribe(b, sb_str_c(c), BUS_SKIP_OWN | BUS_CONFIRMED, collect, &theirs, &id), BUS_OK);
    settle(a, &theirs, c); /* plain publishes: these probes reach a too */
    got_reset(&mine);
    assert_int_equal(bus_publish_others(a, sb_str_c(c), "hello", 5), BUS_OK);
    assert_true(wait_for(&theirs, 1));
    assert_string_equal(theirs.data[0], "hello");
    assert_int_equal(theirs.from[0], bus_node_id(a));
    /* b's plain publish still reaches a: only a's own were held back. */
    assert_int_equal(bus_publish(b, sb_str_c(c), "back", 4), BUS_OK);
    assert_true(wait_for(&mine, 1));
    sleep_ms(50);
    if (!is_redis()) { /* "hello" did not come back to a */
        assert_int_equal(got_count(&mine), 1);
        assert_string_equal(mine.data[0], "back");
    }
    bus_close(b);
    bus_close(a);
}

static void test_unsubscribe_in_callback(void **state)
{
    char c[BUS_NAME_MAX];
    bus *a = open_node(), *b = open_second(a);
    got g, marker;
    got_init(&g);
    got_init(&marker);
    uint64_t id, mid;
    assert_int_equal(bus_subscribe(b, sb_str_c(chan(c, "once")), 0, collect, &marker, &mid),
                     BUS_OK);
    settle(a, &marker, c);
    assert_int_equal(bus_subscribe(b, sb_str_c(c), 0, collect, &g, &id), BUS_OK);
    g.unsub_bus = b;
    g.unsub_id = id;
    /* The channel still has a subscriber (marker), so no settle is needed. */
    assert_int_equal(bus_publish(a, sb_str_c(c), "1", 1), BUS_OK);
    assert_int_equal(bus_publish(a, sb_str_c(c), "2", 1), BUS_OK);
    assert_true(wait_for(&marker, 2));
    sleep_ms(20);
    assert_int_equal(got_count(&g), 1);
    assert_string_equal(g.data[0], "1");
    assert_int_equal(bus_unsubscribe(b, id), BUS_ENOTFOUND);
    /* Outside a callback: once it returns, nothing more arrives. */
    assert_int_equal(bus_unsubscribe(b, mid), BUS_OK);
    assert_int_equal(bus_publish(a, sb_str_c(c), "3", 1), BUS_OK);
    sleep_ms(50);
    assert_int_equal(got_count(&marker), 2);
    bus_close(a);
    bus_close(b);
}

static void test_counters(void **state)
{
    char k[BUS_NAME_MAX], k2[BUS_NAME_MAX];
    bus *a = open_node(), *b = open_second(a);
    int64_t v = -1;
    chan(k, "clients");
    assert_int_equal(bus_counter_get(a, sb_str_c(k), &v), BUS_OK);
    assert_int_equal(v, 0);
    assert_int_equal(bus_counter_add(a, sb_str_c(k), 1, 0, &v), BUS_OK);
    assert_int_equal(v, 1);
    assert_int_equal(bus_counter_add(b, sb_str_c(k), 2, 0, &v), BUS_OK);
    assert_int_equal(v, 3);
    assert_int_equal(bus_counter_add(a, sb_str_c(k), -1, 0, &v), BUS_OK);
    assert_int_equal(v, 2);
    assert_int_equal(bus_counter_get(b, sb_str_c(k), &v), BUS_OK);
    assert_int_equal(v, 2);

    /* A TTL ends the key; adding 0 renews it. Margins of 400 ms or more,
     * for machines busy enough to oversleep. */
    chan(k2, "presence");
    assert_int_equal(bus_counter_add(a, sb_str_c(k2), 5, 1000, &v), BUS_OK);
    sleep_ms(600);
    assert_int_equal(bus_counter_add(b, sb_str_c(k2), 0, 1000, &v), BUS_OK);
    assert_int_equal(v, 5);
    sleep_ms(600);
    assert_int_equal(bus_counter_get(a, sb_str_c(k2), &v), BUS_OK);
    assert_int_equal(v, 5); /* 1.2 s after the first add, 0.6 s after the renewal */
    sleep_ms(1000);
    assert_int_equal(bus_counter_get(a, sb_str_c(k2), &v), BUS_OK);
    assert_int_equal(v, 0);
    assert_int_equal(bus_counter_add(a, sb_str_c(k2), 1, 500, &v), BUS_OK);
    assert_int_equal(v, 1); /* restarts from 0 */
    /* ttl 0 removes the expiry again */
    assert_int_equal(bus_counter_add(a, sb_str_c(k2), 0, 0, &v), BUS_OK);
    sleep_ms(700);
    assert_int_equal(bus_counter_get(a, sb_str_c(k2), &v), BUS_OK);
    assert_int_equal(v, 1);
    assert_int_equal(bus_counter_add(a, sb_str_c(k2), -1, 1, &v), BUS_OK); /* clean up */
    assert_int_equal(bus_counter_add(a, sb_str_c(k), -2, 1, &v), BUS_OK);
    assert_int_equal(v, 0);
    bus_close(a);
    bus_close(b);
}

/* Shares: each node's part of a total, gone within its TTL when the node
 * stops refreshing it (as a crashed node would). */
static void test_shares(void **state)
{
    char k[BUS_NAME_MAX];
    bus *a = open_node(), *b = open_second(a);
    chan(k, "doc:clients");
    int64_t t = -1;
    assert_int_equal(bus_share_total(a, sb_str_c(k), &t), BUS_OK);
    assert_int_equal(t, 0);
    assert_int_equal(bus_share_set(a, sb_str_c(k), 3, 1000), BUS_OK);
    assert_int_equal(bus_share_set(b, sb_str_c(k), 4, 1000), BUS_OK);
    assert_int_equal(bus_share_total(a, sb_str_c(k), &t), BUS_OK);
    assert_int_equal(t, 7);
    assert_int_equal(bus_share_set(a, sb_str_c(k), 2, 1000), BUS_OK); /* replaces a's */
    assert_int_equal(bus_share_total(b, sb_str_c(k), &t), BUS_OK);
    assert_int_equal(t, 6);
    assert_int_equal(bus_share_set(a, sb_str_c(k), 0, 0), BUS_ENAME);
    /* b keeps refreshing, a stops: a's 2 is gone after its TTL. */
    sleep_ms(600);
    assert_int_equal(bus_share_set(b, sb_str_c(k), 4, 1000), BUS_OK);
    sleep_ms(700);
    assert_int_equal(bus_share_total(b, sb_str_c(k), &t), BUS_OK);
    assert_int_equal(t, 4);
    assert_int_equal(bus_share_set(a, sb_str_c(k), 1, 1000), BUS_OK); /* a is back */
    assert_int_equal(bus_share_total(b, sb_str_c(k), &t), BUS_OK);
    assert_int_equal(t, 5);
    assert_int_equal(bus_share_set(a, sb_str_c(k), 0, 1), BUS_OK); /* clean up */
    assert_int_equal(bus_share_set(b, sb_str_c(k), 0, 1), BUS_OK);
    bus_close(a);
    bus_close(b);
}

static void count_reconnect(void *ctx)
{
    atomic_fetch_add((_Atomic int *)ctx, 1);
}

static void test_metrics(void **state)
{
    _Atomic int told = 0; /* the reconnect hook: never called on a healthy bus */
    char c[BUS_NAME_MAX];
    bus *a = open_node();
    bus_on_reconnect(a, count_reconnect, &told);
    assert_int_equal(bus_publish(a, sb_str_c(chan(c, "m")), "x", 1), BUS_OK);
    assert_int_equal(bus_publish(a, sb_str_c(c), "y", 1), BUS_OK);
    sb_buf out;
    sb_buf_init(&out, 0);
    bus_metrics_render(a, &out);
    char want[128];
    snprintf(want, sizeof(want), "sitebase_bus_published_total{driver=\"%s\"} 2\n",
             bus_driver_name(a));
    assert_non_null(strstr(out.ptr, want));
    snprintf(want, sizeof(want), "sitebase_bus_up{driver=\"%s\"} 1\n", bus_driver_name(a));
    assert_non_null(strstr(out.ptr, want));
    assert_non_null(strstr(out.ptr, "# TYPE sitebase_bus_dropped_total counter\n"));
    sb_buf_free(&out);
    assert_int_equal(atomic_load(&told), 0);
    bus_close(a);
}

/* A callback may publish and subscribe: b answers each ping with a pong,
 * and its first ping also subscribes it to a second channel. */
typedef struct echo {
    bus *b;
    char pong[BUS_NAME_MAX], extra[BUS_NAME_MAX];
    got *extra_got;
    uint64_t extra_id;
    bool subscribed;
} echo;

static void echo_cb(void *ctx, const bus_msg *m)
{
    echo *e = ctx;
    assert_int_equal(bus_publish(e->b, sb_str_c(e->pong), m->data, m->len), BUS_OK);
    if (!e->subscribed) {
        e->subscribed = true;
        assert_int_equal(
            bus_subscribe(e->b, sb_str_c(e->extra), 0, collect, e->extra_got, &e->extra_id),
            BUS_OK);
    }
}

static void test_callback_reenters(void **state)
{
    char ping[BUS_NAME_MAX];
    bus *a = open_node(), *b = open_second(a);
    got pongs, extra;
    got_init(&pongs);
    got_init(&extra);
    echo e = {.b = b, .extra_got = &extra};
    chan(e.pong, "pong");
    chan(e.extra, "extra");
    uint64_t id1, id2;
    assert_int_equal(bus_subscribe(a, sb_str_c(e.pong), 0, collect, &pongs, &id1), BUS_OK);
    assert_int_equal(bus_subscribe(b, sb_str_c(chan(ping, "ping")), 0, echo_cb, &e, &id2), BUS_OK);
    settle(a, &pongs, ping); /* a probe on ping comes back as a pong */
    assert_true(e.subscribed);
    settle(a, &extra, e.extra);
    assert_int_equal(bus_publish(a, sb_str_c(ping), "hi", 2), BUS_OK);
    assert_true(wait_for(&pongs, 1));
    assert_string_equal(pongs.data[0], "hi");
    assert_int_equal(pongs.from[0], bus_node_id(b));
    bus_close(a);
    bus_close(b);
}

/* mem:// only: a subscriber whose callback is stuck holds at most 64 MiB
 * queued; the rest is dropped and counted on the receiving node, and the
 * queue drains in order once the callback returns. */
typedef struct stuck {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool entered, release;
    int n;
} stuck;

static void stuck_cb(void *ctx, const bus_msg *m)
{
    stuck *st = ctx;
    pthread_mutex_lock(&st->lock);
    st->n++;
    st->entered = true;
    pthread_cond_broadcast(&st->cond);
    while (!st->release)
        pthread_cond_wait(&st->cond, &st->lock);
    pthread_mutex_unlock(&st->lock);
}

static void test_mem_full_queue(void **state)
{
    if (is_redis())
        skip();
    bus *a = open_node(), *b = open_second(a);
    stuck st = {.n = 0};
    pthread_mutex_init(&st.lock, NULL);
    pthread_cond_init(&st.cond, NULL);
    uint64_t id;
    assert_int_equal(bus_subscribe(b, SB_STR("big"), 0, stuck_cb, &st, &id), BUS_OK);
    size_t mib = 1024 * 1024;
    char *payload = calloc(1, mib);
    assert_int_equal(bus_publish(a, SB_STR("big"), payload, mib), BUS_OK);
    pthread_mutex_lock(&st.lock);
    while (!st.entered)
        pthread_cond_wait(&st.cond, &st.lock);
    pthread_mutex_unlock(&st.lock);
    for (int i = 0; i < 69; i++)
        assert_int_equal(bus_publish(a, SB_STR("big"), payload, mib), BUS_OK);
    bus_stats sa, sb;
    bus_stats_get(a, &sa);
    bus_stats_get(b, &sb);
    assert_int_equal(sa.published, 70);
    assert_int_equal(sa.dropped, 0);
    assert_int_equal(sb.dropped, 5); /* 1 in the callback + 64 queued of 70 */
    pthread_mutex_lock(&st.lock);
    st.release = true;
    pthread_cond_broadcast(&st.cond);
    pthread_mutex_unlock(&st.lock);
    uint64_t end = sb_mono_ns() + WAIT_NS;
    for (;;) {
        pthread_mutex_lock(&st.lock);
        int n = st.n;
        pthread_mutex_unlock(&st.lock);
        if (n == 65)
            break;
        assert_true(sb_mono_ns() < end);
        sleep_ms(2);
    }
    free(payload);
    bus_close(b);
    bus_close(a);
}

/* Nothing listens on port 1: the bus opens, reports itself down, drops
 * and counts what is published, and refuses counters. */
static void test_redis_unreachable(void **state)
{
    bus *b = NULL;
    sb_errbuf err = {{0}};
    assert_int_equal(bus_open("redis://127.0.0.1:1/3", &b, &err), BUS_OK);
    assert_string_equal(bus_driver_name(b), "redis");
    sleep_ms(50);
    assert_int_equal(bus_health(b, &err), BUS_EDOWN);
    assert_non_null(strstr(err.msg, "127.0.0.1:1"));
    assert_int_equal(bus_publish(b, SB_STR("doc:1"), "x", 1), BUS_EDOWN);
    assert_int_equal(bus_publish(b, SB_STR("doc:1"), "y", 1), BUS_EDOWN);
    int64_t v = 42;
    assert_int_equal(bus_counter_add(b, SB_STR("k"), 1, 0, &v), BUS_EDOWN);
    assert_int_equal(bus_counter_get(b, SB_STR("k"), &v), BUS_EDOWN);
    assert_int_equal(bus_share_set(b, SB_STR("k"), 1, 1000), BUS_EDOWN);
    assert_int_equal(bus_share_total(b, SB_STR("k"), &v), BUS_EDOWN);
    assert_int_equal(v, 42);
    uint64_t id;
    got g;
    got_init(&g);
    assert_int_equal(bus_subscribe(b, SB_STR("doc:*"), 0, collect, &g, &id), BUS_OK);
    uint64_t id2 = 0;
    /* Not confirmed while down, but subscribed all the same. */
    assert_int_equal(bus_subscribe(b, SB_STR("doc:2"), BUS_CONFIRMED, collect, &g, &id2),
                     BUS_EDOWN);
    assert_int_equal(bus_unsubscribe(b, id2), BUS_OK);
    bus_stats st;
    bus_stats_get(b, &st);
    assert_int_equal(st.published, 0);
    assert_int_equal(st.dropped, 2);
    assert_false(st.up);
    bus *p;
    assert_int_equal(bus_open_peer(b, &p), BUS_EURL);
    bus_close(b);
}

/* Redis only: every connection is killed under the bus; it reconnects,
 * counts it, tells bus_on_reconnect, and its subscriptions work again. */
static void test_redis_reconnect(void **state)
{
    if (!is_redis())
        skip();
    char c[BUS_NAME_MAX];
    bus *a = open_node(), *b = open_second(a);
    got g;
    got_init(&g);
    uint64_t id;
    assert_int_equal(bus_subscribe(b, sb_str_c(chan(c, "survive")), 0, collect, &g, &id), BUS_OK);
    settle(a, &g, c);
    _Atomic int told = 0;
    bus_on_reconnect(b, count_reconnect, &told);

    int port = 0;
    assert_int_equal(sscanf(url(), "redis://127.0.0.1:%d", &port), 1);
    redisContext *admin = redisConnect("127.0.0.1", port);
    assert_non_null(admin);
    assert_int_equal(admin->err, 0);
    redisReply *r = redisCommand(admin, "CLIENT KILL TYPE pubsub");
    assert_non_null(r);
    assert_true(r->type == REDIS_REPLY_INTEGER && r->integer >= 1); /* b's; a has none */
    freeReplyObject(r);
    r = redisCommand(admin, "CLIENT KILL TYPE normal SKIPME yes");
    assert_non_null(r);
    freeReplyObject(r);
    redisFree(admin);

    /* Both come back on their own, subscriptions included. */
    uint64_t end = sb_mono_ns() + WAIT_NS;
    bus_stats sa, sb;
    do {
        assert_true(sb_mono_ns() < end);
        sleep_ms(20);
        bus_stats_get(a, &sa);
        bus_stats_get(b, &sb);
    } while (!(sa.reconnects >= 1 && sb.reconnects >= 1 && sa.up && sb.up));
    while (atomic_load(&told) < 1) { /* told after the subscriptions are sent */
        assert_true(sb_mono_ns() < end);
        sleep_ms(2);
    }
    assert_int_equal(atomic_load(&told), (int)sb.reconnects);
    settle(a, &g, c);
    assert_int_equal(bus_publish(a, sb_str_c(c), "after", 5), BUS_OK);
    assert_true(wait_for(&g, 1));
    assert_string_equal(g.data[0], "after");
    bus_close(a);
    bus_close(b);
}

/* The outage steps of tests/integration/bus_redis.sh (see there). */
static const char *outage_dir(void)
{
    return getenv("SITEBASE_TEST_BUS_OUTAGE");
}

static void outage_step(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", outage_dir(), name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

static void wait_health(bus *b, bus_err want)
{
    uint64_t end = sb_mono_ns() + 2 * WAIT_NS;
    sb_errbuf err;
    while (bus_health(b, &err) != want) {
        assert_true(sb_mono_ns() < end);
        sleep_ms(5);
    }
}

static void test_redis_outage(void **state)
{
    if (!outage_dir())
        skip();
    char c[BUS_NAME_MAX];
    sb_errbuf err;
    bus *a, *b;
    assert_int_equal(bus_open(url(), &a, &err), BUS_OK);
    assert_int_equal(bus_open(url(), &b, &err), BUS_OK);
    sleep_ms(100);
    assert_int_equal(bus_health(a, &err), BUS_EDOWN);
    assert_int_equal(bus_publish(a, sb_str_c(chan(c, "outage")), "lost", 4), BUS_EDOWN);
    got g;
    got_init(&g);
    uint64_t id;
    /* Subscribed while down: it must take effect once connected. */
    assert_int_equal(bus_subscribe(b, sb_str_c(c), 0, collect, &g, &id), BUS_OK);
    _Atomic int told = 0;
    bus_on_reconnect(b, count_reconnect, &told);
    outage_step("down-checked");

    wait_health(a, BUS_OK);
    wait_health(b, BUS_OK);
    bus_stats st;
    bus_stats_get(a, &st);
    assert_int_equal(st.reconnects, 0); /* a first connection is no reconnect */
    assert_int_equal(atomic_load(&told), 0);
    settle(a, &g, c);
    outage_step("up-checked");

    wait_health(a, BUS_EDOWN);
    assert_int_equal(bus_publish(a, sb_str_c(c), "lost", 4), BUS_EDOWN);
    bus_stats_get(a, &st);
    assert_true(st.dropped >= 2);
    assert_false(st.up);
    outage_step("down2-checked");

    wait_health(a, BUS_OK);
    wait_health(b, BUS_OK);
    bus_stats_get(b, &st);
    assert_true(st.reconnects >= 1);
    settle(a, &g, c);
    assert_int_equal(bus_publish(a, sb_str_c(c), "back", 4), BUS_OK);
    assert_true(wait_for(&g, 1));
    assert_string_equal(g.data[0], "back");
    assert_true(atomic_load(&told) >= 1);
    bus_close(a);
    bus_close(b);
}

int main(void)
{
    snprintf(run_tag, sizeof(run_tag), "%llx", (unsigned long long)sb_mono_ns());
    printf("bus_api_test: %s\n", url());
    if (outage_dir()) {
        const struct CMUnitTest outage[] = {cmocka_unit_test(test_redis_outage)};
        return cmocka_run_group_tests(outage, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_publish_subscribe),
        cmocka_unit_test(test_confirmed),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_skip_own_and_order),
        cmocka_unit_test(test_publish_others),
        cmocka_unit_test(test_unsubscribe_in_callback),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_shares),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_callback_reenters),
        cmocka_unit_test(test_mem_full_queue),
        cmocka_unit_test(test_redis_unreachable),
        cmocka_unit_test(test_redis_reconnect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
