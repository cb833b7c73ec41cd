#!/usr/bin/env bash
# HTTP core: health and readiness on each store driver, routing with
# decoded parameters, 404/405/400 problem bodies, HEAD, keep-alive,
# request ids, security headers and CORS.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_start --cors-origins "https://app.example"

eq "healthz status" "$(http "$SB_URL/healthz")" 200
eq "healthz body" "$(body)" '{"status":"ok"}'
eq "readyz status" "$(http "$SB_URL/readyz")" 200
eq "readyz names the drivers" "$(body)" "{\"status\":\"ready\",\"store\":\"${SITEBASE_TEST_DB:-sqlite}\",\"bus\":\"mem\"}"

eq "unknown route is 404" "$(http "$SB_URL/nope")" 404
eq "404 is problem+json" "$(body)" \
    '{"type":"https://sitebase.dev/errors/not_found","title":"Not Found","status":404,"detail":"No route matches GET /nope.","code":"not_found"}'
ctype=$(curl -sS -o /dev/null -w '%{content_type}' "$SB_URL/nope")
eq "404 content type" "$ctype" "application/problem+json"

eq "wrong method is 405" "$(http -X POST "$SB_URL/healthz")" 405
allow=$(curl -sS -o /dev/null -D - -X POST "$SB_URL/healthz" | tr -d '\r' | grep -i '^allow:' | cut -d' ' -f2-)
eq "405 names the allowed methods" "$allow" "GET, HEAD"
contains "405 body" "$(body)" '"code":"method_not_allowed"'

eq "HEAD answers like GET" "$(curl -sS -o /dev/null -w '%{http_code}' -I "$SB_URL/healthz")" 200
len=$(curl -sS -I "$SB_URL/healthz" | tr -d '\r' | grep -i '^content-length:' | cut -d' ' -f2)
eq "HEAD carries GET's length" "$len" 15

eq "param route" "$(http "$SB_URL/_test/items/a%20b")" 200
eq "param decoded" "$(body)" '{"route":"/_test/items/:id","params":{"id":"a b"}}'
http "$SB_URL/_test/items/new" >/dev/null
eq "literal beats param" "$(body)" '{"route":"/_test/items/new","params":{}}'
http "$SB_URL/_test/files/src/app/main.js?q=x%2By+z" >/dev/null
eq "wildcard and query" "$(body)" \
    '{"route":"/_test/files/*path","params":{"path":"src/app/main.js"},"q":"x+y z"}'
eq "DELETE on the same pattern" "$(http -X DELETE "$SB_URL/_test/items/7")" 200

eq "bad escape is 400" "$(http "$SB_URL/_test/items/%zz")" 400
contains "bad escape says why" "$(body)" "malformed percent-encoding"
eq "encoded dot segment is 400" "$(http --path-as-is "$SB_URL/_test/files/a/%2e%2e/b")" 400
eq "encoded slash in wildcard is 400" "$(http "$SB_URL/_test/files/a%2F..%2Fb")" 400
eq "NUL escape is 400" "$(http "$SB_URL/_test/items/a%00b")" 400

# Keep-alive: curl reuses one connection for several URLs.
out=$(curl -sS -v "$SB_URL/healthz" "$SB_URL/healthz" "$SB_URL/healthz" 2>&1 >/dev/null)
eq "keep-alive reuses the connection" "$(grep -c 'Re-using existing connection' <<<"$out")" 2

hdrs=$(curl -sS -o /dev/null -D - "$SB_URL/healthz" | tr -d '\r')
contains "request id generated" "$hdrs" "x-request-id: "
contains "nosniff" "$hdrs" "x-content-type-options: nosniff"
contains "no framing" "$hdrs" "x-frame-options: DENY"
contains "csp" "$hdrs" "content-security-policy: default-src 'none'"
contains "server timing" "$hdrs" "server-timing: app;dur="
hdrs=$(curl -sS -o /dev/null -D - -H 'X-Request-Id: abc-123' "$SB_URL/healthz" | tr -d '\r')
contains "client request id kept" "$hdrs" "x-request-id: abc-123"
hdrs=$(curl -sS -o /dev/null -D - -H 'X-Request-Id: bad id"' "$SB_URL/healthz" | tr -d '\r')
check "unsafe request id replaced" bash -c "! grep -q 'bad id' <<<'$hdrs'"

pre=$(curl -sS -o /dev/null -D - -X OPTIONS -H 'Origin: https://app.example' \
    -H 'Access-Control-Request-Method: POST' "$SB_URL/healthz" | tr -d '\r')
contains "preflight 204" "$pre" "HTTP/1.1 204"
contains "preflight allows origin" "$pre" "access-control-allow-origin: https://app.example"
contains "preflight allows methods" "$pre" "access-control-allow-methods: GET, HEAD, POST"
pre=$(curl -sS -o /dev/null -D - -X OPTIONS -H 'Origin: https://evil.example' \
    -H 'Access-Control-Request-Method: POST' "$SB_URL/healthz" | tr -d '\r')
check "other origin not allowed" bash -c "! grep -qi 'access-control-allow-origin' <<<'$pre'"
hdrs=$(curl -sS -o /dev/null -D - -H 'Origin: https://app.example' "$SB_URL/healthz" | tr -d '\r')
contains "simple request gets CORS" "$hdrs" "access-control-allow-origin: https://app.example"

# Server-Sent Events: three events from the worker pool, then the end.
sse=$(curl -sS -N --max-time 5 -D "$SB_TMP/sse.h" "$SB_URL/_test/sse?n=3")
eq "event stream" "$sse" "$(printf ': stream open\n\nevent: tick\ndata: {"seq":0}\n\nevent: tick\ndata: {"seq":1}\n\nevent: tick\ndata: {"seq":2}\n')"
contains "event stream type" "$(tr -d '\r' <"$SB_TMP/sse.h")" "content-type: text/event-stream"

sb_stop
eq "clean exit on SIGTERM" "$SB_EXIT" 0
sb_finish
