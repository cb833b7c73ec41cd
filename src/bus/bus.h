/*
 * bus.h: the message bus that lets several Sitebase nodes act as one:
 * publish/subscribe on named channels, small shared counters with a
 * time-to-live, and per-node shares of a total (counts that forget a node
 * that died). Two drivers behind one contract:
 *
 *   mem://            in-process (the default): one node, or several bus
 *                     handles made with bus_open_peer() that stand for
 *                     nodes in one process (tests, benchmarks)
 *   redis://H:P[/N]   Redis (hiredis): every node that opens the same
 *                     server and database number sees the others' messages
 *                     and counters
 *
 * Delivery is at most once. While Redis is unreachable, publish drops the
 * message (counted in `dropped`) and the bus reconnects with backoff
 * (100 ms doubling to 5 s), then subscribes again. Nothing replays what was
 * missed: the protocols on top repair gaps themselves. The collaboration
 * rooms do: every update is in the shared log with its seq before it is
 * published, and a room that sees a gap or a reconnect reads what it lacks
 * from the log, so a lost update costs latency, never convergence.
 *
 * Threads. Every function is safe to call from any thread. Subscription
 * callbacks run on the bus's delivery thread (one per bus handle: the mem
 * driver's dispatcher, the Redis driver's I/O thread), one at a time, in the
 * order the messages were published by any one node. A callback must be
 * quick and must not block: the collab rooms copy the bytes into a message
 * to the loop that owns the room and return. A callback may publish,
 * subscribe and unsubscribe (itself included).
 *
 * Every message carries the id of the node that published it, so a node
 * can ignore its own (BUS_SKIP_OWN).
 *
 * Names. Channels and counter keys are 1..BUS_NAME_MAX bytes of printable
 * ASCII (0x21..0x7e) without the glob characters * ? [ ] \. A pattern is a
 * prefix followed by one '*' ("doc:*"), and matches every channel that
 * starts with the prefix, in both drivers alike.
 */
#ifndef SB_BUS_BUS_H
#define SB_BUS_BUS_H

#include "base/common.h"
#include "base/str.h"

#define BUS_NAME_MAX    200
#define BUS_MESSAGE_MAX (16u * 1024 * 1024)

/* The error table: the enum and the messages come from one list. */
#define BUS_ERR_MAP(X)                                                                             \
    X(BUS_OK, "ok")                                                                                \
    X(BUS_EURL, "bad bus URL")                                                                     \
    X(BUS_ENAME, "bad channel, pattern or counter name")                                           \
    X(BUS_ETOOBIG, "message too large")                                                            \
    X(BUS_EDOWN, "bus unreachable")                                                                \
    X(BUS_EPROTO, "unexpected reply from the bus server")                                          \
    X(BUS_ENOTFOUND, "no such subscription")

typedef enum {
#define BUS_ERR_ENUM(name, msg) name,
    BUS_ERR_MAP(BUS_ERR_ENUM)
#undef BUS_ERR_ENUM
} bus_err;

/* The message for an error code ("unknown bus error" outside the table). */
const char *bus_strerror(bus_err e);

typedef struct bus bus;

/* One message as delivered. Every pointer is valid only during the callback:
 * copy what must outlive it. */
typedef struct bus_msg {
    sb_str channel;      /* the channel it was published on */
    const uint8_t *data; /* the bytes as published */
    size_t len;
    uint64_t from_node; /* bus_node_id() of the publisher */
} bus_msg;

typedef void (*bus_cb)(void *ctx, const bus_msg *msg);

enum {
    BUS_SKIP_OWN = 1,  /* do not deliver what this bus handle published */
    BUS_CONFIRMED = 2, /* bus_subscribe returns once the server has it (below) */
};

/* Counters and statistics since bus_open. */
typedef struct bus_stats {
    uint64_t published;  /* messages handed to the bus */
    uint64_t delivered;  /* callback invocations */
    uint64_t dropped;    /* published while down, or lost to a full queue */
    uint64_t reconnects; /* successful connections after the first */
    bool up;             /* connected now (always true for mem://) */
} bus_stats;

/* Opens a bus from its URL (NULL or "" mean "mem://"). On success *out is
 * the caller's, to bus_close. A Redis bus opens even when the server is
 * down (it keeps trying in the background: see bus_health); only a URL
 * that cannot be parsed fails, with err naming what is wrong. */
bus_err bus_open(const char *url, bus **out, sb_errbuf *err);

/* Another node on the same in-process hub as b (mem:// only): what one
 * publishes, the others receive; counters are shared. Peers may be closed
 * in any order. Returns BUS_EURL for a Redis bus. */
bus_err bus_open_peer(bus *b, bus **out);

