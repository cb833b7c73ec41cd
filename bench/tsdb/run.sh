#!/usr/bin/env bash
# bench/tsdb: Sitebase's time series against InfluxDB 1.6, in one run, on
# the issue's two workloads (bench/tsdb/gen.c):
#   wide  page_views for 1000 projects x 20 pages (region tag), fields
#         duration_ms (random walk, 2 decimals) and status (int), plus
#         performance_metrics for 1000 projects x 5 metric types; 3 million
#         points, about 120 per series;
#   long  500 series x 10,000 points at 1 s: counters, gauges with 2
#         decimals and status codes.
# Each workload goes to both servers over HTTP /write in batches of 5000
# lines on 2 connections (bench/tsdb/load.c), in CHUNKS parts (default 4)
# alternating between the servers; then the three queries run
# 20 times each against both (median latency), on the wide workload:
#   (a) mean per minute for one project,
#   (b) count by region over all data,
#   (c) 95th percentile by page for one project.
# Reported: points/s, peak RSS of each server (VmHWM), bytes per point on
# disk after compaction, median query latencies, and the ratios Sitebase /
# InfluxDB.
#
# Fairness: each workload starts with both servers idle (influxd's
# snapshot and compaction of the previous one, which runs a few seconds
# after its writes stop, is waited for instead of landing on Sitebase's
# next load), and each is loaded in parts alternating between the servers,
# so that the machine's load (shared with other jobs) drifts over both
# alike. Points/s is points over the summed wall time of a server's parts;
# the CPU seconds of each server over the workload (background work
# included) are reported too, steadier than wall time.
# Bytes per point are measured with both fully compacted, whatever the
# engines' flush thresholds: influxd by its cold-write settings (TSM
# snapshot 2 s, full compaction 5 s after the last write), waited for until
# its WAL is empty and no compaction runs; Sitebase, after the queries and
# the RSS reading, is stopped and its engine directory checkpointed offline
# (`tsdb_engine_bench checkpoint DIR`: the log replayed, every head flushed,
# every window compacted, the log emptied), as `du` sees it then.
#
# usage: bench/tsdb/run.sh [DRIVER]   DRIVER: Sitebase's --tsdb, "local"
# (the default: the embedded engine) or "influx" (Sitebase forwarding to an
# influxd of its own: checks this harness; its disk and RSS figures are
# then that influxd's plus Sitebase's). Env: SCALE (percent of the points,
# default 100), RUNS (query runs, default 20), SITEBASE_BIN.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
driver=${1:-local}
scale=${SCALE:-100}
runs=${RUNS:-20}
bin=${SITEBASE_BIN:-$root/build/sitebase}
gen=$root/build/tsdb_gen
load=$root/build/tsdb_load
engine=$root/build/tsdb_engine_bench
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

for cmd in influxd curl python3; do
    command -v "$cmd" >/dev/null || { echo "bench/tsdb: $cmd is missing (run scripts/deps.sh)"; exit 1; }
done
for b in "$bin" "$gen" "$load" "$engine"; do
    [ -x "$b" ] || { echo "bench/tsdb: build first ($b; cmake --build build --target sitebase tsdb_gen tsdb_load tsdb_engine_bench)"; exit 1; }
done
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_influxd DIR: an influxd on loopback whose cache is snapshot and
# whose shards are fully compacted a few seconds after writes stop.
start_influxd() {
    local dir=$1 http rpc
    http=$(free_port)
    rpc=$(free_port)
    mkdir -p "$dir"
    cat >"$dir/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "2s"
  compact-full-write-cold-duration = "5s"
  max-series-per-database = 0
  max-values-per-tag = 0
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$http"
  log-enabled = false
  max-body-size = 0
[continuous_queries]
  enabled = false
CONF
    influxd run -config "$dir/influxdb.conf" >"$dir/influxd.log" 2>&1 &
    pids+=($!)
    INFLUX_PID=$!
    INFLUX_URL="http://127.0.0.1:$http"
    INFLUX_PORT=$http
    for _ in $(seq 1 200); do
        curl -sf -o /dev/null "$INFLUX_URL/ping" && return 0
        sleep 0.1
    done
    echo "bench/tsdb: influxd in $dir did not start"
    tail "$dir/influxd.log"
    exit 1
}

start_influxd "$tmp/influxd"
REF_URL=$INFLUX_URL REF_PID=$INFLUX_PID REF_DIR=$tmp/influxd
case "$driver" in
local) tsdb=local ;;
influx)
    start_influxd "$tmp/behind"
    tsdb="influx://127.0.0.1:$INFLUX_PORT"
    BEHIND_PID=$INFLUX_PID
    ;;
