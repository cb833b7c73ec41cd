#!/usr/bin/env bash
# Abuse controls on the real binary: token-bucket rate limits per IP and per
# account (429, Retry-After, RateLimit-*), exponential lockout that treats
# unknown emails exactly like real ones, risk factors recorded per sign-in
# (recent failures, unusual hour, new IP), and the security log with paging.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

PW='correct horse battery staple'
login() { post_json "$A/login" "{\"email\":\"$1\",\"password\":\"$2\"}" -D "$SB_TMP/h" "${@:3}"; }
header() { tr -d '\r' <"$SB_TMP/h" | sed -n "s/^$1: //Ip"; }

# ---- rate limits: 5 a minute per IP, 3 per account ----
sb_start --argon2-memory 1M --argon2-iterations 1 --rate-limit-auth-ip 5 \
    --rate-limit-auth-account 3 --lockout-threshold 0
A="$SB_URL/api/auth"
eq "first login attempt" "$(login a@example.com 'wrong password!')" 401
eq "RateLimit-Limit of the account bucket" "$(header ratelimit-limit)" 3
eq "RateLimit-Remaining" "$(header ratelimit-remaining)" 2
check "RateLimit-Reset in seconds" grep -qE '^[0-9]+$' <<<"$(header ratelimit-reset)"
login a@example.com 'wrong password!' >/dev/null
login A@Example.com 'wrong password!' >/dev/null
eq "4th for one account (any case) is 429" "$(login a@example.com 'wrong password!')" 429
contains "rate_limited" "$(body)" '"code":"rate_limited"'
contains "problem+json" "$(header content-type)" "application/problem+json"
retry=$(header retry-after)
check "Retry-After within the minute ($retry s)" test "$retry" -ge 1 -a "$retry" -le 20
eq "another account from this IP" "$(login b@example.com 'wrong password!')" 401
eq "the IP bucket is now the tighter" "$(header ratelimit-remaining)" 0
eq "6th from the IP is 429" "$(login c@example.com 'wrong password!')" 429
eq "the IP's limit is reported" "$(header ratelimit-limit)" 5
eq "register is limited by IP too" "$(post_json "$A/register" "{\"email\":\"d@example.com\",\"password\":\"$PW\"}")" 429
eq "magic links too" "$(post_json "$A/magic-link" '{"email":"d@example.com"}')" 429
eq "health checks are not limited" "$(http "$SB_URL/healthz")" 200
sb_stop

# ---- lockout: 3 failures lock for 1 s, doubling ----
sb_start --argon2-memory 1M --argon2-iterations 1 --rate-limit-auth-ip 0 \
    --rate-limit-auth-account 0 --lockout-threshold 3 --lockout-base 1s --lockout-max 4s
A="$SB_URL/api/auth"
eq "register" "$(post_json "$A/register" "{\"email\":\"lee@example.com\",\"password\":\"$PW\"}")" 201
access=$(body | jget access_token)
# The same sequence for a real account and an unknown email must give the
# same statuses and bodies.
run_lockout() {
    local email=$1 out=""
    for i in 1 2 3; do out+="$(login "$email" 'wrong password!') "; done
    out+="$(login "$email" "$PW") $(body | jget code) $(header retry-after) "
    sleep 1.1
    out+="$(login "$email" 'wrong password!') " # the 4th failure: 2 s
    out+="$(login "$email" "$PW") $(header retry-after)"
    echo "$out"
}
real=$(run_lockout lee@example.com)
ghost=$(run_lockout ghost@example.com)
eq "locks after 3, doubles after the 4th" "$real" "401 401 401 429 too_many_attempts 1 401 429 2"
eq "an unknown email locks the same way" "$ghost" "$real"
sleep 2.1
eq "after the lock, the right password works" "$(login lee@example.com "$PW")" 200
eq "and the streak is over" "$(sb_sql "SELECT failed_logins FROM users WHERE email = 'lee@example.com'")" 0

http -H "Authorization: Bearer $access" "$A/security-events?limit=100" >/dev/null
events=$(body)
types() { python3 -c 'import json,sys; print(" ".join(e["type"] for e in json.load(sys.stdin)["items"]))'; }
eq "every decision is in the log, newest first" "$(types <<<"$events")" \
    "login login_refused_locked account_locked login_failed login_refused_locked account_locked login_failed login_failed login_failed register"
eq "the sign-in carries its risk factors" \
    "$(python3 -c 'import json,sys; e=json.load(sys.stdin)["items"][0]; print(e["risk_score"], e["metadata"]["factors"])' <<<"$events")" \
    "30 ['recent_failures']"
eq "a lock records its length" \
    "$(python3 -c 'import json,sys; e=[x for x in json.load(sys.stdin)["items"] if x["type"]=="account_locked"][0]; print(e["metadata"])' <<<"$events")" \
    "{'failures': 4, 'locked_for_s': 2}"

# Paging: limit and cursor walk the same list.
eq "page 1" "$(http -H "Authorization: Bearer $access" "$A/security-events?limit=4")" 200
p1=$(body)
eq "4 items" "$(types <<<"$p1")" "login login_refused_locked account_locked login_failed"
cursor=$(jget next_cursor <<<"$p1")
http -H "Authorization: Bearer $access" "$A/security-events?limit=4&cursor=$cursor" >/dev/null
eq "page 2 continues" "$(types <"$SB_TMP/body")" "login_refused_locked account_locked login_failed login_failed"
eq "a bad limit is 400" "$(http -H "Authorization: Bearer $access" "$A/security-events?limit=0")" 400
contains "names the field" "$(body)" '"field":"limit"'
eq "needs a session" "$(http "$A/security-events")" 401

# Unusual hour: five past sign-ins, all twelve hours away from now.
for i in 1 2 3 4; do login lee@example.com "$PW" >/dev/null; done
sb_sql "UPDATE user_sessions SET created_at = created_at - 43200000000" >/dev/null
eq "sign-in at an unusual hour" "$(login lee@example.com "$PW")" 200
http -H "Authorization: Bearer $access" "$A/security-events?limit=1" >/dev/null
eq "is scored so" "$(python3 -c 'import json,sys; e=json.load(sys.stdin)["items"][0]; print(e["type"], e["risk_score"], e["metadata"]["factors"])' <"$SB_TMP/body")" \
    "login 15 ['unusual_hour']"
# New IP: every past session came from elsewhere.
sb_sql "UPDATE user_sessions SET ip = '192.0.2.1'" >/dev/null
eq "sign-in from a new IP" "$(login lee@example.com "$PW")" 200
http -H "Authorization: Bearer $access" "$A/security-events?limit=1" >/dev/null
eq "is scored so" "$(python3 -c 'import json,sys; e=json.load(sys.stdin)["items"][0]; print(e["type"], e["risk_score"], e["metadata"]["factors"])' <"$SB_TMP/body")" \
    "login 25 ['new_ip']"
sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
