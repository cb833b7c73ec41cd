#!/usr/bin/env bash
# collab_nodes.sh: one document served by two nodes (docs/collab.md,
# "Several nodes"): two sitebase processes sharing the test's PostgreSQL
# database and a throwaway redis-server as their bus. Real yjs +
# y-websocket clients (tests/collab/collab_nodes.mjs): providers on node A
# and node B editing Text/Map/Array concurrently converge with each other
# and with the stored document; awareness set on A appears on B (and in B's
# presence) and goes when the A client disconnects; node B killed with
# SIGKILL while A carries on loses no acknowledged update and its client's
# awareness state expires on A; the per-document client limit counts the
# clients of both nodes. Two processes need a shared database: PostgreSQL
# only (SQLite is one process's).
# drivers: postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

MJS="$SITEBASE_SOURCE_DIR/tests/collab/collab_nodes.mjs"
sb_start_redis
FLAGS=(--bus "$SB_REDIS_URL" --collab-evict-grace 2s)
sb_start_api "${FLAGS[@]}"
sb_start_node2 "${FLAGS[@]}" --argon2-memory 1M --argon2-iterations 1
ADDR_A=$SB_ADDR
ADDR_B=${SB2_URL#http://}

sb_team_project "ED eddie editor" "ED2 erin editor"
export ADDR_A ADDR_B PROJECT OWN ED ED2 ED_ID

run() { sb_node_check "$1" "$MJS" "${@:2}"; } # run NAME MODE [VAR=VALUE...]

run "providers on two nodes converge (text, map, array)" converge DOC="code:multi.js" EDITS=40
run "providers on two nodes converge (a second document)" converge DOC="code:src/two.js" EDITS=25
# Messages lost to the bus (every Redis connection of both nodes cut a few
# times while they edit) are read back from the log: still one document.
CUT="redis-cli -p $SB_REDIS_PORT client kill type pubsub >/dev/null; redis-cli -p $SB_REDIS_PORT client kill type normal >/dev/null"
run "providers converge through bus outages (read from the log)" converge DOC="code:cut.js" EDITS=40 \
    OUTAGE="$CUT"
for u in "$SB_URL" "$SB2_URL"; do # how many publishes the cuts cost (for the log)
    curl -sS "$u/metrics" | grep '^sitebase_bus_dropped_total' | sed "s|^|# $u |"
done
if grep -q '"msg":"bus: reconnected to redis"' "$SB_LOG" "$SB2_LOG"; then
    pass "the bus was cut and reconnected"
else
    fail "the bus was cut and reconnected"
fi
run "REST writes on B reach a room open on A, and back" rest
run "locks stay while the user is connected on the other node" locks DOC="code:locks.js"
run "awareness crosses nodes and leaves with its client" awareness DOC="code:aware.js"
# Both nodes append to one log: its seqs have no hole (each append takes
# the next free seqs, in the transaction).
eq "one log for both nodes, without holes" \
    "$(sb_sql "SELECT max(seq) - min(seq) + 1 = count(*) FROM collab_updates WHERE doc = 'code:multi.js'")" t

run "node B killed: nothing acknowledged lost, its awareness expires" kill \
    DOC="code:killed.js" B_PID="$SB2_PID" DURATION=1500
wait "$SB2_PID" 2>/dev/null
SB2_PID=""

# The client limit across nodes: both restarted with 2 clients a document.
sb_stop
eq "A exits cleanly after B was killed" "$SB_EXIT" 0
sb_start "${FLAGS[@]}" --collab-max-clients 2
sb_start_node2 "${FLAGS[@]}" --collab-max-clients 2
ADDR_A=$SB_ADDR
ADDR_B=${SB2_URL#http://}
export ADDR_A ADDR_B
run "the client limit counts both nodes" limits DOC="code:full.js"
sb_stop_node2
eq "B exits cleanly" "$SB2_EXIT" 0
# Several nodes commit each update to the shared log; none journals.
check "nodes with a bus keep no journal" test -z "$(ls "$SB_TMP/data/collab-journal")"

sb_finish
