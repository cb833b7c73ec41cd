#!/usr/bin/env bash
# Identity over HTTP: the Auth table of the API contract on the real binary:
# register, login, enumeration resistance, me, refresh rotation with the
# reuse window and family revocation, sessions, logout, cookie sessions with
# CSRF, and validation errors.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

# Cheap hashing keeps the suite fast; bench/auth measures the defaults.
# Limits and lockouts have their own test (abuse.sh); here they would trip.
sb_start --argon2-memory 1M --argon2-iterations 1 --refresh-reuse-window 3s \
    --rate-limit-auth-ip 0 --rate-limit-auth-account 0 --lockout-threshold 0
A="$SB_URL/api/auth"
PW='correct horse battery staple'

eq "register" "$(post_json "$A/register" "{\"email\":\"Ada@Example.com\",\"password\":\"$PW\",\"username\":\"Ada_L\"}" -D "$SB_TMP/reg.h")" 201
reg=$(body)
eq "email lower-cased" "$(jget user.email <<<"$reg")" "ada@example.com"
eq "username lower-cased" "$(jget user.username <<<"$reg")" "ada_l"
eq "tier defaults to free" "$(jget user.subscription_tier <<<"$reg")" "free"
eq "status active" "$(jget user.status <<<"$reg")" "active"
eq "mfa off" "$(jget user.mfa_enabled <<<"$reg")" "false"
eq "expires_in" "$(jget expires_in <<<"$reg")" "900"
check "created_at is RFC 3339 with microseconds" grep -qE '"created_at":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z"' <<<"$reg"
check "no hash or secret in the user" bash -c "! grep -qiE 'argon2|password' <<<'$reg'"
hdr=$(tr -d '\r' <"$SB_TMP/reg.h")
contains "session cookie" "$hdr" "set-cookie: sb_session="
contains "cookie flags" "$hdr" "; HttpOnly; Secure; SameSite=Lax"
contains "csrf header" "$hdr" "x-csrf-token: "
contains "no-store" "$hdr" "cache-control: no-store"
access1=$(jget access_token <<<"$reg")
refresh1=$(jget refresh_token <<<"$reg")
user_id=$(jget user.id <<<"$reg")

eq "same email again is 409" "$(post_json "$A/register" "{\"email\":\"ada@example.com\",\"password\":\"$PW\"}")" 409
contains "409 code" "$(body)" '"code":"email_taken"'
eq "same username is 409" "$(post_json "$A/register" "{\"email\":\"b@example.com\",\"password\":\"$PW\",\"username\":\"ADA_L\"}")" 409
contains "username code" "$(body)" '"code":"username_taken"'
eq "short password is 400" "$(post_json "$A/register" '{"email":"c@example.com","password":"short"}')" 400
contains "names the field" "$(body)" '"errors":[{"field":"password"'
eq "common password is 400" "$(post_json "$A/register" '{"email":"c@example.com","password":"password123"}')" 400
contains "weak password code" "$(body)" '"code":"weak_password"'
eq "bad email is 400" "$(post_json "$A/register" "{\"email\":\"not-an-email\",\"password\":\"$PW\"}")" 400
contains "email field" "$(body)" '"field":"email"'
eq "unknown field is 400" "$(post_json "$A/register" "{\"email\":\"d@example.com\",\"password\":\"$PW\",\"admin\":true}")" 400
contains "unknown field named" "$(body)" '{"field":"admin","message":"is not a known field"}'
eq "missing fields are all listed" "$(post_json "$A/register" '{}')" 400
contains "email required" "$(body)" '{"field":"email","message":"is required"}'
contains "password required" "$(body)" '{"field":"password","message":"is required"}'

# Enumeration resistance: same status and body for a wrong password and an
# unknown email, and similar time (both verify one hash).
eq "wrong password is 401" "$(post_json "$A/login" '{"email":"ada@example.com","password":"wrong password!"}')" 401
wrong=$(body)
eq "unknown email is 401" "$(post_json "$A/login" '{"email":"nobody@example.com","password":"wrong password!"}')" 401
eq "same body either way" "$(body)" "$wrong"
time_of() {
    local s e i
    s=$(date +%s%N)
    for i in 1 2 3 4 5; do post_json "$A/login" "{\"email\":\"$1\",\"password\":\"wrong password!\"}" >/dev/null; done
    e=$(date +%s%N)
    echo $(((e - s) / 5000))
}
t_known=$(time_of ada@example.com)
t_unknown=$(time_of nobody@example.com)
check "similar timing ($t_known us vs $t_unknown us)" python3 -c "import sys; a,b=$t_known,$t_unknown; sys.exit(0 if max(a,b) < 3*min(a,b) + 2000 else 1)"

eq "login" "$(post_json "$A/login" "{\"email\":\"ADA@example.com\",\"password\":\"$PW\"}")" 200
login=$(body)
eq "login returns the user" "$(jget user.id <<<"$login")" "$user_id"
access2=$(jget access_token <<<"$login")
refresh2=$(jget refresh_token <<<"$login")

