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
 * counter keys are "sb:c:<key>" in database <db>. A message is the
 * publisher's node id (8 bytes, big-endian) followed by the data; shorter
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
#include <unistd.h>

#include "base/log.h"
#include "bus/bus_int.h"

#define RD_TIMEOUT_MS     1000
#define RD_BACKOFF_MIN_MS 100
#define RD_BACKOFF_MAX_MS 5000
#define RD_PREFIX_MAX     16

typedef struct rd_change {
    char *name; /* bare name (pattern without '*') */
    size_t len;
    bool pattern, on;
} rd_change;

typedef struct rd {
    bus *b;
    char host[256];
    int port;
    int db;
    char prefix[RD_PREFIX_MAX]; /* "sb<db>:" */
    size_t prefix_len;
    int wake[2]; /* non-blocking pipe: read end polled by the I/O thread */
    pthread_t thread;

    pthread_mutex_t pub_lock; /* guards pub */
    redisContext *pub;        /* NULL while down */

    pthread_mutex_t lock;      /* guards pending, stop, last_error */
    SB_VEC(rd_change) pending; /* subscription changes for the I/O thread */
    bool stop;
    char last_error[256];
    _Atomic bool up; /* both connections established */
} rd;

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

/* pub went wrong: close it (pub_lock held) and have the I/O thread
 * reconnect both connections. */
static void pub_broken(rd *r)
{
    rd_set_error(r, "lost connection", r->pub);
    redisFree(r->pub);
    r->pub = NULL;
    atomic_store(&r->up, false);
    rd_wake(r);
}

static bus_err rd_publish(bus *b, sb_str channel, const void *data, size_t len)
{
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
            pub_broken(r);
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

/* Reads an integer reply (or a string holding one; nil = 0). */
static bool reply_int(const redisReply *rep, int64_t *out)
{
    if (rep->type == REDIS_REPLY_INTEGER) {
        *out = rep->integer;
        return true;
    }
    if (rep->type == REDIS_REPLY_NIL) {
        *out = 0;
        return true;
    }
    if (rep->type == REDIS_REPLY_STRING)
        return sb_str_to_i64(sb_str_make(rep->str, rep->len), INT64_MIN, INT64_MAX, out);
    return false;
}

static bus_err rd_counter_add(bus *b, sb_str key, int64_t delta, int64_t ttl_ms, int64_t *value)
{
    rd *r = b->impl;
    bus_err e = BUS_OK;
    redisReply *rep = NULL;
    pthread_mutex_lock(&r->pub_lock);
    if (!r->pub) {
        e = BUS_EDOWN;
        goto out;
    }
    /* One transaction, so the value and its lifetime change together. */
    redisAppendCommand(r->pub, "MULTI");
    redisAppendCommand(r->pub, "INCRBY sb:c:%b %lld", key.ptr, key.len, (long long)delta);
    if (ttl_ms > 0)
        redisAppendCommand(r->pub, "PEXPIRE sb:c:%b %lld", key.ptr, key.len, (long long)ttl_ms);
    else
        redisAppendCommand(r->pub, "PERSIST sb:c:%b", key.ptr, key.len);
    redisAppendCommand(r->pub, "EXEC");
    for (int i = 0; i < 4; i++) {
        if (rep)
            freeReplyObject(rep);
        if (redisGetReply(r->pub, (void **)&rep) != REDIS_OK) {
            rep = NULL;
            pub_broken(r);
            e = BUS_EDOWN;
            goto out;
        }
    }
    int64_t v;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 || !reply_int(rep->element[0], &v))
        e = BUS_EPROTO; /* e.g. the key holds something else than a number */
    else
        *value = v;
out:
    if (rep)
        freeReplyObject(rep);
    pthread_mutex_unlock(&r->pub_lock);
    return e;
}

