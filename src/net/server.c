/*
 * server.c: loop threads, listeners and the graceful drain.
 *
 * Start: net_server_new parses the address and binds one SO_REUSEPORT
 * socket per loop (the first resolves a port 0, the rest bind to the port it
 * got), so "address in use" is reported before anything runs. run() blocks
 * SIGINT/SIGTERM in every thread and waits for them with sigtimedwait on the
 * main thread; loops never see signals.
 *
 * Drain: each loop gets a stop message through its h2o queue and, on its own
 * thread: closes its listener, asks h2o to shut down (HTTP/2 GOAWAY, no more
 * HTTP/1 keep-alive), sets its HTTP/1 request timeout to zero so that idle
 * keep-alive connections close through h2o's own path, sends 1001 to its
 * WebSockets and ends its event streams. It then runs until its requests
 * in flight reach zero and its connections are gone, or the deadline.
 */
#include "net/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/clock.h"
#include "base/log.h"
#include "net/net_int.h"
#include "net/post.h"

/* ---- address and sockets ---- */

static bool parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
                         sb_errbuf *err)
{
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return sb_errf(err, "listen: expected host:port, got '%s'", listen);
    char host[64];
    size_t hlen = (size_t)(colon - listen);
    if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
        listen++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof(host))
        return sb_errf(err, "listen: bad host in '%s'", listen);
    memcpy(host, listen, hlen);
    host[hlen] = '\0';
    int64_t port;
    if (!sb_str_to_i64(sb_str_c(colon + 1), 0, 65535, &port))
        return sb_errf(err, "listen: bad port in '%s'", listen);

    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (strcmp(host, "localhost") == 0)
        memcpy(host, "127.0.0.1", sizeof("127.0.0.1"));
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*v6);
    } else {
        return sb_errf(err, "listen: '%s' is not an IP address", host);
    }
    return true;
}

static int bind_socket(const struct sockaddr_storage *ss, socklen_t len, sb_errbuf *err)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        sb_errf(err, "socket: %s", strerror(errno));
        return -1;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    /* One listener per loop on the same port; the kernel balances. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
    /* Accepted sockets inherit TCP_NODELAY: small JSON answers go at once. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        sb_errf(err, "cannot listen: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void format_address(const struct sockaddr_storage *ss, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
        snprintf(out, n, "%s:%u", host, ntohs(v4->sin_port));
    } else {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
        snprintf(out, n, "[%s]:%u", host, ntohs(v6->sin6_port));
    }
}

/* ---- TLS ---- */