/* Stops the delivery thread (waiting for a running callback to return),
 * and frees b. Must not be called from one of b's callbacks. */
void bus_close(bus *b);

/* A random id for this handle, fixed for its lifetime: the from_node of
 * every message it publishes. */
uint64_t bus_node_id(const bus *b);

/* The driver name, "mem" or "redis". */
const char *bus_driver_name(const bus *b);

/* Publishes len bytes on channel (copied before return). BUS_EDOWN means
 * the bus was unreachable and the message was dropped (and counted);
 * BUS_ENAME and BUS_ETOOBIG reject it before anything is sent. With Redis
 * this is one round trip, bounded by a 1 s timeout. */
bus_err bus_publish(bus *b, sb_str channel, const void *data, size_t len);

/* bus_publish for messages only the other nodes want: every subscription
 * of this handle to the channel is BUS_SKIP_OWN. The mem driver then
 * queues nothing for this handle (a node alone: nothing at all, no wakeup
 * of its delivery thread); Redis echoes it back as ever, and the flag
 * drops it. */
bus_err bus_publish_others(bus *b, sb_str channel, const void *data, size_t len);

/* Subscribes cb(ctx, msg) to channel, or to every channel starting with
 * a prefix when name ends in '*'. flags: BUS_SKIP_OWN, BUS_CONFIRMED or
 * both (or 0). On success
 * *id names the subscription for bus_unsubscribe (ids are never reused).
 * With mem://, messages published after this returns are delivered. With
 * Redis the subscription takes effect when the server has it, normally
 * within a round trip (while down: after the reconnect); BUS_CONFIRMED
 * makes bus_subscribe wait for that (at most 1 s; ignored inside a
 * callback, which runs on the thread that would have to do it), e.g.
 * before publishing a request whose answers must not be missed. Returns
 * BUS_ENAME (nothing subscribed), or BUS_OK, or, with BUS_CONFIRMED,
 * BUS_EDOWN when the bus is down or did not confirm in time: the
 * subscription then exists and *id is set all the same. */
bus_err bus_subscribe(bus *b, sb_str name, int flags, bus_cb cb, void *ctx, uint64_t *id);

/* Ends a subscription. When this returns (outside a callback), cb is not
 * running and will not be called again for it. BUS_ENOTFOUND for an
 * unknown or already ended id. */
bus_err bus_unsubscribe(bus *b, uint64_t id);

/* Sets the function called each time the bus has reconnected and
 * subscribed again (never on the first connection, never for mem://), on
 * the delivery thread, like a subscription callback. Messages published
 * while it was down are lost: this is when the protocols on top repair
 * (each collab room reads the updates it missed from the log). One
 * function per bus; NULL removes it. */
void bus_on_reconnect(bus *b, void (*cb)(void *ctx), void *ctx);

/* Adds delta (which may be negative or 0) to counter key and sets its
 * time-to-live to ttl_ms from now (0: no expiry; negative: BUS_ENAME); a key
 * that does not exist or has expired starts at 0. *value is the result.
 * Re-adding 0 is how a holder keeps a counter alive. Fails with
 * BUS_ENAME, or BUS_EDOWN when Redis is unreachable (*value untouched). */
bus_err bus_counter_add(bus *b, sb_str key, int64_t delta, int64_t ttl_ms, int64_t *value);

/* Reads counter key: 0 when absent or expired. */
bus_err bus_counter_get(bus *b, sb_str key, int64_t *value);

/* Shared counters survive their holders; for counts that must forget a
 * node that died (clients on a document, presence), use shares: each node
 * sets its own share of key, alive for ttl_ms (> 0) unless set again, and
 * the total is the sum of the live shares of every node. A node refreshes
 * its share well within ttl_ms (every ttl/3, say); a node that crashes
 * drops out of totals within ttl_ms. Fails with BUS_ENAME (or a ttl_ms of
 * 0 or less), or BUS_EDOWN. */
bus_err bus_share_set(bus *b, sb_str key, int64_t value, int64_t ttl_ms);

/* The sum of the live shares of key over all nodes (0 when none). */
bus_err bus_share_total(bus *b, sb_str key, int64_t *total);

/* For /readyz: BUS_OK when the bus is connected (mem:// always is), else
 * BUS_EDOWN with err saying why. */
bus_err bus_health(bus *b, sb_errbuf *err);

void bus_stats_get(bus *b, bus_stats *out);

/* Appends the Prometheus exposition lines for b to out (sitebase_bus_*). */
void bus_metrics_render(bus *b, sb_buf *out);

/* Whether name is a valid channel or counter key (pattern: a pattern). */
bool bus_name_valid(sb_str name, bool pattern);

#endif