static bus_err rd_counter_get(bus *b, sb_str key, int64_t *value)
{
    rd *r = b->impl;
    bus_err e = BUS_OK;
    pthread_mutex_lock(&r->pub_lock);
    if (!r->pub) {
        e = BUS_EDOWN;
    } else {
        redisReply *rep = redisCommand(r->pub, "GET sb:c:%b", key.ptr, key.len);
        int64_t v;
        if (!rep) {
            pub_broken(r);
            e = BUS_EDOWN;
        } else {
            if (reply_int(rep, &v))
                *value = v;
            else
                e = BUS_EPROTO;
            freeReplyObject(rep);
        }
    }
    pthread_mutex_unlock(&r->pub_lock);
    return e;
}

/* Shares: the set "sb:sn:<key>" names the nodes (16 hex digits) that hold
 * one; node N's share is "sb:sv:<N>:<key>", a number with Redis's own
 * expiry, so a dead node's share ends on the server's clock, not on any
 * node's. The set lives as long as its longest-lived share; members whose
 * share has expired are removed when a total is read. */
#define RD_SHARE_NODES_MAX 1024

static bus_err rd_share_set(bus *b, sb_str key, int64_t value, int64_t ttl_ms)
{
    rd *r = b->impl;
    char node[17];
    snprintf(node, sizeof(node), "%016" PRIx64, b->node_id);
    bus_err e = BUS_OK;
    redisReply *rep = NULL;
    pthread_mutex_lock(&r->pub_lock);
    if (!r->pub) {
        e = BUS_EDOWN;
        goto out;
    }
    long long ttl = (long long)ttl_ms;
    redisAppendCommand(r->pub, "MULTI");
    redisAppendCommand(r->pub, "PSETEX sb:sv:%s:%b %lld %lld", node, key.ptr, key.len, ttl,
                       (long long)value);
    redisAppendCommand(r->pub, "SADD sb:sn:%b %s", key.ptr, key.len, node);
    /* NX gives a new set its first expiry; GT only ever lengthens it. */
    redisAppendCommand(r->pub, "PEXPIRE sb:sn:%b %lld NX", key.ptr, key.len, ttl);
    redisAppendCommand(r->pub, "PEXPIRE sb:sn:%b %lld GT", key.ptr, key.len, ttl);
    redisAppendCommand(r->pub, "EXEC");
    for (int i = 0; i < 6; i++) {
        if (rep)
            freeReplyObject(rep);
        if (redisGetReply(r->pub, (void **)&rep) != REDIS_OK) {
            rep = NULL;
            pub_broken(r);
            e = BUS_EDOWN;
            goto out;
        }
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 4)
        e = BUS_EPROTO;
    for (size_t i = 0; e == BUS_OK && i < rep->elements; i++)
        if (rep->element[i]->type == REDIS_REPLY_ERROR)
            e = BUS_EPROTO;
out:
    if (rep)
        freeReplyObject(rep);
    pthread_mutex_unlock(&r->pub_lock);
    return e;
}

