#!/usr/bin/env bash
# Comments on page elements over HTTP (docs/projects.md "Comments"):
# threads and replies (a reply to a reply joins the thread), the element
# check against the page's component tree, resolve and reopen, mentions by
# @username and by id (only people who may read the comment, others dropped
# without a word) mailed through a real SMTP server, who may do what (viewer,
# guest with and without guest comments, editor, admin, author, stranger,
# anonymous, public project), bad input, If-Match, ETag / If-None-Match,
# Idempotency-Key replays and the audit log.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_start_api

read -r OWN OWN_ID <<<"$(signup olive@example.com olive)"
read -r ADM ADM_ID <<<"$(signup ada@example.com ada)"
read -r ED ED_ID <<<"$(signup eddie@example.com eddie)"
read -r VW VW_ID <<<"$(signup vera@example.com vera)"
read -r GU GU_ID <<<"$(signup gus@example.com gus)"
read -r ST ST_ID <<<"$(signup sam@example.com sam)"
ids() { body | python3 -c 'import json,sys; print(" ".join(c["id"] for c in json.load(sys.stdin)["items"]))'; }
mails() { find "$SB_MAIL" -name '*.eml' | wc -l | tr -d ' '; }

# ---- a team project with pages, a guest, and a project elsewhere ----
call "$OWN" POST /teams '{"name":"Studio"}' >/dev/null
TEAM=$(body | jget id)
for m in "ada admin" "eddie editor" "vera viewer"; do
    read -r who role <<<"$m"
    call "$OWN" POST "/teams/$TEAM/members" "{\"email\":\"$who@example.com\",\"role\":\"$role\"}" >/dev/null
done
call "$OWN" POST /projects "{\"name\":\"Bakery\",\"team_id\":\"$TEAM\",\"visibility\":\"team\"}" >/dev/null
P=$(body | jget id)
tree='[{"id":"hero","type":"Section","children":[{"id":"cta","type":"Button"}]},{"id":"footer","type":"Footer"}]'
call "$ED" POST "/projects/$P/pages" "{\"name\":\"Home\",\"path\":\"/\",\"components\":$tree}" >/dev/null
PG=$(body | jget id)
call "$ED" POST "/projects/$P/pages" '{"name":"Blank","path":"/blank"}' >/dev/null
PE=$(body | jget id)
call "$OWN" PUT "/projects/$P/members" "{\"user_id\":\"$GU_ID\",\"role\":\"guest\"}" >/dev/null
call "$OWN" POST "/projects/$P/shares" "{\"user_id\":\"$GU_ID\",\"kind\":\"page\",\"item\":\"$PG\"}" >/dev/null
call "$ST" POST /projects '{"name":"Elsewhere"}' >/dev/null
P2=$(body | jget id)
call "$ST" POST "/projects/$P2/pages" '{"name":"Other","path":"/"}' >/dev/null
PG2=$(body | jget id)

# ---- a thread: a viewer comments on an element ----
eq "a viewer comments on an element" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"cta\",\"position\":{\"x\":0.5,\"y\":0.25},\"body\":\"Too small, @Eddie? (cc @nobody, ada@example.com)\"}" -D "$SB_TMP/h")" 201
T1=$(body | jget id)
contains "with its Location" "$(tr -d '\r' <"$SB_TMP/h")" "location: /api/projects/$P/comments/$T1"
eq "the representation" "$(body | python3 -c 'import json,sys; c=json.load(sys.stdin); print(sorted(c))')" "['author_id', 'body', 'created_at', 'element_id', 'id', 'mentions', 'page_id', 'parent_id', 'position', 'project_id', 'replies', 'reply_count', 'resolved', 'resolved_at', 'resolved_by', 'updated_at', 'version']"
eq "anchored" "$(body | jget page_id) $(body | jget element_id) $(body | jget position)" "$PG cta {\"x\": 0.5, \"y\": 0.25}"
eq "a thread of its own" "$(body | jget parent_id) $(body | jget reply_count) $(body | jget replies)" "null 0 []"
eq "by its author, open, version 1" "$(body | jget author_id) $(body | jget resolved) $(body | jget version)" "$VW_ID false 1"
eq "@Eddie is mentioned; @nobody and the address are not" "$(body | jget mentions)" "[\"$ED_ID\"]"
check "the mention is mailed" sb_mail_wait 1
mail=$(cat "$SB_MAIL/1.eml" 2>/dev/null)
contains "to eddie" "$mail" "To: eddie@example.com"
contains "saying who and where" "$mail" '@vera mentioned you in a comment on the page / of "Bakery"'
contains "quoting it" "$mail" "> Too small, @Eddie?"
contains "with a link to the thread" "$mail" "http://app.example/projects/$P/pages/$PG?comment=$T1"

