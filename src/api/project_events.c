/*
 * project_events.c: a project's changes pushed to its members as they
 * happen (docs/collab.md, "Pushes"): GET /api/projects/:id/events/stream
 * is a Server-Sent Events stream of
 *
 *   event: lock      {"action": "taken"|"released", "lock": {...}}
 *   event: comment   {"action": "created"|"updated"|..., "comment": {...}}
 *
 * A separate stream rather than the collaboration WebSocket: y-websocket's
 * client logs "Unable to compute message" for every message type it does
 * not know, so pushes there would spam every stock client's console.
 *
 * Streams live on the loop that accepted them; api_events_publish, from
 * any loop thread, posts each matching stream's copy of the event to that
 * loop. A subscriber is reference counted (the list's, one per event in
 * flight), and marked gone under the lock when its stream closes.
 */
#include "api/domain.h"
#include "base/log.h"
#include "net/post.h"
#include "net/sse.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct sub {
    struct sub *next;
    atomic_int refs;
    char project_id[64];
    net_loop *loop;
    net_sse *sse; /* its loop's; NULL once closed */
} sub;

struct api_events {
    pthread_mutex_t lock; /* guards subs and each sub's next */
    sub *subs;
};

typedef struct ev_post {
    sub *s; /* holds a reference */
    char event[16];
    size_t len;
    char data[];
} ev_post;

api_events *api_events_new(void)
{
    api_events *e = sb_calloc(1, sizeof(*e));
    pthread_mutex_init(&e->lock, NULL);
    return e;
}

void api_events_free(api_events *e)
{
    if (!e)
        return;
    /* Every stream ended at shutdown (net/sse.h), so the list is empty. */
    pthread_mutex_destroy(&e->lock);
    free(e);
}

static void sub_unref(sub *s)
{
    if (atomic_fetch_sub(&s->refs, 1) == 1)
        free(s);
}

static void deliver(void *arg)
{
    ev_post *p = arg;
    if (p->s->sse)
        net_sse_send(p->s->sse, p->event, p->data, p->len);
    sub_unref(p->s);
    free(p);
}

void api_events_publish(api_app *app, const char *project_id, const char *event, const char *data,
                        size_t len)
{
    api_events *e = app->events;
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    for (sub *s = e->subs; s; s = s->next) {
        if (strcmp(s->project_id, project_id) != 0)
            continue;
        ev_post *p = sb_malloc(sizeof(*p) + len);
        atomic_fetch_add(&s->refs, 1);
        p->s = s;
        snprintf(p->event, sizeof(p->event), "%s", event);
        p->len = len;
        memcpy(p->data, data, len);
        net_loop_post(s->loop, deliver, p);
    }
    pthread_mutex_unlock(&e->lock);
}

typedef struct close_ctx {
    api_events *e;
    sub *s;
} close_ctx;

static void stream_closed(net_sse *sse, void *ctx)
{
    (void)sse;
    close_ctx *c = ctx;
    pthread_mutex_lock(&c->e->lock);
    for (sub **pp = &c->e->subs; *pp; pp = &(*pp)->next) {
        if (*pp == c->s) {
            *pp = c->s->next;
            break;
        }
    }
    c->s->sse = NULL; /* events in flight find it gone */
    pthread_mutex_unlock(&c->e->lock);
    sub_unref(c->s);
    free(c);
}

/* GET /api/projects/:id/events/stream: members of the project (guests
 * too see only what is shared with them elsewhere, so not these). */
static void events_stream(net_req *req, void *ctx)
{
    API_DOMAIN_BEGIN(true);
    sb_str id = net_req_param(req, "id");
    bool can_write;
    projects_err r = projects_collab_access(&c, id, NULL, SB_STR_NULL, &can_write);
    if (r == PROJECTS_OK && !app->events)
        r = PROJECTS_STORE; /* an app made without streams: 503 */
    if (r != PROJECTS_OK || id.len >= sizeof(((sub *)0)->project_id)) {
        api_respond_projects(req, r == PROJECTS_OK ? PROJECTS_NOT_FOUND : r, &prob);
        sb_buf_free(&body);
        return;
    }
    sb_buf_free(&body);
    sub *s = sb_calloc(1, sizeof(*s));
    atomic_init(&s->refs, 1);
    snprintf(s->project_id, sizeof(s->project_id), "%.*s", (int)id.len, id.ptr);
    s->loop = req->loop;
    close_ctx *cc = sb_malloc(sizeof(*cc));
    cc->e = app->events;
    cc->s = s;
    s->sse = net_sse_start(req, stream_closed, cc);
    if (!s->sse) {
        sub_unref(s);
        free(cc);
        return;
    }
    pthread_mutex_lock(&app->events->lock);
    s->next = app->events->subs;
    app->events->subs = s;
    pthread_mutex_unlock(&app->events->lock);
    /* A first event, so a client knows it is subscribed before it acts. */
    net_sse_send(s->sse, "ready", "{}", 2);
}

void api_events_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_GET, "/api/projects/:id/events/stream", events_stream, app, 0);
}