*) echo "usage: bench/tsdb/run.sh [local|influx]"; exit 2 ;;
esac
port=$(free_port)
"$bin" serve --listen "127.0.0.1:$port" --data "$tmp/sitebase" --tsdb "$tsdb" --log-level warn \
    --access-log false --rate-limit-auth-ip 0 --argon2-memory 1M --argon2-iterations 1 \
    --max-write-body 64M 2>"$tmp/sitebase.log" &
pids+=($!)
SB_PID=$!
SB_URL="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "$SB_URL/readyz" && break
    sleep 0.1
done
token=$(curl -sf -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"correct horse battery staple"}' \
    "$SB_URL/api/auth/register" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
project() {
    curl -sf -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
        -d "{\"name\":\"$1\"}" "$SB_URL/api/projects" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

rss() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; } # KiB
# influxd_idle DIR: waits (at most 120 s) until the influxd of DIR has
# snapshot its cache (2 s after the last write), fully compacted (5 s
# after) and no compaction runs: its WAL files empty, no .tmp TSM file.
influxd_idle() {
    local wal tmpf
    sleep 3 # the snapshot starts 2 s after the last write
    for _ in $(seq 1 120); do
        wal=$(find "$1/wal" -name '*.wal' -size +0 2>/dev/null | wc -l)
        tmpf=$(find "$1/data" -name '*.tmp' 2>/dev/null | wc -l)
        [ "$wal" -eq 0 ] && [ "$tmpf" -eq 0 ] && break
        sleep 1
    done
    sleep 6 # a full compaction starts 5 s after the last write
    for _ in $(seq 1 120); do
        [ "$(find "$1/data" -name '*.tmp' 2>/dev/null | wc -l)" -eq 0 ] && break
        sleep 1
    done
}
declare -A result
echo "bench/tsdb: driver $driver, scale $scale%, $runs query runs"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system
ticks=$(getconf CLK_TCK)
chunks=${CHUNKS:-4}
for w in wide long; do
    [ "$w" = long ] && { [ "$driver" = local ] || influxd_idle "$tmp/behind"; }
    "$gen" "$w" "$scale" >"$tmp/$w.lp"
    n=$(wc -l <"$tmp/$w.lp")
    db=$(project "$w")
    eval "DB_$w=$db"
    curl -sf -X POST "$REF_URL/query" --data-urlencode "q=CREATE DATABASE $w" >/dev/null
    # In $chunks parts (whole lines, in order), alternately to each server:
    # the machine is shared, and its load drifts over a run; loading all of
    # one server and then all of the other put that drift into the ratio.
    split -n "l/$chunks" -d "$tmp/$w.lp" "$tmp/$w.part."
    sb_s=0 ref_s=0
    sb_cpu0=$(cpu_ticks "$SB_PID") ref_cpu0=$(cpu_ticks "$REF_PID")
    for part in "$tmp/$w.part."*; do
        s=$("$load" "$part" "$SB_URL/write?db=$db&precision=s" 5000 2 "Authorization: Token $token")
        r=$("$load" "$part" "$REF_URL/write?db=$w&precision=s" 5000 2)
        sb_s=$(echo "$s" | python3 -c "import json,sys; print($sb_s + json.load(sys.stdin)['seconds'])")
        ref_s=$(echo "$r" | python3 -c "import json,sys; print($ref_s + json.load(sys.stdin)['seconds'])")
    done
    rm -f "$tmp/$w.part."*
    sleep 2 # what the last writes started (a flush at a threshold)
    result[$w.points]=$n
    result[$w.sb_rate]=$(python3 -c "print($n / $sb_s)")
    result[$w.ref_rate]=$(python3 -c "print($n / $ref_s)")
    # CPU seconds each server spent from the first write to 2 s after the
    # last (background work started meanwhile included; influxd's cold
    # snapshot and compaction and Sitebase's final flush are not):
    # steadier than wall time on a shared machine.
    result[$w.sb_cpu]=$(python3 -c "print(($(cpu_ticks "$SB_PID") - $sb_cpu0) / $ticks)")
    result[$w.ref_cpu]=$(python3 -c "print(($(cpu_ticks "$REF_PID") - $ref_cpu0) / $ticks)")
    echo "  $w: $n points written to both in $chunks alternating parts"
    influxd_idle "$REF_DIR" # its snapshot and compaction: out of the next load
done

