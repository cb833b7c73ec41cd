# tests/lib.sh: shared by the integration tests (sourced, never run).
#
# sb_start [flags...]   starts sitebase-test on a free loopback port with a
#                       fresh data folder (and, when SITEBASE_TEST_DB is
#                       postgres, a fresh database on the fixture server);
#                       sets SB_URL, SB_ADDR, SB_PID, SB_LOG
# sb_stop               SIGTERM and wait; sets SB_EXIT
# check NAME CMD...     runs CMD, counts a pass or a failure with NAME
# eq NAME GOT WANT      compares exactly
# signup, as, call, race  the domain routes as a signed-in user (below)
# sb_start_influxd      a real influxd on loopback (below)
# sb_start_redis        a throwaway redis-server on loopback (below)
# sb_serve PIDVAR LOG WHAT [flags...]  starts one server and waits until it
#                       is ready: what sb_start and sb_start_node2 share
# sb_start_node2 [flags...]  a second node on the same data folder and
#                       database (multi-node tests); sets SB2_URL, SB2_PID,
#                       SB2_LOG
# Everything started is stopped and removed on exit, pass or fail; the
# script ends with "N passed, N failed" and a matching exit status.
set -uo pipefail

SB_BIN=${SITEBASE_TEST_BIN:?run through ctest (SITEBASE_TEST_BIN unset)}
SB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sitebase-test.XXXXXX")
SB_PID=""
SB_PG_DB=""
SB_PASSED=0
SB_FAILED=0
export NODE_PATH="$SITEBASE_SOURCE_DIR/tests/node_modules"

sb_cleanup() {
    local ip
    for ip in ${SB_INFLUX_PIDS:-}; do
        kill "$ip" 2>/dev/null
        wait "$ip" 2>/dev/null
    done
    if [ -n "${SB2_PID:-}" ]; then
        kill -KILL "$SB2_PID" 2>/dev/null
        wait "$SB2_PID" 2>/dev/null
    fi
    if [ -n "${SB_REDIS_PID:-}" ]; then
        kill "$SB_REDIS_PID" 2>/dev/null
        wait "$SB_REDIS_PID" 2>/dev/null
    fi
    if [ -n "${SB_SMTP_PID:-}" ]; then
        kill "$SB_SMTP_PID" 2>/dev/null
        wait "$SB_SMTP_PID" 2>/dev/null
    fi
    if [ -n "$SB_PID" ] && kill -0 "$SB_PID" 2>/dev/null; then
        kill -KILL "$SB_PID" 2>/dev/null
        wait "$SB_PID" 2>/dev/null
    fi
    if [ -n "$SB_PG_DB" ]; then
        psql "$(cat "$SITEBASE_TEST_PG_URL_FILE")" -qc "DROP DATABASE IF EXISTS $SB_PG_DB" \
            >/dev/null 2>&1
    fi
    rm -rf "$SB_TMP"
}
trap sb_cleanup EXIT

# With SITEBASE_TEST_DB=postgres, each test gets a database of its own on
# the fixture server (tests run in parallel), dropped on exit.
SB_DB_FLAGS=""
if [ "${SITEBASE_TEST_DB:-sqlite}" = postgres ]; then
    sb_pg_base=$(cat "$SITEBASE_TEST_PG_URL_FILE")
    SB_PG_DB="t_$(basename "$SB_TMP" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')"
    psql "$sb_pg_base" -qc "CREATE DATABASE $SB_PG_DB" >/dev/null || exit 1
    SB_DB_FLAGS="--db ${sb_pg_base%/*}/$SB_PG_DB"
fi

# sb_serve PIDVAR LOG WHAT [flags...]: starts sitebase-test on a free
# loopback port with the test's data folder and database, stderr to LOG,
# and waits (at most 10 s) until it is ready. PIDVAR gets its pid at once,
# so that the exit trap stops it whatever happens next; sets SB_SERVE_ADDR
# (host:port). When it exits or does not become ready, says so (WHAT names
# it) with its log, and ends the test.
sb_serve() {
    local pidvar=$1 log=$2 what=$3 pid i addr
    shift 3
    # shellcheck disable=SC2086
    "$SB_BIN" serve --listen 127.0.0.1:0 --data "$SB_TMP/data" --threads 2 \
        --log-format json $SB_DB_FLAGS "$@" 2>"$log" &
    pid=$!
    printf -v "$pidvar" '%s' "$pid"
    for i in $(seq 1 200); do
        addr=$(grep -o '"msg":"listening","addr":"[^"]*"' "$log" 2>/dev/null |
            sed 's/.*"addr":"\([^"]*\)"/\1/' | head -1)
        if [ -n "$addr" ] && grep -q '"msg":"ready"' "$log"; then
            SB_SERVE_ADDR=$addr
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$what exited during start-up:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.05
    done
    echo "$what did not become ready in 10 s:" >&2
    cat "$log" >&2
    exit 1
}

