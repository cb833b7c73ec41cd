#!/usr/bin/env bash
# bench/collab: real-time collaboration load (issue 6), Sitebase's
# /collab/:project_id/:doc (y-websocket) against Hocuspocus
# (@hocuspocus/server, in memory) in the same run, with the same load
# generator (load.mjs, one node process of raw-protocol clients that make
# real Yjs edits: client.mjs, over the generator's own WebSocket client,
# wsraw.mjs; TRANSPORT=ws uses the `ws` package instead; node runs with
# --expose-gc so the generator collects its own garbage between phases,
# not during them). For each server, on a fresh server each:
#   idle     IDLE_CLIENTS (1000) clients connect and sync over 10 documents:
#            server RSS delta / clients = memory per idle connection
#   one-doc  CLIENTS (100) editors on one document, RATE (5) edits/s each,
#            SECS (10) s: p50/p99 of edit -> arrival at every other client
#   many     CLIENTS editors over DOCS (20) documents, same rate
#   ramp     CLIENTS editors over DOCS documents, RATES (1,2,5,10,20,30,40,
#            50,60,80,100,120,150,200,300,400 edits/s per client) until
#            p99 > 20 ms: the sustained edit throughput at p99 <= 20 ms (steps
#            of at most 1.5x above 20, so neither server's figure is rounded
#            down by much more than the other's)
# plus server CPU (share of one core, /proc/PID/stat) and RSS per phase.
# Then, unless FLOOR=0, the ramp once more against bench/collab/floor.c
# (build/collab_floor): a relay that keeps no document and stores
# nothing, the least any y-websocket server can do for this load. Its
# figure is the ceiling this host and generator allow, beside the two.
# Targets: p99 < 20 ms one-doc; sustained throughput >= 5x Hocuspocus's;
# < 16 KB per idle connection.
# Sitebase runs one event-loop thread (SB_THREADS, default 1), as
# Hocuspocus runs one: its collaboration writer is a thread of its own, and
# on this two-core host, where the generator takes most of a core, two
# loops plus the writer cost 14% more CPU per edit and doubled p50 at
# 15,000 edits/s (bench/RESULTS.md). (bench/http and bench/auth likewise
# give Sitebase the thread count of the peer's workers.)
#
#   bench/collab/run.sh [SITEBASE]
# SITEBASE: the sitebase binary to start (default build/sitebase); or the
# http://127.0.0.1:PORT of one already running, with SITEBASE_PID=<its pid>
# for CPU and RSS (not restarted between workloads then, so the idle
# figure comes from a server that has served before); or "none" to
# measure Hocuspocus alone. Sitebase is started on a loopback
# port with a fresh data folder; a user and a project are made through the
# REST API, and clients connect to
#   ws://127.0.0.1:PORT/collab/<project>/component:<doc>?token=<access token>
# (component documents: the library's, not materialised into REST rows, so
# both servers do the same work: relay and keep the document)
# If that endpoint does not answer the WebSocket handshake, the Sitebase
# half fails with a clear message (exit 1) after Hocuspocus is measured.
# NODES=2: Sitebase runs as two nodes sharing a throwaway PostgreSQL
# (tests/pg.sh) and a throwaway redis-server (--bus redis://...), both on
# loopback; each document's clients alternate between the nodes, so half
# of every edit's deliveries cross the bus; CPU and RSS are the two nodes'
# sums. (Hocuspocus runs as one node: its Redis extension is not part of
# this comparison.)
# Results: one JSON line per phase in bench/out/collab-<time>.jsonl, and a
# table. Everything runs on 127.0.0.1; every phase is bounded in time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sitebase=${1:-$root/build/sitebase}
sb_threads=${SB_THREADS:-1}
secs=${SECS:-10}
clients=${CLIENTS:-100}
idle_clients=${IDLE_CLIENTS:-1000}
docs=${DOCS:-20}
rate=${RATE:-5}
rates=${RATES:-1,2,5,10,20,30,40,50,60,80,100,120,150,200,300,400}
nodes=${NODES:-1}
tmp=$(mktemp -d)
chmod 711 "$tmp" # PostgreSQL runs as the postgres user when we are root
mkdir -p "$root/bench/out"
out="$root/bench/out/collab-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
server_pid=""
server_pid2=""
redis_pid=""
cleanup() {
    stop_server
    if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
    if [ -d "$tmp/pg" ]; then bash "$root/tests/pg.sh" stop "$tmp/pg" >/dev/null || true; fi
    rm -rf "$tmp"
}
stop_server() {
    local p
    for p in $server_pid $server_pid2; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    server_pid=""
    server_pid2=""
}
trap cleanup EXIT
for cmd in node npm curl python3; do
    command -v "$cmd" >/dev/null || { echo "bench/collab: $cmd is missing (run scripts/deps.sh)"; exit 1; }
