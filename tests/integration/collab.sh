#!/usr/bin/env bash
# Real-time collaboration (docs/collab.md): real yjs + y-websocket clients
# (tests/collab/collab.mjs) against /collab/:project_id/:doc on two loop
# threads: concurrent Text/Map/Array edits converge with each other and with
# the stored state (GET /api/projects/:id/docs/:doc); an offline client's
# edits merge on reconnect; viewers read but their updates are refused
# (auth permission-denied), guests read shared pages only; unauthenticated,
# strangers and unknown document kinds are refused before the upgrade;
# malformed messages close only their
# connection (1002/1003); awareness is relayed and presence lists and drops
# it; nothing acknowledged (seen by another client) is lost across a clean
# restart or kill -9; the log is compacted; the per-document and per-user
# connection limits refuse before the upgrade; unrenewed awareness states
# time out; a client that stops reading is disconnected past its queue.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

MJS="$SITEBASE_SOURCE_DIR/tests/collab/collab.mjs"
# A small compaction threshold, so the tests cross it.
FLAGS=(--collab-compact-after 50 --collab-evict-grace 2s)
sb_start_api "${FLAGS[@]}"

sb_team_project "ED eddie editor" "ED2 erin editor" "VW vera viewer" "ST sam -" "GU gus guest"
call "$OWN" POST "/projects/$PROJECT/pages" '{"name":"Home","path":"/"}' >/dev/null
PAGE=$(body | jget id)
call "$OWN" POST "/projects/$PROJECT/pages" '{"name":"About","path":"/about"}' >/dev/null
PAGE2=$(body | jget id)
call "$OWN" POST "/projects/$PROJECT/shares" "{\"user_id\":\"$GU_ID\",\"kind\":\"page\",\"item\":\"$PAGE\"}" >/dev/null
export SB_ADDR PROJECT OWN ED ED2 VW ST GU ED_ID

run() { sb_node_check "$1" "$MJS" "${@:2}"; } # run NAME MODE [VAR=VALUE...]

run "concurrent providers converge (page doc)" converge DOC="page:$PAGE" EDITS=40
run "concurrent providers converge (code doc, slashes)" converge DOC="code:src/app.js" EDITS=25
run "offline client merges on reconnect" offline DOC="code:offline.js"
run "viewer reads, writes refused" viewer DOC="page:$PAGE"
run "refused before the upgrade" refused DOC="page:$PAGE"
run "guests read shared pages only" guest DOC="page:$PAGE" DOC2="page:$PAGE2"
run "malformed messages close one connection" malformed DOC="code:bad.js"
run "awareness and presence" presence DOC="style:main"

# The document route itself: 404 for strangers and bad names, 401 without a token.
eq "docs route: stranger 404" "$(call "$ST" GET "/projects/$PROJECT/docs/page:$PAGE")" 404
eq "docs route: bad name 404" "$(call "$ED" GET "/projects/$PROJECT/docs/nope")" 404
eq "docs route: anonymous 401" "$(http "$A/projects/$PROJECT/docs/page:$PAGE")" 401
eq "docs route: viewer reads" "$(call "$VW" GET "/projects/$PROJECT/docs/code:src/app.js?root=t&type=text")" 200
eq "docs route: bad type 400" "$(call "$ED" GET "/projects/$PROJECT/docs/page:$PAGE?type=tree")" 400

# Every update is in the log or folded into the state; the log was compacted.
check "log compacted into a state" test "$(sb_sql "SELECT count(*) FROM collab_docs WHERE doc = 'page:$PAGE'")" = 1
check "compacted log stays short" test "$(sb_sql "SELECT count(*) FROM collab_updates WHERE doc = 'page:$PAGE'")" -lt 60

# ---- durability: acknowledged updates survive a clean restart and kill -9 ----
ACK="$SB_TMP/acked"
: >"$ACK"
env DOC="code:durable.js" ACK_FILE="$ACK" TAG=a DURATION=1500 node "$MJS" ackWriter >/dev/null 2>&1
sb_stop
eq "clean exit with rooms open" "$SB_EXIT" 0
sb_start "${FLAGS[@]}"
export SB_ADDR
run "acknowledged updates survive a restart" ackCheck DOC="code:durable.js" ACK_FILE="$ACK"

env DOC="code:durable.js" ACK_FILE="$ACK" TAG=k DURATION=8000 node "$MJS" ackWriter >/dev/null 2>&1 &
WRITER=$!
# Kill while updates are flowing: wait until some were acknowledged.
for _ in $(seq 1 100); do
    [ "$(grep -c '^ack-k-' "$ACK")" -gt 20 ] && break
    sleep 0.05
done
kill -9 "$SB_PID"
wait "$SB_PID" 2>/dev/null
SB_PID=""
sleep 0.3
kill "$WRITER" 2>/dev/null
wait "$WRITER" 2>/dev/null
check "updates were acknowledged before the kill" test "$(grep -c '^ack-k-' "$ACK")" -gt 20
sb_start "${FLAGS[@]}"
export SB_ADDR
run "acknowledged updates survive kill -9" ackCheck DOC="code:durable.js" ACK_FILE="$ACK"

# ---- limits: clients per document, connections per user ----
sb_stop
sb_start --collab-max-clients 2 --collab-max-conns-per-user 3 --collab-awareness-timeout 2s \
    --collab-max-queue 64K
export SB_ADDR
run "clients per document and connections per user" limits
run "awareness states time out" awarenessTimeout DOC="code:aw.js"
run "a slow reader is disconnected, not buffered" slowReader DOC="code:slow.js"
check "the drop was logged" grep -q '"msg":"websocket dropped: peer reads too slowly"' "$SB_LOG"
# At collab_max_queue (64K plus the message that crossed it), not at the
# server-wide ws_max_queue (4M).
QUEUED=$(grep -o '"msg":"websocket dropped: peer reads too slowly","queued_bytes":[0-9]*' "$SB_LOG" |
    head -1 | sed 's/.*://')
check "dropped at the collab queue limit ($QUEUED bytes)" test "${QUEUED:-99999999}" -lt 262144

sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
