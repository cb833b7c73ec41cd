/*
 * redis.c: the Redis bus driver (hiredis, RESP2), for several nodes.
 *
 * Two connections. `pub` carries PUBLISH and the counter commands, one
 * synchronous round trip at a time under pub_lock, bounded by a 1 s
 * timeout. `sub` is in subscribed mode and belongs to the I/O thread,
 * which polls it together with a wake-up pipe: other threads never touch
 * it; they queue subscription changes (pending) and write to the pipe.
 *
 * Wire format. Channels are "sb<db>:<channel>" (Redis pub/sub ignores the
 * database number, so the prefix keeps databases apart as users expect);
 * counters and shares live in database <db> (redis_counters.c). A message
 * is the publisher's node id (8 bytes, big-endian) followed by the data; shorter
 * messages on our channels are not ours and are ignored.
 *
 * Failure. Any I/O error on either connection takes the link down: both are
 * closed, health reports it, publish drops (the core counts), and the I/O
 * thread reconnects with backoff (100 ms doubling to 5 s), subscribes to
 * every channel and pattern with subscribers again, then resets the
 * backoff. Messages published by others meanwhile are lost (see bus.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "bus/redis_int.h"

static void rd_wake(rd *r)
{
    char c = 1;
    /* A full pipe already means "wake up": nothing to do on EAGAIN. */
    ssize_t n = write(r->wake[1], &c, 1);
    (void)n;
}

static void rd_set_error(rd *r, const char *what, const redisContext *c)
{
    pthread_mutex_lock(&r->lock);
    snprintf(r->last_error, sizeof(r->last_error), "redis %.64s:%d: %.60s%s%.100s", r->host,
             r->port, what, c && c->err ? ": " : "", c && c->err ? c->errstr : "");
    pthread_mutex_unlock(&r->lock);
}

/* ---- URL ---- */

/* redis://host[:port][/db]; host is a name or IPv4 address. */
static bus_err parse_url(rd *r, const char *url, sb_errbuf *err)
{
    const char *p = url + 8;
    size_t hl = strcspn(p, ":/?#@");
    if (p[hl] == '@' || p[hl] == '?' || p[hl] == '#')
        return sb_errf(err, "bus: '%.64s': user info and query are not supported", url), BUS_EURL;
    if (hl == 0 || hl >= sizeof(r->host))
        return sb_errf(err, "bus: '%.64s' needs a host", url), BUS_EURL;
    for (size_t i = 0; i < hl; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-'))
            return sb_errf(err, "bus: bad host in '%.64s'", url), BUS_EURL;
    }
    memcpy(r->host, p, hl);
    r->host[hl] = '\0';
    p += hl;
    int64_t v;
    r->port = 6379;
    if (*p == ':') {
        size_t n = strcspn(++p, "/");
        if (!sb_str_to_i64(sb_str_make(p, n), 1, 65535, &v))
            return sb_errf(err, "bus: bad port in '%.64s'", url), BUS_EURL;
        r->port = (int)v;
        p += n;
    }
    r->db = 0;
    if (*p == '/' && p[1]) {
        if (!sb_str_to_i64(sb_str_c(p + 1), 0, 9999, &v))
            return sb_errf(err, "bus: bad database number in '%.64s'", url), BUS_EURL;
        r->db = (int)v;
    } else if (*p && strcmp(p, "/") != 0) {
        return sb_errf(err, "bus: unexpected '%.32s' in '%.64s'", p, url), BUS_EURL;
    }
    snprintf(r->prefix, sizeof(r->prefix), "sb%d:", r->db);
    r->prefix_len = strlen(r->prefix);
    return BUS_OK;
}

/* ---- the publishing connection ---- */