done
if [ ! -d "$here/node_modules" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || { echo "bench/collab: npm ci failed"; exit 1; }
fi
# 1000 clients and their server ends: two descriptors per connection here.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
clk=$(getconf CLK_TCK)

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_listening NAME COMMAND...: runs COMMAND PORT on a free port until
# it prints "listening"; sets server_pid, port.
start_listening() {
    local name=$1 i
    shift
    port=$(free_port)
    "$@" "$port" >"$tmp/$name.log" 2>&1 &
    server_pid=$!
    for i in $(seq 1 100); do
        grep -q "^listening" "$tmp/$name.log" && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/$name.log"; return 1; }
        sleep 0.1
    done
}

# start_hocuspocus: a fresh server; sets server_pid, url.
start_hocuspocus() {
    start_listening hocuspocus node "$here/hocuspocus.mjs" || return 1
    url="ws://127.0.0.1:$port"
}

# start_sitebase: a fresh server (or the running one), a user and a
# project; sets server_pid, url.
external=0
case $sitebase in
http://127.0.0.1:*) external=1 ;;
esac
start_sitebase() {
    local port i http token project
    if [ "$external" = 1 ]; then
        server_pid=${SITEBASE_PID:?set SITEBASE_PID to the pid of the running sitebase}
        http=${sitebase%/}
        port=${http##*:}
    else
        port=$(free_port)
        rm -rf "$tmp/sb"
        local extra=()
        if [ "$nodes" = 2 ]; then
            # A fresh database per workload on the shared server; one bus.
            workload_db=$((${workload_db:-0} + 1))
            psql "$pg_base" -qc "CREATE DATABASE w$workload_db" >/dev/null
            extra=(--db "${pg_base%/*}/w$workload_db" --bus "$redis_url")
        fi
        "$sitebase" serve --listen "127.0.0.1:$port" --data "$tmp/sb" --log-format json \
            --threads "$sb_threads" \
            --access-log false --rate-limit-auth-ip 0 --rate-limit-auth-account 0 \
            --collab-max-conns-per-user 100000 \
            --access-token-ttl 1h --argon2-memory 1M --argon2-iterations 1 "${extra[@]}" \
            2>"$tmp/sitebase.log" &
        server_pid=$!
        http="http://127.0.0.1:$port"
        if [ "$nodes" = 2 ]; then
            for i in $(seq 1 100); do
                curl -fs -o /dev/null "$http/readyz" && break
                sleep 0.1
            done
            port2=$(free_port)
            # Same data folder: the same master key file, so node 2 reads
            # node 1's signing keys from the shared database.
            "$sitebase" serve --listen "127.0.0.1:$port2" --data "$tmp/sb" --log-format json \
                --threads "$sb_threads" \
                --access-log false --access-token-ttl 1h --collab-max-conns-per-user 100000 \
                "${extra[@]}" 2>"$tmp/sitebase2.log" &
            server_pid2=$!
            for i in $(seq 1 100); do
                curl -fs -o /dev/null "http://127.0.0.1:$port2/readyz" && break
                kill -0 "$server_pid2" 2>/dev/null || { tail -5 "$tmp/sitebase2.log"; return 1; }
                sleep 0.1
            done
            curl -fs -o /dev/null "http://127.0.0.1:$port2/readyz" ||
                { echo "bench/collab: the second Sitebase node is not ready"; tail -5 "$tmp/sitebase2.log"; return 1; }
        fi
    fi
    for i in $(seq 1 100); do
        curl -fs -o /dev/null "$http/readyz" && break
        kill -0 "$server_pid" 2>/dev/null || { tail -5 "$tmp/sitebase.log"; return 1; }
        sleep 0.1
    done
    local email="bench-$RANDOM$RANDOM@example.com"
    curl -fsS -H 'Content-Type: application/json' -o "$tmp/reg.json" "$http/api/auth/register" \
        --data "{\"email\":\"$email\",\"password\":\"correct horse battery staple\"}" ||
        { echo "bench/collab: cannot register a user on Sitebase"; return 1; }
    token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$tmp/reg.json")
    curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
        -o "$tmp/project.json" "$http/api/projects" --data '{"name":"Collab bench"}' ||
        { echo "bench/collab: cannot create a project on Sitebase"; return 1; }
    project=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$tmp/project.json")
    url="ws://127.0.0.1:$port/collab/$project/component:{doc}?token=$token"
    url2=""
    [ -z "$server_pid2" ] || url2="ws://127.0.0.1:$port2/collab/$project/component:{doc}?token=$token"
    # The endpoint must take a WebSocket handshake (101), or we stop here.
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 --http1.1 \
        -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
        -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
        "http://127.0.0.1:$port/collab/$project/component:probe?token=$token" || true)
    if [ "$status" != 101 ]; then
        echo "bench/collab: Sitebase answered HTTP $status, not 101, to a WebSocket handshake on"
        echo "  /collab/$project/component:probe: the collaboration endpoint is not there (yet)."
        return 1
    fi
}

# start_floor: the ceiling relay, fresh; sets server_pid, url.
start_floor() {
    start_listening floor "$root/build/collab_floor" || return 1
    url="ws://127.0.0.1:$port/{doc}"
}

# run_server NAME PROTO [WORKLOADS]: the workloads (default all four),
# each on a fresh server.
run_server() {
    local name=$1 proto=$2 w
    for w in ${3:-idle one-doc many ramp}; do
        "start_$name" || return 1
        local common=(--server "$name" --url "$url" --proto "$proto" --clk-tck "$clk"
            --token bench --seconds "$secs" --transport "${TRANSPORT:-raw}")
        if [ "$name" = sitebase ] && [ -n "$server_pid2" ]; then
            common+=(--url2 "$url2" --pid "$server_pid,$server_pid2")
        else
            common+=(--pid "$server_pid")
        fi
        local load=(node --expose-gc "$here/load.mjs" "${common[@]}")
        case $w in
        idle) "${load[@]}" --mode idle --clients "$idle_clients" --docs 10 ;;
        one-doc) "${load[@]}" --mode latency --clients "$clients" --docs 1 --rate "$rate" ;;
        many) "${load[@]}" --mode latency --clients "$clients" --docs "$docs" --rate "$rate" ;;
        ramp) "${load[@]}" --mode ramp --clients "$clients" --docs "$docs" --rates "$rates" ;;
        esac | sed "s/^{/{\"workload\":\"$w\",/" | tee -a "$out" || { stop_server; return 1; }
        if [ "$name" = sitebase ] && [ "$external" = 1 ]; then
            server_pid="" # not ours to stop
        else
            stop_server
        fi
        echo "bench/collab: $name $w done" >&2
    done
}

