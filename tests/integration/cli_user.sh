#!/usr/bin/env bash
# The operator's command line against a running server on the same store:
# user create (password on stdin) / list / disable / enable / reset-mfa,
# and keys rotate picked up by the server while old tokens stay valid.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_start --argon2-memory 1M --argon2-iterations 1 --key-reload-interval 1s
A="$SB_URL/api/auth"
PW='correct horse battery staple'
# The CLI works on the server's data folder (its master key) and database.
cli() {
    # shellcheck disable=SC2086
    "$SB_BIN" "$@" --data "$SB_TMP/data" --argon2-memory 1M --argon2-iterations 1 $SB_DB_FLAGS \
        >"$SB_TMP/cli.out" 2>"$SB_TMP/cli.err"
}
login() { post_json "$A/login" "{\"email\":\"$1\",\"password\":\"$PW\"}"; }
kid_of() { python3 -c 'import base64,json,sys; h=sys.argv[1].split(".")[0]; print(json.loads(base64.urlsafe_b64decode(h+"="*(-len(h)%4)))["kid"])' "$1"; }

check "user create" cli user create Cli@Example.com cli_op <<<"$PW"
contains "prints the user" "$(cat "$SB_TMP/cli.out")" "cli@example.com"
uid=$(awk '{print $2}' "$SB_TMP/cli.out")
check "a common password is refused" bash -c "! '$SB_BIN' user create w@example.com --data '$SB_TMP/data' $SB_DB_FLAGS <<<'password123' 2>'$SB_TMP/w.err'"
contains "and says why" "$(cat "$SB_TMP/w.err")" "password"
check "a taken email is refused" bash -c "! '$SB_BIN' user create cli@example.com --data '$SB_TMP/data' $SB_DB_FLAGS <<<'$PW' 2>'$SB_TMP/t.err'"
contains "and says so" "$(cat "$SB_TMP/t.err")" "Email Taken"
"$SB_BIN" user create x@example.com --data "$SB_TMP/data" $SB_DB_FLAGS </dev/null >/dev/null 2>&1
eq "no password on stdin is a usage error" "$?" 2
"$SB_BIN" user frobnicate >/dev/null 2>&1
eq "an unknown action is a usage error" "$?" 2

eq "the new user signs in over HTTP" "$(login cli@example.com)" 200
access=$(body | jget access_token)
refresh=$(body | jget refresh_token)
check "user list" cli user list
contains "lists the user" "$(cat "$SB_TMP/cli.out")" "$uid  cli@example.com"
check "user list --json" cli user list --json
eq "as JSON lines" "$(jget username <"$SB_TMP/cli.out")" "cli_op"

check "user disable by email" cli user disable cli@example.com
eq "refresh fails at once" "$(post_json "$A/refresh" "{\"refresh_token\":\"$refresh\"}")" 401
eq "the access token stops on checked routes" "$(http -H "Authorization: Bearer $access" "$A/me")" 401
eq "login is refused" "$(login cli@example.com)" 403
contains "as disabled" "$(body)" '"code":"account_disabled"'
check "user enable by id" cli user enable "$uid"
eq "login works again" "$(login cli@example.com)" 200
access=$(body | jget access_token)

# reset-mfa: TOTP on over HTTP, then the operator removes it.
http -X POST -H "Authorization: Bearer $access" "$A/totp/setup" >/dev/null
secret=$(body | jget secret)
code=$(python3 -c 'import base64,hashlib,hmac,struct,sys,time
k=base64.b32decode(sys.argv[1]); d=hmac.new(k,struct.pack(">Q",int(time.time())//30),hashlib.sha1).digest(); o=d[-1]&15
print("%06d"%((struct.unpack(">I",d[o:o+4])[0]&0x7FFFFFFF)%1000000))' "$secret")
eq "TOTP on" "$(post_json "$A/totp/enable" "{\"code\":\"$code\"}" -H "Authorization: Bearer $access")" 200
login cli@example.com >/dev/null
eq "login asks for the code" "$(body | jget mfa_required)" "true"
check "user reset-mfa" cli user reset-mfa cli@example.com
login cli@example.com >/dev/null
check "login gives tokens without a code" bash -c "grep -q access_token '$SB_TMP/body'"
eq "mfa is off" "$(http -H "Authorization: Bearer $(jget access_token <"$SB_TMP/body")" "$A/me"; body | jget mfa_enabled)" "200false"
check "an unknown user fails" bash -c "! '$SB_BIN' user disable nobody@example.com --data '$SB_TMP/data' $SB_DB_FLAGS 2>'$SB_TMP/u.err'"
contains "naming it" "$(cat "$SB_TMP/u.err")" "no user 'nobody@example.com'"

# Key rotation while the server runs.
login cli@example.com >/dev/null
old_access=$(body | jget access_token)
old_kid=$(kid_of "$old_access")
check "keys rotate" cli keys rotate
new_kid=$(sed -n 's/^new signing key \([^;]*\);.*/\1/p' "$SB_TMP/cli.out")
check "a new kid ($old_kid -> $new_kid)" test -n "$new_kid" -a "$new_kid" != "$old_kid"
for _ in $(seq 1 60); do
    login cli@example.com >/dev/null
    [ "$(kid_of "$(body | jget access_token)")" = "$new_kid" ] && break
    sleep 0.1
done
new_access=$(body | jget access_token)
eq "the server signs with the new key" "$(kid_of "$new_access")" "$new_kid"
eq "new tokens verify" "$(http -H "Authorization: Bearer $new_access" "$A/me")" 200
eq "old tokens still verify" "$(http -H "Authorization: Bearer $old_access" "$A/me")" 200
eq "security log has the operator's actions" \
    "$(http -H "Authorization: Bearer $new_access" "$A/security-events?limit=200"; body | python3 -c 'import json,sys; t=[e["type"] for e in json.load(sys.stdin)["items"]]; print(all(x in t for x in ("account_disabled","account_enabled","mfa_reset")))')" "200True"

check "no password in the CLI's or the server's output" \
    bash -c "! grep -rqF '$PW' '$SB_TMP/cli.out' '$SB_TMP/cli.err' '$SB_LOG'"
sb_stop
eq "clean exit" "$SB_EXIT" 0

# SIGHUP reloads at once: a server that would wait an hour takes a
# rotation as soon as it is told.
sb_start --argon2-memory 1M --argon2-iterations 1 --key-reload-interval 1h
A="$SB_URL/api/auth"
check "keys rotate again" cli keys rotate
hup_kid=$(sed -n 's/^new signing key \([^;]*\);.*/\1/p' "$SB_TMP/cli.out")
login cli@example.com >/dev/null
eq "without SIGHUP the server keeps its key" "$(kid_of "$(body | jget access_token)")" "$new_kid"
kill -HUP "$SB_PID"
for _ in $(seq 1 50); do
    login cli@example.com >/dev/null
    [ "$(kid_of "$(body | jget access_token)")" = "$hup_kid" ] && break
    sleep 0.1
done
eq "after SIGHUP it signs with the new key" "$(kid_of "$(body | jget access_token)")" "$hup_kid"
contains "and says so" "$(cat "$SB_LOG")" "SIGHUP"
check "user create --email --username" cli user create --email opt@example.com --username opt_user <<<"$PW"
contains "prints the user" "$(cat "$SB_TMP/cli.out")" "opt@example.com"
sb_stop
eq "clean exit after SIGHUP" "$SB_EXIT" 0
sb_finish
