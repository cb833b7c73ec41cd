#!/usr/bin/env bash
# WebSocket: a real client (node `ws`) against the echo route: text and
# binary round trips, 50 concurrent clients, the message size limit (1009),
# a refused non-WebSocket request, and the connection gauge in /metrics.
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_start --ws-max-message 64K --ws-max-queue 1M

check "websocket client suite" node "$SITEBASE_SOURCE_DIR/tests/integration/websocket.mjs" \
    "ws://$SB_ADDR/_test/ws"
check "slow reader was logged" grep -q '"msg":"websocket dropped: peer reads too slowly"' "$SB_LOG"
eq "plain GET on a WebSocket route is 400" "$(http "$SB_URL/_test/ws")" 400
contains "400 explains" "$(body)" '"code":"websocket_handshake"'
contains "connections gauge back to zero" "$(curl -sS "$SB_URL/metrics")" \
    "sitebase_websocket_connections 0"
sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
