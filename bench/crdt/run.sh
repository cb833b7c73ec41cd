#!/usr/bin/env bash
# bench/crdt: the CRDT engine against Yjs on real editing traces (issue 5).
# For each ascii_only trace (the traces count code points, Yjs UTF-16 units:
# in ASCII they agree), each engine's bench program runs once per round in
# a fresh process and prints one JSON line (fields below); medians of the
# rounds are printed as a table, with ratios when there is a C engine.
#   apply_ms      every transaction of the trace as local edits
#   remote_ms     every transaction's update applied in order to a fresh doc
#   apply_cpu_ms, remote_cpu_ms: the same in CPU time (the process's, all
#                 threads), steadier than wall time when the cores are shared
#   encode_ms     the whole state as a v1 update (median of 7)
#   decode_ms     that update into a fresh doc (median of 7)
#   state_bytes   its size
#   heap_bytes    what the doc adds to the heap after a full GC (node), or
#                 the engine's live allocation (C); heap_total_bytes: the
#                 whole heap then (node: the parsed trace included);
#                 rss_peak_bytes: the process's max RSS
#
# Engines: Yjs is bench/crdt/yjs.mjs (Yjs 13.6.33 pinned in package.json,
# installed with `npm ci` when bench/crdt/node_modules is missing). The C
# engine will come as a program that takes a trace file and prints the same
# JSON line, using src/crdt/'s C API directly (not ycli's pipe protocol,
# whose base64 and line I/O would dominate): build/crdt_bench, or the
# command in SITEBASE_CRDT_BENCH. run.sh runs it when it exists; until then
# the table has Yjs only. Targets: C >= 5x Yjs on apply, remote, encode and
# decode; heap below Yjs's.
#
#   bench/crdt/run.sh [ROUNDS]          (default 3)
#   TRACES="automerge-paper seph-blog1" bench/crdt/run.sh 1
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-3}
dir=${SITEBASE_EDITING_TRACES:-/work/shared/data/editing-traces}/ascii_only
c_bench=${SITEBASE_CRDT_BENCH:-$root/build/crdt_bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for cmd in node npm python3; do
    command -v "$cmd" >/dev/null || { echo "bench/crdt: $cmd is missing (run scripts/deps.sh)"; exit 1; }
done
if [ ! -d "$here/node_modules" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || { echo "bench/crdt: npm ci failed"; exit 1; }
fi
engines=(yjs)
if command -v "${c_bench%% *}" >/dev/null; then engines+=(c); else echo "bench/crdt: no C bench program ($c_bench): Yjs only"; fi

traces=${TRACES:-$(cd "$dir" && ls *.json.gz | sed 's/\.json\.gz$//')}
for t in $traces; do
    for r in $(seq 1 "$rounds"); do
        # alternate engines within a round, so drift in the machine hits both
        for e in "${engines[@]}"; do
            if [ "$e" = yjs ]; then
                node --expose-gc "$here/yjs.mjs" "$dir/$t.json.gz" >>"$tmp/$e.jsonl"
            else
                $c_bench "$dir/$t.json.gz" >>"$tmp/$e.jsonl"
            fi
        done
    done
    echo "bench/crdt: $t done ($rounds rounds)" >&2
done

python3 - "$tmp" "${engines[@]}" <<'PY'
import json, statistics, sys
tmp, engines = sys.argv[1], sys.argv[2:]
runs = {e: [json.loads(l) for l in open(f"{tmp}/{e}.jsonl")] for e in engines}
fields = ["apply_ms", "remote_ms", "encode_ms", "decode_ms", "state_bytes", "heap_bytes", "rss_peak_bytes"]
fields += [f for f in ["heap_total_bytes", "apply_cpu_ms", "remote_cpu_ms"] if all(f in r for rs in runs.values() for r in rs)]
def medians(e):
    by = {}
    for r in runs[e]:
        by.setdefault(r["trace"], []).append(r)
    return {t: {**rs[0], **{f: statistics.median(x[f] for x in rs) for f in fields}} for t, rs in by.items()}
m = {e: medians(e) for e in engines}
print(f"engine: {runs['yjs'][0]['engine']}; medians of {len(runs['yjs']) // len(m['yjs'])} runs")
print("| trace | edits | apply ms (cpu) | remote ms (cpu) | encode ms | decode ms | state KB | doc heap MB | heap total MB | peak RSS MB |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for t, y in m["yjs"].items():
    cpu = lambda f: f" ({y[f]:.0f})" if f in y else ""
    print(f"| {t} | {y['edits']:,} | {y['apply_ms']:.0f}{cpu('apply_cpu_ms')} | {y['remote_ms']:.0f}{cpu('remote_cpu_ms')} | {y['encode_ms']:.2f} | "
          f"{y['decode_ms']:.2f} | {y['state_bytes'] / 1000:.0f} | {y['heap_bytes'] / 2**20:.2f} | "
          f"{y.get('heap_total_bytes', 0) / 2**20:.1f} | {y['rss_peak_bytes'] / 2**20:.0f} |")
if "c" in m:
    print("\nC engine / Yjs (speed: Yjs time / C time, higher is better; target >= 5x; memory: C / Yjs, target < 1)")
    print("| trace | apply | remote | encode | decode | state size | heap |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for t, y in m["yjs"].items():
        c = m["c"].get(t)
        if not c:
            continue
        # CPU time where both engines report it (steadier), else wall time
        pick = lambda f: f.replace("_ms", "_cpu_ms") if f.replace("_ms", "_cpu_ms") in y and f.replace("_ms", "_cpu_ms") in c else f
        sp = lambda f: f"{y[pick(f)] / c[pick(f)]:.1f}x" if c[pick(f)] else "-"
        print(f"| {t} | {sp('apply_ms')} | {sp('remote_ms')} | {sp('encode_ms')} | {sp('decode_ms')} | "
              f"{c['state_bytes'] / y['state_bytes']:.2f} | {c['heap_bytes'] / y['heap_bytes']:.2f} |")
PY