# Mentions by id: only people who may read the comment are kept.
eq "the owner mentions by id" "$(call "$OWN" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"hero\",\"body\":\"Rework this\",\"mentions\":[\"$ADM_ID\",\"$ST_ID\",\"00000000-0000-7000-8000-000000000000\",\"$ADM_ID\"]}")" 201
T2=$(body | jget id)
eq "strangers and unknown ids are dropped without a word" "$(body | jget mentions)" "[\"$ADM_ID\"]"
check "the admin is mailed" sb_mail_wait 2
contains "the second mail goes to ada" "$(cat "$SB_MAIL/2.eml" 2>/dev/null)" "To: ada@example.com"
eq "mentions must be ids" "$(call "$OWN" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"hero\",\"body\":\"x\",\"mentions\":[\"ada\"]}")" 400
eq "named" "$(body | jget errors.0.field)" mentions
eq "a guest is mentioned on a page shared with them" "$(call "$ED" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"footer\",\"body\":\"@gus what do you think?\\r.\\r\\nSecond line\"}")" 201
eq "kept" "$(body | jget mentions)" "[\"$GU_ID\"]"
check "and mailed" sb_mail_wait 3
# The quote never lets a line of the comment end the mail's data early.
check "every line of the quote is quoted, no bare CR" python3 -c '
import sys
m = open(sys.argv[1], "rb").read()
assert b"> @gus what do you think?\r\n> .\r\n> Second line\r\n" in m, m
assert m.count(b"\r") == m.count(b"\r\n")' "$SB_MAIL/3.eml"
eq "but not on a page that is not shared with them" "$(call "$ED" POST "/projects/$P/comments" "{\"page_id\":\"$PE\",\"element_id\":\"top\",\"body\":\"@gus and @eddie\"}")" 201
TE=$(body | jget id)
eq "dropped; mentioning oneself is kept" "$(body | jget mentions)" "[\"$ED_ID\"]"
sleep 0.5
eq "nobody mailed: not the guest, not the author" "$(mails)" 3

# ---- the anchor ----
eq "an element that is not on the page" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"nope\",\"body\":\"x\"}")" 400
eq "is named" "$(body | jget errors.0.field)" element_id
eq "ids match exactly" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"CTA\",\"body\":\"x\"}")" 400
eq "a page without components takes any element id" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PE\",\"element_id\":\"the big gap\",\"body\":\"x\"}")" 201
eq "a page of another project" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PG2\",\"element_id\":\"a\",\"body\":\"x\"}")" 400
eq "is named" "$(body | jget errors.0.field)" page_id
eq "an unknown page" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"00000000-0000-7000-8000-000000000000\",\"element_id\":\"a\",\"body\":\"x\"}")" 400
eq "a malformed page id" "$(call "$VW" POST "/projects/$P/comments" '{"page_id":"home","element_id":"a","body":"x"}')" 400
eq "the page is required" "$(call "$VW" POST "/projects/$P/comments" '{"element_id":"a","body":"x"}')" 400
eq "the element too" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"body\":\"x\"}")" 400
long=$(printf 'e%.0s' $(seq 1 129))
eq "an element id over 128 characters" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PE\",\"element_id\":\"$long\",\"body\":\"x\"}")" 400
eq "a position that is not an object" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"cta\",\"position\":[1,2],\"body\":\"x\"}")" 400
eq "x and y must be numbers" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"cta\",\"position\":{\"x\":\"left\"},\"body\":\"x\"}")" 400
eq "is named" "$(body | jget errors.0.field)" position

