/*
 * workers.c: the blocking-work pool. Jobs wait in one FIFO guarded by
 * pool->lock; finished jobs travel back to their loop as h2o multithread
 * messages, and their done callbacks run there. Each loop counts the jobs
 * on their way to it (net_loop.jobs): a loop is not drained, and does not
 * dispose the queue their messages travel through, while any is out.
 */
#include "net/workers.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "net/net_int.h"

typedef struct net_job {
    h2o_multithread_message_t msg; /* first: the loop's receiver hands it back */
    struct net_job *next;
    net_loop *loop;
    net_work_fn work;
    net_done_fn done;
    void *arg;
} net_job;

struct net_workers {
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;
    net_job *head, *tail;
    size_t queued, running, queue_max;
    bool stopping;
    unsigned nthreads;
    pthread_t *threads;
    net_worker_hooks hooks; /* read-only */
    int nice;               /* read-only */
};

/* Each pool thread's own state (explicit per-thread state: see STYLE). */
static _Thread_local void *worker_local;

void *net_worker_local(void)
{
    return worker_local;
}

/* Pool threads yield the CPU to the loops: when hashing saturates the
 * cores, a loop that wakes must run at once, or every request waits behind
 * argon2. Linux applies nice per thread; failure only costs latency. */
#define WORKER_NICE 19

static void *worker_main(void *arg)
{
    net_workers *w = arg;
    if (w->nice != 0)
        (void)setpriority(PRIO_PROCESS, (id_t)gettid(), w->nice);
    if (w->hooks.thread_start)
        worker_local = w->hooks.thread_start(w->hooks.ctx);
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cond, &w->lock);
        if (!w->head)
            break; /* stopping and nothing left */
        net_job *job = w->head;
        w->head = job->next;
        if (!w->head)
            w->tail = NULL;
        w->queued--;
        w->running++;
        pthread_mutex_unlock(&w->lock);

        job->work(job->arg);
        if (job->done) {
            h2o_multithread_send_message(&job->loop->done_receiver, &job->msg);
        } else {
            /* Nothing to run there: no message, so no wake-up; a stopping
             * loop sees the count fall at its next check. */
            atomic_fetch_sub(&job->loop->jobs, 1);
            free(job);
        }

        pthread_mutex_lock(&w->lock);
        w->running--;
    }
    pthread_mutex_unlock(&w->lock);
    if (w->hooks.thread_stop)
        w->hooks.thread_stop(w->hooks.ctx, worker_local);
    worker_local = NULL;
    return NULL;
}

net_workers *net_workers_new(unsigned threads, size_t queue_max, const net_worker_hooks *hooks)
{
    return net_workers_new_nice(threads, queue_max, hooks, WORKER_NICE);
}

net_workers *net_workers_new_nice(unsigned threads, size_t queue_max, const net_worker_hooks *hooks,
                                  int nice)
{
    net_workers *w = sb_calloc(1, sizeof(*w));
    w->nice = nice;
    if (hooks)
        w->hooks = *hooks;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->queue_max = queue_max ? queue_max : 1;
    w->nthreads = threads ? threads : 1;
    w->threads = sb_calloc(w->nthreads, sizeof(pthread_t));
    for (unsigned i = 0; i < w->nthreads; i++)
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
            sb_die("cannot start worker thread %u", i);
    return w;
}

void net_workers_free(net_workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    for (unsigned i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w->threads);
    free(w);
}

bool net_workers_submit(net_workers *w, net_loop *loop, net_work_fn work, net_done_fn done,
                        void *arg)
{
    pthread_mutex_lock(&w->lock);
    if (w->stopping || w->queued >= w->queue_max) {
        pthread_mutex_unlock(&w->lock);
        return false;
    }
    net_job *job = sb_calloc(1, sizeof(*job));
    job->loop = loop;
    job->work = work;
    job->done = done;
    job->arg = arg;
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    w->queued++;
    atomic_fetch_add(&loop->jobs, 1);
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return true;
}

size_t net_workers_pending(net_workers *w)
{
    pthread_mutex_lock(&w->lock);
    size_t n = w->queued + w->running;
    pthread_mutex_unlock(&w->lock);
    return n;
}

void net__jobs_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        net_job *job = H2O_STRUCT_FROM_MEMBER(net_job, msg.link, messages->next);
        h2o_linklist_unlink(&job->msg.link);
        net_loop *loop = job->loop;
        job->done(job->arg);
        free(job);
        atomic_fetch_sub(&loop->jobs, 1);
    }
}