failed=0
echo "== Hocuspocus $(node -p 'require("'"$here"'/node_modules/@hocuspocus/server/package.json").version')"
run_server hocuspocus hocus || { echo "bench/collab: the Hocuspocus run failed"; failed=1; }
if [ "$sitebase" != none ]; then
    echo "== Sitebase ($sitebase, $sb_threads loop thread(s))"
    if [ "$external" = 0 ] && [ ! -x "$sitebase" ]; then
        echo "bench/collab: no Sitebase binary at $sitebase (build it, or pass its path)"
        failed=1
    else
        if [ "$nodes" = 2 ] && [ "$external" = 0 ]; then
            command -v redis-server >/dev/null || { echo "bench/collab: redis-server is missing (scripts/deps.sh)"; exit 1; }
            bash "$root/tests/pg.sh" start "$tmp/pg" >/dev/null
            pg_base=$(cat "$tmp/pg/url")
            redis_port=$(free_port)
            mkdir -p "$tmp/redis"
            redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$tmp/redis" --save '' \
                --appendonly no --logfile "$tmp/redis/log" &
            redis_pid=$!
            redis_url="redis://127.0.0.1:$redis_port/0"
            echo "   two nodes, PostgreSQL $pg_base, bus $redis_url"
        fi
        run_server sitebase yws || { echo "bench/collab: the Sitebase run failed"; failed=1; }
    fi