# Compaction: InfluxDB snapshots its cache 2 s and fully compacts a shard
# 5 s after the last write (settings above): wait for it. Sitebase's disk is
# measured after the queries (see the top).
influxd_idle "$REF_DIR"
[ "$driver" = influx ] && influxd_idle "$tmp/behind"
du_bytes() { du -sb "$@" 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
total_points=$((result[wide.points] + result[long.points]))
tsm_info() { # DIR: what influxd keeps there, for the record
    local tsm
    tsm=$(find "$1/data" -name '*.tsm' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    echo "data $(du_bytes "$1/data") bytes, of which $(find "$1/data" -name '*.tsm' | wc -l) TSM files $tsm bytes ($(python3 -c "print('%.2f' % ($tsm / $total_points))") a point; the rest is the series file and index), WAL $(du_bytes "$1/wal") bytes"
}
echo "  influxd (reference): $(tsm_info "$REF_DIR")"
[ "$driver" = influx ] && echo "  influxd behind Sitebase: $(tsm_info "$tmp/behind")"
ref_bytes=$(du_bytes "$REF_DIR/data" "$REF_DIR/wal")

# Queries (on the wide workload), each answer checked equal on both (numbers
# within a relative 1e-9, as tests/tsdb/compare.py).
T0=1767225600000000000
T1=$((T0 + 7200 * 1000000000))
qa="SELECT mean(duration_ms) FROM page_views WHERE project = 'p0042' AND time >= $T0 AND time < $T1 GROUP BY time(1m)"
qb="SELECT count(duration_ms) FROM page_views GROUP BY region"
qc="SELECT percentile(duration_ms, 95) FROM page_views WHERE project = 'p0042' GROUP BY page"
python3 - "$SB_URL" "$token" "$DB_wide" "$REF_URL" wide "$runs" "$qa" "$qb" "$qc" >"$tmp/queries.json" <<'PY'
import http.client, json, statistics, sys, time, urllib.parse
sb, token, sb_db, ref, ref_db, runs = sys.argv[1:7]
queries = sys.argv[7:10]
def conn(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=300)
def ask(c, db, q, headers):
    body = urllib.parse.urlencode({"db": db, "q": q, "epoch": "ns"})
    h = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    t = time.perf_counter()
    c.request("POST", "/query", body, h)
    r = c.getresponse()
    data = r.read()
    dt = time.perf_counter() - t
    if r.status != 200:
        sys.exit("query failed (%d): %s: %s" % (r.status, q, data[:300]))
    return dt, json.loads(data)
out = {}
cs, cr = conn(sb), conn(ref)
for name, q in zip("abc", queries):
    ts, tr = [], []
    for i in range(int(runs)):
        d, a = ask(cs, sb_db, q, {"Authorization": "Token " + token})
        ts.append(d)
        d, b = ask(cr, ref_db, q, {})
        tr.append(d)
    def canon(x):
        for r in x.get("results", []):
            r.get("series", []).sort(key=lambda s: (s["name"], json.dumps(s.get("tags"), sort_keys=True)))
        return x
    # Equal as tests/tsdb/compare.py has it: numbers within a relative 1e-9
    # (a mean over many series sums them in another order than InfluxDB's
    # merge heap, which is not a defined order either); the largest
    # relative difference is reported.
    worst = [0.0]
    def same(x, y):
        if isinstance(x, bool) or isinstance(y, bool):
            return x is y
        if isinstance(x, (int, float)) and isinstance(y, (int, float)):
            if x != y:
                worst[0] = max(worst[0], abs(x - y) / max(abs(x), abs(y)))
            return x == y or abs(x - y) <= 1e-9 * max(abs(x), abs(y))
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(same(u, v) for u, v in zip(x, y))
        return x == y
    out[name] = {"sitebase_ms": statistics.median(ts) * 1000, "influxdb_ms": statistics.median(tr) * 1000,
                 "same_answer": same(canon(a), canon(b)), "max_rel_diff": worst[0]}
print(json.dumps(out))
PY

sb_rss=$(rss "$SB_PID")
ref_rss=$(rss "$REF_PID")
[ "$driver" = influx ] && sb_rss=$((sb_rss + $(rss "$BEHIND_PID")))

if [ "$driver" = influx ]; then
    sb_bytes=$(du_bytes "$tmp/behind/data" "$tmp/behind/wal")
else
    # Stopped, then checkpointed offline: every point in a compacted block
    # file, the log empty (see the top).
    sb_log_before=$(find "$tmp/sitebase" -path '*/wal/*.wal' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    kill -TERM "$SB_PID"
    wait "$SB_PID" 2>/dev/null || true
    ck=$("$engine" checkpoint "$tmp/sitebase/tsdb")
    sb_bytes=$(du_bytes "$tmp/sitebase/tsdb")
    tsf=$(find "$tmp/sitebase" -name '*.tsf' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    wal=$(find "$tmp/sitebase" -path '*/wal/*.wal' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    echo "  sitebase (log at the end of the queries: $sb_log_before bytes; checkpointed: $ck): $sb_bytes bytes, of which $(find "$tmp/sitebase" -name '*.tsf' | wc -l) block files $tsf bytes, log $wal bytes"
    # By workload: the engine's catalog maps database names (the projects)
    # to their folders. influxd's per-database folders hold its TSM files
    # and index; its series file (shared) is left out there.
    gen_of() {
        python3 - "$tmp/sitebase/tsdb/catalog" "$1" <<'CAT'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:4] == b"TSC1"
version = struct.unpack_from("<I", b, 4)[0]
n = struct.unpack_from("<I", b, 32)[0]
p = 36
for _ in range(n):
    ln = shift = 0
    while True:
        c = b[p]; p += 1
        ln |= (c & 0x7F) << shift; shift += 7
        if c < 0x80:
            break
    name = b[p:p + ln].decode(); p += ln
    gen = struct.unpack_from("<Q", b, p)[0]
    p += 24 if version >= 2 else 16
    if name == sys.argv[2]:
        print(gen)
CAT
    }
    for w in wide long; do
        d="$tmp/sitebase/tsdb/db-$(gen_of "$(eval echo "\$DB_$w")")"
        blocks=$(find "$d" -name '*.tsf' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
        roll=$(find "$d" -name '*.tsr' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
        ref=$(du_bytes "$REF_DIR/data/$w")
        echo "  $w: sitebase $(python3 -c "print('%.2f' % (($blocks + $roll) / ${result[$w.points]}))") bytes a point (blocks $blocks, rollup snapshot $roll bytes); influxd $(python3 -c "print('%.2f' % ($ref / ${result[$w.points]}))") (data/$w $ref bytes)"
    done
fi
python3 - "$driver" "$total_points" "$sb_bytes" "$ref_bytes" "$sb_rss" "$ref_rss" "$tmp/queries.json" \
    "${result[wide.points]}" "${result[wide.sb_rate]}" "${result[wide.ref_rate]}" \
    "${result[long.points]}" "${result[long.sb_rate]}" "${result[long.ref_rate]}" \
    "${result[wide.sb_cpu]}" "${result[wide.ref_cpu]}" "${result[long.sb_cpu]}" "${result[long.ref_cpu]}" <<'PY'
import json, sys
(driver, points, sb_bytes, ref_bytes, sb_rss, ref_rss, qfile,
 wp, wsb, wref, lp, lsb, lref, wsc, wrc, lsc, lrc) = sys.argv[1:18]
q = json.load(open(qfile))
def row(name, sb, ref, unit, better):
    ratio = float(sb) / float(ref) if float(ref) else float("nan")
    print("| %-38s | %18s | %14s | %6.2fx | %s" % (name, sb, ref, ratio, better))
print("\n| %-38s | %18s | %14s | %7s | better" % ("", "Sitebase (" + driver + ")", "InfluxDB 1.6", "ratio"))
print("|" + "-" * 40 + "|" + "-" * 20 + "|" + "-" * 16 + "|---------|-------")
row("wide: points/s (%s points)" % wp, "%.0f" % float(wsb), "%.0f" % float(wref), "", "higher")
row("long: points/s (%s points)" % lp, "%.0f" % float(lsb), "%.0f" % float(lref), "", "higher")
row("wide: server CPU s per M points", "%.3f" % (float(wsc) * 1e6 / int(wp)),
    "%.3f" % (float(wrc) * 1e6 / int(wp)), "", "lower")
row("long: server CPU s per M points", "%.3f" % (float(lsc) * 1e6 / int(lp)),
    "%.3f" % (float(lrc) * 1e6 / int(lp)), "", "lower")
row("peak RSS, MiB", "%.1f" % (int(sb_rss) / 1024), "%.1f" % (int(ref_rss) / 1024), "", "lower")
row("bytes/point on disk (both loads)", "%.2f" % (int(sb_bytes) / int(points)),
    "%.2f" % (int(ref_bytes) / int(points)), "", "lower")
for k, label in (("a", "(a) mean per minute, one project"), ("b", "(b) count by region, all data"),
                 ("c", "(c) p95 by page, one project")):
    row(label + ", ms", "%.2f" % q[k]["sitebase_ms"], "%.2f" % q[k]["influxdb_ms"], "", "lower")
bad = [k for k in "abc" if not q[k]["same_answer"]]
print("\nanswers equal on both servers (numbers within 1e-9 relative): %s; largest relative "
      "difference %s" % ("yes" if not bad else "NO for " + ", ".join(bad),
                         ", ".join("%s %.1e" % (k, q[k]["max_rel_diff"]) for k in "abc")))
sys.exit(1 if bad else 0)
PY
