#!/usr/bin/env bash
# The OpenAPI document against the real server: it is served (with an
# ETag), it lists exactly the routes the server registers, and every answer
# below (successes and errors on every route) matches its documented
# status, content type and schema (tests/support/openapi_check.py).
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_start --argon2-memory 1M --argon2-iterations 1 --rate-limit-auth-ip 1000 \
    --rate-limit-auth-account 4 --lockout-threshold 0
A="$SB_URL/api/auth"
PW='correct horse battery staple'
EX="$SB_TMP/exchanges"
: >"$EX"

# rec METHOD TEMPLATE URL [curl args...]: makes the request, keeps its
# answer for the checker; prints the status.
rec() {
    local method=$1 template=$2 url=$3
    shift 3
    # Numbered by the exchanges so far: rec runs in $(...), a subshell.
    local n status
    n=$(($(wc -l <"$EX") + 1))
    status=$(curl -sS -X "$method" -D "$SB_TMP/h$n" -o "$SB_TMP/b$n" -w '%{http_code}' "$@" "$url")
    echo "$method $template $status $SB_TMP/h$n $SB_TMP/b$n" >>"$EX"
    cp "$SB_TMP/b$n" "$SB_TMP/body"
    echo "$status"
}
J=(-H 'Content-Type: application/json')

eq "document served" "$(rec GET /api/openapi.json "$SB_URL/api/openapi.json")" 200
cp "$SB_TMP/body" "$SB_TMP/spec.json"
etag=$(tr -d '\r' <"$SB_TMP/h1" | sed -n 's/^etag: //Ip')
check "it has an ETag" test -n "$etag"
eq "If-None-Match gives 304" "$(rec GET /api/openapi.json "$SB_URL/api/openapi.json" -H "If-None-Match: $etag")" 304

eq "healthz" "$(rec GET /healthz "$SB_URL/healthz")" 200
eq "readyz" "$(rec GET /readyz "$SB_URL/readyz")" 200
eq "metrics" "$(rec GET /metrics "$SB_URL/metrics")" 200

eq "register" "$(rec POST /api/auth/register "$A/register" "${J[@]}" -d "{\"email\":\"oa@example.com\",\"password\":\"$PW\",\"username\":\"oa_user\"}")" 201
access=$(body | jget access_token)
refresh=$(body | jget refresh_token)
B=(-H "Authorization: Bearer $access")
eq "register 400" "$(rec POST /api/auth/register "$A/register" "${J[@]}" -d '{"email":"x","password":"short"}')" 400
eq "register 409" "$(rec POST /api/auth/register "$A/register" "${J[@]}" -d "{\"email\":\"oa@example.com\",\"password\":\"$PW\"}")" 409
eq "register bad JSON 400" "$(rec POST /api/auth/register "$A/register" "${J[@]}" -d '{"email":')" 400
eq "register not JSON 415" "$(rec POST /api/auth/register "$A/register" -H 'Content-Type: text/plain' -d 'x')" 415

eq "login" "$(rec POST /api/auth/login "$A/login" "${J[@]}" -d "{\"email\":\"oa@example.com\",\"password\":\"$PW\"}")" 200
eq "login 401" "$(rec POST /api/auth/login "$A/login" "${J[@]}" -d '{"email":"oa@example.com","password":"wrong password!"}')" 401
eq "me" "$(rec GET /api/auth/me "$A/me" "${B[@]}")" 200
eq "me 401" "$(rec GET /api/auth/me "$A/me")" 401
eq "refresh" "$(rec POST /api/auth/refresh "$A/refresh" "${J[@]}" -d "{\"refresh_token\":\"$refresh\"}")" 200
eq "refresh 401" "$(rec POST /api/auth/refresh "$A/refresh" "${J[@]}" -d '{"refresh_token":"nope"}')" 401
eq "sessions" "$(rec GET /api/auth/sessions "$A/sessions" "${B[@]}")" 200
other=$(body | python3 -c 'import json,sys; print([s["id"] for s in json.load(sys.stdin)["items"] if not s["current"]][0])')
eq "delete a session" "$(rec DELETE /api/auth/sessions/{id} "$A/sessions/$other" "${B[@]}")" 200
eq "delete it again 404" "$(rec DELETE /api/auth/sessions/{id} "$A/sessions/$other" "${B[@]}")" 404
eq "security events" "$(rec GET /api/auth/security-events "$A/security-events?limit=2" "${B[@]}")" 200
eq "security events 400" "$(rec GET /api/auth/security-events "$A/security-events?limit=x" "${B[@]}")" 400
eq "magic link" "$(rec POST /api/auth/magic-link "$A/magic-link" "${J[@]}" -d '{"email":"oa@example.com"}')" 202
eq "magic link verify 401" "$(rec POST /api/auth/magic-link/verify "$A/magic-link/verify" "${J[@]}" -d '{"token":"nope"}')" 401

eq "totp enable 409" "$(rec POST /api/auth/totp/enable "$A/totp/enable" "${J[@]}" "${B[@]}" -d '{"code":"123456"}')" 409
eq "totp setup" "$(rec POST /api/auth/totp/setup "$A/totp/setup" "${B[@]}")" 200
secret=$(body | jget secret)
code=$(python3 -c 'import base64,hashlib,hmac,struct,sys,time
k=base64.b32decode(sys.argv[1]); d=hmac.new(k,struct.pack(">Q",int(time.time())//30),hashlib.sha1).digest(); o=d[-1]&15
print("%06d"%((struct.unpack(">I",d[o:o+4])[0]&0x7FFFFFFF)%1000000))' "$secret")
eq "totp enable 400" "$(rec POST /api/auth/totp/enable "$A/totp/enable" "${J[@]}" "${B[@]}" -d '{"code":"12"}')" 400
eq "totp enable" "$(rec POST /api/auth/totp/enable "$A/totp/enable" "${J[@]}" "${B[@]}" -d "{\"code\":\"$code\"}")" 200
rc=$(body | jget recovery_codes.0)
eq "login asks for MFA" "$(rec POST /api/auth/login "$A/login" "${J[@]}" -d "{\"email\":\"oa@example.com\",\"password\":\"$PW\"}")" 200
mfa=$(body | jget mfa_token)
eq "mfa verify" "$(rec POST /api/auth/mfa/verify "$A/mfa/verify" "${J[@]}" -d "{\"mfa_token\":\"$mfa\",\"code\":\"$rc\"}")" 200
eq "mfa verify 401" "$(rec POST /api/auth/mfa/verify "$A/mfa/verify" "${J[@]}" -d "{\"mfa_token\":\"$mfa\",\"code\":\"$rc\"}")" 401
eq "login 429 (account bucket of 4)" "$(rec POST /api/auth/login "$A/login" "${J[@]}" -d '{"email":"oa@example.com","password":"x"}')" 429
eq "logout" "$(rec POST /api/auth/logout "$A/logout" "${B[@]}")" 200
eq "logout 401" "$(rec POST /api/auth/logout "$A/logout")" 401

check "every answer matches the document" /usr/bin/python3 "$SITEBASE_SOURCE_DIR/tests/support/openapi_check.py" \
    "$SB_TMP/spec.json" "$SITEBASE_SOURCE_DIR/src/api" "$EX"
sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
