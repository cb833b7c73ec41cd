/*
 * mem.c: the in-process bus driver. A hub holds the members (bus handles
 * opened with bus_open and bus_open_peer) and the shared counters; each
 * member has a queue and a delivery thread that runs its callbacks.
 *
 * publish hands one reference-counted copy of the message to every
 * member's queue under the hub lock, so all members see one hub-wide order.
 * A member whose queue holds more than MEM_QUEUE_MAX bytes (a callback that
 * blocks) loses new messages, counted as dropped, instead of growing
 * without bound.
 *
 * Locks: hub->lock (members, counters), then a member's qlock; never the
 * other way round. The hub lives while any member does (refs).
 */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/map.h"
#include "bus/bus_int.h"

#define MEM_QUEUE_MAX (64u * 1024 * 1024)

typedef struct mem_msg {
    _Atomic unsigned refs;
    uint64_t from;
    size_t channel_len, len;
    uint8_t bytes[]; /* channel, then data */
} mem_msg;

typedef struct mem_item {
    struct mem_item *next;
    mem_msg *msg;
} mem_item;

typedef struct mem_hub mem_hub;

typedef struct mem_member {
    bus *b;
    mem_hub *hub;
    pthread_t thread;
    pthread_mutex_t qlock; /* guards head, tail, queued, stop */
    pthread_cond_t qcond;
    mem_item *head, *tail;
    size_t queued; /* bytes of the messages in the queue */
    bool stop;
} mem_member;

typedef struct mem_counter {
    int64_t value;
    uint64_t expires_ns; /* 0 = never */
} mem_counter;

typedef struct mem_share {
    uint64_t node;
    int64_t value;
    uint64_t expires_ns;
} mem_share;

typedef SB_VEC(mem_share) mem_shares;

struct mem_hub {
    pthread_mutex_t lock; /* guards everything below */
    unsigned refs;
    SB_VEC(mem_member *) members;
    sb_map counters; /* key -> mem_counter */
    sb_map shares;   /* key -> mem_shares (expired entries pruned when read) */
    unsigned ops;    /* counter operations, for the periodic expiry sweep */
};

static void msg_unref(mem_msg *m)
{
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        free(m);
}

static void *member_main(void *arg)
{
    mem_member *mm = arg;
    for (;;) {
        pthread_mutex_lock(&mm->qlock);
        while (!mm->head && !mm->stop)
            pthread_cond_wait(&mm->qcond, &mm->qlock);
        if (mm->stop) {
            pthread_mutex_unlock(&mm->qlock);
            return NULL;
        }
        mem_item *it = mm->head;
        mm->head = it->next;
        if (!mm->head)
            mm->tail = NULL;
        mm->queued -= it->msg->len;
        pthread_mutex_unlock(&mm->qlock);

        mem_msg *m = it->msg;
        free(it);
        sb_str channel = sb_str_make((const char *)m->bytes, m->channel_len);
        bus__dispatch(mm->b, BUS__MATCH_ALL, (sb_str){0}, channel, m->from,
                      m->bytes + m->channel_len, m->len);
        msg_unref(m);
    }
}

static bus_err mem_publish(bus *b, sb_str channel, const void *data, size_t len, bool others)
{
    mem_member *self = b->impl;
    mem_hub *hub = self->hub;
    if (others) { /* a node alone (the usual mem bus) has no one to tell */
        pthread_mutex_lock(&hub->lock);
        size_t members = hub->members.len;
        pthread_mutex_unlock(&hub->lock);
        if (members <= 1)
            return BUS_OK;
    }
    mem_msg *m = sb_malloc(sizeof(*m) + channel.len + len);
    m->from = b->node_id;
    m->channel_len = channel.len;
    m->len = len;
    memcpy(m->bytes, channel.ptr, channel.len);
    if (len)
        memcpy(m->bytes + channel.len, data, len);
    atomic_init(&m->refs, 1); /* ours, until every member has its own */

    pthread_mutex_lock(&hub->lock);
    for (size_t i = 0; i < hub->members.len; i++) {
        mem_member *mm = hub->members.items[i];
        if (others && mm == self)
            continue;
        pthread_mutex_lock(&mm->qlock);
        if (mm->queued + len > MEM_QUEUE_MAX) {
            pthread_mutex_unlock(&mm->qlock);
            atomic_fetch_add_explicit(&mm->b->dropped, 1, memory_order_relaxed);
            continue;
        }
        mem_item *it = sb_malloc(sizeof(*it));
        it->next = NULL;
        it->msg = m;
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
        if (mm->tail)
            mm->tail->next = it;
        else
            mm->head = it;
        mm->tail = it;
        mm->queued += len;
        pthread_cond_signal(&mm->qcond);
        pthread_mutex_unlock(&mm->qlock);
    }
    pthread_mutex_unlock(&hub->lock);
    msg_unref(m);
    return BUS_OK;
}

