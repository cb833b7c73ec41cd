#!/usr/bin/env bash
# Real editing traces (issue 5, tests/crdt/README.md) replayed through the
# local edits of the engine in SITEBASE_CRDT_ENGINE, by default the Yjs
# reference engine. CI replays the first SITEBASE_CRDT_TRACE_PATCHES (20000)
# patches of each ascii_only trace; tests/crdt/traces.mjs --full does all.
set -uo pipefail
root=${SITEBASE_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -d "$root/tests/node_modules/yjs" ] || { echo "FAIL tests/node_modules/yjs is missing: run scripts/deps.sh"; exit 1; }
exec node "$root/tests/crdt/traces.mjs" --max-patches "${SITEBASE_CRDT_TRACE_PATCHES:-20000}"
