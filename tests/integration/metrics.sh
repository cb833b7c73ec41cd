#!/usr/bin/env bash
# /metrics: valid Prometheus text (promtool check metrics), with the
# counters, histograms and gauges the issue names, counting what we sent.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_start
for i in 1 2 3; do curl -sS -o /dev/null "$SB_URL/healthz"; done
curl -sS -o /dev/null "$SB_URL/missing"
curl -sS -o /dev/null "$SB_URL/readyz"
m=$(curl -sS "$SB_URL/metrics")
echo "$m" >"$SB_TMP/metrics.txt"

check "promtool accepts it" promtool check metrics <"$SB_TMP/metrics.txt"
contains "requests by route, method, status" "$m" \
    'sitebase_http_requests_total{route="/healthz",method="GET",status="200"} 3'
contains "unmatched routes" "$m" \
    'sitebase_http_requests_total{route="unmatched",method="GET",status="404"} 1'
contains "latency histogram per route" "$m" \
    'sitebase_http_request_duration_seconds_count{route="/healthz"} 3'
contains "+Inf bucket" "$m" 'sitebase_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 3'
contains "in-flight gauge counts this request" "$m" "sitebase_http_requests_in_flight 1"
contains "websocket gauge" "$m" "sitebase_websocket_connections 0"
contains "build info" "$m" 'sitebase_build_info{version="'
contains "bus gauge" "$m" 'sitebase_bus_up{driver="mem"} 1'
contains "bus counters" "$m" 'sitebase_bus_dropped_total{driver="mem"} 0'
check "store latency observed" grep -qE '^sitebase_store_query_duration_seconds_count [1-9]' \
    "$SB_TMP/metrics.txt"
ctype=$(curl -sS -o /dev/null -w '%{content_type}' "$SB_URL/metrics")
eq "exposition content type" "$ctype" "text/plain; version=0.0.4; charset=utf-8"
sb_stop
sb_finish