# ---- the body ----
python3 -c 'import json,sys; print(json.dumps({"page_id": sys.argv[1], "element_id": "cta", "body": "é" * 10001}))' "$PG" >"$SB_TMP/long.json"
eq "a body over 10000 characters" "$(call "$VW" POST "/projects/$P/comments" "@$SB_TMP/long.json")" 400
eq "is named" "$(body | jget errors.0.field)" body
python3 -c 'import json,sys; print(json.dumps({"page_id": sys.argv[1], "element_id": "cta", "body": "é" * 10000}))' "$PG" >"$SB_TMP/max.json"
eq "10000 characters are fine" "$(call "$VW" POST "/projects/$P/comments" "@$SB_TMP/max.json")" 201
eq "an empty body" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"cta\",\"body\":\"\"}")" 400
eq "a blank body" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"cta\",\"body\":\" \\n\\t \"}")" 400
eq "control characters" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"cta\",\"body\":\"a\\u0000b\"}")" 400
eq "line breaks are fine" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"cta\",\"body\":\"one\\ntwo\"}")" 201
printf '{"page_id":"%s","element_id":"cta","body":"caf\xe9"}' "$PG" >"$SB_TMP/latin1.json"
eq "invalid UTF-8" "$(call "$VW" POST "/projects/$P/comments" "@$SB_TMP/latin1.json")" 400
eq "unknown fields" "$(call "$VW" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"cta\",\"body\":\"x\",\"colour\":\"red\"}")" 400
eq "are named" "$(body | jget errors.0.field)" colour
python3 -c 'print("{\"body\": \"" + "x" * (1024 * 1024) + "\"}")' >"$SB_TMP/huge.json"
eq "a request over 1 MiB" "$(call "$VW" POST "/projects/$P/comments" "@$SB_TMP/huge.json")" 413

# ---- replies ----
eq "an editor replies" "$(call "$ED" POST "/projects/$P/comments" "{\"parent_id\":\"$T1\",\"body\":\"Bigger then\"}")" 201
R1=$(body | jget id)
eq "in the thread, on its anchor" "$(body | jget parent_id) $(body | jget page_id) $(body | jget element_id) $(body | jget position)" "$T1 $PG cta {\"x\": 0.5, \"y\": 0.25}"
eq "a reply has no reply count" "$(body | jget reply_count)" null
eq "a reply to a reply joins the thread" "$(call "$VW" POST "/projects/$P/comments" "{\"parent_id\":\"$R1\",\"page_id\":\"$PG\",\"element_id\":\"cta\",\"body\":\"Done\"}")" 201
R2=$(body | jget id)
eq "its parent is the thread" "$(body | jget parent_id)" "$T1"
eq "a reply elsewhere on the page is refused" "$(call "$VW" POST "/projects/$P/comments" "{\"parent_id\":\"$T1\",\"element_id\":\"hero\",\"body\":\"x\"}")" 400
eq "named" "$(body | jget errors.0.field)" element_id
eq "a reply has no position of its own" "$(call "$VW" POST "/projects/$P/comments" "{\"parent_id\":\"$T1\",\"position\":{\"x\":1},\"body\":\"x\"}")" 400
eq "an unknown parent" "$(call "$VW" POST "/projects/$P/comments" '{"parent_id":"00000000-0000-7000-8000-000000000000","body":"x"}')" 400
eq "is named" "$(body | jget errors.0.field)" parent_id
eq "the thread" "$(call "$VW" GET "/projects/$P/comments/$T1" "" -D "$SB_TMP/h")" 200
eq "holds its replies, oldest first" "$(body | jget reply_count) $(body | python3 -c 'import json,sys; print(" ".join(r["id"] for r in json.load(sys.stdin)["replies"]))')" "2 $R1 $R2"
etag=$(tr -d '\r' <"$SB_TMP/h" | sed -n 's/^etag: //p')
eq "its ETag counts the replies" "$etag" '"3"'
eq "If-None-Match answers 304" "$(call "$VW" GET "/projects/$P/comments/$T1" "" -H "If-None-Match: $etag")" 304
eq "a reply alone" "$(call "$VW" GET "/projects/$P/comments/$R1")" 200
eq "with its parent" "$(body | jget parent_id) $(body | jget replies)" "$T1 null"
eq "an unknown comment is 404" "$(call "$VW" GET "/projects/$P/comments/00000000-0000-7000-8000-000000000000")" 404
eq "a comment of another project is 404" "$(call "$ST" GET "/projects/$P2/comments/$T1")" 404

