#!/usr/bin/env bash
# Hostile input gets a clear answer or a closed connection, never a crash
# or a stuck loop: oversized bodies, bad JSON, invalid UTF-8, wrong types,
# header floods, over-long request lines and slow clients.
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_start --max-json-body 1K --max-upload-body 64K --request-timeout 1s

json() { http -X POST -H 'Content-Type: application/json' --data-binary "$@" "$SB_URL/_test/json"; }

eq "valid JSON echoes" "$(json '{"a":[1,2,{"b":"c"}]}')" 200
eq "echo body" "$(body)" '{"a":[1,2,{"b":"c"}]}'

eq "syntax error is 400" "$(json $'{\n  "a": 1,\n  "b": tru\n}')" 400
contains "400 names the code" "$(body)" '"code":"invalid_json"'
contains "400 gives line and column" "$(body)" '"line":3'
contains "400 gives the byte offset" "$(body)" '"offset":'

eq "invalid UTF-8 is 400" "$(printf '{"a":"\xc3\x28"}' | json @-)" 400
contains "UTF-8 error gives offset 6" "$(body)" '"offset":6'

eq "duplicate keys are 400" "$(json '{"a":1,"a":2}')" 400
eq "empty body is 400" "$(json '')" 400
eq "nesting 160 deep is fine" "$(json "$(printf '[%.0s' $(seq 1 160))$(printf ']%.0s' $(seq 1 160))")" 200
eq "deeper is 400" "$(json "$(printf '[%.0s' $(seq 1 161))$(printf ']%.0s' $(seq 1 161))")" 400

eq "wrong content type is 415" \
    "$(http -X POST -H 'Content-Type: text/plain' --data-binary '{}' "$SB_URL/_test/json")" 415
contains "415 is problem+json" "$(body)" '"code":"unsupported_media_type"'

big=$(head -c 2000 /dev/zero | tr '\0' 'a')
eq "body over the JSON limit is 413" "$(json "{\"a\":\"$big\"}")" 413
contains "413 says the limit" "$(body)" "at most 1024"

head -c 100000 /dev/zero >"$SB_TMP/huge"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary @"$SB_TMP/huge" "$SB_URL/_test/json")
eq "body over the upload limit is 413 before it is read" "$code" 413

# 200 headers: h2o's parser takes at most 100 and refuses the request.
args=()
for i in $(seq 1 200); do args+=(-H "X-Flood-$i: $i"); done
code=$(curl -sS -o /dev/null -w '%{http_code}' "${args[@]}" "$SB_URL/healthz" 2>/dev/null)
eq "header flood is 400" "$code" 400

long=$(head -c 10000 /dev/zero | tr '\0' 'a')
eq "over-long request target is 414" "$(http "$SB_URL/$long")" 414
contains "414 is problem+json" "$(body)" '"code":"uri_too_long"'
# A head beyond h2o's own limit (about 400 KiB) is refused before routing.
python3 - "$SB_ADDR" >"$SB_TMP/head.out" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 500000 + b"\r\n\r\n")
s.settimeout(5)
print(s.recv(100).split(b"\r\n")[0].decode())
PY
eq "oversized head is 400" "$(cat "$SB_TMP/head.out")" "HTTP/1.1 400 Bad Request"

# Slowloris: half a request line, then nothing. The server must close the
# connection after request_timeout (1 s here), not wait for ever.
start=$(date +%s%N)
python3 - "$SB_ADDR" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
s.settimeout(5)
try:
    data = s.recv(100)
except socket.timeout:
    sys.exit("still open after 5 s")
sys.exit(0 if data == b"" or data.startswith(b"HTTP/1.1 4") else "unexpected: %r" % data)
PY
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
eq "slow client is cut off" "$rc" 0
check "cut off after about the timeout" test "$elapsed_ms" -lt 4000

# Garbage instead of HTTP.
reply=$(printf '\x16\x03\x01garbage\r\n\r\n' | timeout 5 python3 -c '
import socket,sys
h,p=sys.argv[1].rsplit(":",1)
s=socket.create_connection((h,int(p)));s.sendall(sys.stdin.buffer.read());s.settimeout(4)
print(s.recv(100).split(b"\r\n")[0].decode())' "$SB_ADDR")
eq "garbage gets 400" "$reply" "HTTP/1.1 400 Bad Request"

eq "still serving after all that" "$(http "$SB_URL/healthz")" 200
sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