static SSL_CTX *make_ssl_ctx(const sb_config *cfg, sb_errbuf *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        sb_errf(err, "tls: cannot create a context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
        sb_errf(err, "tls_cert: cannot load '%s'", cfg->tls_cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        sb_errf(err, "tls_key: cannot load '%s' or it does not match tls_cert", cfg->tls_key);
        goto fail;
    }
    /* ALPN offers h2 first: browsers and curl then speak HTTP/2. */
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    return ctx;
fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

/* ---- CORS allow-list ---- */

static void parse_origins(net_server *s, const char *list)
{
    if (strcmp(list, "*") == 0) {
        s->any_origin = true;
        return;
    }
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ')
            p++;
        if (p > start) {
            s->origins = sb_realloc(s->origins, (s->norigins + 1) * sizeof(sb_str));
            s->origins[s->norigins++] = sb_str_make(start, (size_t)(p - start));
        }
    }
}

/* ---- life cycle ---- */

net_server *net_server_new(const sb_config *cfg, const net_router *router,
                           const net_server_hooks *hooks, sb_errbuf *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (!parse_listen(cfg->listen, &ss, &sslen, err))
        return NULL;

    net_server *s = sb_calloc(1, sizeof(*s));
    s->cfg = cfg;
    s->router = router;
    if (hooks)
        s->hooks = *hooks;
    s->nloops = cfg->threads > 0 ? (unsigned)cfg->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    if (s->nloops == 0)
        s->nloops = 1;
    s->loops = sb_calloc(s->nloops, sizeof(net_loop));
    pthread_mutex_init(&s->start_lock, NULL);
    pthread_cond_init(&s->start_cond, NULL);
    parse_origins(s, cfg->cors_origins);
    for (unsigned i = 0; i < s->nloops; i++)
        s->loops[i].listen_fd = -1;

    if (cfg->tls_cert[0] && !(s->ssl_ctx = make_ssl_ctx(cfg, err)))
        goto fail;

    for (unsigned i = 0; i < s->nloops; i++) {
        if ((s->loops[i].listen_fd = bind_socket(&ss, sslen, err)) < 0)
            goto fail;
        if (i == 0) {
            /* Resolve port 0 so the other loops share the port we got. */
            socklen_t l = sizeof(ss);
            getsockname(s->loops[0].listen_fd, (struct sockaddr *)&ss, &l);
            format_address(&ss, s->address, sizeof(s->address));
        }
    }

    h2o_config_init(&s->globalconf);
    s->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("sitebase"));
    /* h2o refuses bodies above this with its own 413 before reading them;
     * each route's smaller limit is checked in dispatch. */
    s->globalconf.max_request_entity_size = SB_MAX(cfg->max_json_body, cfg->max_upload_body);
    s->globalconf.http1.req_timeout = (uint64_t)cfg->request_timeout_ms;
    s->globalconf.http2.idle_timeout = (uint64_t)cfg->request_timeout_ms;
    s->globalconf.http2.graceful_shutdown_timeout = (uint64_t)cfg->shutdown_timeout_ms;
    h2o_hostconf_t *host =
        h2o_config_register_host(&s->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = net__dispatch;

    for (unsigned i = 0; i < s->nloops; i++) {
        s->loops[i].server = s;
        s->loops[i].index = i;
        s->loops[i].metrics = net_metrics_new(net_router_count(router));
        h2o_linklist_init_anchor(&s->loops[i].sockets);
        h2o_linklist_init_anchor(&s->loops[i].streams);
    }
    return s;

fail:
    net_server_free(s);
    return NULL;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    net_loop *loop = listener->data;
    if (err != NULL)
        return;
    /* Accept a few per wake-up: fair to the connections already open. */
    for (int i = 0; i < 16; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (!sock)
            break;
        h2o_accept(&loop->accept_ctx, sock);
    }
}

static void close_listener(net_loop *loop)
{
    if (loop->listener) {
        h2o_socket_read_stop(loop->listener);
        h2o_socket_close(loop->listener); /* closes listen_fd too */
        loop->listener = NULL;
        loop->listen_fd = -1;
    }
}

static void on_stop(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    net_loop *loop = H2O_STRUCT_FROM_MEMBER(net_loop, cmd_receiver, receiver);
    while (!h2o_linklist_is_empty(messages))
        h2o_linklist_unlink(messages->next);
    if (loop->stopping)
        return;
    loop->stopping = true;
    loop->deadline_ns = sb_mono_ns() + (uint64_t)loop->server->cfg->shutdown_timeout_ms * 1000000;
    close_listener(loop);
    h2o_context_request_shutdown(&loop->ctx);
    /* Idle keep-alive connections wait in the request timeout; expiring it
     * now closes them the way h2o closes any idle connection. */
    loop->ctx.http1.req_timeout.timeout = 0;
    net__ws_shutdown(loop);
    net__sse_shutdown(loop);
}

static bool drained(net_loop *loop)
{
    /* A job still out (a stream's tick, the work of a request whose client
     * left) will send its completion here: the queue must outlive it. */
    return loop->inflight == 0 && atomic_load(&loop->jobs) == 0 &&
           h2o_linklist_is_empty(&loop->sockets) && h2o_linklist_is_empty(&loop->streams) &&
           h2o_linklist_is_empty(&loop->ctx.http1._conns) &&
           h2o_linklist_is_empty(&loop->ctx.http2._conns);
}

static void report_start(net_loop *loop, bool ok)
{
    net_server *s = loop->server;
    pthread_mutex_lock(&s->start_lock);
    loop->started = true;
    loop->start_failed = !ok;
    pthread_cond_broadcast(&s->start_cond);
    pthread_mutex_unlock(&s->start_lock);
}

static void *loop_main(void *arg)
{
    net_loop *loop = arg;
    net_server *s = loop->server;
    loop->evloop = h2o_evloop_create();
    h2o_context_init(&loop->ctx, loop->evloop, &s->globalconf);
    h2o_timeout_init(loop->evloop, &loop->short_timeout, NET_TICK_SHORT_MS);
    loop->accept_ctx.ctx = &loop->ctx;
    loop->accept_ctx.hosts = s->globalconf.hosts;
    loop->accept_ctx.ssl_ctx = s->ssl_ctx;
    h2o_multithread_register_receiver(loop->ctx.queue, &loop->cmd_receiver, on_stop);
    h2o_multithread_register_receiver(loop->ctx.queue, &loop->done_receiver, net__jobs_done);
    h2o_multithread_register_receiver(loop->ctx.queue, &loop->post_receiver, net__posts_run);

    bool app_ok = true;
    if (s->hooks.loop_start && !s->hooks.loop_start(loop, s->hooks.app, &loop->start_err))
        app_ok = false;
    if (app_ok) {
        loop->listener =
            h2o_evloop_socket_create(loop->evloop, loop->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
        loop->listener->data = loop;
        h2o_socket_read_start(loop->listener, on_accept);
    }
    report_start(loop, app_ok);

    if (app_ok) {
        int rc = 1;
        while (!(loop->stopping && drained(loop))) {
            /* While draining, wake often to check; otherwise sleep until work. */
            rc = h2o_evloop_run(loop->evloop, loop->stopping ? 20 : INT32_MAX);
            net__turn_end(loop);
            if (rc != 0 && errno != EINTR) {
                sb_log(SB_LOG_ERROR, "event loop failed", SB_LOG_INT("loop", loop->index),
                       SB_LOG_STR("error", strerror(errno)));
                break;
            }
            if (loop->stopping && sb_mono_ns() > loop->deadline_ns) {
                sb_log(SB_LOG_WARN, "shutdown deadline reached", SB_LOG_INT("loop", loop->index),
                       SB_LOG_INT("in_flight", (int64_t)loop->inflight));
                break;
            }
        }
    }
    close_listener(loop);
    if (app_ok && s->hooks.loop_stop)
        s->hooks.loop_stop(loop, s->hooks.app);
    h2o_multithread_unregister_receiver(loop->ctx.queue, &loop->cmd_receiver);
    h2o_multithread_unregister_receiver(loop->ctx.queue, &loop->done_receiver);
    h2o_multithread_unregister_receiver(loop->ctx.queue, &loop->post_receiver);
    /* Only a drained loop can dispose h2o's context safely: connections
     * cut off at the deadline still point into it, and the process is
     * about to exit anyway. */
    if (drained(loop)) {
        /* h2o's HTTP/2 shutdown leaves its GOAWAY timer armed even when no
         * connection is left; dispose asserts every timer is idle. */
        if (h2o_timeout_is_linked(&loop->ctx.http2._graceful_shutdown_timeout))
            h2o_timeout_unlink(&loop->ctx.http2._graceful_shutdown_timeout);
        h2o_timeout_dispose(loop->evloop, &loop->short_timeout);
        h2o_context_dispose(&loop->ctx);
    }
    return NULL;
}

int net_server_run(net_server *s)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by the loops */
    signal(SIGPIPE, SIG_IGN);

    unsigned started = 0;
    bool failed = false;
    for (; started < s->nloops; started++) {
        if (pthread_create(&s->loops[started].thread, NULL, loop_main, &s->loops[started]) != 0) {
            sb_log(SB_LOG_ERROR, "cannot start a loop thread",
                   SB_LOG_STR("error", strerror(errno)));
            failed = true;
            break;
        }
    }
    pthread_mutex_lock(&s->start_lock);
    for (unsigned i = 0; i < started; i++) {
        while (!s->loops[i].started)
            pthread_cond_wait(&s->start_cond, &s->start_lock);
        if (s->loops[i].start_failed) {
            if (!failed)
                sb_log(SB_LOG_ERROR, "start-up failed",
                       SB_LOG_STR("error", s->loops[i].start_err.msg));
            failed = true;
        }
    }
    pthread_mutex_unlock(&s->start_lock);

    if (!failed) {
        sb_log(SB_LOG_INFO, "ready", SB_LOG_STR("addr", s->address),
               SB_LOG_INT("threads", s->nloops), SB_LOG_BOOL("tls", s->ssl_ctx != NULL));
        struct timespec tick = {0, 200 * 1000 * 1000};
        while (!atomic_load(&s->stop_requested)) {
            int sig = sigtimedwait(&set, NULL, &tick);
            if (sig == SIGINT || sig == SIGTERM) {
                sb_log(SB_LOG_INFO, "shutting down",
                       SB_LOG_STR("signal", sig == SIGINT ? "SIGINT" : "SIGTERM"),
                       SB_LOG_INT("deadline_ms", s->cfg->shutdown_timeout_ms));
                break;
            }
        }
    }

    for (unsigned i = 0; i < started; i++) {
        if (!s->loops[i].start_failed)
            h2o_multithread_send_message(&s->loops[i].cmd_receiver, &s->loops[i].stop_msg);
    }
    int rc = failed ? 1 : 0;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(s->loops[i].thread, NULL);
        if (!drained(&s->loops[i]) && !s->loops[i].start_failed)
            rc = 1;
    }
    if (!failed)
        sb_log(SB_LOG_INFO, "stopped", SB_LOG_BOOL("clean", rc == 0));
    return rc;
}

