/*
 * project_events.c: a project's changes pushed to its members as they
 * happen (docs/collab.md, "Pushes"): GET /api/projects/:id/events/stream
 * is a Server-Sent Events stream of
 *
 *   event: lock      {"action": "taken"|"released", "lock": {...}}
 *   event: comment   {"action": "created"|"updated"|..., "comment": {...}}
 *
 * Expiry: locks taken on this node are watched in memory (project,
 * element, holder, expiry); while any stream is open, each stream's
 * one-second tick sweeps the watch list and pushes `lock` {action:
 * "expired"} for those past their expiry. Renewal moves the expiry,
 * release drops the watch.
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
#include "base/clock.h"
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
    net_sse *sse;   /* its loop's; NULL once closed */
    net_tick *tick; /* its loop's: sweeps the lock watch */
    api_app *app;
} sub;

/* A lock taken on this node, until it expires or is released. */
typedef struct watch {
    char project_id[64];
    char *element;
    char user_id[64];
    char type[8];
    int64_t expires_us;
} watch;

#define WATCH_MAX 100000 /* locks watched at once; past it, expiries go unpushed */

struct api_events {
    pthread_mutex_t lock; /* guards subs, each sub's next, and the watch list */
    sub *subs;
    watch *watches;
    size_t nwatch, watch_cap;
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
    for (size_t i = 0; i < e->nwatch; i++)
        free(e->watches[i].element);
    free(e->watches);
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

/* ---- lock expiry ---- */

/* The watch of (project_id, element), or NULL. e->lock. */
static watch *watch_find(api_events *e, const char *project_id, sb_str element)
{
    for (size_t i = 0; i < e->nwatch; i++) {
        watch *w = &e->watches[i];
        if (strcmp(w->project_id, project_id) == 0 && sb_str_eq(sb_str_c(w->element), element))
            return w;
    }
    return NULL;
}

static void watch_drop(api_events *e, watch *w)
{
    free(w->element);
    *w = e->watches[--e->nwatch];
}

void api_events_lock_watch(api_app *app, const char *project_id, sb_str element,
                           const char *user_id, const char *type, int64_t expires_us)
{
    api_events *e = app->events;
    if (!e || strlen(project_id) >= 64 || strlen(user_id) >= 64)
        return;
    pthread_mutex_lock(&e->lock);
    watch *w = watch_find(e, project_id, element);
    if (!w && e->nwatch < WATCH_MAX) {
        if (e->nwatch == e->watch_cap) {
            e->watch_cap = e->watch_cap ? e->watch_cap * 2 : 16;
            e->watches = sb_realloc(e->watches, e->watch_cap * sizeof(*e->watches));
        }
        w = &e->watches[e->nwatch++];
        snprintf(w->project_id, sizeof(w->project_id), "%s", project_id);
        w->element = sb_strndup(element.ptr, element.len);
    }
    if (w) {
        snprintf(w->user_id, sizeof(w->user_id), "%s", user_id);
        snprintf(w->type, sizeof(w->type), "%s", type);
        w->expires_us = expires_us;
    }
    pthread_mutex_unlock(&e->lock);
}

void api_events_lock_unwatch(api_app *app, const char *project_id, sb_str element)
{
    api_events *e = app->events;
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    watch *w = watch_find(e, project_id, element);
    if (w)
        watch_drop(e, w);
    pthread_mutex_unlock(&e->lock);
}

/* A stream's tick: pushes the expiries due (any stream's tick may find
 * them; the first takes them out of the list). */
static void sweep(void *arg)
{
    sub *s = arg;
    api_events *e = s->app->events;
    int64_t now = sb_wall_us();
    watch due[32];
    size_t n = 0;
    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; i < e->nwatch && n < SB_ARRAY_LEN(due);) {
        if (e->watches[i].expires_us <= now) {
            due[n++] = e->watches[i]; /* takes the element string */
            e->watches[i] = e->watches[--e->nwatch];
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&e->lock);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s,s:{s:s,s:s,s:s,s:s}}", "action", "expired", "lock", "element",
                              due[i].element, "type", due[i].type, "user_id", due[i].user_id,
                              "expires_at", "");
        char t[SB_RFC3339_LEN];
        json_object_set_new(json_object_get(o, "lock"), "expires_at",
                            json_string(sb_rfc3339(due[i].expires_us, t)));
        char *js = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (js)
            api_events_publish(s->app, due[i].project_id, "lock", js, strlen(js));
        free(js);
        json_decref(o);
        free(due[i].element);
    }
    net_tick_arm(s->tick);
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
    net_tick_free(c->s->tick);
    c->s->tick = NULL;
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
    s->app = app;
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
    s->tick = net_tick_new(s->loop, NET_TICK_SECOND, sweep, s);
    net_tick_arm(s->tick);
    /* A first event, so a client knows it is subscribed before it acts
     * (the last use of s here: a failed send ends the stream and frees s). */
    net_sse_send(s->sse, "ready", "{}", 2);
}

void api_events_register(net_router *r, api_app *app)
{
    net_router_add(r, NET_GET, "/api/projects/:id/events/stream", events_stream, app, 0);
}
