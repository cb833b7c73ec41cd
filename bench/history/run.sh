#!/usr/bin/env bash
# bench/history: rebuilding a project's state from its event log (issue 7).
# For 10,000 and 100,000 events (a project of ~40 pages with ~1 KB
# component trees, 40 code files and 150 comments, edited at random),
# build/history_bench writes the log into SQLite through history_append
# (real payloads, a snapshot every 100 events) and times, in one process:
#   at_ms        history_state_at at 300 random numbers: the nearest
#                snapshot decoded plus up to 99 events (median, p99)
#   full_ms      history_state_at(head) with only the first snapshot kept:
#                the whole log replayed (median of 3); per event in us
#   naive_ms     every payload parsed and applied in memory (the cost
#                without the replay's skipping of overwritten payloads)
#   decode_ms    one snapshot (LZ4 frame + JSON) of the final state
#   append       history_append's CPU time per event in the write path
#                (mean in us; max in ms: the events that take a snapshot)
# Times are wall and CPU (the bench's one thread): on shared cores the CPU
# time is the one to compare. Each size runs ROUNDS times in a fresh
# process; the table shows medians.
# Target (issue 7): replaying 10,000 events < 50 ms.
#
#   bench/history/run.sh [ROUNDS]        (default 3)
#   SIZES="10000" bench/history/run.sh 1
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-3}
sizes=${SIZES:-10000 100000}
bin=${SITEBASE_HISTORY_BENCH:-$root/build/history_bench}
if [ ! -x "$bin" ]; then
    echo "bench/history: $bin is missing: cmake --build build --target history_bench" >&2
    exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for n in $sizes; do
    for r in $(seq 1 "$rounds"); do
        "$bin" "$n" 100 >>"$out"
    done
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    by.setdefault(r["events"], []).append(r)
cols = [("at_ms_median", "state_at median ms"), ("at_cpu_ms_median", "(CPU)"),
        ("at_cpu_ms_p99", "p99 CPU ms"),
        ("full_ms_median", "full replay ms"), ("full_cpu_ms_median", "(CPU)"),
        ("full_us_per_event", "CPU us/event"),
        ("naive_cpu_ms", "apply-all CPU ms"), ("decode_ms", "snapshot decode ms"),
        ("append_cpu_us_mean", "append CPU us"), ("append_cpu_ms_max", "append max CPU ms"),
        ("state_bytes", "state bytes"), ("snapshot_bytes", "snapshot bytes")]
print("| events | " + " | ".join(c[1] for c in cols) + " |")
print("| --- " * (len(cols) + 1) + "|")
for n in sorted(by):
    med = lambda k: statistics.median(r[k] for r in by[n])
    print("| %d | " % n + " | ".join(
        ("%.0f" if k.endswith("bytes") else "%.2f") % med(k) for k, _ in cols) + " |")
ten = by.get(10000)
if ten:
    full = statistics.median(r["full_ms_median"] for r in ten)
    cpu = statistics.median(r["full_cpu_ms_median"] for r in ten)
    print("\n10,000 events replayed in %.1f ms (%.1f ms CPU): %s the 50 ms target" %
          (full, cpu, "within" if cpu < 50 else "OVER"))
PY