sb_start() {
    SB_LOG="$SB_TMP/server.log"
    sb_serve SB_PID "$SB_LOG" sitebase "$@"
    SB_ADDR=$SB_SERVE_ADDR
    SB_URL="http://$SB_ADDR"
}

sb_stop() {
    kill -TERM "$SB_PID"
    wait "$SB_PID"
    SB_EXIT=$?
    SB_PID=""
}

pass() {
    SB_PASSED=$((SB_PASSED + 1))
    echo "ok   $1"
}

fail() {
    SB_FAILED=$((SB_FAILED + 1))
    echo "FAIL $1${2:+: $2}"
}

eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got [$2], want [$3]"; fi
}

contains() {
    case "$2" in
    *"$3"*) pass "$1" ;;
    *) fail "$1" "[$2] lacks [$3]" ;;
    esac
}

check() {
    local name=$1
    shift
    if "$@" >"$SB_TMP/check.out" 2>&1; then pass "$name"; else
        fail "$name" "$(tail -5 "$SB_TMP/check.out")"
    fi
}

# curl with the answer's status on the last line: body\nstatus
http() {
    curl -sS -o "$SB_TMP/body" -w '%{http_code}' "$@"
}

body() {
    cat "$SB_TMP/body"
}

sb_finish() {
    echo "$SB_PASSED passed, $SB_FAILED failed"
    if [ "$SB_FAILED" -ne 0 ] && [ -f "${SB_LOG:-/nonexistent}" ]; then
        echo "--- server log (last 30 lines) ---"
        tail -30 "$SB_LOG"
    fi
    [ "$SB_FAILED" -eq 0 ]
}

# jget PATH: reads JSON from stdin and prints the value at a dotted path
# ("user.email", "items.0.id"); strings bare, other values as JSON.
jget() {
    python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split(".") if sys.argv[1] else []:
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# post_json URL JSON [curl args...]: POST with the JSON content type.
post_json() {
    local url=$1 data=$2
    shift 2
    http -X POST -H 'Content-Type: application/json' --data-binary "$data" "$@" "$url"
}

SB_PW='correct horse battery staple'

# sb_start_api [flags...]: sb_start for tests of the /api routes, with a
# local SMTP sink (sb_smtp_start) for the mail, links to http://app.example,
# cheap password hashing and no sign-in limits; sets A ($SB_URL/api) and PW.
sb_start_api() {
    sb_smtp_start
    sb_start --argon2-memory 1M --argon2-iterations 1 --rate-limit-auth-ip 0 \
        --rate-limit-auth-account 0 --lockout-threshold 0 \
        --smtp-url "smtp://127.0.0.1:$SB_SMTP_PORT" --public-url "http://app.example" "$@"
    A="$SB_URL/api"
    PW=$SB_PW
}

# For tests of the /api routes, once sb_start has run:
# signup EMAIL [USERNAME]   registers (password SB_PW); prints "access_token user_id"
# as TOKEN                  the Authorization header for TOKEN
# call TOKEN METHOD PATH [JSON] [curl args...]
#                           http to $SB_URL/api$PATH as TOKEN, JSON as the body;
#                           prints the status (the answer is in body)
signup() {
    local name=""
    [ -n "${2:-}" ] && name=",\"username\":\"$2\""
    post_json "$SB_URL/api/auth/register" "{\"email\":\"$1\",\"password\":\"$SB_PW\"$name}" \
        >/dev/null
    echo "$(body | jget access_token) $(body | jget user.id)"
}

# sb_team_project "VAR name role"...: olive (OWN, OWN_ID) owns the team
# Studio (TEAM) and its project Site (PROJECT, visible to the team). Each
# spec signs up name@example.com, sets VAR to its token and VAR_ID to its
# user id, and adds it to the team with role ("-": not a member).
sb_team_project() {
    read -r OWN OWN_ID <<<"$(signup olive@example.com olive)"
    call "$OWN" POST /teams '{"name":"Studio"}' >/dev/null
    TEAM=$(body | jget id)
    local spec var name role tok id
    for spec in "$@"; do
        read -r var name role <<<"$spec"
        read -r tok id <<<"$(signup "$name@example.com" "$name")"
        printf -v "$var" '%s' "$tok"
        printf -v "${var}_ID" '%s' "$id"
        [ "$role" = - ] ||
            call "$OWN" POST "/teams/$TEAM/members" "{\"email\":\"$name@example.com\",\"role\":\"$role\"}" >/dev/null
    done
    call "$OWN" POST /projects "{\"name\":\"Site\",\"team_id\":\"$TEAM\",\"visibility\":\"team\"}" >/dev/null
    PROJECT=$(body | jget id)
}

# sb_node_check NAME SCRIPT MODE [VAR=VALUE...]: one mode of a node test
# client as one check. Its output goes to stderr, with the server's last
# warnings when it failed.
sb_node_check() {
    local name=$1 script=$2 mode=$3
    shift 3
    if env "$@" node "$script" "$mode" >"$SB_TMP/node.out" 2>&1; then
        pass "$name"
        cat "$SB_TMP/node.out" >&2
    else
        fail "$name"
        cat "$SB_TMP/node.out" >&2
        grep -E '"level":"(warn|error)"' "$SB_LOG" 2>/dev/null | tail -5 >&2
    fi
}

as() { echo "Authorization: Bearer $1"; }

call() {
    local t=$1 m=$2 p=$3 d=${4:-}
    shift 4 2>/dev/null || shift $#
    if [ -n "$d" ]; then
        http -X "$m" -H "$(as "$t")" -H 'Content-Type: application/json' --data-binary "$d" "$@" \
            "$SB_URL/api$p"
    else
        http -X "$m" -H "$(as "$t")" "$@" "$SB_URL/api$p"
    fi
}

# race N CURL_ARGS...: N copies of one curl request at once; prints how many
# got each status, like "1 200 3 412 ".
race() {
    local n=$1 i pids=()
    shift
    for i in $(seq 1 "$n"); do
        curl -sS -o /dev/null -w '%{http_code}\n' "$@" >"$SB_TMP/race.$i" &
        pids+=($!)
    done
    wait "${pids[@]}"
    cat "$SB_TMP"/race.* | sort | uniq -c | tr -s ' ' | sed 's/^ //' | tr '\n' ' '
    rm -f "$SB_TMP"/race.*
}

# sb_sql SQL: runs one statement on the test's own database (the SQLite
# file, or the per-test PostgreSQL database) and prints rows as
# tab-separated lines. For checks of what is stored and for moving time
# (expiring a token) where waiting would be too slow.
sb_sql() {
    if [ -n "$SB_PG_DB" ]; then
        psql "${sb_pg_base%/*}/$SB_PG_DB" -qtAF $'\t' -c "$1"
    else
        python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=10)
rows = c.execute(sys.argv[2]).fetchall()
c.commit()
for r in rows: print("\t".join("" if v is None else str(v) for v in r))' "$SB_TMP/data/sitebase.db" "$1"
    fi
}

