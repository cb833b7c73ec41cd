#!/usr/bin/env bash
# Graceful shutdown: SIGTERM while requests are in flight on the worker pool,
# an event stream is open and WebSockets are connected. Every in-flight
# request is answered in full, the WebSocket gets close 1001, the stream
# ends, new connections are refused, and the process exits 0 in time.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_start --shutdown-timeout 10s --workers 8

# Six requests that take 1.5 s each, on both loops.
for i in 1 2 3 4 5 6; do
    curl -sS -o "$SB_TMP/slow$i" -w '%{http_code}' "$SB_URL/_test/slow?ms=1500" >"$SB_TMP/code$i" &
done
node -e '
const WebSocket = require("ws");
const ws = new WebSocket(process.argv[1]);
ws.on("open", () => console.log("open"));
ws.on("close", (code, reason) => { console.log("close " + code); process.exit(0); });
setTimeout(() => { console.log("no close"); process.exit(1); }, 15000);
' "ws://$SB_ADDR/_test/ws" >"$SB_TMP/ws.out" 2>&1 &
ws_pid=$!
curl -sS -N "$SB_URL/_test/sse?n=1000" >"$SB_TMP/sse.out" 2>&1 &
sse_pid=$!
# Wait (bounded) until the server holds all of them: 6 slow requests, the
# stream and this /metrics request in flight, and the WebSocket open.
for _ in $(seq 1 100); do
    m=$(curl -sS "$SB_URL/metrics")
    grep -q '^sitebase_http_requests_in_flight 8$' <<<"$m" &&
        grep -q '^sitebase_websocket_connections 1$' <<<"$m" && break
    sleep 0.05
done
contains "all clients in flight before SIGTERM" "$m" "sitebase_http_requests_in_flight 8"

start=$(date +%s%N)
kill -TERM "$SB_PID"
sleep 0.3
eq "new connections are refused while draining" \
    "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "$SB_URL/healthz" 2>/dev/null)" 000
wait "$SB_PID"
SB_EXIT=$?
SB_PID=""
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
wait
eq "exit status after drain" "$SB_EXIT" 0
check "drain took less than the deadline" test "$elapsed_ms" -lt 8000
for i in 1 2 3 4 5 6; do
    eq "in-flight request $i answered" "$(cat "$SB_TMP/code$i")" 200
    eq "in-flight body $i complete" "$(cat "$SB_TMP/slow$i")" '{"slept_ms":1500}'
done
eq "websocket saw close 1001" "$(tail -1 "$SB_TMP/ws.out")" "close 1001"
contains "event stream delivered events" "$(cat "$SB_TMP/sse.out")" "event: tick"
check "event stream ended cleanly" grep -q "data: " "$SB_TMP/sse.out"
check "log says it stopped cleanly" grep -q '"msg":"stopped","clean":true' "$SB_LOG"
sb_finish
