/*
 * workers.h: a bounded pool of threads for blocking work (password hashing,
 * outbound HTTP, large renders). A job's work runs on a pool thread; its
 * done callback then runs on the loop thread that submitted it, so results
 * are handed back without locks in the caller's code.
 *
 * Bounded: when the queue is full, submit refuses (the caller answers 503
 * with Retry-After) rather than letting latency grow without limit.
 */
#ifndef SB_NET_WORKERS_H
#define SB_NET_WORKERS_H

#include "base/common.h"

typedef struct net_loop net_loop;
typedef struct net_workers net_workers;

/* Per-thread state for jobs (a store connection, say): thread_start runs
 * on each pool thread before its first job and returns what
 * net_worker_local() gives that thread's jobs; thread_stop gets it back as
 * the thread ends. */
typedef struct net_worker_hooks {
    void *ctx;
    void *(*thread_start)(void *ctx);
    void (*thread_stop)(void *ctx, void *local);
} net_worker_hooks;

/* threads >= 1; queue_max >= 1 jobs waiting (not counting running ones);
 * hooks may be NULL. */
net_workers *net_workers_new(unsigned threads, size_t queue_max, const net_worker_hooks *hooks);
/* The same with the threads at this nice value: net_workers_new's run at
 * 19, yielding to the loops (hashing must not delay requests); a pool on
 * the path of every request's latency (the collaboration writer) runs at
 * 0, or a busy machine starves it. */
net_workers *net_workers_new_nice(unsigned threads, size_t queue_max, const net_worker_hooks *hooks,
                                  int nice);

/* In a job's work function: this pool thread's state from thread_start. */
void *net_worker_local(void);
/* Finishes running jobs, drops none: waits for the queue to empty. */
void net_workers_free(net_workers *w);

typedef void (*net_work_fn)(void *arg);
typedef void (*net_done_fn)(void *arg);

/* Queues work(arg) and, after it, done(arg) on loop's thread. done may be
 * NULL: work then hands back whatever it has itself, and its end wakes no
 * loop (loop only counts it as out until then, for its drain). Returns
 * false (and calls neither) when the queue is full or the pool is
 * stopping. */
bool net_workers_submit(net_workers *w, net_loop *loop, net_work_fn work, net_done_fn done,
                        void *arg);

/* Jobs queued or running now (for metrics). */
size_t net_workers_pending(net_workers *w);

#endif
