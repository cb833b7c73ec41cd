/*
 * post.c: cross-loop messages and ticks. A posted message counts in the
 * target's jobs (like a worker completion) from the send until its
 * function has run, so the target's drain waits for it; holds count there
 * too.
 */
#include "net/post.h"

#include "net/net_int.h"

typedef struct net_post {
    h2o_multithread_message_t msg; /* first: the receiver hands it back */
    net_loop *loop;
    net_post_fn fn;
    void *arg;
} net_post;

void net_loop_post(net_loop *target, net_post_fn fn, void *arg)
{
    net_post *p = sb_calloc(1, sizeof(*p));
    p->loop = target;
    p->fn = fn;
    p->arg = arg;
    atomic_fetch_add(&target->jobs, 1);
    h2o_multithread_send_message(&target->post_receiver, &p->msg);
}

void net__posts_run(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        net_post *p = H2O_STRUCT_FROM_MEMBER(net_post, msg.link, messages->next);
        h2o_linklist_unlink(&p->msg.link);
        net_loop *loop = p->loop;
        p->fn(p->arg);
        free(p);
        atomic_fetch_sub(&loop->jobs, 1);
    }
}

struct net_turn_fn {
    net_post_fn fn;
    void *arg;
};

void net_loop_at_turn_end(net_loop *loop, net_post_fn fn, void *arg)
{
    if (loop->nturn_end == loop->turn_end_cap) {
        loop->turn_end_cap = loop->turn_end_cap ? loop->turn_end_cap * 2 : 8;
        loop->turn_end = sb_realloc(loop->turn_end, loop->turn_end_cap * sizeof(*loop->turn_end));
    }
    loop->turn_end[loop->nturn_end++] = (struct net_turn_fn){fn, arg};
}

void net__turn_end(net_loop *loop)
{
    /* A function may queue another: it runs in this pass too, since the
     * loop must not go to sleep with work queued. */
    for (size_t i = 0; i < loop->nturn_end; i++) {
        struct net_turn_fn f = loop->turn_end[i];
        f.fn(f.arg);
    }
    loop->nturn_end = 0;
}

void net_loop_hold(net_loop *target)
{
    atomic_fetch_add(&target->jobs, 1);
}

void net_loop_release(net_loop *target)
{
    atomic_fetch_sub(&target->jobs, 1);
}

struct net_tick {
    h2o_timeout_entry_t entry;
    net_loop *loop;
    h2o_timeout_t *list; /* the loop's list of the tick's period */
    net_post_fn fn;
    void *arg;
};

static void on_tick(h2o_timeout_entry_t *entry)
{
    net_tick *t = H2O_STRUCT_FROM_MEMBER(net_tick, entry, entry);
    t->fn(t->arg);
}

net_tick *net_tick_new(net_loop *loop, net_tick_period period, net_post_fn fn, void *arg)
{
    net_tick *t = sb_calloc(1, sizeof(*t));
    t->entry.cb = on_tick;
    t->loop = loop;
    t->list = period == NET_TICK_SHORT ? &loop->short_timeout : &loop->ctx.one_sec_timeout;
    t->fn = fn;
    t->arg = arg;
    return t;
}

void net_tick_arm(net_tick *t)
{
    if (!h2o_timeout_is_linked(&t->entry))
        h2o_timeout_link(t->loop->evloop, t->list, &t->entry);
}

void net_tick_disarm(net_tick *t)
{
    if (h2o_timeout_is_linked(&t->entry))
        h2o_timeout_unlink(&t->entry);
}

void net_tick_free(net_tick *t)
{
    if (!t)
        return;
    net_tick_disarm(t);
    free(t);
}