# ---- edits ----
eq "the author edits, with If-Match" "$(call "$VW" PATCH "/projects/$P/comments/$T1" '{"body":"Too small? @olive"}' -H 'If-Match: "3"' -D "$SB_TMP/h")" 200
eq "the body and mentions change" "$(body | jget body) $(body | jget mentions)" "Too small? @olive [\"$OWN_ID\"]"
eq "the version moves" "$(body | jget version)" 4
contains "the ETag too" "$(tr -d '\r' <"$SB_TMP/h")" 'etag: "4"'
check "the newly mentioned owner is mailed" sb_mail_wait 4
contains "olive" "$(cat "$SB_MAIL/4.eml" 2>/dev/null)" "To: olive@example.com"
eq "a stale If-Match is 412" "$(call "$VW" PATCH "/projects/$P/comments/$T1" '{"body":"x"}' -H 'If-Match: "3"')" 412
eq "an edit that keeps the mention" "$(call "$VW" PATCH "/projects/$P/comments/$T1" '{"body":"Too small! @olive"}')" 200
sleep 0.5
eq "mails nobody again" "$(mails)" 4
eq "an editor cannot edit another's words" "$(call "$ED" PATCH "/projects/$P/comments/$T1" '{"body":"x"}')" 403
eq "nor can the owner" "$(call "$OWN" PATCH "/projects/$P/comments/$T1" '{"body":"x"}')" 403
eq "an edit cannot move the comment" "$(call "$VW" PATCH "/projects/$P/comments/$T1" '{"body":"x","element_id":"hero"}')" 400
eq "the body is required" "$(call "$VW" PATCH "/projects/$P/comments/$T1" '{}')" 400
eq "editing a reply" "$(call "$ED" PATCH "/projects/$P/comments/$R1" '{"body":"Much bigger"}' -H 'If-Match: "1"')" 200
eq "moves the reply's version" "$(body | jget version)" 2
call "$VW" GET "/projects/$P/comments/$T1" >/dev/null
eq "and the thread's" "$(body | jget version)" 6

# ---- resolve and reopen ----
eq "another viewer's thread is not theirs to resolve" "$(call "$VW" POST "/projects/$P/comments/$T2/resolve")" 403
eq "an editor resolves it" "$(call "$ED" POST "/projects/$P/comments/$T2/resolve")" 200
eq "resolved, by whom" "$(body | jget resolved) $(body | jget resolved_by) $(body | jget version)" "true $ED_ID 2"
check "and when" test "$(body | jget resolved_at)" != null
eq "resolving again changes nothing" "$(call "$ED" POST "/projects/$P/comments/$T2/resolve")" 200
eq "same version" "$(body | jget version)" 2
eq "the author resolves their own thread" "$(call "$VW" POST "/projects/$P/comments/$T1/resolve" '{}' -H 'If-Match: "6"')" 200
eq "resolved" "$(body | jget resolved)" true
eq "a stale If-Match is 412" "$(call "$ED" POST "/projects/$P/comments/$T1/reopen" "" -H 'If-Match: "6"')" 412
eq "a body with fields is refused" "$(call "$ED" POST "/projects/$P/comments/$T1/reopen" '{"why":"x"}')" 400
eq "an editor reopens" "$(call "$ED" POST "/projects/$P/comments/$T1/reopen")" 200
eq "open again" "$(body | jget resolved) $(body | jget resolved_by) $(body | jget resolved_at)" "false null null"
eq "a reply cannot be resolved" "$(call "$ED" POST "/projects/$P/comments/$R1/resolve")" 400
eq "named" "$(body | jget errors.0.field)" comment_id
key="idem-$RANDOM$RANDOM"
eq "resolve with an Idempotency-Key" "$(call "$ED" POST "/projects/$P/comments/$T1/resolve" "" -H "Idempotency-Key: $key")" 200
eq "the retry gets the first answer" "$(call "$ED" POST "/projects/$P/comments/$T1/resolve" "" -H "Idempotency-Key: $key" -D "$SB_TMP/h")" 200
contains "marked as a replay" "$(tr -d '\r' <"$SB_TMP/h")" "idempotent-replayed: true"

