#!/usr/bin/env bash
# The differential test of Sitebase's time series against InfluxDB 1.6:
# the same seeded workload (tests/tsdb/workload.py: three measurements,
# tags with escapes, float/int/bool/string fields, out-of-order points,
# duplicate timestamps, four precisions) goes to Sitebase over /write and
# to a separate reference influxd directly; then every query of the suite
# (each aggregate and selector, fill modes, GROUP BY tags and time, tag
# filters = != =~ !~, raw selects, SHOW statements) runs against both and
# the JSON answers must match (tests/tsdb/compare.py: floats within a
# relative 1e-9, percentiles within TSDB_DIFF_PERCENTILE_TOL). A mismatch
# prints the query and both answers.
#
# usage: tsdb_diff.sh [DRIVER]   DRIVER: Sitebase's tsdb driver, "influx"
# (the default: Sitebase forwards to an influxd of its own, which checks
# the driver and this harness) or "local" (the embedded engine). Also
# TSDB_DIFF_DRIVER, TSDB_DIFF_SEED, TSDB_DIFF_POINTS.
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

DRIVER=${1:-${TSDB_DIFF_DRIVER:-influx}}
SEED=${TSDB_DIFF_SEED:-8}
POINTS=${TSDB_DIFF_POINTS:-20000}

sb_start_influxd "$SB_TMP/reference"
REF_URL=$SB_INFLUX_URL
case "$DRIVER" in
influx)
    sb_start_influxd "$SB_TMP/behind-sitebase"
    TSDB="influx://127.0.0.1:$SB_INFLUX_PORT"
    ;;
local) TSDB=local ;;
*)
    echo "unknown driver '$DRIVER' (influx or local)" >&2
    exit 2
    ;;
esac
sb_start_api --tsdb "$TSDB"
read -r TOK _ <<<"$(signup diff@example.com)"
call "$TOK" POST /projects '{"name":"Diff"}' >/dev/null
DB=$(body | jget id)
curl -sS -X POST "$REF_URL/query" --data-urlencode "q=CREATE DATABASE ref" >/dev/null

W="$SB_TMP/workload"
check "the workload is generated (seed $SEED)" python3 "$SITEBASE_SOURCE_DIR/tests/tsdb/workload.py" "$W" "$SEED" "$POINTS"
for lp in "$W"/batch_*.lp; do
    prec=$(cat "${lp%.lp}.precision")
    s=$(http -X POST -H "Authorization: Token $TOK" --data-binary "@$lp" "$SB_URL/write?db=$DB&precision=$prec")
    r=$(curl -sS -o "$SB_TMP/ref.body" -w '%{http_code}' -X POST --data-binary "@$lp" "$REF_URL/write?db=ref&precision=$prec")
    if [ "$s" != "$r" ] || [ "$s" != 204 ]; then
        fail "write $(basename "$lp")" "sitebase $s $(body), reference $r $(cat "$SB_TMP/ref.body")"
    fi
done
pass "the workload is written to both ($(ls "$W"/batch_*.lp | wc -l) batches)"

if python3 "$SITEBASE_SOURCE_DIR/tests/tsdb/compare.py" "$W/queries.txt" "$SB_URL" "$TOK" "$DB" \
    "$REF_URL" ref >"$SB_TMP/compare.out" 2>&1; then
    pass "every query answers as InfluxDB 1.6 ($(tail -1 "$SB_TMP/compare.out"))"
else
    grep -A2 '^DIFF' "$SB_TMP/compare.out"
    fail "queries differ from InfluxDB 1.6" "$(tail -1 "$SB_TMP/compare.out")"
fi
sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