/* Drops expired counters now and then, so keys nobody reads again do not
 * pile up; hub->lock held. Deleting moves slots, so collect first. */
static void sweep_counters(mem_hub *hub, uint64_t now)
{
    if (++hub->ops % 1024 != 0)
        return;
    SB_VEC(char *) dead = {0};
    size_t it = 0;
    sb_map_entry *e;
    while ((e = sb_map_next(&hub->counters, &it))) {
        mem_counter *c = e->value;
        if (c->expires_ns && c->expires_ns <= now)
            sb_vec_push(&dead, sb_strndup(e->key, e->key_len));
    }
    for (size_t i = 0; i < dead.len; i++) {
        free(sb_map_del(&hub->counters, sb_str_c(dead.items[i])));
        free(dead.items[i]);
    }
    sb_vec_free(&dead);
}

/* The live counter for key, or NULL; an expired one is removed. */
static mem_counter *counter_find(mem_hub *hub, sb_str key, uint64_t now)
{
    mem_counter *c = sb_map_get(&hub->counters, key);
    if (c && c->expires_ns && c->expires_ns <= now) {
        free(sb_map_del(&hub->counters, key));
        c = NULL;
    }
    return c;
}

static bus_err mem_counter_add(bus *b, sb_str key, int64_t delta, int64_t ttl_ms, int64_t *value)
{
    mem_hub *hub = ((mem_member *)b->impl)->hub;
    uint64_t now = sb_mono_ns();
    pthread_mutex_lock(&hub->lock);
    sweep_counters(hub, now);
    mem_counter *c = counter_find(hub, key, now);
    if (!c) {
        c = sb_calloc(1, sizeof(*c));
        sb_map_put(&hub->counters, key, c);
    }
    /* Wraps like Redis refuses to: saturate instead of overflowing. */
    if (__builtin_add_overflow(c->value, delta, &c->value))
        c->value = delta > 0 ? INT64_MAX : INT64_MIN;
    c->expires_ns = ttl_ms > 0 ? now + (uint64_t)ttl_ms * 1000000u : 0;
    *value = c->value;
    pthread_mutex_unlock(&hub->lock);
    return BUS_OK;
}

static bus_err mem_counter_get(bus *b, sb_str key, int64_t *value)
{
    mem_hub *hub = ((mem_member *)b->impl)->hub;
    pthread_mutex_lock(&hub->lock);
    mem_counter *c = counter_find(hub, key, sb_mono_ns());
    *value = c ? c->value : 0;
    pthread_mutex_unlock(&hub->lock);
    return BUS_OK;
}

static bus_err mem_share_set(bus *b, sb_str key, int64_t value, int64_t ttl_ms)
{
    mem_hub *hub = ((mem_member *)b->impl)->hub;
    uint64_t expires = sb_mono_ns() + (uint64_t)ttl_ms * 1000000u;
    pthread_mutex_lock(&hub->lock);
    mem_shares *v = sb_map_get(&hub->shares, key);
    if (!v) {
        v = sb_calloc(1, sizeof(*v));
        sb_map_put(&hub->shares, key, v);
    }
    size_t i = 0;
    while (i < v->len && v->items[i].node != b->node_id)
        i++;
    if (i == v->len)
        sb_vec_push(v, ((mem_share){.node = b->node_id}));
    v->items[i].value = value;
    v->items[i].expires_ns = expires;
    pthread_mutex_unlock(&hub->lock);
    return BUS_OK;
}

