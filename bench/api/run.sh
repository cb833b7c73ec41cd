#!/usr/bin/env bash
# bench/api: the project API under an authenticated caller (issue 4).
#  (a) GET /api/projects/:id with a Bearer access token;
#  (b) a filtered list page,
#      GET /api/projects?team=<id>&visibility=team&sort=-updated_at&limit=20.
# Three servers, one run: Sitebase on SQLite, Sitebase on PostgreSQL (a
# throwaway server from tests/pg.sh), and the same two routes on Fastify +
# node-postgres (bench/api/peer.mjs: ONE node process) against the very
# tables Sitebase created, verifying Sitebase's own EdDSA tokens. Sitebase
# runs with its default loop threads (one per core). Data is seeded through
# Sitebase's API (bench/api/seed.mjs), then PostgreSQL's statistics are
# taken (ANALYZE); before timing, the peer's answers are checked equal to
# Sitebase's (JSON, modulo key order), and 404s where the caller may not
# look. The peer's npm packages (bench/api/package-lock.json) are installed
# with `npm ci` when bench/api/node_modules is missing.
# Load: wrk, 2 threads x 64 connections, closed loop, bounded by time (-d)
# and by count (REQUESTS per run, bench/api/bounded.lua, which also measures
# the rate and fails the run on any non-200); alternating rounds, medians.
# Target: Sitebase >= 3x Fastify's requests/s, at a lower p99.
#
#   bench/api/run.sh [ROUNDS] [SECONDS]      (defaults 3 and 10)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-3}
secs=${2:-10}
conns=${CONNS:-64}
requests=${REQUESTS:-2000000}
bin=${SITEBASE_BIN:-$root/build/sitebase}
tmp=$(mktemp -d)
# The PostgreSQL server runs as the postgres OS user when we are root; it
# must reach its folder inside ours (traverse, not list).
chmod 711 "$tmp"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -d "$tmp/pg" ]; then bash "$root/tests/pg.sh" stop "$tmp/pg" || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

for cmd in wrk node npm curl python3 psql; do
    command -v "$cmd" >/dev/null || { echo "bench/api: $cmd is missing (run scripts/deps.sh)"; exit 1; }
