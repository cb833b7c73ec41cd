/*
 * metrics.c: counters and histograms per loop, summed at render time.
 *
 * Invariant: a net_metrics is written only by its loop thread; writes are
 * relaxed load+store pairs (safe with one writer) so that a reader on
 * another thread sees whole values, never torn ones.
 */
#include "net/metrics.h"

#include <stdatomic.h>
#include <time.h>

#include "base/clock.h"
#include "net/net_int.h"

/* Every status we or h2o send; others are counted as "other". */
static const int statuses[] = {101, 200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308,
                               400, 401, 403, 404, 405, 406, 408, 409, 410, 412, 413, 414,
                               415, 416, 417, 422, 426, 429, 431, 500, 501, 502, 503, 504};
#define NSTATUS (SB_ARRAY_LEN(statuses) + 1)

/* Upper bounds in seconds: from half a millisecond to ten seconds. */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define NBUCKETS (SB_ARRAY_LEN(buckets) + 1) /* + Inf */

typedef struct histogram {
    _Atomic uint64_t counts[NBUCKETS]; /* non-cumulative; summed when rendered */
    _Atomic uint64_t sum_ns;
} histogram;

struct net_metrics {
    unsigned nroutes;
    _Atomic uint64_t *requests; /* [route 0..nroutes][method][status] */
    histogram *latency;         /* [route 0..nroutes] */
    _Atomic int64_t inflight;
    _Atomic int64_t websockets;
    histogram store_latency;
    _Atomic uint64_t store_errors;
};

static inline void bump(_Atomic uint64_t *c, uint64_t by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

static inline void add_gauge(_Atomic int64_t *g, int delta)
{
    atomic_store_explicit(g, atomic_load_explicit(g, memory_order_relaxed) + delta,
                          memory_order_relaxed);
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(statuses); i++)
        if (statuses[i] == status)
            return i;
    return SB_ARRAY_LEN(statuses);
}

static void observe(histogram *h, uint64_t ns)
{
    double s = (double)ns / 1e9;
    size_t b = 0;
    while (b < SB_ARRAY_LEN(buckets) && s > buckets[b])
        b++;
    bump(&h->counts[b], 1);
    bump(&h->sum_ns, ns);
}

net_metrics *net_metrics_new(unsigned nroutes)
{
    net_metrics *m = sb_calloc(1, sizeof(*m));
    m->nroutes = nroutes;
    m->requests = sb_calloc((size_t)(nroutes + 1) * NET_METHOD_COUNT * NSTATUS, sizeof(uint64_t));
    m->latency = sb_calloc(nroutes + 1, sizeof(histogram));
    return m;
}

void net_metrics_free(net_metrics *m)
{
    if (!m)
        return;
    free(m->requests);
    free(m->latency);
    free(m);
}

void net_metrics_request(net_metrics *m, unsigned route_id, net_method method, int status,
                         uint64_t duration_ns)
{
    if (route_id > m->nroutes)
        route_id = 0;
    if (method >= NET_METHOD_COUNT)
        method = NET_GET; /* unroutable methods never reach a route; file them under GET */
    size_t i = ((size_t)route_id * NET_METHOD_COUNT + method) * NSTATUS + status_index(status);
    bump(&m->requests[i], 1);
    observe(&m->latency[route_id], duration_ns);
}

void net_metrics_inflight(net_metrics *m, int delta)
{
    add_gauge(&m->inflight, delta);
}

void net_metrics_websockets(net_metrics *m, int delta)
{
    add_gauge(&m->websockets, delta);
}

void net_metrics_store(net_metrics *m, uint64_t duration_ns, bool ok)
{
    observe(&m->store_latency, duration_ns);
    if (!ok)
        bump(&m->store_errors, 1);
}