static redisContext *rd_connect(rd *r, const char *which)
{
    struct timeval tv = {RD_TIMEOUT_MS / 1000, (RD_TIMEOUT_MS % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(r->host, r->port, tv);
    if (!c || c->err) {
        rd_set_error(r, which, c);
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    redisEnableKeepAlive(c);
    return c;
}

void bus__redis_pub_broken(rd *r)
{
    rd_set_error(r, "lost connection", r->pub);
    redisFree(r->pub);
    r->pub = NULL;
    atomic_store(&r->up, false);
    rd_wake(r);
}

/* others: Redis sends every subscriber its copy, ours too (skipped by
 * BUS_SKIP_OWN subscriptions). */
static bus_err rd_publish(bus *b, sb_str channel, const void *data, size_t len, bool others)
{
    (void)others;
    rd *r = b->impl;
    char ch[RD_PREFIX_MAX + BUS_NAME_MAX];
    memcpy(ch, r->prefix, r->prefix_len);
    memcpy(ch + r->prefix_len, channel.ptr, channel.len);
    uint8_t *env = sb_malloc(8 + len);
    for (int i = 0; i < 8; i++)
        env[i] = (uint8_t)(b->node_id >> (56 - 8 * i));
    if (len)
        memcpy(env + 8, data, len);
    bus_err e = BUS_OK;
    pthread_mutex_lock(&r->pub_lock);
    if (!r->pub) {
        e = BUS_EDOWN;
    } else {
        redisReply *rep = redisCommand(r->pub, "PUBLISH %b %b", ch, r->prefix_len + channel.len,
                                       env, (size_t)8 + len);
        if (!rep) {
            bus__redis_pub_broken(r);
            e = BUS_EDOWN;
        } else {
            if (rep->type != REDIS_REPLY_INTEGER)
                e = BUS_EPROTO;
            freeReplyObject(rep);
        }
    }
    pthread_mutex_unlock(&r->pub_lock);
    free(env);
    return e;
}

static bus_err rd_health(bus *b, sb_errbuf *err)
{
    rd *r = b->impl;
    if (atomic_load(&r->up))
        return BUS_OK;
    pthread_mutex_lock(&r->lock);
    sb_errf(err, "%s", r->last_error[0] ? r->last_error : "redis: not connected yet");
    pthread_mutex_unlock(&r->lock);
    return BUS_EDOWN;
}

/* ---- subscriptions (the I/O thread) ---- */

static void rd_interest(bus *b, sb_str name, bool pattern, bool on)
{
    rd *r = b->impl;
    pthread_mutex_lock(&r->lock);
    rd_change c = {
        .name = sb_strndup(name.ptr, name.len), .len = name.len, .pattern = pattern, .on = on};
    sb_vec_push(&r->pending, c);
    pthread_mutex_unlock(&r->lock);
    rd_wake(r);
}

static void append_sub(redisContext *c, const rd *r, sb_str name, bool pattern, bool on)
{
    char full[RD_PREFIX_MAX + BUS_NAME_MAX + 1];
    memcpy(full, r->prefix, r->prefix_len);
    memcpy(full + r->prefix_len, name.ptr, name.len);
    size_t n = r->prefix_len + name.len;
    if (pattern)
        full[n++] = '*'; /* names hold no glob characters: the rest is literal */
    const char *verb =
        pattern ? (on ? "PSUBSCRIBE" : "PUNSUBSCRIBE") : (on ? "SUBSCRIBE" : "UNSUBSCRIBE");
    redisAppendCommand(c, "%s %b", verb, full, n);
}

static void resubscribe_one(bus *b, sb_str name, bool pattern, void *ctx)
{
    append_sub(ctx, b->impl, name, pattern, true);
}

static bool flush(redisContext *c)
{
    int done = 0;
    while (!done)
        if (redisBufferWrite(c, &done) != REDIS_OK)
            return false;
    return true;
}

/* Sends the queued subscription changes. */
static bool send_pending(rd *r, redisContext *sub)
{
    pthread_mutex_lock(&r->lock);
    rd_change *items = r->pending.items;
    size_t n = r->pending.len;
    r->pending.items = NULL;
    r->pending.len = r->pending.cap = 0;
    pthread_mutex_unlock(&r->lock);
    for (size_t i = 0; i < n; i++) {
        if (items[i].ping) {
            redisAppendCommand(sub, "PING");
            sb_vec_push(&r->inflight, items[i].ping);
        } else {
            append_sub(sub, r, sb_str_make(items[i].name, items[i].len), items[i].pattern,
                       items[i].on);
        }
        free(items[i].name);
    }
    free(items);
    return flush(sub);
}

static void drop_pending(rd *r)
{
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->pending.len; i++)
        free(r->pending.items[i].name);
    r->pending.len = 0;
    pthread_mutex_unlock(&r->lock);
}

static bool has_prefix(const rd *r, const redisReply *s)
{
    return s->type == REDIS_REPLY_STRING && s->len >= r->prefix_len &&
           memcmp(s->str, r->prefix, r->prefix_len) == 0;
}

/* A PING came back: the changes sent before it are in effect. */
static void pong(rd *r)
{
    if (r->inflight_head >= r->inflight.len)
        return; /* not one of ours */
    uint64_t seq = r->inflight.items[r->inflight_head++];
    if (r->inflight_head == r->inflight.len)
        r->inflight_head = r->inflight.len = 0;
    pthread_mutex_lock(&r->lock);
    if (seq > r->ping_done)
        r->ping_done = seq;
    pthread_cond_broadcast(&r->ping_cond);
    pthread_mutex_unlock(&r->lock);
}

/* One reply on the subscribed connection: a message, a pattern message, a
 * PING's answer, or a (un)subscribe confirmation (ignored). */
static void handle_reply(rd *r, const redisReply *rep)
{
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 &&
        rep->element[0]->type == REDIS_REPLY_STRING && strcmp(rep->element[0]->str, "pong") == 0) {
        pong(r);
        return;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 3 ||
        rep->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = rep->element[0]->str;
    bus__match match;
    const redisReply *pat = NULL, *ch, *payload;
    if (strcmp(kind, "message") == 0 && rep->elements == 3) {
        match = BUS__MATCH_EXACT;
        ch = rep->element[1];
        payload = rep->element[2];
    } else if (strcmp(kind, "pmessage") == 0 && rep->elements == 4) {
        match = BUS__MATCH_PATTERN;
        pat = rep->element[1];
        ch = rep->element[2];
        payload = rep->element[3];
        if (!has_prefix(r, pat) || pat->len < r->prefix_len + 1)
            return;
    } else {
        return;
    }
    if (!has_prefix(r, ch) || payload->type != REDIS_REPLY_STRING || payload->len < 8)
        return;
    uint64_t from = 0;
    for (int i = 0; i < 8; i++)
        from = from << 8 | (uint8_t)payload->str[i];
    sb_str pattern = {0};
    if (pat) /* without the prefix and the trailing '*' */
        pattern = sb_str_make(pat->str + r->prefix_len, pat->len - r->prefix_len - 1);
    bus__dispatch(r->b, match, pattern,
                  sb_str_make(ch->str + r->prefix_len, ch->len - r->prefix_len), from,
                  (const uint8_t *)payload->str + 8, payload->len - 8);
}

/* Waits up to ms for the wake-up pipe (or stop); drains it. */
static void wait_wake(rd *r, int ms)
{
    struct pollfd p = {.fd = r->wake[0], .events = POLLIN};
    if (poll(&p, 1, ms) > 0) {
        char buf[64];
        while (read(r->wake[0], buf, sizeof(buf)) > 0) {
        }
    }
}

static bool stopping(rd *r)
{
    pthread_mutex_lock(&r->lock);
    bool s = r->stop;
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* Connects both connections and subscribes again; NULL on failure. */
static redisContext *link_up(rd *r)
{
    redisContext *sub = rd_connect(r, "cannot connect");
    if (!sub)
        return NULL;
    redisContext *pub = rd_connect(r, "cannot connect");
    if (!pub) {
        redisFree(sub);
        return NULL;
    }
    redisReply *rep = redisCommand(pub, "SELECT %d", r->db);
    bool ok = rep && rep->type == REDIS_REPLY_STATUS;
    if (rep)
        freeReplyObject(rep);
    if (!ok) {
        rd_set_error(r, "SELECT failed", pub);
        redisFree(pub);
        redisFree(sub);
        return NULL;
    }
    /* Changes queued before this walk are in it; later ones stay queued.
     * Tickets waiting for a confirmation get one PING after it. */
    drop_pending(r);
    bus__each_interest(r->b, resubscribe_one, sub);
    r->inflight.len = r->inflight_head = 0;
    pthread_mutex_lock(&r->lock);
    uint64_t waiting = r->ping_issued > r->ping_done ? r->ping_issued : 0;
    pthread_mutex_unlock(&r->lock);
    if (waiting) {
        redisAppendCommand(sub, "PING");
        sb_vec_push(&r->inflight, waiting);
    }
    if (!flush(sub)) {
        rd_set_error(r, "cannot subscribe", sub);
        redisFree(pub);
        redisFree(sub);
        return NULL;
    }
    pthread_mutex_lock(&r->pub_lock);
    if (r->pub)
        redisFree(r->pub);
    r->pub = pub;
    pthread_mutex_unlock(&r->pub_lock);
    return sub;
}

static void link_down(rd *r, redisContext **sub, const char *why)
{
    rd_set_error(r, why, *sub);
    redisFree(*sub);
    *sub = NULL;
    atomic_store(&r->up, false);
    pthread_mutex_lock(&r->pub_lock);
    if (r->pub)
        redisFree(r->pub);
    r->pub = NULL;
    pthread_mutex_unlock(&r->pub_lock);
    sb_log(SB_LOG_WARN, "bus: lost redis", SB_LOG_STR("why", why));
}

static void *io_main(void *arg)
{
    rd *r = arg;
    redisContext *sub = NULL;
    int backoff = RD_BACKOFF_MIN_MS;
    bool ever = false;
    while (!stopping(r)) {
        if (!sub) {
            if (!(sub = link_up(r))) {
                wait_wake(r, backoff);
                backoff = SB_MIN(backoff * 2, RD_BACKOFF_MAX_MS);
                continue;
            }
            backoff = RD_BACKOFF_MIN_MS;
            atomic_store(&r->up, true);
            if (ever) {
                atomic_fetch_add_explicit(&r->b->reconnects, 1, memory_order_relaxed);
                sb_log(SB_LOG_INFO, "bus: reconnected to redis", SB_LOG_STR("host", r->host));
                bus__reconnected(r->b);
            } else {
                sb_log(SB_LOG_INFO, "bus: connected to redis", SB_LOG_STR("host", r->host));
            }
            ever = true;
        }
        struct pollfd p[2] = {{.fd = sub->fd, .events = POLLIN},
                              {.fd = r->wake[0], .events = POLLIN}};
        if (poll(p, 2, 1000) < 0 && errno != EINTR) {
            link_down(r, &sub, "poll failed");
            continue;
        }
        if (p[1].revents) {
            wait_wake(r, 0);
            if (!atomic_load(&r->up)) { /* a publisher saw the link break */
                link_down(r, &sub, "publishing connection failed");
                continue;
            }
            if (!send_pending(r, sub)) {
                link_down(r, &sub, "cannot subscribe");
                continue;
            }
        }
        if (p[0].revents) {
            if (redisBufferRead(sub) != REDIS_OK) {
                link_down(r, &sub, "connection lost");
                continue;
            }
            void *rep;
            while (redisGetReplyFromReader(sub, &rep) == REDIS_OK && rep) {
                handle_reply(r, rep);
                freeReplyObject(rep);
            }
            if (sub->err)
                link_down(r, &sub, "bad reply");
        }
    }
    if (sub)
        redisFree(sub);
    return NULL;
}

static bus_err rd_confirm(bus *b)
{
    rd *r = b->impl;
    pthread_mutex_lock(&r->lock);
    if (!atomic_load(&r->up)) {
        pthread_mutex_unlock(&r->lock);
        return BUS_EDOWN;
    }
    uint64_t seq = ++r->ping_issued;
    sb_vec_push(&r->pending, ((rd_change){.ping = seq}));
    pthread_mutex_unlock(&r->lock);
    rd_wake(r);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += RD_TIMEOUT_MS / 1000;
    pthread_mutex_lock(&r->lock);
    int rc = 0;
    while (r->ping_done < seq && !r->stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&r->ping_cond, &r->lock, &deadline);
    bool ok = r->ping_done >= seq;
    pthread_mutex_unlock(&r->lock);
    return ok ? BUS_OK : BUS_EDOWN;
}

static void rd_close(bus *b)
{
    rd *r = b->impl;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_broadcast(&r->ping_cond);
    pthread_mutex_unlock(&r->lock);
    rd_wake(r);
    pthread_join(r->thread, NULL);
    if (r->pub)
        redisFree(r->pub);
    drop_pending(r);
    sb_vec_free(&r->pending);
    sb_vec_free(&r->inflight);
    pthread_cond_destroy(&r->ping_cond);
    close(r->wake[0]);
    close(r->wake[1]);
    pthread_mutex_destroy(&r->pub_lock);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static const bus_driver redis_driver = {
    .name = "redis",
    .publish = rd_publish,
    .counter_add = bus__redis_counter_add,
    .counter_get = bus__redis_counter_get,
    .share_set = bus__redis_share_set,
    .share_total = bus__redis_share_total,
    .health = rd_health,
    .interest = rd_interest,
    .confirm = rd_confirm,
    .close = rd_close,
};

bus_err bus__redis_open(bus *b, const char *url, sb_errbuf *err)
{
    rd *r = sb_calloc(1, sizeof(*r));
    bus_err e = parse_url(r, url, err);
    if (e != BUS_OK) {
        free(r);
        return e;
    }
    if (pipe2(r->wake, O_NONBLOCK | O_CLOEXEC) != 0)
        sb_die("bus: pipe: %s", strerror(errno));
    r->b = b;
    pthread_mutex_init(&r->pub_lock, NULL);
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->ping_cond, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&r->up, false);
    b->drv = &redis_driver;
    b->impl = r;
    if (pthread_create(&r->thread, NULL, io_main, r) != 0)
        sb_die("bus: cannot start the redis I/O thread");
    return BUS_OK;
}
