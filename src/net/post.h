/*
 * post.h: handing work to another loop thread, and ticks.
 *
 * A structure owned by one loop (a collaboration room) is touched only by
 * that loop; other loops send it messages with net_loop_post, which runs a
 * function on the target loop's thread (FIFO per sender, through h2o's
 * multithread queue, which wakes the loop).
 *
 * Drain: a loop does not finish its shutdown drain while a posted message
 * is on its way to it, or while another loop holds it (net_loop_hold): a
 * holder that will post later (a connection that must tell a room on that
 * loop it left) keeps the target alive until it releases it.
 */
#ifndef SB_NET_POST_H
#define SB_NET_POST_H

#include "base/common.h"

typedef struct net_loop net_loop;

typedef void (*net_post_fn)(void *arg);

/* Runs fn(arg) on target's thread, soon. Callable from any thread; never
 * fails (the target must be held by the caller, or be the caller's own
 * loop, or be known to be running). */
void net_loop_post(net_loop *target, net_post_fn fn, void *arg);

/* On loop's own thread: runs fn(arg) once the events of the current turn
 * (one epoll round and what it set off) are handled, before the loop
 * waits again. For work gathered over a turn and done once for all of
 * it: every room's updates of a turn in one journal write. */
void net_loop_at_turn_end(net_loop *loop, net_post_fn fn, void *arg);

/* Keeps target from finishing its drain until the matching release. Any
 * thread. */
void net_loop_hold(net_loop *target);
void net_loop_release(net_loop *target);

/* A timer on one loop that fires about a period after it is armed:
 * NET_TICK_SECOND (h2o's one-second list: good enough for grace periods
 * and timeouts) or NET_TICK_SHORT (NET_TICK_SHORT_MS: pacing work that
 * should not run on every event). Owned and used only by the loop's
 * thread; free it before the loop stops. */
#define NET_TICK_SHORT_MS 100
typedef enum net_tick_period { NET_TICK_SECOND, NET_TICK_SHORT } net_tick_period;
typedef struct net_tick net_tick;
net_tick *net_tick_new(net_loop *loop, net_tick_period period, net_post_fn fn, void *arg);
/* Arms the tick (no-op when armed). */
void net_tick_arm(net_tick *t);
void net_tick_disarm(net_tick *t);
void net_tick_free(net_tick *t);

#endif
