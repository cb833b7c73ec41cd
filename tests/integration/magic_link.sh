#!/usr/bin/env bash
# Magic links through a real SMTP server on loopback (aiosmtpd, with AUTH):
# the mail that arrives, the link in it, signing in with its token once,
# no mail and the same answer for an unknown email, tokens hashed at rest,
# expiry, the step-up a risky password sign-in gets, and a relay that is
# down (202 still, an error logged, no token in the log), and STARTTLS
# with the relay's certificate verified.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_smtp_start "mailer:relay-secret-42"
sb_start --argon2-memory 1M --argon2-iterations 1 \
    --smtp-url "smtp://127.0.0.1:$SB_SMTP_PORT" --smtp-user mailer --smtp-password relay-secret-42 \
    --smtp-from "Sitebase <login@sitebase.test>" --public-url https://app.example.test
A="$SB_URL/api/auth"
PW='correct horse battery staple'

# mail_token N: the token in the link of message N.
mail_token() {
    grep -o 'https://app.example.test/auth/magic-link?token=[A-Za-z0-9_-]*' "$SB_MAIL/$1.eml" |
        head -1 | sed 's/.*token=//'
}

eq "register" "$(post_json "$A/register" "{\"email\":\"mia@example.com\",\"password\":\"$PW\"}")" 201