static bus_err mem_share_total(bus *b, sb_str key, int64_t *total)
{
    mem_hub *hub = ((mem_member *)b->impl)->hub;
    uint64_t now = sb_mono_ns();
    int64_t sum = 0;
    pthread_mutex_lock(&hub->lock);
    mem_shares *v = sb_map_get(&hub->shares, key);
    if (v) {
        size_t w = 0;
        for (size_t i = 0; i < v->len; i++) {
            if (v->items[i].expires_ns <= now)
                continue; /* that node stopped refreshing its share */
            sum += v->items[i].value;
            v->items[w++] = v->items[i];
        }
        v->len = w;
        if (w == 0) {
            sb_map_del(&hub->shares, key);
            sb_vec_free(v);
            free(v);
        }
    }
    pthread_mutex_unlock(&hub->lock);
    *total = sum;
    return BUS_OK;
}

static bus_err mem_health(bus *b, sb_errbuf *err)
{
    return BUS_OK;
}

static void hub_unref(mem_hub *hub)
{
    pthread_mutex_lock(&hub->lock);
    bool last = --hub->refs == 0;
    pthread_mutex_unlock(&hub->lock);
    if (!last)
        return;
    size_t it = 0;
    sb_map_entry *e;
    while ((e = sb_map_next(&hub->counters, &it)))
        free(e->value);
    sb_map_deinit(&hub->counters);
    it = 0;
    while ((e = sb_map_next(&hub->shares, &it))) {
        mem_shares *v = e->value;
        sb_vec_free(v);
        free(v);
    }
    sb_map_deinit(&hub->shares);
    sb_vec_free(&hub->members);
    pthread_mutex_destroy(&hub->lock);
    free(hub);
}

static void mem_close(bus *b)
{
    mem_member *mm = b->impl;
    mem_hub *hub = mm->hub;
    pthread_mutex_lock(&hub->lock);
    for (size_t i = 0; i < hub->members.len; i++) {
        if (hub->members.items[i] == mm) {
            hub->members.items[i] = hub->members.items[--hub->members.len];
            break;
        }
    }
    pthread_mutex_unlock(&hub->lock);
    /* Nobody can enqueue now: stop the thread, then drop what is left. */
    pthread_mutex_lock(&mm->qlock);
    mm->stop = true;
    pthread_cond_signal(&mm->qcond);
    pthread_mutex_unlock(&mm->qlock);
    pthread_join(mm->thread, NULL);
    for (mem_item *it = mm->head, *next; it; it = next) {
        next = it->next;
        msg_unref(it->msg);
        free(it);
    }
    pthread_cond_destroy(&mm->qcond);
    pthread_mutex_destroy(&mm->qlock);
    free(mm);
    hub_unref(hub);
}

static const bus_driver mem_driver = {
    .name = "mem",
    .publish = mem_publish,
    .counter_add = mem_counter_add,
    .counter_get = mem_counter_get,
    .share_set = mem_share_set,
    .share_total = mem_share_total,
    .health = mem_health,
    .interest = NULL,
    .close = mem_close,
};

static void member_start(bus *b, mem_hub *hub)
{
    mem_member *mm = sb_calloc(1, sizeof(*mm));
    mm->b = b;
    mm->hub = hub;
    pthread_mutex_init(&mm->qlock, NULL);
    pthread_cond_init(&mm->qcond, NULL);
    b->drv = &mem_driver;
    b->impl = mm;
    if (pthread_create(&mm->thread, NULL, member_main, mm) != 0)
        sb_die("bus: cannot start the delivery thread");
    pthread_mutex_lock(&hub->lock);
    hub->refs++;
    sb_vec_push(&hub->members, mm);
    pthread_mutex_unlock(&hub->lock);
}

bus_err bus__mem_open(bus *b, sb_errbuf *err)
{
    mem_hub *hub = sb_calloc(1, sizeof(*hub));
    pthread_mutex_init(&hub->lock, NULL);
    sb_map_init(&hub->counters);
    sb_map_init(&hub->shares);
    member_start(b, hub);
    return BUS_OK;
}

bus_err bus__mem_peer(bus *b, bus *peer)
{
    member_start(peer, ((mem_member *)b->impl)->hub);
    return BUS_OK;
}