fi

if [ "${FLOOR:-1}" != 0 ]; then
    echo "== the ceiling relay (bench/collab/floor.c)"
    if [ ! -x "$root/build/collab_floor" ]; then
        echo "bench/collab: no build/collab_floor (cmake --build build), or FLOOR=0"
        failed=1
    else
        run_server floor yws ramp || { echo "bench/collab: the ceiling run failed"; failed=1; }
    fi
fi

python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
servers = [s for s in ("hocuspocus", "sitebase", "floor") if any(r["server"] == s for r in rows)]
def get(s, w, mode=None):
    for r in rows:
        if r["server"] == s and r["workload"] == w and (mode is None or r["mode"] == mode):
            return r
    return None
def fmt(v, unit=""):
    return "-" if v is None else f"{v}{unit}"
lines = []
for s in servers:
    i, o, m, rr = get(s, "idle"), get(s, "one-doc"), get(s, "many"), get(s, "ramp", "ramp-result")
    lines.append((s,
        fmt(o and o["p50_ms"]), fmt(o and o["p99_ms"]), fmt(o and o["loss"]), fmt(o and o["server_cpu"]),
        fmt(m and m["p50_ms"]), fmt(m and m["p99_ms"]),
        fmt(rr and rr["sustained_edits_per_s"]) + ("*" if rr and rr["generator_bound"] else ""),
        fmt(i and round(i["bytes_per_conn"] / 1024, 1)), fmt(o and o["server_rss_mb"])))
head = ("server", "1doc p50", "1doc p99", "loss", "cpu", "many p50", "many p99", "edits/s@p99<=20", "KB/idle conn", "RSS MB")
w = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
for row in (head, *lines):
    print("  ".join(str(x).ljust(n) for x, n in zip(row, w)))
print("(* = the load generator, not the server, set the limit; ms, cpu = share of one core)")
h, sb, fl = (get(s, "ramp", "ramp-result") for s in ("hocuspocus", "sitebase", "floor"))
if h and sb and h["sustained_edits_per_s"]:
    print(f"throughput ratio sitebase/hocuspocus: {sb['sustained_edits_per_s'] / h['sustained_edits_per_s']:.2f}x (target >= 5x)")
if fl and fl["sustained_edits_per_s"]:
    for s, r in (("hocuspocus", h), ("sitebase", sb)):
        if r:
            print(f"{s} reaches {100 * r['sustained_edits_per_s'] / fl['sustained_edits_per_s']:.0f}% of the ceiling relay's {fl['sustained_edits_per_s']} edits/s"
                  + (" (the generator's limit: the relay's own is higher)" if fl["generator_bound"] else ""))
print(f"raw: {sys.argv[1]}")
PY
exit $failed
