#!/usr/bin/env bash
# Runs every libFuzzer target in a build folder for N seconds each, starting
# from its seed corpus (tests/fuzz/corpus/<target>/); new inputs go to a
# scratch corpus under the build folder, so the repo's seeds stay small.
set -euo pipefail
build=${1:?build dir}
seconds=${2:-60}
here=$(cd "$(dirname "$0")/.." && pwd)
failed=()
for bin in "$build"/*_fuzz; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    seeds="$here/tests/fuzz/corpus/$name"
    work="$build/corpus/$name"
    mkdir -p "$work"
    echo "fuzz: $name for ${seconds}s"
    args=("$work")
    [ -d "$seeds" ] && args+=("$seeds")
    if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 \
            -artifact_prefix="$build/" "${args[@]}" 2>"$build/$name.log"; then
        tail -50 "$build/$name.log"
        failed+=("$name")
    else
        grep -E "stat::number_of_executed_units|Done" "$build/$name.log" | tail -2
    fi
done
# Last, so that a log cut to its tail still names what failed.
if [ ${#failed[@]} -gt 0 ]; then
    for name in "${failed[@]}"; do # the report's summary and the input, to reproduce
        grep -E "^SUMMARY|^Base64:|==ERROR|deadly signal" "$build/$name.log" | head -4 | sed "s/^/fuzz: $name: /"
    done
    echo "fuzz: FAILED: ${failed[*]} (inputs: $build/crash-*, leak-*, timeout-*, oom-*)"
    exit 1
fi
echo "fuzz: every target ran clean"