# ---- the list ----
eq "the threads" "$(call "$VW" GET "/projects/$P/comments")" 200
all=$(ids)
eq "threads only, oldest first" "$(echo "$all" | cut -d' ' -f1-2)" "$T1 $T2"
check "no replies among them" bash -c "! grep -q '$R1' <<<'$all'"
eq "each with its reply count" "$(body | jget items.0.reply_count)" 2
call "$VW" GET "/projects/$P/comments?sort=-created_at" >/dev/null
eq "newest first" "$(ids)" "$(tr ' ' '\n' <<<"$all" | tac | tr '\n' ' ' | sed 's/ $//')"
call "$VW" GET "/projects/$P/comments?page_id=$PE" >/dev/null
eq "by page" "$(ids | wc -w | tr -d ' ')" 2
call "$VW" GET "/projects/$P/comments?page_id=$PG&element_id=hero" >/dev/null
eq "by element" "$(ids)" "$T2"
call "$VW" GET "/projects/$P/comments?resolved=true" >/dev/null
eq "resolved ones" "$(ids)" "$T1 $T2"
call "$VW" GET "/projects/$P/comments?resolved=false&page_id=$PG&element_id=hero" >/dev/null
eq "open ones" "$(ids)" ""
call "$VW" GET "/projects/$P/comments?limit=2" >/dev/null
page1=$(ids); cur=$(body | jget next_cursor)
eq "a first page" "$page1" "$(echo "$all" | cut -d' ' -f1-2)"
call "$VW" GET "/projects/$P/comments?limit=200&cursor=$cur" >/dev/null
eq "the rest after the cursor" "$page1 $(ids)" "$all"
eq "and the end" "$(body | jget next_cursor)" null
eq "a cursor of another sort is 400" "$(call "$VW" GET "/projects/$P/comments?sort=-created_at&cursor=$cur")" 400
eq "a bad state is 400" "$(call "$VW" GET "/projects/$P/comments?resolved=maybe")" 400
eq "a bad sort is 400" "$(call "$VW" GET "/projects/$P/comments?sort=body")" 400
eq "a bad page id is 400" "$(call "$VW" GET "/projects/$P/comments?page_id=home")" 400

# ---- who may ----
eq "a guest reads the threads on pages shared with them" "$(call "$GU" GET "/projects/$P/comments")" 200
check "only those" bash -c "! grep -q '$TE' '$SB_TMP/body'"
eq "and no thread elsewhere" "$(call "$GU" GET "/projects/$P/comments/$TE")" 404
eq "a guest may not comment unless the project allows it" "$(call "$GU" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"cta\",\"body\":\"Hi\"}")" 403
call "$OWN" PATCH "/projects/$P" '{"settings":{"security":{"guest_comments":true}}}' >/dev/null
eq "then they may, on a shared page" "$(call "$GU" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"cta\",\"body\":\"Hi\"}")" 201
TG=$(body | jget id)
eq "and reply there" "$(call "$GU" POST "/projects/$P/comments" "{\"parent_id\":\"$T1\",\"body\":\"Agreed\"}")" 201
eq "a page not shared with them is as good as absent" "$(call "$GU" POST "/projects/$P/comments" "{\"page_id\":\"$PE\",\"element_id\":\"top\",\"body\":\"Hi\"}")" 400
eq "so is a thread there" "$(call "$GU" POST "/projects/$P/comments" "{\"parent_id\":\"$TE\",\"body\":\"Hi\"}")" 400
eq "a guest does not resolve others' threads" "$(call "$GU" POST "/projects/$P/comments/$T1/resolve")" 403
eq "but edits their own words" "$(call "$GU" PATCH "/projects/$P/comments/$TG" '{"body":"Hello"}')" 200
eq "a stranger sees no comments" "$(call "$ST" GET "/projects/$P/comments")" 404
eq "nor a thread" "$(call "$ST" GET "/projects/$P/comments/$T1")" 404
eq "nor comments" "$(call "$ST" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"cta\",\"body\":\"x\"}")" 404
eq "nor deletes" "$(call "$ST" DELETE "/projects/$P/comments/$T1")" 404
eq "anonymous callers neither" "$(http "$A/projects/$P/comments")" 404
eq "and must sign in to comment" "$(post_json "$A/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"cta\",\"body\":\"x\"}")" 401
# A public project: its published pages are for everyone, its comments not.
call "$OWN" PATCH "/projects/$P" '{"visibility":"public"}' >/dev/null
call "$ED" PUT "/projects/$P/pages/$PG" '{"published":true}' >/dev/null
eq "anonymous callers read the published page" "$(http "$A/projects/$P/pages/$PG")" 200
eq "but the comment list is empty" "$(http "$A/projects/$P/comments")" 200
eq "empty" "$(ids) $(body | jget next_cursor)" " null"
eq "and a thread is not found" "$(http "$A/projects/$P/comments/$T1")" 404
eq "a signed-in stranger may not comment there" "$(call "$ST" POST "/projects/$P/comments" "{\"page_id\":\"$PG\",\"element_id\":\"cta\",\"body\":\"x\"}")" 404
eq "members still read them" "$(call "$VW" GET "/projects/$P/comments/$T1")" 200