# sb_smtp_start [AUTH [TLS]]: a real SMTP server (tests/support/smtp_sink.py)
# on loopback; sets SB_SMTP_PORT and SB_MAIL (the folder of received
# messages, 1.eml, 2.eml, ...). AUTH "user:password" makes it require that;
# TLS "cert.pem:key.pem" makes it require STARTTLS.
sb_smtp_start() {
    SB_MAIL="$SB_TMP/mail"
    rm -rf "$SB_MAIL"
    mkdir -p "$SB_MAIL"
    AUTH="${1:-}" TLS="${2:-}" /usr/bin/python3 "$SITEBASE_SOURCE_DIR/tests/support/smtp_sink.py" "$SB_MAIL" &
    SB_SMTP_PID=$!
    local i
    for i in $(seq 1 100); do
        [ -f "$SB_MAIL/port" ] && break
        sleep 0.05
    done
    SB_SMTP_PORT=$(cat "$SB_MAIL/port") || { echo "the SMTP sink did not start" >&2; exit 1; }
}

# sb_mail_wait N: waits (at most 10 s) until N messages have arrived.
sb_mail_wait() {
    local i
    for i in $(seq 1 200); do
        [ -f "$SB_MAIL/$1.eml" ] && return 0
        sleep 0.05
    done
    return 1
}