static bus_err rd_share_total(bus *b, sb_str key, int64_t *total)
{
    rd *r = b->impl;
    bus_err e = BUS_OK;
    redisReply *members = NULL, *vals = NULL, *rem = NULL;
    char **argv = NULL; /* n + 2 slots, NULL where unused */
    size_t *lens = NULL, n = 0;
    int64_t sum = 0;
    pthread_mutex_lock(&r->pub_lock);
    if (!r->pub) {
        e = BUS_EDOWN;
        goto out;
    }
    members = redisCommand(r->pub, "SMEMBERS sb:sn:%b", key.ptr, key.len);
    if (!members) {
        pub_broken(r);
        e = BUS_EDOWN;
        goto out;
    }
    if (members->type != REDIS_REPLY_ARRAY) {
        e = BUS_EPROTO;
        goto out;
    }
    n = SB_MIN(members->elements, (size_t)RD_SHARE_NODES_MAX);
    if (n == 0)
        goto out;
    /* MGET of every member's share: argv[0] "MGET", then one key each. */
    argv = sb_calloc(n + 2, sizeof(*argv));
    lens = sb_calloc(n + 2, sizeof(*lens));
    argv[0] = sb_strdup("MGET");
    lens[0] = 4;
    for (size_t i = 0; i < n; i++) {
        const redisReply *m = members->element[i];
        if (m->type != REDIS_REPLY_STRING || m->len != 16) {
            e = BUS_EPROTO;
            goto out;
        }
        lens[i + 1] = 6 + 16 + 1 + key.len;
        argv[i + 1] = sb_malloc(lens[i + 1]);
        memcpy(argv[i + 1], "sb:sv:", 6);
        memcpy(argv[i + 1] + 6, m->str, 16);
        argv[i + 1][22] = ':';
        memcpy(argv[i + 1] + 23, key.ptr, key.len);
    }
    vals = redisCommandArgv(r->pub, (int)n + 1, (const char **)argv, lens);
    if (!vals) {
        pub_broken(r);
        e = BUS_EDOWN;
        goto out;
    }
    if (vals->type != REDIS_REPLY_ARRAY || vals->elements != n) {
        e = BUS_EPROTO;
        goto out;
    }
    /* Sum the live shares; reuse argv for SREM of the expired ones. */
    size_t dead = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        if (vals->element[i]->type == REDIS_REPLY_NIL) {
            free(argv[2 + dead]);
            argv[2 + dead] = sb_strndup(members->element[i]->str, 16);
            lens[2 + dead] = 16;
            dead++;
        } else if (reply_int(vals->element[i], &v)) {
            sum += v;
        }
    }
    if (dead) {
        free(argv[0]);
        argv[0] = sb_strdup("SREM");
        lens[0] = 4;
        free(argv[1]);
        lens[1] = 6 + key.len;
        argv[1] = sb_malloc(lens[1]);
        memcpy(argv[1], "sb:sn:", 6);
        memcpy(argv[1] + 6, key.ptr, key.len);
        rem = redisCommandArgv(r->pub, (int)dead + 2, (const char **)argv, lens);
        if (!rem) {
            pub_broken(r);
            e = BUS_EDOWN;
            goto out;
        }
    }
out:
    if (argv) {
        for (size_t i = 0; i < n + 2; i++)
            free(argv[i]);
        free(argv);
    }
    free(lens);
    if (members)
        freeReplyObject(members);
    if (vals)
        freeReplyObject(vals);
    if (rem)
        freeReplyObject(rem);
    pthread_mutex_unlock(&r->pub_lock);
    if (e == BUS_OK)
        *total = sum;
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
    sb_vec_push(&r->pending, ((rd_change){sb_strndup(name.ptr, name.len), name.len, pattern, on}));
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
        append_sub(sub, r, sb_str_make(items[i].name, items[i].len), items[i].pattern, items[i].on);
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

/* One reply on the subscribed connection: a message, a pattern message, or
 * a (un)subscribe confirmation (ignored). */
static void handle_reply(rd *r, const redisReply *rep)
{
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
    /* Changes queued before this walk are in it; later ones stay queued. */
    drop_pending(r);
    bus__each_interest(r->b, resubscribe_one, sub);
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

static void rd_close(bus *b)
{
    rd *r = b->impl;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_mutex_unlock(&r->lock);
    rd_wake(r);
    pthread_join(r->thread, NULL);
    if (r->pub)
        redisFree(r->pub);
    drop_pending(r);
    sb_vec_free(&r->pending);
    close(r->wake[0]);
    close(r->wake[1]);
    pthread_mutex_destroy(&r->pub_lock);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static const bus_driver redis_driver = {
    .name = "redis",
    .publish = rd_publish,
    .counter_add = rd_counter_add,
    .counter_get = rd_counter_get,
    .share_set = rd_share_set,
    .share_total = rd_share_total,
    .health = rd_health,
    .interest = rd_interest,
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
    atomic_init(&r->up, false);
    b->drv = &redis_driver;
    b->impl = r;
    if (pthread_create(&r->thread, NULL, io_main, r) != 0)
        sb_die("bus: cannot start the redis I/O thread");
    return BUS_OK;
}
