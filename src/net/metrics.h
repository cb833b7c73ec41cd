/*
 * metrics.h: per-loop counters rendered in the Prometheus text format
 * (exposition format 0.0.4). Each loop writes only its own net_metrics, with
 * relaxed atomic stores (one writer), and the /metrics handler sums every
 * loop's values with relaxed loads: no lock and no shared cache line on the
 * hot path.
 *
 * Label sets are bounded by construction: routes are the registered
 * patterns (plus "unmatched"), methods the seven we route, statuses a fixed
 * table (anything else counts as "other").
 */
#ifndef SB_NET_METRICS_H
#define SB_NET_METRICS_H

#include "base/str.h"
#include "net/router.h"

typedef struct net_metrics net_metrics;
typedef struct net_server net_server;

net_metrics *net_metrics_new(unsigned nroutes);
void net_metrics_free(net_metrics *m);

/* route_id 0 = unmatched. */
void net_metrics_request(net_metrics *m, unsigned route_id, net_method method, int status,
                         uint64_t duration_ns);
void net_metrics_inflight(net_metrics *m, int delta);
void net_metrics_websockets(net_metrics *m, int delta);
void net_metrics_store(net_metrics *m, uint64_t duration_ns, bool ok);

/* Appends the exposition text for the whole server. */
void net_metrics_render(const net_server *s, sb_buf *out);

#endif