eq "me" "$(http -H "Authorization: Bearer $access2" "$A/me")" 200
eq "me is the user" "$(body | jget email)" "ada@example.com"
check "me has last_active" test "$(body | jget last_active)" != null
eq "me without a token is 401" "$(http "$A/me")" 401
contains "401 code" "$(body)" '"code":"unauthenticated"'
eq "me with a forged token is 401" "$(http -H "Authorization: Bearer ${access2%?}x" "$A/me")" 401

# Refresh: a new pair; the old token within the window yields the same pair.
eq "refresh" "$(post_json "$A/refresh" "{\"refresh_token\":\"$refresh2\"}")" 200
refresh3=$(body | jget refresh_token)
check "rotated" test "$refresh3" != "$refresh2"
eq "old token within the window" "$(post_json "$A/refresh" "{\"refresh_token\":\"$refresh2\"}")" 200
eq "yields the same successor" "$(body | jget refresh_token)" "$refresh3"
# Two tabs at once (node): both succeed with one successor.
node -e '
const url = process.argv[1], tok = process.argv[2];
const one = () => fetch(url, {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({refresh_token: tok})}).then(async r => [r.status, (await r.json()).refresh_token]);
Promise.all([one(), one()]).then(([a, b]) => {
  if (a[0] !== 200 || b[0] !== 200 || a[1] !== b[1]) { console.error(a, b); process.exit(1); }
});' "$A/refresh" "$refresh3" && pass "concurrent refreshes agree" || fail "concurrent refreshes agree"
refresh4=$(post_json "$A/refresh" "{\"refresh_token\":\"$refresh3\"}" >/dev/null; body | jget refresh_token)
sleep 3.2
eq "reuse after the window is 401" "$(post_json "$A/refresh" "{\"refresh_token\":\"$refresh2\"}")" 401
contains "reuse code" "$(body)" '"code":"token_reused"'
eq "the family is revoked" "$(post_json "$A/refresh" "{\"refresh_token\":\"$refresh4\"}")" 401
eq "its access token stops on checked routes" "$(http -H "Authorization: Bearer $access2" "$A/me")" 401
eq "garbage refresh is 401" "$(post_json "$A/refresh" '{"refresh_token":"nope"}')" 401

# Sessions: the register session is still open.
eq "sessions" "$(http -H "Authorization: Bearer $access1" "$A/sessions")" 200
sessions=$(body)
eq "one open session" "$(jget items <<<"$sessions" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 1
eq "it is the current one" "$(jget items.0.current <<<"$sessions")" "true"
eq "list shape" "$(jget next_cursor <<<"$sessions")" "null"
post_json "$A/login" "{\"email\":\"ada@example.com\",\"password\":\"$PW\"}" -A "TestAgent/1.0" -H "X-Device-Fingerprint: dev-1" >/dev/null
other=$(body)
http -H "Authorization: Bearer $access1" "$A/sessions" >/dev/null
eq "two sessions now" "$(body | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')" 2
eq "newest first, with its agent" "$(body | jget items.0.user_agent)" "TestAgent/1.0"
eq "and device" "$(body | jget items.0.device)" "dev-1"
other_sid=$(body | jget items.0.id)
eq "revoke the other session" "$(http -X DELETE -H "Authorization: Bearer $access1" "$A/sessions/$other_sid")" 200
eq "revoked session's token stops" "$(http -H "Authorization: Bearer $(jget access_token <<<"$other")" "$A/me")" 401
eq "revoking it again is 404" "$(http -X DELETE -H "Authorization: Bearer $access1" "$A/sessions/$other_sid")" 404

# Browser session: the cookie authenticates; state changes need CSRF.
post_json "$A/login" "{\"email\":\"ada@example.com\",\"password\":\"$PW\"}" -D "$SB_TMP/login.h" >/dev/null
cookie=$(tr -d '\r' <"$SB_TMP/login.h" | sed -n 's/^set-cookie: \(sb_session=[^;]*\);.*/\1/p')
csrf=$(tr -d '\r' <"$SB_TMP/login.h" | sed -n 's/^x-csrf-token: //p')
eq "cookie authenticates" "$(http -H "Cookie: $cookie" "$A/me")" 200
eq "logout by cookie without CSRF is 403" "$(http -X POST -H "Cookie: $cookie" "$A/logout")" 403
eq "with a wrong CSRF is 403" "$(http -X POST -H "Cookie: $cookie" -H "X-CSRF-Token: nope" "$A/logout")" 403
eq "with CSRF is 200" "$(http -X POST -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf" "$A/logout")" 200
eq "logout body" "$(body)" '{"success":true}'
eq "cookie session ended" "$(http -H "Cookie: $cookie" "$A/me")" 401

eq "logout by bearer" "$(http -X POST -H "Authorization: Bearer $access1" "$A/logout")" 200
eq "after logout me is 401" "$(http -H "Authorization: Bearer $access1" "$A/me")" 401
eq "after logout its refresh is 401" "$(post_json "$A/refresh" "{\"refresh_token\":\"$refresh1\"}")" 401

check "no token or password in the log" bash -c "! grep -qF -e '$PW' -e '$refresh1' -e '$access1' '$SB_LOG'"
sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