void net_server_stop(net_server *s)
{
    atomic_store(&s->stop_requested, true);
}

void net_server_free(net_server *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->nloops; i++) {
        net_loop *loop = &s->loops[i];
        if (loop->listen_fd >= 0)
            close(loop->listen_fd);
        if (loop->evloop && drained(loop))
            h2o_evloop_destroy(loop->evloop);
        net_metrics_free(loop->metrics);
        free(loop->turn_end);
    }
    if (s->globalconf.hosts) /* set up only once binding succeeded */
        h2o_config_dispose(&s->globalconf);
    if (s->ssl_ctx)
        SSL_CTX_free(s->ssl_ctx);
    free(s->origins);
    free(s->loops);
    pthread_mutex_destroy(&s->start_lock);
    pthread_cond_destroy(&s->start_cond);
    free(s);
}

const char *net_server_address(const net_server *s)
{
    return s->address;
}
unsigned net_server_threads(const net_server *s)
{
    return s->nloops;
}
const sb_config *net_server_config(const net_server *s)
{
    return s->cfg;
}
const net_router *net_server_router(const net_server *s)
{
    return s->router;
}
net_loop *net_server_loop(const net_server *s, unsigned i)
{
    return &s->loops[i];
}
net_server *net_loop_server(const net_loop *loop)
{
    return loop->server;
}
unsigned net_loop_index(const net_loop *loop)
{
    return loop->index;
}
void *net_loop_app(const net_loop *loop)
{
    return loop->app;
}
void net_loop_set_app(net_loop *loop, void *app)
{
    loop->app = app;
}
net_metrics *net_loop_metrics(const net_loop *loop)
{
    return loop->metrics;
}
