/*
 * bus.c: the driver-independent half of the bus: URL dispatch, name rules,
 * the subscription list and its dispatch, statistics and their metrics.
 *
 * Invariants: a subscription is in subs until it is unsubscribed (outside
 * a dispatch) or the dispatch that marked it dead ends; a dead
 * subscription is never called; the driver's interest hook sees on/off in
 * strict alternation per (name, pattern).
 */
#include "bus/bus_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/rand.h"

/* The bus whose callbacks this thread is running, if any: a callback that
 * calls back into the bus already holds subs_lock. */
static _Thread_local bus *tls_dispatching;

const char *bus_strerror(bus_err e)
{
    switch (e) {
#define BUS_ERR_MSG(name, msg)                                                                     \
    case name:                                                                                     \
        return msg;
        BUS_ERR_MAP(BUS_ERR_MSG)
#undef BUS_ERR_MSG
    }
    return "unknown bus error";
}

bool bus_name_valid(sb_str name, bool pattern)
{
    size_t n = name.len;
    if (pattern) {
        if (n < 2 || name.ptr[n - 1] != '*')
            return false;
        n--;
    }
    if (n == 0 || n > BUS_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name.ptr[i];
        if (c < 0x21 || c > 0x7e || c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
            return false;
    }
    return true;
}

bus *bus__new(void)
{
    bus *b = sb_calloc(1, sizeof(*b));
    pthread_mutex_init(&b->subs_lock, NULL);
    b->node_id = sb_rand_u64();
    b->next_id = 1;
    return b;
}

static void sub_free(bus_sub *s)
{
    free(s->name);
    free(s);
}

void bus__free(bus *b)
{
    for (size_t i = 0; i < b->subs.len; i++)
        sub_free(b->subs.items[i]);
    sb_vec_free(&b->subs);
    pthread_mutex_destroy(&b->subs_lock);
    free(b);
}

bus_err bus_open(const char *url, bus **out, sb_errbuf *err)
{
    bus *b = bus__new();
    bus_err e;
    if (!url || !url[0] || strcmp(url, "mem://") == 0) {
        e = bus__mem_open(b, err);
    } else if (strncmp(url, "redis://", 8) == 0) {
        e = bus__redis_open(b, url, err);
    } else {
        sb_errf(err, "bus: unknown URL scheme in '%.64s' (want mem:// or redis://)", url);
        e = BUS_EURL;
    }
    if (e != BUS_OK) {
        bus__free(b);
        return e;
    }
    *out = b;
    return BUS_OK;
}

bus_err bus_open_peer(bus *b, bus **out)
{
    if (strcmp(b->drv->name, "mem") != 0)
        return BUS_EURL;
    bus *p = bus__new();
    bus_err e = bus__mem_peer(b, p);
    if (e != BUS_OK) {
        bus__free(p);
        return e;
    }
    *out = p;
    return BUS_OK;
}

void bus_close(bus *b)
{
    if (!b)
        return;
    if (tls_dispatching == b)
        sb_die("bus_close called from one of the bus's own callbacks");
    b->drv->close(b);
    bus__free(b);
}

uint64_t bus_node_id(const bus *b)
{
    return b->node_id;
}

const char *bus_driver_name(const bus *b)
{
    return b->drv->name;
}

static bus_err publish(bus *b, sb_str channel, const void *data, size_t len, bool others)
{
    if (!bus_name_valid(channel, false))
        return BUS_ENAME;
    if (len > BUS_MESSAGE_MAX)
        return BUS_ETOOBIG;
    bus_err e = b->drv->publish(b, channel, data, len, others);
    if (e == BUS_OK)
        atomic_fetch_add_explicit(&b->published, 1, memory_order_relaxed);
    else if (e == BUS_EDOWN)
        atomic_fetch_add_explicit(&b->dropped, 1, memory_order_relaxed);
    return e;
}

bus_err bus_publish(bus *b, sb_str channel, const void *data, size_t len)
{
    return publish(b, channel, data, len, false);
}

bus_err bus_publish_others(bus *b, sb_str channel, const void *data, size_t len)
{
    return publish(b, channel, data, len, true);
}

static void lock_subs(bus *b)
{
    if (tls_dispatching != b)
        pthread_mutex_lock(&b->subs_lock);
}

static void unlock_subs(bus *b)
{
    if (tls_dispatching != b)
        pthread_mutex_unlock(&b->subs_lock);
}

/* Whether another live subscription than skip has this name and kind. */
static bool name_in_use(const bus *b, const bus_sub *skip, sb_str name, bool pattern)
{
    for (size_t i = 0; i < b->subs.len; i++) {
        const bus_sub *s = b->subs.items[i];
        if (s != skip && !s->dead && s->pattern == pattern &&
            sb_str_eq(sb_str_make(s->name, s->name_len), name))
            return true;
    }
    return false;
}

bus_err bus_subscribe(bus *b, sb_str name, int flags, bus_cb cb, void *ctx, uint64_t *id)
{
    bool pattern = name.len > 0 && name.ptr[name.len - 1] == '*';
    if (!bus_name_valid(name, pattern))
        return BUS_ENAME;
    bus_sub *s = sb_calloc(1, sizeof(*s));
    s->name_len = pattern ? name.len - 1 : name.len;
    s->name = sb_strndup(name.ptr, s->name_len);
    s->pattern = pattern;
    s->flags = flags;
    s->cb = cb;
    s->ctx = ctx;
    sb_str bare = sb_str_make(s->name, s->name_len);
    lock_subs(b);
    s->id = b->next_id++;
    bool first = !name_in_use(b, NULL, bare, pattern);
    sb_vec_push(&b->subs, s);
    if (first && b->drv->interest)
        b->drv->interest(b, bare, pattern, true);
    unlock_subs(b);
    *id = s->id;
    if ((flags & BUS_CONFIRMED) && b->drv->confirm && tls_dispatching != b)
        return b->drv->confirm(b);
    return BUS_OK;
}

bus_err bus_unsubscribe(bus *b, uint64_t id)
{
    bus_err e = BUS_ENOTFOUND;
    lock_subs(b);
    for (size_t i = 0; i < b->subs.len; i++) {
        bus_sub *s = b->subs.items[i];
        if (s->id != id || s->dead)
            continue;
        sb_str bare = sb_str_make(s->name, s->name_len);
        if (b->drv->interest && !name_in_use(b, s, bare, s->pattern))
            b->drv->interest(b, bare, s->pattern, false);
        if (tls_dispatching == b) {
            s->dead = true; /* the running dispatch walks subs: it frees s */
        } else {
            b->subs.items[i] = b->subs.items[--b->subs.len];
            sub_free(s);
        }
        e = BUS_OK;
        break;
    }
    unlock_subs(b);
    return e;
}

static bool sub_matches(const bus_sub *s, bus__match match, sb_str pattern, sb_str channel)
{
    sb_str name = sb_str_make(s->name, s->name_len);
    switch (match) {
    case BUS__MATCH_EXACT:
        return !s->pattern && sb_str_eq(name, channel);
    case BUS__MATCH_PATTERN:
        return s->pattern && sb_str_eq(name, pattern);
    case BUS__MATCH_ALL:
        break;
    }
    return s->pattern ? sb_str_has_prefix(channel, name) : sb_str_eq(name, channel);
}

void bus__dispatch(bus *b, bus__match match, sb_str pattern, sb_str channel, uint64_t from,
                   const uint8_t *data, size_t len)
{
    pthread_mutex_lock(&b->subs_lock);
    tls_dispatching = b;
    bus_msg msg = {.channel = channel, .data = data, .len = len, .from_node = from};
    /* Subscriptions made by these callbacks start with the next message. */
    size_t n = b->subs.len;
    bool any_dead = false;
    for (size_t i = 0; i < n; i++) {
        bus_sub *s = b->subs.items[i];
        if (s->dead) {
            any_dead = true;
            continue;
        }
        if (!sub_matches(s, match, pattern, channel))
            continue;
        if ((s->flags & BUS_SKIP_OWN) && from == b->node_id)
            continue;
        s->cb(s->ctx, &msg);
        atomic_fetch_add_explicit(&b->delivered, 1, memory_order_relaxed);
        any_dead |= s->dead;
    }
    if (any_dead || b->subs.len != n) {
        size_t w = 0;
        for (size_t i = 0; i < b->subs.len; i++) {
            bus_sub *s = b->subs.items[i];
            if (s->dead)
                sub_free(s);
            else
                b->subs.items[w++] = s;
        }
        b->subs.len = w;
    }
    tls_dispatching = NULL;
    pthread_mutex_unlock(&b->subs_lock);
}

void bus_on_reconnect(bus *b, void (*cb)(void *ctx), void *ctx)
{
    lock_subs(b);
    b->on_reconnect = cb;
    b->on_reconnect_ctx = ctx;
    unlock_subs(b);
}

void bus__reconnected(bus *b)
{
    pthread_mutex_lock(&b->subs_lock);
    tls_dispatching = b; /* it may publish and subscribe, as callbacks may */
    if (b->on_reconnect)
        b->on_reconnect(b->on_reconnect_ctx);
    tls_dispatching = NULL;
    pthread_mutex_unlock(&b->subs_lock);
}

void bus__each_interest(bus *b, void (*fn)(bus *b, sb_str name, bool pattern, void *ctx), void *ctx)
{
    pthread_mutex_lock(&b->subs_lock);
    for (size_t i = 0; i < b->subs.len; i++) {
        bus_sub *s = b->subs.items[i];
        if (s->dead)
            continue;
        bool seen = false; /* report each (name, kind) once */
        for (size_t j = 0; j < i && !seen; j++) {
            bus_sub *o = b->subs.items[j];
            seen = !o->dead && o->pattern == s->pattern && o->name_len == s->name_len &&
                   memcmp(o->name, s->name, s->name_len) == 0;
        }
        if (!seen)
            fn(b, sb_str_make(s->name, s->name_len), s->pattern, ctx);
    }
    pthread_mutex_unlock(&b->subs_lock);
}

static bool key_ok(sb_str key)
{
    return bus_name_valid(key, false);
}

bus_err bus_counter_add(bus *b, sb_str key, int64_t delta, int64_t ttl_ms, int64_t *value)
{
    if (!key_ok(key) || ttl_ms < 0)
        return BUS_ENAME;
    return b->drv->counter_add(b, key, delta, ttl_ms, value);
}

bus_err bus_counter_get(bus *b, sb_str key, int64_t *value)
{
    if (!key_ok(key))
        return BUS_ENAME;
    return b->drv->counter_get(b, key, value);
}

bus_err bus_share_set(bus *b, sb_str key, int64_t value, int64_t ttl_ms)
{
    if (!key_ok(key) || ttl_ms <= 0)
        return BUS_ENAME;
    return b->drv->share_set(b, key, value, ttl_ms);
}

bus_err bus_share_total(bus *b, sb_str key, int64_t *total)
{
    if (!key_ok(key))
        return BUS_ENAME;
    return b->drv->share_total(b, key, total);
}

bus_err bus_health(bus *b, sb_errbuf *err)
{
    return b->drv->health(b, err);
}

void bus_stats_get(bus *b, bus_stats *out)
{
    out->published = atomic_load_explicit(&b->published, memory_order_relaxed);
    out->delivered = atomic_load_explicit(&b->delivered, memory_order_relaxed);
    out->dropped = atomic_load_explicit(&b->dropped, memory_order_relaxed);
    out->reconnects = atomic_load_explicit(&b->reconnects, memory_order_relaxed);
    out->up = b->drv->health(b, NULL) == BUS_OK;
}

void bus_metrics_render(bus *b, sb_buf *out)
{
    bus_stats st;
    bus_stats_get(b, &st);
    const char *d = b->drv->name;
    sb_buf_appendf(out,
                   "# HELP sitebase_bus_published_total Messages published on the bus.\n"
                   "# TYPE sitebase_bus_published_total counter\n"
                   "sitebase_bus_published_total{driver=\"%s\"} %" PRIu64 "\n"
                   "# HELP sitebase_bus_delivered_total Messages handed to subscribers.\n"
                   "# TYPE sitebase_bus_delivered_total counter\n"
                   "sitebase_bus_delivered_total{driver=\"%s\"} %" PRIu64 "\n"
                   "# HELP sitebase_bus_dropped_total Messages lost: published while the bus "
                   "was down, or to a full queue.\n"
                   "# TYPE sitebase_bus_dropped_total counter\n"
                   "sitebase_bus_dropped_total{driver=\"%s\"} %" PRIu64 "\n"
                   "# HELP sitebase_bus_reconnects_total Connections to the bus server after "
                   "the first.\n"
                   "# TYPE sitebase_bus_reconnects_total counter\n"
                   "sitebase_bus_reconnects_total{driver=\"%s\"} %" PRIu64 "\n"
                   "# HELP sitebase_bus_up Whether the bus is connected.\n"
                   "# TYPE sitebase_bus_up gauge\n"
                   "sitebase_bus_up{driver=\"%s\"} %d\n",
                   d, st.published, d, st.delivered, d, st.dropped, d, st.reconnects, d,
                   st.up ? 1 : 0);
}
