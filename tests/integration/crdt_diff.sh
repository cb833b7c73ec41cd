#!/usr/bin/env bash
# The CRDT differential test (issue 5, tests/crdt/README.md) against the
# engine command in SITEBASE_CRDT_ENGINE, by default the Yjs reference engine
# (tests/crdt/yref.mjs), which then validates the harness itself. No server,
# no database. SITEBASE_CRDT_CASES (default 300) and SITEBASE_CRDT_SEED
# (default: a new one each run, printed; under CI=true a fixed one, so that
# CI gives the same answer for the same code: tests/crdt/README.md, "The
# echo check, and a fixed seed in CI") choose the cases,
# SITEBASE_CRDT_SECONDS (default 30) bounds them.
# Then deliberately broken engines (tests/crdt/broken.mjs) must be caught,
# and a partial one must pass with its skips counted (skipped when
# SITEBASE_CRDT_SELFCHECK=0: the run against the C engine, which checks the
# engine, not the harness).
set -uo pipefail
root=${SITEBASE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
crdt=$root/tests/crdt
[ -d "$root/tests/node_modules/yjs" ] || { echo "FAIL tests/node_modules/yjs is missing: run scripts/deps.sh"; exit 1; }

# Random seeds keep exploring outside CI.
if [ "${CI:-}" = true ] && [ -z "${SITEBASE_CRDT_SEED:-}" ]; then
    SITEBASE_CRDT_SEED=1
fi

status=0
node "$crdt/diff.mjs" --cases "${SITEBASE_CRDT_CASES:-300}" --time-limit "${SITEBASE_CRDT_SECONDS:-30}" \
    ${SITEBASE_CRDT_SEED:+--seed "$SITEBASE_CRDT_SEED"} || status=1

[ "${SITEBASE_CRDT_SELFCHECK:-1}" = 0 ] && exit $status

# Each mode is one engine bug the harness must report: a mismatch (exit 1),
# or for `crash` an engine failure (exit 2). A fixed seed, so this part
# gives the same answer on every run.
for mode in drop-apply merge-drop shift-insert gc-off sv-order snapshot-now crash; do
    want=1 what=MISMATCH
    [ "$mode" = crash ] && want=2 what='ENGINE FAILURE'
    out=$(node "$crdt/diff.mjs" --engine "node $crdt/broken.mjs $mode" --cases 50 --seed 7 \
        --time-limit 20 --shrink-seconds 1 2>&1)
    rc=$?
    if [ $rc -eq $want ] && grep -q "^$what" <<<"$out"; then
        echo "ok   broken engine '$mode' caught: $(grep -m1 "^$what" <<<"$out" | cut -c1-150)"
    else
        echo "FAIL broken engine '$mode' not caught (exit $rc):"
        tail -5 <<<"$out"
        status=1
    fi
done

# An engine still under construction (many commands `err unsupported`)
# must pass, with the skips counted.
out=$(node "$crdt/diff.mjs" --engine "node $crdt/broken.mjs partial" --cases 30 --seed 7 --time-limit 20 2>&1)
if [ $? -eq 0 ] && grep -q '^skipped: merge unsupported' <<<"$out"; then
    echo "ok   partial engine passes, skips counted: $(grep -c '^skipped:' <<<"$out") commands"
else
    echo "FAIL partial engine:"
    tail -5 <<<"$out"
    status=1
fi
exit $status