static uint64_t load(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* Sums one histogram over all loops (pick selects it from a loop's metrics)
 * and writes its _bucket, _sum and _count lines. */
static void render_histogram(sb_buf *out, const net_server *s, const char *name, const char *labels,
                             histogram *(*pick)(net_metrics *, void *), void *arg)
{
    uint64_t counts[NBUCKETS] = {0}, sum_ns = 0;
    for (unsigned l = 0; l < net_server_threads(s); l++) {
        histogram *h = pick(net_loop_metrics(net_server_loop(s, l)), arg);
        for (size_t b = 0; b < NBUCKETS; b++)
            counts[b] += load(&h->counts[b]);
        sum_ns += load(&h->sum_ns);
    }
    uint64_t cumulative = 0;
    const char *sep = labels[0] ? "," : "";
    for (size_t b = 0; b < NBUCKETS; b++) {
        cumulative += counts[b];
        if (b < SB_ARRAY_LEN(buckets))
            sb_buf_appendf(out, "%s_bucket{%s%sle=\"%g\"} %lu\n", name, labels, sep, buckets[b],
                           (unsigned long)cumulative);
        else
            sb_buf_appendf(out, "%s_bucket{%s%sle=\"+Inf\"} %lu\n", name, labels, sep,
                           (unsigned long)cumulative);
    }
    sb_buf_appendf(out, "%s_sum%s%s%s %.9f\n", name, labels[0] ? "{" : "", labels,
                   labels[0] ? "}" : "", (double)sum_ns / 1e9);
    sb_buf_appendf(out, "%s_count%s%s%s %lu\n", name, labels[0] ? "{" : "", labels,
                   labels[0] ? "}" : "", (unsigned long)cumulative);
}

static histogram *pick_route(net_metrics *m, void *arg)
{
    return &m->latency[*(unsigned *)arg];
}

static histogram *pick_store(net_metrics *m, void *arg)
{
    return &m->store_latency;
}

/* Label values are route patterns we registered: no quotes or backslashes
 * can occur, but escape anyway so the output is valid whatever comes. */
static void label_value(sb_buf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            sb_buf_putc(out, '\\');
        if (*v == '\n') {
            sb_buf_puts(out, "\\n");
            continue;
        }
        sb_buf_putc(out, *v);
    }
}

static void route_label(sb_buf *out, const net_server *s, unsigned r)
{
    const net_route *route = net_router_route(net_server_router(s), r);
    label_value(out, route ? route->pattern : "unmatched");
}

void net_metrics_render(const net_server *s, sb_buf *out)
{
    unsigned nroutes = net_router_count(net_server_router(s));
    unsigned nloops = net_server_threads(s);

    sb_buf_puts(out, "# HELP sitebase_build_info Build information.\n"
                     "# TYPE sitebase_build_info gauge\n");
    sb_buf_appendf(out, "sitebase_build_info{version=\"%s\"} 1\n", SITEBASE_VERSION);

    sb_buf_puts(out, "# HELP sitebase_http_requests_total HTTP requests answered, by route "
                     "pattern, method and status.\n"
                     "# TYPE sitebase_http_requests_total counter\n");
    for (unsigned r = 0; r <= nroutes; r++) {
        for (int meth = 0; meth < NET_METHOD_COUNT; meth++) {
            for (size_t st = 0; st < NSTATUS; st++) {
                uint64_t n = 0;
                size_t i = ((size_t)r * NET_METHOD_COUNT + (size_t)meth) * NSTATUS + st;
                for (unsigned l = 0; l < nloops; l++)
                    n += load(&net_loop_metrics(net_server_loop(s, l))->requests[i]);
                if (n == 0)
                    continue;
                sb_buf_puts(out, "sitebase_http_requests_total{route=\"");
                route_label(out, s, r);
                if (st < SB_ARRAY_LEN(statuses))
                    sb_buf_appendf(out, "\",method=\"%s\",status=\"%d\"} %lu\n",
                                   net_method_name((net_method)meth), statuses[st],
                                   (unsigned long)n);
                else
                    sb_buf_appendf(out, "\",method=\"%s\",status=\"other\"} %lu\n",
                                   net_method_name((net_method)meth), (unsigned long)n);
            }
        }
    }

    sb_buf_puts(out, "# HELP sitebase_http_request_duration_seconds Time from a request's "
                     "arrival to its answer, by route pattern.\n"
                     "# TYPE sitebase_http_request_duration_seconds histogram\n");
    for (unsigned r = 0; r <= nroutes; r++) {
        uint64_t seen = 0;
        for (unsigned l = 0; l < nloops; l++)
            for (size_t b = 0; b < NBUCKETS; b++)
                seen += load(&net_loop_metrics(net_server_loop(s, l))->latency[r].counts[b]);
        if (seen == 0)
            continue;
        sb_buf labels = SB_BUF_INIT;
        sb_buf_puts(&labels, "route=\"");
        route_label(&labels, s, r);
        sb_buf_putc(&labels, '"');
        render_histogram(out, s, "sitebase_http_request_duration_seconds", labels.ptr, pick_route,
                         &r);
        sb_buf_free(&labels);
    }

    int64_t inflight = 0, websockets = 0;
    uint64_t store_errors = 0;
    for (unsigned l = 0; l < nloops; l++) {
        net_metrics *m = net_loop_metrics(net_server_loop(s, l));
        inflight += atomic_load_explicit(&m->inflight, memory_order_relaxed);
        websockets += atomic_load_explicit(&m->websockets, memory_order_relaxed);
        store_errors += load(&m->store_errors);
    }
    sb_buf_appendf(out,
                   "# HELP sitebase_http_requests_in_flight Requests being handled now.\n"
                   "# TYPE sitebase_http_requests_in_flight gauge\n"
                   "sitebase_http_requests_in_flight %ld\n"
                   "# HELP sitebase_websocket_connections Open WebSocket connections.\n"
                   "# TYPE sitebase_websocket_connections gauge\n"
                   "sitebase_websocket_connections %ld\n",
                   (long)inflight, (long)websockets);

    sb_buf_puts(out, "# HELP sitebase_store_query_duration_seconds Time of each storage "
                     "statement.\n"
                     "# TYPE sitebase_store_query_duration_seconds histogram\n");
    render_histogram(out, s, "sitebase_store_query_duration_seconds", "", pick_store, NULL);
    sb_buf_appendf(out,
                   "# HELP sitebase_store_query_errors_total Storage statements that failed.\n"
                   "# TYPE sitebase_store_query_errors_total counter\n"
                   "sitebase_store_query_errors_total %lu\n",
                   (unsigned long)store_errors);
}
