/*
 * redis_int.h: the Redis driver's state, shared by redis.c (connections,
 * publish, the subscribing I/O thread) and redis_counters.c (counters and
 * shares on the publishing connection). Locks as redis.c's header says.
 */
#ifndef SB_BUS_REDIS_INT_H
#define SB_BUS_REDIS_INT_H

#include <hiredis/hiredis.h>

#include "bus/bus_int.h"

#define RD_TIMEOUT_MS     1000
#define RD_BACKOFF_MIN_MS 100
#define RD_BACKOFF_MAX_MS 5000
#define RD_PREFIX_MAX     16

typedef struct rd_change {
    char *name; /* bare name (pattern without '*'); NULL for a ping */
    size_t len;
    bool pattern, on;
    uint64_t ping; /* nonzero: send PING, whose answer confirms this ticket */
} rd_change;

/* Owned by the bus handle (impl); the I/O thread owns the sub connection. */
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

    pthread_mutex_t lock;      /* guards pending, stop, last_error, pings */
    SB_VEC(rd_change) pending; /* subscription changes for the I/O thread */
    bool stop;
    char last_error[256];
    /* Confirmations (BUS_CONFIRMED): tickets handed out, and the highest
     * whose PING has been answered on the subscribed connection. Redis
     * answers in order, so every change queued before it is in effect. */
    uint64_t ping_issued, ping_done;
    pthread_cond_t ping_cond;  /* ping_done moved, or stop; CLOCK_MONOTONIC */
    SB_VEC(uint64_t) inflight; /* I/O thread only: tickets of PINGs sent */
    size_t inflight_head;
    _Atomic bool up; /* both connections established */
} rd;

/* pub failed: closes it (pub_lock held), marks the link down and wakes
 * the I/O thread to reconnect both connections. */
void bus__redis_pub_broken(rd *r);

/* redis_counters.c: the driver's counter and share operations. */
bus_err bus__redis_counter_add(bus *b, sb_str key, int64_t delta, int64_t ttl_ms, int64_t *value);
bus_err bus__redis_counter_get(bus *b, sb_str key, int64_t *value);
bus_err bus__redis_share_set(bus *b, sb_str key, int64_t value, int64_t ttl_ms);
bus_err bus__redis_share_total(bus *b, sb_str key, int64_t *total);

#endif