# sb_free_port: a TCP port on 127.0.0.1 that nothing listens on now.
sb_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# sb_start_influxd [DIR]: a real InfluxDB 1.x (Debian's influxd) with a
# config of its own in DIR (default $SB_TMP/influxd): HTTP and RPC on free
# loopback ports, no reporting, meta/data/wal under DIR. Waits (at most
# 20 s) until /ping answers; stopped on exit. Sets SB_INFLUX_PORT,
# SB_INFLUX_URL, SB_INFLUX_PID, SB_INFLUX_DIR. May be called more than
# once (with different DIRs) for several servers: each is stopped on exit.
# The ports are picked free and then bound by influxd, so another test may
# take one in between: a start that finds its port taken retries with new
# ones, as sb_start_redis does.
sb_start_influxd() {
    SB_INFLUX_DIR=${1:-$SB_TMP/influxd}
    mkdir -p "$SB_INFLUX_DIR"
    local rpc attempt i
    for attempt in 1 2 3 4 5; do
        SB_INFLUX_PORT=$(sb_free_port)
        rpc=$(sb_free_port)
        cat >"$SB_INFLUX_DIR/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$SB_INFLUX_DIR/meta"
[data]
  dir = "$SB_INFLUX_DIR/data"
  wal-dir = "$SB_INFLUX_DIR/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$SB_INFLUX_PORT"
  log-enabled = false
[continuous_queries]
  enabled = false
[shard-precreation]
  enabled = false
CONF
        influxd run -config "$SB_INFLUX_DIR/influxdb.conf" >"$SB_INFLUX_DIR/influxd.log" 2>&1 &
        SB_INFLUX_PID=$!
        SB_INFLUX_PIDS="${SB_INFLUX_PIDS:-} $SB_INFLUX_PID"
        SB_INFLUX_URL="http://127.0.0.1:$SB_INFLUX_PORT"
        for i in $(seq 1 200); do
            if curl -sf -o /dev/null "$SB_INFLUX_URL/ping"; then
                return 0
            fi
            if ! kill -0 "$SB_INFLUX_PID" 2>/dev/null; then
                wait "$SB_INFLUX_PID" 2>/dev/null
                grep -q 'address already in use' "$SB_INFLUX_DIR/influxd.log" && continue 2
                echo "influxd exited during start-up:" >&2
                tail -20 "$SB_INFLUX_DIR/influxd.log" >&2
                exit 1
            fi
            sleep 0.1
        done
        echo "influxd did not answer /ping in 20 s" >&2
        exit 1
    done
    echo "influxd found its ports taken 5 times:" >&2
    tail -5 "$SB_INFLUX_DIR/influxd.log" >&2
    exit 1
}

# sb_stop_influxd: SIGTERM and wait.
sb_stop_influxd() {
    [ -n "${SB_INFLUX_PID:-}" ] || return 0
    kill -TERM "$SB_INFLUX_PID" 2>/dev/null
    wait "$SB_INFLUX_PID" 2>/dev/null
    SB_INFLUX_PID=""
}

# sb_start_redis: Debian's redis-server on a free loopback port, in a temp
# folder, with no persistence (no RDB, no AOF); sets SB_REDIS_PORT,
# SB_REDIS_URL (redis://127.0.0.1:PORT/0) and SB_REDIS_PID. Stopped on exit.
# The port is picked free and then bound by redis-server, so another
# process may take it in between: a failed start retries with a new port.
sb_start_redis() {
    command -v redis-server >/dev/null || { echo "redis-server is missing (scripts/deps.sh)" >&2; exit 1; }
    local dir="$SB_TMP/redis" attempt i port
    mkdir -p "$dir"
    for attempt in 1 2 3 4 5; do
        port=$(sb_free_port)
        redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save '' --appendonly no \
            --daemonize no --logfile "$dir/redis.log" >/dev/null 2>&1 &
        SB_REDIS_PID=$!
        for i in $(seq 1 100); do
            if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
                SB_REDIS_PORT=$port
                SB_REDIS_URL="redis://127.0.0.1:$port/0"
                return 0
            fi
            kill -0 "$SB_REDIS_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill "$SB_REDIS_PID" 2>/dev/null
        wait "$SB_REDIS_PID" 2>/dev/null
        SB_REDIS_PID=""
        echo "redis-server did not start on port $port (attempt $attempt)" >&2
    done
    tail -20 "$dir/redis.log" >&2
    exit 1
}

# sb_stop_redis: stops the server sb_start_redis started (SIGTERM, wait).
sb_stop_redis() {
    kill "$SB_REDIS_PID" 2>/dev/null
    wait "$SB_REDIS_PID" 2>/dev/null
    SB_REDIS_PID=""
}

# sb_start_node2 [flags...]: once sb_start has run, a second sitebase-test
# on another free loopback port that shares the first one's data folder
# (its master key file and blobs) and database (the SQLite file, or the
# test's PostgreSQL database): two nodes of one deployment, as far as one
# machine allows. Pass the same --bus to both. Sets SB2_URL, SB2_PID,
# SB2_LOG; sb_stop_node2 stops it (SB2_EXIT).
sb_start_node2() {
    SB2_LOG="$SB_TMP/server2.log"
    sb_serve SB2_PID "$SB2_LOG" "the second node" "$@"
    SB2_URL="http://$SB_SERVE_ADDR"
}

sb_stop_node2() {
    kill -TERM "$SB2_PID"
    wait "$SB2_PID"
    SB2_EXIT=$?
    SB2_PID=""
}
