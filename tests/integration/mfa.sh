#!/usr/bin/env bash
# TOTP over HTTP: set-up with an otpauth URI, enable on a valid code, login
# answering mfa_required, verify with a code and with a recovery code, and
# refusal of replays (a code twice in its step, a recovery code twice, an
# MFA token twice). Codes are computed here from the secret (RFC 6238), so
# a server that accepted any code would fail.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_start --argon2-memory 1M --argon2-iterations 1
A="$SB_URL/api/auth"
PW='correct horse battery staple'

# totp SECRET [STEPS]: the code for now + STEPS * 30 s.
totp() {
    python3 - "$1" "${2:-0}" <<'EOF'
import base64, hashlib, hmac, struct, sys, time
key = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
step = int(time.time()) // 30 + int(sys.argv[2])
d = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
o = d[-1] & 15
print("%06d" % ((struct.unpack(">I", d[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))
EOF
}
login() { post_json "$A/login" "{\"email\":\"mfa@example.com\",\"password\":\"$PW\"}"; }
verify() { post_json "$A/mfa/verify" "{\"mfa_token\":\"$1\",\"code\":\"$2\"}"; }

eq "register" "$(post_json "$A/register" "{\"email\":\"mfa@example.com\",\"password\":\"$PW\"}")" 201
access=$(body | jget access_token)
AUTH=(-H "Authorization: Bearer $access")

eq "enable before set-up is 409" "$(post_json "$A/totp/enable" '{"code":"123456"}' "${AUTH[@]}")" 409
contains "names the state" "$(body)" '"code":"mfa_not_set_up"'
eq "set-up needs a session" "$(http -X POST "$A/totp/setup")" 401

eq "set-up" "$(http -X POST "${AUTH[@]}" "$A/totp/setup")" 200
setup=$(body)
secret=$(jget secret <<<"$setup")
uri=$(jget otpauth_uri <<<"$setup")
check "secret is 32 base32 characters (160 bits)" grep -qE '^[A-Z2-7]{32}$' <<<"$secret"
eq "otpauth URI" "$uri" "otpauth://totp/Sitebase:mfa%40example.com?secret=$secret&issuer=Sitebase&algorithm=SHA1&digits=6&period=30"

# A second set-up before enabling replaces the first secret.
http -X POST "${AUTH[@]}" "$A/totp/setup" >/dev/null
secret2=$(body | jget secret)
check "a new set-up has a new secret" test "$secret2" != "$secret"
eq "the old secret no longer enables" "$(post_json "$A/totp/enable" "{\"code\":\"$(totp "$secret")\"}" "${AUTH[@]}")" 400
contains "invalid code" "$(body)" '"code":"invalid_code"'
secret=$secret2
eq "a malformed code is 400" "$(post_json "$A/totp/enable" '{"code":"12345"}' "${AUTH[@]}")" 400
contains "names the field" "$(body)" '"field":"code"'

eq "enable" "$(post_json "$A/totp/enable" "{\"code\":\"$(totp "$secret")\"}" "${AUTH[@]}")" 200
codes=$(body | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["recovery_codes"]))')
eq "ten recovery codes" "$(wc -l <<<"$codes")" 10
check "codes look like xxxxx-xxxxx" bash -c "! grep -vqE '^[a-z2-7]{5}-[a-z2-7]{5}\$' <<<'$codes'"
eq "distinct" "$(sort -u <<<"$codes" | wc -l)" 10
eq "me shows mfa on" "$(http "${AUTH[@]}" "$A/me"; body | jget mfa_enabled)" "200true"
eq "set-up again is 409" "$(http -X POST "${AUTH[@]}" "$A/totp/setup")" 409
contains "already on" "$(body)" '"code":"mfa_already_enabled"'

# Login now stops at the second factor.
eq "login" "$(login)" 200
challenge=$(body)
eq "mfa_required" "$(jget mfa_required <<<"$challenge")" "true"
check "no tokens before the code" bash -c "! grep -q access_token <<<'$challenge'"
mfa_token=$(jget mfa_token <<<"$challenge")
eq "wrong code is 401" "$(verify "$mfa_token" 000000)" 401
# The challenge was spent by the wrong try; a fresh one takes the next
# step's code (one step of drift), which the enable step did not use.
login >/dev/null
mfa_token=$(body | jget mfa_token)
next=$(totp "$secret" 1)
eq "verify with a TOTP code" "$(verify "$mfa_token" "$next")" 200
tokens=$(body)
eq "tokens for the user" "$(jget user.email <<<"$tokens")" "mfa@example.com"
eq "the access token works" "$(http -H "Authorization: Bearer $(jget access_token <<<"$tokens")" "$A/me")" 200
eq "the MFA token works once" "$(verify "$mfa_token" "$next")" 401

login >/dev/null
mfa_token=$(body | jget mfa_token)
eq "the same code again is refused" "$(verify "$mfa_token" "$next")" 401
login >/dev/null
mfa_token=$(body | jget mfa_token)
eq "an older code is refused" "$(verify "$mfa_token" "$(totp "$secret")")" 401

rc=$(head -1 <<<"$codes")
login >/dev/null
mfa_token=$(body | jget mfa_token)
eq "verify with a recovery code (upper case)" "$(verify "$mfa_token" "$(tr a-z A-Z <<<"$rc")")" 200
eq "tokens" "$(body | jget user.email)" "mfa@example.com"
login >/dev/null
mfa_token=$(body | jget mfa_token)
eq "a recovery code works once" "$(verify "$mfa_token" "$rc")" 401
login >/dev/null
mfa_token=$(body | jget mfa_token)
eq "another recovery code works" "$(verify "$mfa_token" "$(sed -n 2p <<<"$codes")")" 200

eq "an unknown MFA token is 401" "$(verify nope 123456)" 401
eq "a missing code is 400" "$(post_json "$A/mfa/verify" '{"mfa_token":"x"}')" 400

check "no secret or code in the log" bash -c "! grep -qF -e '$secret' -e '$rc' '$SB_LOG'"
sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
