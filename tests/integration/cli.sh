#!/usr/bin/env bash
# The command line: version, help, migrate and its status, configuration
# precedence and errors that name the key; the release binary has no test
# routes.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

contains "version" "$("$SB_BIN" version)" "sitebase "
contains "top-level help lists commands" "$("$SB_BIN" --help)" "serve"
contains "serve --help lists keys" "$("$SB_BIN" serve --help)" "--max-json-body"
# docs/configuration.md documents every key that --help lists.
for key in $("$SB_BIN" serve --help | sed -n 's/^  --\([a-z-]*\) .*/\1/p' | grep -v '^config$' | tr - _); do
    grep -q "^| \`$key\` |" "$SITEBASE_SOURCE_DIR/docs/configuration.md" ||
        fail "docs/configuration.md lacks $key"
done
pass "docs/configuration.md lists every key"
"$SB_BIN" frobnicate >/dev/null 2>&1
eq "unknown command exits 2" "$?" 2

db=$SB_DB_FLAGS
# shellcheck disable=SC2086
out=$("$SB_BIN" migrate --data "$SB_TMP/m" $db 2>&1)
# As many as the driver has files (other branches add migrations too).
n_sql=$(find "$SITEBASE_SOURCE_DIR/src/store/migrations/${SITEBASE_TEST_DB:-sqlite}" -name '*.sql' | wc -l)
contains "migrate applies them all ($n_sql)" "$out" "applied $n_sql migrations"
# shellcheck disable=SC2086
out=$("$SB_BIN" migrate --data "$SB_TMP/m" $db 2>&1)
eq "migrate again applies nothing" "$out" "applied 0 migrations"
# shellcheck disable=SC2086
out=$("$SB_BIN" migrate --status --data "$SB_TMP/m" $db 2>&1)
contains "status names the driver" "$out" "store: ${SITEBASE_TEST_DB:-sqlite}"
check "status shows 0001_init applied" grep -qE '^0001  0001_init +[0-9]{4}-' <<<"$out"
check "status shows 0002_identity applied" grep -qE '^0002  0002_identity +[0-9]{4}-' <<<"$out"

out=$("$SB_BIN" serve --threads 999 2>&1)
eq "bad flag value exits 2" "$?" 2
eq "error names key, value and source" "$out" \
    "sitebase serve: threads: must be between 0 and 256, got 999 (from --threads)"
out=$(SITEBASE_THREADS=abc "$SB_BIN" serve 2>&1)
contains "env error names the variable" "$out" "(from SITEBASE_THREADS)"
printf 'listen = 127.0.0.1:1\nthredas = 4\n' >"$SB_TMP/bad.conf"
out=$("$SB_BIN" serve --config "$SB_TMP/bad.conf" 2>&1)
contains "file error names file and line" "$out" "bad.conf:2"

# Precedence: file < environment < flag. The file says 3 threads, the
# environment 2, the flag 1: the server must report 1.
printf 'threads = 3\nlog_format = json\n' >"$SB_TMP/good.conf"
SITEBASE_THREADS=2 sb_start --config "$SB_TMP/good.conf" --threads 1
check "flag wins over env and file" grep -q '"msg":"ready".*"threads":1' "$SB_LOG"
sb_stop
SITEBASE_THREADS=2 sb_start --config "$SB_TMP/good.conf"
check "env wins over file" grep -q '"msg":"ready".*"threads":2' "$SB_LOG"
sb_stop

# The release binary does not carry the test routes.
SB_BIN=$SITEBASE_BIN sb_start
eq "release binary has no /_test routes" "$(http "$SB_URL/_test/items/1")" 404
sb_stop
check "prints where it listens and its data" grep -q '"msg":"listening".*"data":' "$SB_LOG"
sb_finish
