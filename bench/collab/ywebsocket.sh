#!/usr/bin/env bash
# bench/collab/ywebsocket.sh: Sitebase's /collab (SQLite, every update durable in the journal
# before it is broadcast) and y-websocket's own node server (in memory, no
# persistence: the peer a user would otherwise run) side by side on the
# same client workload (collab_bench.mjs), on loopback; prints both and the
# ratios. usage: bench/collab/ywebsocket.sh [build dir]  (CLIENTS=, ITEMS= tune it)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
nm=$here/tests/node_modules
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

"$build/sitebase" serve --listen 127.0.0.1:0 --data "$tmp/data" --threads 2 --log-format json \
    --access-log false --collab-max-conns-per-user 10000 --argon2-memory 1M --argon2-iterations 1 --rate-limit-auth-ip 0 \
    2>"$tmp/sb.log" &
pids+=($!)
for _ in $(seq 1 200); do grep -q '"msg":"ready"' "$tmp/sb.log" && break; sleep 0.05; done
addr=$(grep -o '"msg":"listening","addr":"[^"]*"' "$tmp/sb.log" | sed 's/.*"addr":"\([^"]*\)"/\1/')
tok=$(curl -sS -H 'Content-Type: application/json' -d \
    '{"email":"bench@example.com","password":"correct horse battery staple"}' \
    "http://$addr/api/auth/register" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
proj=$(curl -sS -H 'Content-Type: application/json' -H "Authorization: Bearer $tok" \
    -d '{"name":"Bench"}' "http://$addr/api/projects" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HOST=127.0.0.1 PORT=$port node "$nm/y-websocket/bin/server.cjs" >"$tmp/yws.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q running "$tmp/yws.log" && break; sleep 0.05; done

# The clients resolve yjs and y-websocket from tests/node_modules.
cp "$here/bench/collab/collab_bench.mjs" "$tmp/"
ln -s "$nm" "$tmp/node_modules"
sb=$(node "$tmp/collab_bench.mjs" "ws://$addr/collab/$proj" "code:bench" "$tok")
yw=$(node "$tmp/collab_bench.mjs" "ws://127.0.0.1:$port" "bench")
echo "sitebase:    $sb"
echo "y-websocket: $yw"
python3 - "$sb" "$yw" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("ratios sitebase/y-websocket: p50 latency %.2f, p99 latency %.2f, throughput %.2f"
      % (a["p50_ms"] / b["p50_ms"], a["p99_ms"] / b["p99_ms"], a["updates_per_s"] / b["updates_per_s"]))
PY
