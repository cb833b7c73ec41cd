#!/usr/bin/env bash
# TLS and HTTP/2: with a certificate configured, curl negotiates h2 through
# ALPN, gets HSTS, and HTTP/1.1 over TLS still works.
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -keyout "$SB_TMP/key.pem" -out "$SB_TMP/cert.pem" >/dev/null 2>&1
sb_start --tls-cert "$SB_TMP/cert.pem" --tls-key "$SB_TMP/key.pem"
url="https://$SB_ADDR"
eq "HTTP/2 over TLS" "$(curl -sS -k --http2 -o /dev/null -w '%{http_version} %{http_code}' "$url/healthz")" "2 200"
eq "HTTP/1.1 over TLS" "$(curl -sS -k --http1.1 -o /dev/null -w '%{http_version} %{http_code}' "$url/healthz")" "1.1 200"
contains "HSTS" "$(curl -sS -k -D - -o /dev/null "$url/healthz")" "strict-transport-security: max-age="
eq "h2 404 is problem+json" "$(curl -sS -k --http2 -o /dev/null -w '%{content_type}' "$url/x")" "application/problem+json"
sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
