#!/usr/bin/env bash
# bench/auth: the cost of authentication.
#  1. GET /api/auth/me with a Bearer JWT (EdDSA verify, session check and
#     user read from SQLite, JSON): Sitebase vs a node peer that only
#     verifies the same kind of token (bench/auth/peer.mjs), both with 2
#     threads/processes, wrk 2 threads x 64 connections, alternating rounds.
#     Target: >= 50k requests/s on 2 threads.
#  2. The loops' responsiveness while passwords hash: /healthz p99 idle,
#     then while 50 sign-ins run at once with the default argon2id
#     parameters (19 MiB, t=2) on the worker pool. Target: p99 < 5 ms.
#
#   bench/auth/run.sh [ROUNDS] [SECONDS]      (defaults 3 and 10)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-3}
secs=${2:-10}
conns=${CONNS:-64}
bin=${SITEBASE_BIN:-$root/build/sitebase}
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

for cmd in wrk node curl; do
    command -v "$cmd" >/dev/null || { echo "bench/auth: $cmd is missing (run scripts/deps.sh)"; exit 1; }
done
[ -x "$bin" ] || { echo "bench/auth: build first ($bin)"; exit 1; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_url() {
    for _ in $(seq 1 100); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
    echo "bench/auth: $1 does not answer"
    exit 1
}

# Limits off: the benchmark itself would trip them. Hashing as shipped.
sb_port=$(free_port)
"$bin" serve --listen "127.0.0.1:$sb_port" --data "$tmp/data" --threads 2 --access-log false \
    --log-format json --rate-limit-auth-ip 0 --rate-limit-auth-account 0 --lockout-threshold 0 \
    2>"$tmp/sitebase.log" &
pids+=($!)
peer_port=$(free_port)
node "$here/peer.mjs" "$peer_port" 2 "$tmp/peer.token" &
pids+=($!)
sb="http://127.0.0.1:$sb_port"
peer="http://127.0.0.1:$peer_port"
wait_url "$sb/healthz"
for _ in $(seq 1 100); do [ -s "$tmp/peer.token" ] && break; sleep 0.1; done

email=bench@example.com
pw='correct horse battery staple'
curl -fs -X POST -H 'content-type: application/json' "$sb/api/auth/register" \
    -d "{\"email\":\"$email\",\"password\":\"$pw\"}" >"$tmp/reg.json"
sb_token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$tmp/reg.json")
peer_token=$(cat "$tmp/peer.token")
curl -fs -H "Authorization: Bearer $peer_token" "$peer/" >/dev/null || { echo "bench/auth: the peer refuses its token"; exit 1; }
echo "sitebase /me: $(curl -fs -H "Authorization: Bearer $sb_token" "$sb/api/auth/me" | head -c 120)..."

# "requests_per_second p99_ms" of one wrk run: URL TOKEN
run_wrk() {
    local out
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $2" "$1")
    local rps p99 non2xx
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $4}' <<<"$out")
    [ -z "$non2xx" ] || { echo "bench/auth: $non2xx non-2xx answers from $1" >&2; exit 1; }
    echo "$rps $(python3 -c 'import sys; v=sys.argv[1]; u={"us":1e-3,"ms":1,"s":1e3}; n=v.rstrip("smu"); print(round(float(n)*u[v[len(n):]],3))' "$p99")"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== GET /api/auth/me: $rounds rounds of ${secs}s, $conns connections"
: >"$tmp/sb.txt"
: >"$tmp/peer.txt"
for r in $(seq 1 "$rounds"); do
    s=$(run_wrk "$sb/api/auth/me" "$sb_token")
    p=$(run_wrk "$peer/" "$peer_token")
    echo "round $r: sitebase $s   node peer $p   (req/s p99_ms)"
    echo "$s" >>"$tmp/sb.txt"
    echo "$p" >>"$tmp/peer.txt"
done
sb_rps=$(awk '{print $1}' "$tmp/sb.txt" | median)
peer_rps=$(awk '{print $1}' "$tmp/peer.txt" | median)
sb_p99=$(awk '{print $2}' "$tmp/sb.txt" | median)
peer_p99=$(awk '{print $2}' "$tmp/peer.txt" | median)
echo "median: sitebase $sb_rps req/s p99 $sb_p99 ms; node peer $peer_rps req/s p99 $peer_p99 ms"
python3 -c "import sys; s,p=$sb_rps,$peer_rps; print('ratio sitebase/peer: %.2fx; target >= 50000 req/s: %s' % (s/p, 'met' if s >= 50000 else 'NOT met'))"

# /healthz p99 from a light closed loop (1 thread, 4 connections).
healthz_p99() {
    wrk -t1 -c4 -d"${secs}s" --latency "$sb/healthz" | awk '$1 == "99%" {print $2}'
}
echo "== /healthz p99 while passwords hash (argon2id 19 MiB, t=2)"
idle=$(healthz_p99)
echo "idle: p99 $idle"
node "$here/logins.mjs" "$sb/api/auth/login" 50 "$((secs + 2))" "$email" "$pw" >"$tmp/logins.txt" &
lp=$!
sleep 1
busy=$(healthz_p99)
wait "$lp"
echo "during 50 concurrent logins: p99 $busy ($(cat "$tmp/logins.txt"))"
python3 -c 'import sys; v=sys.argv[1]; u={"us":1e-3,"ms":1,"s":1e3}; n=v.rstrip("smu"); ms=float(n)*u[v[len(n):]]; print("target p99 < 5 ms: %s (%.3f ms)" % ("met" if ms < 5 else "NOT met", ms))' "$busy"
