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

# Teams, projects, pages and files.
P="$SB_URL/api"
post_json "$A/register" "{\"email\":\"oa2@example.com\",\"password\":\"$PW\"}" >/dev/null
eq "teams 401" "$(rec GET /api/teams "$P/teams")" 401
eq "team create" "$(rec POST /api/teams "$P/teams" "${J[@]}" "${B[@]}" -d '{"name":"Docs"}')" 201
T=$(body | jget id)
eq "team create 400" "$(rec POST /api/teams "$P/teams" "${J[@]}" "${B[@]}" -d '{}')" 400
eq "teams" "$(rec GET /api/teams "$P/teams" "${B[@]}")" 200
eq "team" "$(rec GET /api/teams/{id} "$P/teams/$T" "${B[@]}")" 200
eq "team 404" "$(rec GET /api/teams/{id} "$P/teams/00000000-0000-7000-8000-000000000000" "${B[@]}")" 404
eq "team patch" "$(rec PATCH /api/teams/{id} "$P/teams/$T" "${J[@]}" "${B[@]}" -d '{"ip_allowlist":["127.0.0.0/8"]}')" 200
eq "team patch 412" "$(rec PATCH /api/teams/{id} "$P/teams/$T" "${J[@]}" "${B[@]}" -H 'If-Match: "1"' -d '{"name":"x"}')" 412
eq "member invite" "$(rec POST /api/teams/{id}/members "$P/teams/$T/members" "${J[@]}" "${B[@]}" -d '{"email":"later@example.com","role":"viewer"}')" 201
eq "member add" "$(rec POST /api/teams/{id}/members "$P/teams/$T/members" "${J[@]}" "${B[@]}" -d '{"email":"oa2@example.com","role":"editor"}')" 201
U2=$(body | jget user_id)
eq "members" "$(rec GET /api/teams/{id}/members "$P/teams/$T/members" "${B[@]}")" 200
eq "member role" "$(rec PATCH /api/teams/{id}/members/{user_id} "$P/teams/$T/members/$U2" "${J[@]}" "${B[@]}" -d '{"role":"viewer"}')" 200
eq "join 404" "$(rec POST /api/teams/join "$P/teams/join" "${J[@]}" "${B[@]}" -d '{"token":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}')" 404
eq "transfer 400" "$(rec POST /api/teams/{id}/transfer "$P/teams/$T/transfer" "${J[@]}" "${B[@]}" -d '{"user_id":"nope"}')" 400
eq "project create" "$(rec POST /api/projects "$P/projects" "${J[@]}" "${B[@]}" -d "{\"name\":\"Docs site\",\"team_id\":\"$T\",\"visibility\":\"team\"}")" 201
PR=$(body | jget id)
eq "projects" "$(rec GET /api/projects "$P/projects?q=docs&sort=-name" "${B[@]}")" 200
eq "project" "$(rec GET /api/projects/{id} "$P/projects/$PR" "${B[@]}")" 200
eq "project 304" "$(rec GET /api/projects/{id} "$P/projects/$PR" "${B[@]}" -H 'If-None-Match: "1"')" 304
eq "project patch" "$(rec PATCH /api/projects/{id} "$P/projects/$PR" "${J[@]}" "${B[@]}" -d '{"description":"How to"}')" 200
eq "project put" "$(rec PUT /api/projects/{id} "$P/projects/$PR" "${J[@]}" "${B[@]}" -d '{"name":"Docs","visibility":"team"}')" 200
eq "project put 412" "$(rec PUT /api/projects/{id} "$P/projects/$PR" "${J[@]}" "${B[@]}" -H 'If-Match: "1"' -d '{"name":"Docs"}')" 412
eq "project member" "$(rec PUT /api/projects/{id}/members "$P/projects/$PR/members" "${J[@]}" "${B[@]}" -d "{\"user_id\":\"$U2\",\"role\":\"guest\"}")" 200
eq "page create" "$(rec POST /api/projects/{id}/pages "$P/projects/$PR/pages" "${J[@]}" "${B[@]}" -d '{"name":"Home","path":"/","components":[{"id":"h","type":"Hero"}]}')" 201
PG=$(body | jget id)
eq "page create 400" "$(rec POST /api/projects/{id}/pages "$P/projects/$PR/pages" "${J[@]}" "${B[@]}" -d '{"name":"Bad","path":"/b","components":[{"id":"h"}]}')" 400
eq "pages" "$(rec GET /api/projects/{id}/pages "$P/projects/$PR/pages" "${B[@]}")" 200
eq "page" "$(rec GET /api/projects/{id}/pages/{page_id} "$P/projects/$PR/pages/$PG" "${B[@]}")" 200
eq "page put" "$(rec PUT /api/projects/{id}/pages/{page_id} "$P/projects/$PR/pages/$PG" "${J[@]}" "${B[@]}" -d '{"published":true}')" 200
eq "share" "$(rec POST /api/projects/{id}/shares "$P/projects/$PR/shares" "${J[@]}" "${B[@]}" -d "{\"user_id\":\"$U2\",\"kind\":\"page\",\"item\":\"$PG\"}")" 201
C=/api/projects/{id}/comments
eq "comments" "$(rec GET $C "$P/projects/$PR/comments" "${B[@]}")" 200
eq "comment create" "$(rec POST $C "$P/projects/$PR/comments" "${J[@]}" "${B[@]}" -d "{\"page_id\":\"$PG\",\"element_id\":\"h\",\"position\":{\"x\":1,\"y\":2},\"body\":\"Bigger, @oa_user\"}")" 201
CM=$(body | jget id)
eq "comment create 400" "$(rec POST $C "$P/projects/$PR/comments" "${J[@]}" "${B[@]}" -d "{\"page_id\":\"$PG\",\"element_id\":\"nope\",\"body\":\"x\"}")" 400
eq "comment reply" "$(rec POST $C "$P/projects/$PR/comments" "${J[@]}" "${B[@]}" -d "{\"parent_id\":\"$CM\",\"body\":\"Done\"}")" 201
RP=$(body | jget id)
eq "comments with items" "$(rec GET $C "$P/projects/$PR/comments?page_id=$PG&limit=1" "${B[@]}")" 200
eq "comments 400" "$(rec GET $C "$P/projects/$PR/comments?resolved=maybe" "${B[@]}")" 400
eq "comment" "$(rec GET $C/{comment_id} "$P/projects/$PR/comments/$CM" "${B[@]}")" 200
eq "comment 304" "$(rec GET $C/{comment_id} "$P/projects/$PR/comments/$CM" "${B[@]}" -H 'If-None-Match: "2"')" 304
eq "comment 404" "$(rec GET $C/{comment_id} "$P/projects/$PR/comments/00000000-0000-7000-8000-000000000000" "${B[@]}")" 404
eq "comment patch" "$(rec PATCH $C/{comment_id} "$P/projects/$PR/comments/$CM" "${J[@]}" "${B[@]}" -d '{"body":"Much bigger"}')" 200
eq "comment patch 412" "$(rec PATCH $C/{comment_id} "$P/projects/$PR/comments/$CM" "${J[@]}" "${B[@]}" -H 'If-Match: "1"' -d '{"body":"x"}')" 412
eq "comment resolve" "$(rec POST $C/{comment_id}/resolve "$P/projects/$PR/comments/$CM/resolve" "${B[@]}")" 200
eq "comment resolve 400" "$(rec POST $C/{comment_id}/resolve "$P/projects/$PR/comments/$RP/resolve" "${B[@]}")" 400
eq "comment reopen" "$(rec POST $C/{comment_id}/reopen "$P/projects/$PR/comments/$CM/reopen" "${J[@]}" "${B[@]}" -d '{}')" 200
eq "comment delete 412" "$(rec DELETE $C/{comment_id} "$P/projects/$PR/comments/$RP" "${B[@]}" -H 'If-Match: "7"')" 412
eq "comment delete" "$(rec DELETE $C/{comment_id} "$P/projects/$PR/comments/$RP" "${B[@]}")" 200
eq "file create" "$(rec POST /api/projects/{id}/files "$P/projects/$PR/files" "${J[@]}" "${B[@]}" -d '{"path":"src/app.js","content":"1"}')" 201
eq "file create 409" "$(rec POST /api/projects/{id}/files "$P/projects/$PR/files" "${J[@]}" "${B[@]}" -d '{"path":"src/app.js","content":"1"}')" 409
eq "files" "$(rec GET /api/projects/{id}/files "$P/projects/$PR/files" "${B[@]}")" 200
eq "file" "$(rec GET /api/projects/{id}/files/{path} "$P/projects/$PR/files/src/app.js" "${B[@]}")" 200
eq "file put" "$(rec PUT /api/projects/{id}/files/{path} "$P/projects/$PR/files/src/app.js" "${J[@]}" "${B[@]}" -d '{"content":"2"}')" 200
printf 'GIF89a\001\000\001\000\000\000\000;' >"$SB_TMP/pixel.gif"
eq "asset upload" "$(rec POST /api/projects/{id}/assets "$P/projects/$PR/assets?filename=pixel.gif" "${B[@]}" --data-binary "@$SB_TMP/pixel.gif")" 201
AS=$(body | jget id)
eq "asset upload (form)" "$(rec POST /api/projects/{id}/assets "$P/projects/$PR/assets" "${B[@]}" -F "file=@$SB_TMP/pixel.gif")" 201
eq "asset upload 400" "$(rec POST /api/projects/{id}/assets "$P/projects/$PR/assets" "${B[@]}" --data-binary '')" 400
eq "assets" "$(rec GET /api/projects/{id}/assets "$P/projects/$PR/assets?limit=1" "${B[@]}")" 200
eq "asset" "$(rec GET /api/projects/{id}/assets/{asset_id} "$P/projects/$PR/assets/$AS" "${B[@]}")" 200
eq "asset content" "$(rec GET /api/projects/{id}/assets/{asset_id}/content "$P/projects/$PR/assets/$AS/content" "${B[@]}")" 200
eq "asset range" "$(rec GET /api/projects/{id}/assets/{asset_id}/content "$P/projects/$PR/assets/$AS/content" "${B[@]}" -H 'Range: bytes=0-5')" 206
eq "asset range 416" "$(rec GET /api/projects/{id}/assets/{asset_id}/content "$P/projects/$PR/assets/$AS/content" "${B[@]}" -H 'Range: bytes=999-')" 416
eq "asset delete" "$(rec DELETE /api/projects/{id}/assets/{asset_id} "$P/projects/$PR/assets/$AS" "${B[@]}")" 200
eq "template" "$(rec POST /api/templates "$P/templates" "${J[@]}" "${B[@]}" -d "{\"project_id\":\"$PR\",\"name\":\"Docs kit\"}")" 201
eq "templates" "$(rec GET /api/templates "$P/templates" "${B[@]}")" 200
eq "audit" "$(rec GET /api/projects/{id}/audit "$P/projects/$PR/audit" "${B[@]}")" 200
EVT=/api/projects/{id}/events
STATE=/api/projects/{id}/state
eq "events" "$(rec GET $EVT "$P/projects/$PR/events?limit=2" "${B[@]}")" 200
eq "events after" "$(rec GET $EVT "$P/projects/$PR/events?after=1" "${B[@]}")" 200
eq "events 400" "$(rec GET $EVT "$P/projects/$PR/events?after=x" "${B[@]}")" 400
eq "events 401" "$(rec GET $EVT "$P/projects/$PR/events")" 401
eq "events 404" "$(rec GET $EVT "$P/projects/00000000-0000-7000-8000-000000000000/events" "${B[@]}")" 404
eq "state" "$(rec GET $STATE "$P/projects/$PR/state" "${B[@]}")" 200
eq "state at 1" "$(rec GET $STATE "$P/projects/$PR/state?at=1" "${B[@]}")" 200
eq "state at a time" "$(rec GET $STATE "$P/projects/$PR/state?at=2999-01-01T00:00:00Z" "${B[@]}")" 200
eq "state 400" "$(rec GET $STATE "$P/projects/$PR/state?at=0" "${B[@]}")" 400
eq "state 404" "$(rec GET $STATE "$P/projects/$PR/state?at=999999" "${B[@]}")" 404
LIB=/api/teams/{id}/components
LIBC=/api/teams/{id}/components/{component_id}
eq "library save" "$(rec POST $LIB "$P/teams/$T/components" "${J[@]}" "${B[@]}" -d '{"name":"Card","component":{"id":"c","type":"Card"}}')" 201
LC=$(body | jget id)
eq "library save 409" "$(rec POST $LIB "$P/teams/$T/components" "${J[@]}" "${B[@]}" -d '{"name":"Card","component":{"id":"c","type":"Card"}}')" 409
eq "library save 400" "$(rec POST $LIB "$P/teams/$T/components" "${J[@]}" "${B[@]}" -d '{"name":"Bad","component":{"id":"c"}}')" 400
eq "library" "$(rec GET $LIB "$P/teams/$T/components?limit=1" "${B[@]}")" 200
eq "library 404" "$(rec GET $LIB "$P/teams/00000000-0000-7000-8000-000000000000/components" "${B[@]}")" 404
eq "library component" "$(rec GET $LIBC "$P/teams/$T/components/$LC" "${B[@]}")" 200
eq "library component 304" "$(rec GET $LIBC "$P/teams/$T/components/$LC" "${B[@]}" -H 'If-None-Match: "1"')" 304
eq "library component put" "$(rec PUT $LIBC "$P/teams/$T/components/$LC" "${J[@]}" "${B[@]}" -d '{"name":"Card 2"}')" 200
eq "library component put 412" "$(rec PUT $LIBC "$P/teams/$T/components/$LC" "${J[@]}" "${B[@]}" -H 'If-Match: "1"' -d '{"name":"Card 3"}')" 412
INS=/api/projects/{id}/pages/{page_id}/components
eq "insert" "$(rec POST $INS "$P/projects/$PR/pages/$PG/components" "${J[@]}" "${B[@]}" -d "{\"library_component_id\":\"$LC\"}")" 201
eq "insert 400" "$(rec POST $INS "$P/projects/$PR/pages/$PG/components" "${J[@]}" "${B[@]}" -d "{\"library_component_id\":\"$LC\",\"parent_id\":\"nope\"}")" 400
eq "insert 412" "$(rec POST $INS "$P/projects/$PR/pages/$PG/components" "${J[@]}" "${B[@]}" -H 'If-Match: "1"' -d "{\"library_component_id\":\"$LC\"}")" 412
AIP=/api/projects/{id}/ai-content
AIC=/api/projects/{id}/ai-content/{content_id}
eq "ai record" "$(rec POST $AIP "$P/projects/$PR/ai-content" "${J[@]}" "${B[@]}" -d '{"type":"copy","prompt":"A tagline","result":{"text":"Read on"}}')" 201
AI=$(body | jget id)
eq "ai record 400" "$(rec POST $AIP "$P/projects/$PR/ai-content" "${J[@]}" "${B[@]}" -d '{"type":"poem","prompt":"p","result":"r"}')" 400
eq "ai records" "$(rec GET $AIP "$P/projects/$PR/ai-content?type=copy" "${B[@]}")" 200
eq "ai record get" "$(rec GET $AIC "$P/projects/$PR/ai-content/$AI" "${B[@]}")" 200
eq "ai record 304" "$(rec GET $AIC "$P/projects/$PR/ai-content/$AI" "${B[@]}" -H 'If-None-Match: "1"')" 304
eq "ai record delete" "$(rec DELETE $AIC "$P/projects/$PR/ai-content/$AI" "${B[@]}")" 200
eq "ai record 404" "$(rec GET $AIC "$P/projects/$PR/ai-content/$AI" "${B[@]}")" 404
VC=/api/projects/{id}/vcs
VP="$P/projects/$PR/vcs"
eq "vcs history empty" "$(rec GET $VC/commits "$VP/commits" "${B[@]}")" 200
eq "vcs commit" "$(rec POST $VC/commits "$VP/commits" "${J[@]}" "${B[@]}" -d '{"message":"First","from_live":true}')" 201
VC1=$(body | jget id)
eq "vcs commit 400" "$(rec POST $VC/commits "$VP/commits" "${J[@]}" "${B[@]}" -d '{"message":"Again","from_live":true}')" 400
eq "vcs commit 412" "$(rec POST $VC/commits "$VP/commits" "${J[@]}" "${B[@]}" -d '{"message":"x","from_live":true,"expect":"0000000000000000000000000000000000000000"}')" 412
eq "vcs history" "$(rec GET $VC/commits "$VP/commits?limit=5" "${B[@]}")" 200
eq "vcs history 400" "$(rec GET $VC/commits "$VP/commits?limit=0" "${B[@]}")" 400
eq "vcs branch" "$(rec POST $VC/branches "$VP/branches" "${J[@]}" "${B[@]}" -d '{"name":"side"}')" 201
eq "vcs branch 409" "$(rec POST $VC/branches "$VP/branches" "${J[@]}" "${B[@]}" -d '{"name":"side"}')" 409
eq "vcs branch 400" "$(rec POST $VC/branches "$VP/branches" "${J[@]}" "${B[@]}" -d '{"name":"a..b"}')" 400
eq "vcs branches" "$(rec GET $VC/branches "$VP/branches" "${B[@]}")" 200
eq "vcs side commit" "$(rec POST $VC/commits "$VP/commits" "${J[@]}" "${B[@]}" -d '{"branch":"side","message":"Side","changes":[{"path":"files/src/app.js","content":"side\n"}]}')" 201
eq "vcs main commit" "$(rec POST $VC/commits "$VP/commits" "${J[@]}" "${B[@]}" -d '{"message":"Main","changes":[{"path":"files/src/app.js","content":"main\n"}]}')" 201
eq "vcs tag" "$(rec POST $VC/tags "$VP/tags" "${J[@]}" "${B[@]}" -d "{\"name\":\"v1\",\"from\":\"$VC1\"}")" 201
eq "vcs tags" "$(rec GET $VC/tags "$VP/tags" "${B[@]}")" 200
eq "vcs tag to delete" "$(rec POST $VC/tags "$VP/tags" "${J[@]}" "${B[@]}" -d '{"name":"gone"}')" 201
eq "vcs tag delete" "$(rec DELETE $VC/tags/{name} "$VP/tags/gone" "${B[@]}")" 200
eq "vcs tag delete 404" "$(rec DELETE $VC/tags/{name} "$VP/tags/gone" "${B[@]}")" 404
eq "vcs diff" "$(rec GET $VC/diff "$VP/diff?from=v1&to=side" "${B[@]}")" 200
eq "vcs diff 404" "$(rec GET $VC/diff "$VP/diff?from=nope" "${B[@]}")" 404
eq "vcs file" "$(rec GET $VC/files/{file_path} "$VP/files/files/src/app.js?ref=side" "${B[@]}")" 200
eq "vcs file 404" "$(rec GET $VC/files/{file_path} "$VP/files/files/nope.js" "${B[@]}")" 404
eq "vcs merge 409" "$(rec POST $VC/merge "$VP/merge" "${J[@]}" "${B[@]}" -d '{"source":"side"}')" 409
TH=$(body | jget target_head)
SH=$(body | jget source_head)
eq "vcs merge 400" "$(rec POST $VC/merge "$VP/merge" "${J[@]}" "${B[@]}" -d '{"source":"main"}')" 400
eq "vcs resolve 412" "$(rec POST $VC/merge/resolve "$VP/merge/resolve" "${J[@]}" "${B[@]}" -d "{\"source\":\"side\",\"expect_target\":\"$SH\",\"expect_source\":\"$SH\",\"resolutions\":{}}")" 412
eq "vcs resolve 400" "$(rec POST $VC/merge/resolve "$VP/merge/resolve" "${J[@]}" "${B[@]}" -d '{"source":"side"}')" 400
eq "vcs resolve" "$(rec POST $VC/merge/resolve "$VP/merge/resolve" "${J[@]}" "${B[@]}" -d "{\"source\":\"side\",\"expect_target\":\"$TH\",\"expect_source\":\"$SH\",\"resolutions\":{\"files/src/app.js\":\"theirs\"}}")" 200
eq "vcs merge" "$(rec POST $VC/merge "$VP/merge" "${J[@]}" "${B[@]}" -d '{"source":"side"}')" 200
eq "vcs rollback" "$(rec POST $VC/rollback "$VP/rollback" "${J[@]}" "${B[@]}" -d '{"to":"v1"}')" 201
eq "vcs rollback 400" "$(rec POST $VC/rollback "$VP/rollback" "${J[@]}" "${B[@]}" -d '{"branch":"a..b","to":"v1"}')" 400
eq "vcs branch delete" "$(rec DELETE $VC/branches/{name} "$VP/branches/side" "${B[@]}")" 200
eq "vcs branch delete 400" "$(rec DELETE $VC/branches/{name} "$VP/branches/main" "${B[@]}")" 400
eq "vcs branch delete 404" "$(rec DELETE $VC/branches/{name} "$VP/branches/side" "${B[@]}")" 404
TOKEN=${B[1]#Authorization: Bearer }
G="$SB_URL/git/$PR.git"
eq "git refs" "$(rec GET /git/{repo}/info/refs "$G/info/refs" -u "x:$TOKEN")" 200
OID=$(body | head -1 | cut -f1)
eq "git refs 401" "$(rec GET /git/{repo}/info/refs "$G/info/refs")" 401
printf '0032want %s\n00000009done\n' "$OID" >"$SB_TMP/upload"
eq "git refs (smart)" "$(rec GET /git/{repo}/info/refs "$G/info/refs?service=git-upload-pack" -u "x:$TOKEN")" 200
eq "git refs 403" "$(rec GET /git/{repo}/info/refs "$G/info/refs?service=git-receive-pack" -u "x:$TOKEN")" 403
eq "git upload-pack" "$(rec POST /git/{repo}/git-upload-pack "$G/git-upload-pack" -u "x:$TOKEN" -H 'Content-Type: application/x-git-upload-pack-request' --data-binary "@$SB_TMP/upload")" 200
eq "git upload-pack 400" "$(rec POST /git/{repo}/git-upload-pack "$G/git-upload-pack" -u "x:$TOKEN" -H 'Content-Type: application/x-git-upload-pack-request' --data-binary 'zzzz')" 400
eq "git HEAD" "$(rec GET /git/{repo}/HEAD "$G/HEAD" -u "x:$TOKEN")" 200
eq "git packs" "$(rec GET /git/{repo}/objects/info/packs "$G/objects/info/packs" -u "x:$TOKEN")" 200
eq "git object" "$(rec GET /git/{repo}/objects/{dir}/{file} "$G/objects/${OID:0:2}/${OID:2}" -u "x:$TOKEN")" 200
eq "git object 404" "$(rec GET /git/{repo}/objects/{dir}/{file} "$G/objects/00/00000000000000000000000000000000000000" -u "x:$TOKEN")" 404
eq "library component delete" "$(rec DELETE $LIBC "$P/teams/$T/components/$LC" "${B[@]}")" 200
eq "file delete" "$(rec DELETE /api/projects/{id}/files/{path} "$P/projects/$PR/files/src/app.js" "${B[@]}")" 200
eq "presence" "$(rec GET /api/projects/{id}/presence "$P/projects/$PR/presence" "${B[@]}")" 200
eq "presence 404" "$(rec GET /api/projects/{id}/presence "$P/projects/00000000-0000-7000-8000-000000000000/presence" "${B[@]}")" 404
eq "collab doc" "$(rec GET /api/projects/{id}/docs/{doc} "$P/projects/$PR/docs/page:$PG" "${B[@]}")" 200
eq "collab doc 400" "$(rec GET /api/projects/{id}/docs/{doc} "$P/projects/$PR/docs/page:$PG?type=tree" "${B[@]}")" 400
eq "collab doc 404" "$(rec GET /api/projects/{id}/docs/{doc} "$P/projects/$PR/docs/nope" "${B[@]}")" 404
eq "lock take" "$(rec POST /api/projects/{id}/locks "$P/projects/$PR/locks" "${B[@]}" "${J[@]}" -d '{"element":"hero","type":"edit"}')" 200
eq "lock take 400" "$(rec POST /api/projects/{id}/locks "$P/projects/$PR/locks" "${B[@]}" "${J[@]}" -d '{"element":"hero","type":"write"}')" 400
eq "locks" "$(rec GET /api/projects/{id}/locks "$P/projects/$PR/locks" "${B[@]}")" 200
eq "locks 404" "$(rec GET /api/projects/{id}/locks "$P/projects/00000000-0000-7000-8000-000000000000/locks" "${B[@]}")" 404
eq "lock release" "$(rec DELETE /api/projects/{id}/locks "$P/projects/$PR/locks?element=hero" "${B[@]}")" 204
eq "lock release 404" "$(rec DELETE /api/projects/{id}/locks "$P/projects/$PR/locks?element=hero" "${B[@]}")" 404
eq "lock release 400" "$(rec DELETE /api/projects/{id}/locks "$P/projects/$PR/locks" "${B[@]}")" 400
eq "event stream 404" "$(rec GET /api/projects/{id}/events/stream "$P/projects/00000000-0000-7000-8000-000000000000/events/stream" "${B[@]}")" 404
# The stream stays open: curl gives up after a second with what it got.
eq "event stream" "$(rec GET /api/projects/{id}/events/stream "$P/projects/$PR/events/stream" "${B[@]}" --max-time 1 2>/dev/null)" 200
eq "collab ws 401" "$(rec GET /collab/{project_id}/{doc} "$SB_URL/collab/$PR/page:$PG")" 401
eq "collab ws 400 (no upgrade)" "$(rec GET /collab/{project_id}/{doc} "$SB_URL/collab/$PR/page:$PG" "${B[@]}")" 400
eq "collab ws 404" "$(rec GET /collab/{project_id}/{doc} "$SB_URL/collab/$PR/nope:1" "${B[@]}")" 404
eq "page delete" "$(rec DELETE /api/projects/{id}/pages/{page_id} "$P/projects/$PR/pages/$PG" "${B[@]}")" 200
eq "transfer 400" "$(rec POST /api/projects/{id}/transfer "$P/projects/$PR/transfer" "${J[@]}" "${B[@]}" -d '{"user_id":"00000000-0000-7000-8000-000000000000"}')" 400
eq "transfer 412" "$(rec POST /api/projects/{id}/transfer "$P/projects/$PR/transfer" "${J[@]}" "${B[@]}" -H 'If-Match: "1"' -d "{\"user_id\":\"$U2\"}")" 412
eq "transfer" "$(rec POST /api/projects/{id}/transfer "$P/projects/$PR/transfer" "${J[@]}" "${B[@]}" -d "{\"user_id\":\"$U2\"}")" 200
eq "member remove" "$(rec DELETE /api/teams/{id}/members/{user_id} "$P/teams/$T/members/$U2" "${B[@]}")" 200
eq "project delete" "$(rec DELETE /api/projects/{id} "$P/projects/$PR" "${B[@]}")" 200
post_json "$P/projects" '{"name":"Analytics","visibility":"public"}' "${B[@]}" >/dev/null
PR2=$(body | jget id)
eq "team delete" "$(rec DELETE /api/teams/{id} "$P/teams/$T" "${B[@]}")" 200
# Analytics, on the default local driver (503s, when the store behind is
# down, are in analytics_influx.sh).
eq "ping" "$(rec GET /ping "$SB_URL/ping")" 204
eq "ping verbose" "$(rec GET /ping "$SB_URL/ping?verbose=true")" 200
eq "write 401" "$(rec POST /write "$SB_URL/write?db=$PR2" --data-binary 'm v=1')" 401
eq "write 400" "$(rec POST /write "$SB_URL/write" -H "Authorization: Token $access" --data-binary 'm v=1')" 400
eq "write 404" "$(rec POST /write "$SB_URL/write?db=nope" -H "Authorization: Token $access" --data-binary 'm v=1')" 404
eq "write" "$(rec POST /write "$SB_URL/write?db=$PR2" -H "Authorization: Token $access" --data-binary 'm v=1')" 204
eq "query 401" "$(rec GET /query "$SB_URL/query?q=SHOW+DATABASES")" 401
eq "query" "$(rec GET /query "$SB_URL/query?q=SHOW+DATABASES" -H "Authorization: Token $access")" 200
eq "query 400" "$(rec POST /query "$SB_URL/query" -H "Authorization: Token $access" --data-urlencode 'q=SELEC')" 400
eq "query a project" "$(rec POST /query "$SB_URL/query" -H "Authorization: Token $access" --data-urlencode 'q=SELECT * FROM m' --data-urlencode "db=$PR2")" 200
eq "collect 400" "$(rec POST /api/collect "$P/collect" "${J[@]}" -d '{"site":"x"}')" 400
eq "collect 404" "$(rec POST /api/collect "$P/collect" "${J[@]}" -d '{"site":"00000000-0000-7000-8000-000000000000","events":[{"type":"pageview","path":"/"}]}')" 404
eq "collect" "$(rec POST /api/collect "$P/collect" "${J[@]}" -d "{\"site\":\"$PR2\",\"events\":[{\"type\":\"pageview\",\"path\":\"/\"}]}")" 202
eq "analytics 400" "$(rec GET /api/projects/{id}/analytics "$P/projects/$PR2/analytics?metric=nope" "${B[@]}")" 400
eq "analytics 401" "$(rec GET /api/projects/{id}/analytics "$P/projects/$PR2/analytics?metric=page_views")" 401
eq "analytics 404" "$(rec GET /api/projects/{id}/analytics "$P/projects/00000000-0000-7000-8000-000000000000/analytics?metric=page_views" "${B[@]}")" 404
eq "analytics" "$(rec GET /api/projects/{id}/analytics "$P/projects/$PR2/analytics?metric=page_views" "${B[@]}")" 200
eq "logout" "$(rec POST /api/auth/logout "$A/logout" "${B[@]}")" 200
eq "logout 401" "$(rec POST /api/auth/logout "$A/logout")" 401

check "every answer matches the document" /usr/bin/python3 "$SITEBASE_SOURCE_DIR/tests/support/openapi_check.py" \
    "$SB_TMP/spec.json" "$SITEBASE_SOURCE_DIR/src/api" "$EX"
sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