# ---- deletes ----
eq "an editor may not delete another's reply" "$(call "$ED" DELETE "/projects/$P/comments/$R2")" 403
eq "its author may, with If-Match" "$(call "$VW" DELETE "/projects/$P/comments/$R2" "" -H 'If-Match: "1"')" 200
eq "answers success" "$(body | jget success)" true
eq "it is gone" "$(call "$VW" GET "/projects/$P/comments/$R2")" 404
call "$VW" GET "/projects/$P/comments/$T1" >/dev/null
v=$(body | jget version)
eq "the thread has one reply less" "$(body | jget reply_count)" 2
eq "a stale If-Match is 412" "$(call "$ADM" DELETE "/projects/$P/comments/$T1" "" -H "If-Match: \"$((v - 1))\"")" 412
eq "an admin deletes a thread" "$(call "$ADM" DELETE "/projects/$P/comments/$T1" "" -H "If-Match: \"$v\"")" 200
eq "with its replies" "$(sb_sql "SELECT count(*) FROM comments WHERE id = '$T1' OR parent_id = '$T1'")" 0

# ---- idempotent retries ----
key="idem-$RANDOM$RANDOM"
new='{"page_id":"'$PG'","element_id":"footer","body":"Once, @ada"}'
eq "a create with an Idempotency-Key" "$(call "$ED" POST "/projects/$P/comments" "$new" -H "Idempotency-Key: $key")" 201
first=$(body | jget id)
check "mails ada" sb_mail_wait 5
eq "the retry gets the first answer" "$(call "$ED" POST "/projects/$P/comments" "$new" -H "Idempotency-Key: $key" -D "$SB_TMP/h")" 201
eq "the same comment" "$(body | jget id)" "$first"
contains "marked as a replay" "$(tr -d '\r' <"$SB_TMP/h")" "idempotent-replayed: true"
eq "one comment was made" "$(sb_sql "SELECT count(*) FROM comments WHERE body = 'Once, @ada'")" 1
sleep 0.5
eq "and one mail sent" "$(mails)" 5
eq "the key with another body is 422" "$(call "$ED" POST "/projects/$P/comments" '{"page_id":"'$PG'","element_id":"footer","body":"Twice"}' -H "Idempotency-Key: $key")" 422

# ---- audit ----
call "$OWN" GET "/projects/$P/audit?limit=200" >/dev/null
actions=$(body | python3 -c 'import json,sys; print(" ".join(sorted({e["action"] for e in json.load(sys.stdin)["items"] if e["action"].startswith("comment")})))')
eq "every kind of change is audited" "$actions" "comment_created comment_deleted comment_reopened comment_resolved comment_updated"
eq "with the thread a reply went to" "$(sb_sql "SELECT details FROM audit_log WHERE action = 'comment_created' AND target = '$R1'")" "{\"page_id\":\"$PG\",\"thread\":\"$T1\"}"

# A page takes its comments with it.
eq "delete the blank page" "$(call "$ED" DELETE "/projects/$P/pages/$PE")" 200
eq "its comments are gone" "$(sb_sql "SELECT count(*) FROM comments WHERE page_id = '$PE'")" 0
sb_finish