eq "request for an unknown email is 202" "$(post_json "$A/magic-link" '{"email":"nobody@example.com"}')" 202
unknown_body=$(body)
eq "request is 202" "$(post_json "$A/magic-link" '{"email":"MIA@example.com"}')" 202
eq "same body either way" "$(body)" "$unknown_body"
eq "body" "$unknown_body" '{"success":true}'
check "the mail arrives" sb_mail_wait 1
mail=$(tr -d '\r' <"$SB_MAIL/1.eml")
contains "envelope sender" "$mail" "X-Envelope-From: login@sitebase.test"
contains "envelope recipient" "$mail" "X-Envelope-To: mia@example.com"
contains "To header" "$mail" "To: mia@example.com"
contains "From header" "$mail" "From: Sitebase <login@sitebase.test>"
contains "subject" "$mail" "Subject: Your sign-in link"
contains "says how long" "$mail" "for 15 minutes"
token=$(mail_token 1)
check "the link carries a token" test ${#token} -ge 40
sleep 0.5
check "nothing mailed for the unknown email" test ! -f "$SB_MAIL/2.eml"

hash=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
eq "stored as its hash" "$(sb_sql "SELECT count(*) FROM one_time_tokens WHERE token_hash = '$hash' AND purpose = 'magic_link'")" 1
eq "never in the clear" "$(sb_sql "SELECT count(*) FROM one_time_tokens WHERE token_hash = '$token'")" 0
eq "valid 15 minutes" "$(sb_sql "SELECT (expires_at - created_at) / 1000000 FROM one_time_tokens WHERE token_hash = '$hash'")" 900

eq "verify" "$(post_json "$A/magic-link/verify" "{\"token\":\"$token\"}")" 200
signed=$(body)
eq "signs in the user" "$(jget user.email <<<"$signed")" "mia@example.com"
eq "its access token works" "$(http -H "Authorization: Bearer $(jget access_token <<<"$signed")" "$A/me")" 200
eq "a token works once" "$(post_json "$A/magic-link/verify" "{\"token\":\"$token\"}")" 401
contains "invalid token" "$(body)" '"code":"invalid_token"'
eq "a made-up token is 401" "$(post_json "$A/magic-link/verify" '{"token":"AAAAAAAAAAAAAAAAAAAA"}')" 401
eq "a missing token is 400" "$(post_json "$A/magic-link/verify" '{}')" 400
eq "a bad email is 400" "$(post_json "$A/magic-link" '{"email":"x"}')" 400

# Expiry: age a fresh token past its 15 minutes.
post_json "$A/magic-link" '{"email":"mia@example.com"}' >/dev/null
check "second mail" sb_mail_wait 2
old=$(mail_token 2)
old_hash=$(printf %s "$old" | sha256sum | cut -d' ' -f1)
sb_sql "UPDATE one_time_tokens SET expires_at = created_at - 1 WHERE token_hash = '$old_hash'" >/dev/null
eq "an expired token is 401" "$(post_json "$A/magic-link/verify" "{\"token\":\"$old\"}")" 401

eq "the security log has it" "$(http -H "Authorization: Bearer $(jget access_token <<<"$signed")" "$A/security-events")" 200
contains "magic_link_sent event" "$(body)" '"type":"magic_link_sent"'
contains "magic_link_login event" "$(body)" '"type":"magic_link_login"'
sb_stop

# Step-up: a low risk threshold makes a new device enough to need the
# mailbox as a second proof.
sb_start --argon2-memory 1M --argon2-iterations 1 --risk-threshold 20 \
    --smtp-url "smtp://127.0.0.1:$SB_SMTP_PORT" --smtp-user mailer --smtp-password relay-secret-42 \
    --public-url https://app.example.test
A="$SB_URL/api/auth"
eq "login from the known device" "$(post_json "$A/login" "{\"email\":\"mia@example.com\",\"password\":\"$PW\"}")" 200
check "gets tokens" bash -c "grep -q access_token '$SB_TMP/body'"
eq "login from a new device" "$(post_json "$A/login" "{\"email\":\"mia@example.com\",\"password\":\"$PW\"}" -H "X-Device-Fingerprint: new-laptop")" 200
eq "asks for the magic link" "$(body)" '{"magic_link_required":true}'
check "the step-up mail arrives" sb_mail_wait 3
eq "its link signs in" "$(post_json "$A/magic-link/verify" "{\"token\":\"$(mail_token 3)\"}" -H "X-Device-Fingerprint: new-laptop")" 200
stepped=$(jget access_token <"$SB_TMP/body")
http -H "Authorization: Bearer $stepped" "$A/security-events?limit=100" >/dev/null
events=$(body)
contains "step-up recorded" "$events" '"type":"step_up_magic_link","risk_score":30'
eq "with its reason" "$(python3 -c 'import json,sys; e=[x for x in json.load(sys.stdin)["items"] if x["type"]=="step_up_magic_link"][0]; print(e["metadata"]["factors"], e["metadata"]["risk"])' <<<"$events")" "['new_device'] 30"
eq "the device is known now" "$(post_json "$A/login" "{\"email\":\"mia@example.com\",\"password\":\"$PW\"}" -H "X-Device-Fingerprint: new-laptop")" 200
check "tokens at once" bash -c "grep -q access_token '$SB_TMP/body'"

# The relay goes away: still 202, the failure is logged without the token.
kill "$SB_SMTP_PID"
wait "$SB_SMTP_PID" 2>/dev/null
SB_SMTP_PID=""
eq "202 with the relay down" "$(post_json "$A/magic-link" '{"email":"mia@example.com"}')" 202
for _ in $(seq 1 100); do grep -q "a magic link was not mailed" "$SB_LOG" && break; sleep 0.05; done
contains "the failure is logged" "$(cat "$SB_LOG")" "a magic link was not mailed"
check "no token, relay password or user password in the log" \
    bash -c "! grep -qF -e '$token' -e 'relay-secret-42' -e '$PW' '$SB_LOG'"
sb_stop
eq "clean exit" "$SB_EXIT" 0

# STARTTLS: a relay that requires it, with a certificate from our own CA.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$SB_TMP/key.pem" -out "$SB_TMP/cert.pem" \
    >/dev/null 2>&1
sb_smtp_start "mailer:relay-secret-42" "$SB_TMP/cert.pem:$SB_TMP/key.pem"
tls_flags=(--smtp-url "smtp://127.0.0.1:$SB_SMTP_PORT" --smtp-user mailer
    --smtp-password relay-secret-42 --public-url https://app.example.test --smtp-starttls true)
sb_start --argon2-memory 1M --argon2-iterations 1 "${tls_flags[@]}" --smtp-ca-file "$SB_TMP/cert.pem"
A="$SB_URL/api/auth"
eq "request over STARTTLS" "$(post_json "$A/magic-link" '{"email":"mia@example.com"}')" 202
check "the mail arrives over TLS" sb_mail_wait 1
eq "its link signs in" "$(post_json "$A/magic-link/verify" "{\"token\":\"$(mail_token 1)\"}")" 200
sb_stop
# Without our CA the relay's certificate is not trusted: nothing is sent.
sb_start --argon2-memory 1M --argon2-iterations 1 "${tls_flags[@]}"
A="$SB_URL/api/auth"
post_json "$A/magic-link" '{"email":"mia@example.com"}' >/dev/null
for _ in $(seq 1 100); do grep -q "a magic link was not mailed" "$SB_LOG" && break; sleep 0.05; done
contains "an untrusted relay certificate is refused" "$(grep "not mailed" "$SB_LOG")" "certificate"
check "and nothing reached it" test ! -f "$SB_MAIL/2.eml"
sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
