/*
 * bus_int.h: what the bus core (bus.c) and its drivers (mem.c, redis.c)
 * share, and callers must not see: the driver table, the handle's layout,
 * and the dispatch entry point the drivers' delivery threads call.
 *
 * Locking: subs_lock guards subs and next_id, and is held while callbacks
 * run, which is what lets bus_unsubscribe promise that a callback is not
 * running once it returns. A callback that calls back into the bus on the
 * delivery thread finds subs_lock already held by its own thread (a
 * thread-local says so) and does not take it again. Drivers' interest hooks
 * run with subs_lock held and must not take it. The statistics are atomics
 * and need no lock.
 */
#ifndef SB_BUS_BUS_INT_H
#define SB_BUS_BUS_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/vec.h"
#include "bus/bus.h"

typedef struct bus_driver {
    const char *name;
    /* others: this handle's own subscriptions need not get it
     * (bus_publish_others); a driver may deliver it to them anyway. */
    bus_err (*publish)(bus *b, sb_str channel, const void *data, size_t len, bool others);
    bus_err (*counter_add)(bus *b, sb_str key, int64_t delta, int64_t ttl_ms, int64_t *value);
    bus_err (*counter_get)(bus *b, sb_str key, int64_t *value);
    bus_err (*share_set)(bus *b, sb_str key, int64_t value, int64_t ttl_ms);
    bus_err (*share_total)(bus *b, sb_str key, int64_t *total);
    bus_err (*health)(bus *b, sb_errbuf *err);
    /* The first subscription to (name, pattern) began (on) or the last one
     * ended (!on); subs_lock is held. NULL when the driver filters locally. */
    void (*interest)(bus *b, sb_str name, bool pattern, bool on);
    /* Returns once every subscription change made before it is in effect
     * on the server (BUS_EDOWN: down, or no answer in 1 s). NULL when
     * subscriptions take effect at once. Called without subs_lock. */
    bus_err (*confirm)(bus *b);
    /* Stops the driver's threads (no callback runs after it returns) and
     * frees its state. */
    void (*close)(bus *b);
} bus_driver;

typedef struct bus_sub {
    uint64_t id;
    char *name; /* owned; without the pattern's trailing '*' */
    size_t name_len;
    bool pattern;
    bool dead; /* unsubscribed inside a dispatch; freed when it ends */
    int flags;
    bus_cb cb;
    void *ctx;
} bus_sub;

struct bus {
    const bus_driver *drv;
    void *impl; /* the driver's state */
    uint64_t node_id;
    pthread_mutex_t subs_lock;
    SB_VEC(bus_sub *) subs;          /* guarded by subs_lock */
    uint64_t next_id;                /* guarded by subs_lock */
    void (*on_reconnect)(void *ctx); /* guarded by subs_lock */
    void *on_reconnect_ctx;
    _Atomic uint64_t published, delivered, dropped, reconnects;
};

/* Which subscriptions a message is for: the mem driver matches every kind
 * itself; Redis tells exact ("message") from pattern ("pmessage") replies. */
typedef enum { BUS__MATCH_ALL, BUS__MATCH_EXACT, BUS__MATCH_PATTERN } bus__match;

/* Runs the callbacks a message is for, on the calling (delivery) thread.
 * With BUS__MATCH_PATTERN, pattern is the pattern without its '*'. */
void bus__dispatch(bus *b, bus__match match, sb_str pattern, sb_str channel, uint64_t from,
                   const uint8_t *data, size_t len);

/* Calls the bus_on_reconnect function, if any, on the calling (delivery)
 * thread; drivers call it after subscribing again. */
void bus__reconnected(bus *b);

/* Makes the core part of a handle; the driver fills drv and impl. */
bus *bus__new(void);
void bus__free(bus *b);

/* Calls fn(b, name, pattern, ctx) once for each distinct live subscription
 * name; it takes subs_lock for the walk (Redis resubscribes after a
 * reconnect). Not for use inside a callback. */
void bus__each_interest(bus *b, void (*fn)(bus *b, sb_str name, bool pattern, void *ctx),
                        void *ctx);

bus_err bus__mem_open(bus *b, sb_errbuf *err);
bus_err bus__mem_peer(bus *b, bus *peer);
bus_err bus__redis_open(bus *b, const char *url, sb_errbuf *err);

#endif
