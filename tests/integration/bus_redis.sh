#!/usr/bin/env bash
# bus_redis.sh: the bus contract (tests/unit/bus_api_test.c) against a real
# redis-server, then what only a real server going away shows: a bus
# started before Redis connects when it comes up, and one whose Redis stops
# reports itself down, drops (and counts) what is published, and comes back
# when a server listens on the port again. Two nodes on one Redis bus and
# one database are both ready and accept each other's sessions.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"
BUS_TEST=${SITEBASE_BUS_TEST:?run through ctest (SITEBASE_BUS_TEST unset)}

sb_start_redis
check "bus contract on redis" env SITEBASE_TEST_BUS_URL="$SB_REDIS_URL" "$BUS_TEST"
check "bus contract on redis db 3" env SITEBASE_TEST_BUS_URL="redis://127.0.0.1:$SB_REDIS_PORT/3" \
    "$BUS_TEST"
# A server on the Redis bus: ready while Redis answers, 503 while it is
# gone, ready again once it is back on the same port (reconnect, backoff).
sb_start --bus "$SB_REDIS_URL" --argon2-memory 1M --argon2-iterations 1
wait_ready() { # STATUS: /readyz answers STATUS within 10 s
    local i
    for i in $(seq 1 100); do
        [ "$(http "$SB_URL/readyz")" = "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
check "readyz with redis up" wait_ready 200
eq "readyz names the bus" "$(body | jget bus)" redis
contains "bus metrics" "$(curl -sS "$SB_URL/metrics")" 'sitebase_bus_up{driver="redis"} 1'
# A second node of the same deployment: same database, same bus.
sb_start_node2 --bus "$SB_REDIS_URL" --argon2-memory 1M --argon2-iterations 1
eq "node 2 ready on the bus" "$(http "$SB2_URL/readyz"; echo " $(body | jget bus)")" "200 redis"
post_json "$SB_URL/api/auth/register" "{\"email\":\"two@example.com\",\"password\":\"$SB_PW\"}" \
    >/dev/null
tok=$(body | jget access_token)
eq "a session from node 1 is valid on node 2" \
    "$(http -H "$(as "$tok")" "$SB2_URL/api/auth/me"; echo " $(body | jget email)")" \
    "200 two@example.com"
# The local time-series engine belongs to one process: node 2 says so.
http -X POST -H "$(as "$tok")" -H 'Content-Type: application/json' -d '{"name":"Two"}' \
    "$SB_URL/api/projects" >/dev/null
proj=$(body | jget id)
eq "node 2's local analytics: 503" \
    "$(http -X POST -H "Authorization: Token $tok" --data-binary 'm v=1' "$SB2_URL/write?db=$proj")" 503
contains "saying why" "$(body | jget error)" "several nodes keep analytics in InfluxDB"
sb_stop_node2
eq "node 2 clean exit" "$SB2_EXIT" 0

port=$SB_REDIS_PORT
sb_stop_redis
check "readyz 503 while redis is gone" wait_ready 503
contains "it says why" "$(body)" "The message bus is not connected."
redis-server --bind 127.0.0.1 --port "$port" --dir "$SB_TMP/redis" --save '' --appendonly no \
    --logfile "$SB_TMP/redis/redis2.log" >/dev/null 2>&1 &
SB_REDIS_PID=$!
check "readyz again once redis is back" wait_ready 200
contains "the reconnect is counted" "$(curl -sS "$SB_URL/metrics")" \
    'sitebase_bus_reconnects_total{driver="redis"} 1'
sb_stop
eq "clean exit" "$SB_EXIT" 0

# The outage, in steps the test program and this script take in turn
# (each side waits for the other's file, at most 10 s): Redis is down when
# the bus opens; comes up; goes away under it; comes back on the same port.
outage="$SB_TMP/outage"
mkdir -p "$outage"
port=$SB_REDIS_PORT
sb_stop_redis
redis_again() {
    redis-server --bind 127.0.0.1 --port "$port" --dir "$outage" --save '' --appendonly no \
        --logfile "$outage/redis.log" >/dev/null 2>&1 &
    SB_REDIS_PID=$!
}
await() {
    local i
    for i in $(seq 1 200); do
        [ -e "$outage/$1" ] && return 0
        kill -0 "$tpid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
SITEBASE_TEST_BUS_URL="redis://127.0.0.1:$port/0" SITEBASE_TEST_BUS_OUTAGE="$outage" \
    "$BUS_TEST" >"$SB_TMP/outage.log" 2>&1 &
tpid=$!
await down-checked && redis_again
await up-checked && sb_stop_redis
await down2-checked && redis_again
wait "$tpid"
rc=$?
sb_stop_redis
eq "bus outage: down at start, up, gone, back (see below on failure)" "$rc" 0
[ "$rc" -eq 0 ] || cat "$SB_TMP/outage.log"
sb_finish