done
[ -x "$bin" ] || { echo "bench/api: build first ($bin)"; exit 1; }
if [ ! -d "$here/node_modules" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || { echo "bench/api: npm ci failed"; exit 1; }
fi
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_url URL [TOKEN]: until URL answers 200 (10 s at most).
wait_url() {
    for _ in $(seq 1 100); do
        curl -fs -o /dev/null ${2:+-H "Authorization: Bearer $2"} "$1" && return 0
        sleep 0.1
    done
    echo "bench/api: $1 does not answer"
    return 1
}
jfield() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

bash "$root/tests/pg.sh" start "$tmp/pg" >/dev/null
pg_url=$(cat "$tmp/pg/url")
# A master key of our own, so that the peer can derive the public half of
# Sitebase's signing key from the shared database (see peer.mjs).
master=$(python3 -c 'import secrets; print(secrets.token_hex(32))')

# Sitebase as shipped but: access log off (the peer logs nothing either),
# auth rate limits off (the seeding signs up several users at once), access
# tokens valid for the whole run.
sb_flags=(--access-log false --log-format json --rate-limit-auth-ip 0
    --rate-limit-auth-account 0 --lockout-threshold 0 --access-token-ttl 1h)
lite_port=$(free_port)
SITEBASE_MASTER_KEY=$master "$bin" serve --listen "127.0.0.1:$lite_port" --data "$tmp/lite" \
    "${sb_flags[@]}" 2>"$tmp/lite.log" &
pids+=($!)
pgsb_port=$(free_port)
SITEBASE_MASTER_KEY=$master "$bin" serve --listen "127.0.0.1:$pgsb_port" --data "$tmp/pgsb" \
    --db "$pg_url" "${sb_flags[@]}" 2>"$tmp/pgsb.log" &
pids+=($!)
lite="http://127.0.0.1:$lite_port"
pgsb="http://127.0.0.1:$pgsb_port"
wait_url "$lite/healthz" || exit 1
wait_url "$pgsb/healthz" || exit 1
threads=$(grep -o '"msg":"ready".*"threads":[0-9]*' "$tmp/lite.log" | grep -o '[0-9]*$' || echo '?')

echo "== seeding each Sitebase through its API"
node "$here/seed.mjs" "$lite" >"$tmp/seed-lite.json"
node "$here/seed.mjs" "$pgsb" >"$tmp/seed-pg.json"
# Statistics now, as a database in service has them: otherwise autovacuum
# analyzes the fresh tables at some point of the run, and plans (and the
# rates of both PostgreSQL servers) change mid-measurement.
psql "$pg_url" -qc ANALYZE

peer_port=$(free_port)
PEER_MASTER_KEY=$master node "$here/peer.mjs" "$peer_port" "$pg_url" 2>"$tmp/peer.log" &
pids+=($!)
peer="http://127.0.0.1:$peer_port"

# The caller's token and the two routes' paths, from a seed file.
tok_of() { jfield "$1" token; }
get_path() { echo "/api/projects/$(jfield "$1" project)"; }
list_path() { echo "/api/projects?team=$(jfield "$1" team)&visibility=team&sort=-updated_at&limit=20"; }
lite_tok=$(tok_of "$tmp/seed-lite.json")
pg_tok=$(tok_of "$tmp/seed-pg.json")
wait_url "$peer$(get_path "$tmp/seed-pg.json")" "$pg_tok" ||
    { cat "$tmp/peer.log"; exit 1; }

echo "== checking the answers are the same"
python3 - "$pgsb" "$peer" "$lite" "$tmp/seed-pg.json" "$tmp/seed-lite.json" <<'PY'
import json, sys, urllib.error, urllib.parse, urllib.request
pgsb, peer, lite, seed_pg, seed_lite = sys.argv[1:]
s = json.load(open(seed_pg))
sl = json.load(open(seed_lite))

def get(base, path, token):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None

def same(what, path):
    a, b = get(pgsb, path, s["token"]), get(peer, path, s["token"])
    if a != b:  # dicts compare without regard to key order
        sys.exit(f"bench/api: {what}: sitebase and the peer differ\n  sitebase: {a}\n  peer:     {b}")
    return a

st, p = same("GET project", f"/api/projects/{s['project']}")
assert st == 200 and p["id"] == s["project"], p
same("GET shared private project", f"/api/projects/{s['shared']}")
for h in s["hidden"]:
    st, _ = same("GET hidden project", f"/api/projects/{h}")
    assert st == 404, st
lp = f"/api/projects?team={s['team']}&visibility=team&sort=-updated_at&limit=20"
st, page = same("list page 1", lp)
assert st == 200 and len(page["items"]) == 20 and page["next_cursor"], page
st, page2 = same("list page 2", lp + "&cursor=" + urllib.parse.quote(page["next_cursor"]))
assert len(page2["items"]) == 20 and not {i["id"] for i in page2["items"]} & {i["id"] for i in page["items"]}
same("list, every project bob sees", "/api/projects?sort=name&limit=200")
# SQLite: other ids, the same shape.
st, q = get(lite, f"/api/projects/{sl['project']}", sl["token"])
assert st == 200 and q.keys() == p.keys(), q
st, q = get(lite, f"/api/projects?team={sl['team']}&visibility=team&sort=-updated_at&limit=20", sl["token"])
assert st == 200 and len(q["items"]) == 20 and q["items"][0].keys() == p.keys(), q
print("same JSON from sitebase and the peer: project, list pages 1 and 2, a full list, 404s;"
      " sqlite answers have the same shape")
PY

# "rps p50_ms p99_ms" of one bounded wrk run: URL TOKEN SECONDS
run_wrk() {
    local out line
    out=$(MAX_PER_THREAD=$((requests / 2)) wrk -t2 -c"$conns" -d"${3}s" --latency \
        -s "$here/bounded.lua" -H "Authorization: Bearer $2" "$1")
    line=$(grep '^answers:' <<<"$out")
    read -r _ n _ bad _ _ _ rps _ p50 _ p99 _ capped <<<"$line"
    [ "$bad" = 0 ] || { echo "bench/api: $bad non-200 answers of $n from $1" >&2; exit 1; }
    [ "$capped" = 0 ] || echo "bench/api: $1 reached the count bound ($requests) before ${3}s" >&2
    awk -v r="$rps" -v a="$p50" -v b="$p99" 'BEGIN {printf "%.0f %.3f %.3f\n", r, a/1000, b/1000}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

servers=(lite pgsb peer)
declare -A label=([lite]="sitebase sqlite" [pgsb]="sitebase postgres" [peer]="fastify+pg (1 proc)")
declare -A base=([lite]=$lite [pgsb]=$pgsb [peer]=$peer)
declare -A token=([lite]=$lite_tok [pgsb]=$pg_tok [peer]=$pg_tok)
declare -A seedf=([lite]=$tmp/seed-lite.json [pgsb]=$tmp/seed-pg.json [peer]=$tmp/seed-pg.json)
routes=(get list)
declare -A rname=([get]="GET /api/projects/:id" [list]="GET /api/projects?team&visibility=team&sort=-updated_at&limit=20")

echo "== $rounds rounds of ${secs}s per route and server; wrk 2 threads x $conns connections;" \
    "$(nproc) cores shared by client, servers and PostgreSQL; sitebase $threads loop threads"
for rt in "${routes[@]}"; do
    for sv in "${servers[@]}"; do
        # Warm-up, not recorded: V8's JIT, statement caches, page cache.
        run_wrk "${base[$sv]}$("${rt}_path" "${seedf[$sv]}")" "${token[$sv]}" 2 >/dev/null
        : >"$tmp/$rt.$sv"
    done
    for r in $(seq 1 "$rounds"); do
        line="round $r ${rt}:"
        for sv in "${servers[@]}"; do
            res=$(run_wrk "${base[$sv]}$("${rt}_path" "${seedf[$sv]}")" "${token[$sv]}" "$secs")
            echo "$res" >>"$tmp/$rt.$sv"
            line+=$(printf ' | %s %s' "${label[$sv]}" "$res")
        done
        echo "$line   (req/s p50_ms p99_ms)"
    done
done

echo
printf '%-70s %-20s %9s %9s %9s\n' route server "req/s" "p50 ms" "p99 ms"
for rt in "${routes[@]}"; do
    for sv in "${servers[@]}"; do
        f="$tmp/$rt.$sv"
        printf '%-70s %-20s %9.0f %9.3f %9.3f\n' "${rname[$rt]}" "${label[$sv]}" \
            "$(awk '{print $1}' "$f" | median)" "$(awk '{print $2}' "$f" | median)" \
            "$(awk '{print $3}' "$f" | median)"
        echo "$rt $sv $(awk '{print $1}' "$f" | median) $(awk '{print $3}' "$f" | median)" >>"$tmp/medians"
    done
done
echo
echo "ratios sitebase/fastify (target: req/s >= 3.00x and a lower p99):"
awk '{rps[$1" "$2]=$3; p99[$1" "$2]=$4}
    END {
        split("get list", rts, " "); split("lite pgsb", svs, " ")
        name["lite"]="sqlite  "; name["pgsb"]="postgres"
        for (i = 1; i <= 2; i++) for (j = 1; j <= 2; j++) {
            k = rts[i]" "svs[j]; f = rts[i]" peer"
            r = rps[k] / rps[f]; q = p99[k] / p99[f]
            printf "  %-4s %s  req/s %6.2fx  p99 %5.2fx  %s\n", rts[i], name[svs[j]], r, q,
                (r >= 3 && q < 1) ? "met" : "NOT met"
        }
    }' "$tmp/medians"
