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
# restart or kill -9, also when they were only in the journal (and a torn
# journal tail is cut off, a corrupt journal stops the start); a stored
# read waits for the journal's fold; the log is compacted; the per-document and per-user
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

# ---- the journal: updates folded after a crash, a torn tail, corruption ----
# With a long fold delay, acknowledged updates are only in the journal (and
# the clients) when the server is killed; the start-up folds them.
J="$SB_TMP/data/collab-journal"
JDOC="code:journal.js"
sb_stop
sb_start "${FLAGS[@]}" --collab-fold-delay 60s
export SB_ADDR
JACK="$SB_TMP/jacked"
: >"$JACK"
env DOC="$JDOC" ACK_FILE="$JACK" TAG=j DURATION=1500 node "$MJS" ackWriter >/dev/null 2>&1
check "updates were acknowledged" test "$(grep -c '^ack-j-' "$JACK")" -gt 20
eq "nothing folded yet" "$(sb_sql "SELECT count(*) FROM collab_updates WHERE doc = '$JDOC'")" 0
JFILE=$(ls "$J"/loop-*.log | head -1)
check "the journal holds them" test -s "$JFILE"
kill -9 "$SB_PID"
wait "$SB_PID" 2>/dev/null
SB_PID=""
# A crash in the middle of an append: a record that passes the end.
printf '\x40\x00\x00\x00\x01\x02\x03' >>"$JFILE"
sb_start "${FLAGS[@]}"
export SB_ADDR
check "the start-up folded the journal" grep -q '"msg":"collab: journal records folded at start-up"' "$SB_LOG"
check "the torn tail was cut off" grep -q '"msg":"collab: a torn journal tail was cut off".*"bytes":7' "$SB_LOG"
check "every record is in the log before anyone connects" \
    test "$(sb_sql "SELECT count(*) FROM collab_updates WHERE doc = '$JDOC'")" -gt 20
run "acknowledged updates survive kill -9 from the journal" ackCheck DOC="$JDOC" ACK_FILE="$JACK"

# A reader of stored documents waits for the fold (60 s away otherwise).
sb_stop
check "a clean stop folds and removes the journal" test -z "$(ls "$J")"
sb_start "${FLAGS[@]}" --collab-fold-delay 60s
export SB_ADDR
: >"$JACK"
env DOC="code:settle.js" ACK_FILE="$JACK" TAG=s DURATION=800 node "$MJS" ackWriter >/dev/null 2>&1
T0=$(date +%s%N)
run "a stored read has every acknowledged update" ackCheck DOC="code:settle.js" ACK_FILE="$JACK"
check "without waiting for the fold delay" test $(( ($(date +%s%N) - T0) / 1000000 )) -lt 10000
sb_stop
eq "clean exit with a fold delay" "$SB_EXIT" 0

# Bad bytes with a record after them are corruption: the start stops and
# says where, and the file is kept.
mkdir -p "$J"
printf 'not a record at all, and more after it' >"$J/loop-0-999.log"
# shellcheck disable=SC2086
timeout 20 "$SB_BIN" serve --listen 127.0.0.1:0 --data "$SB_TMP/data" --threads 2 \
    --log-format json $SB_DB_FLAGS 2>"$SB_TMP/corrupt.log"
check "a corrupt journal stops the start" test $? -ne 0
check "and says which file" grep -q 'loop-0-999.log is corrupt at byte 0' "$SB_TMP/corrupt.log"
check "the file is kept" test -s "$J/loop-0-999.log"
rm "$J/loop-0-999.log"
sb_start "${FLAGS[@]}"
export SB_ADDR

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
