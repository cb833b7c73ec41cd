#!/usr/bin/env bash
# Teams, projects, pages and files over HTTP (API.md "Teams and roles",
# "Projects"): memberships and invitations by mail, the last owner rule,
# project CRUD with filters, full-text search, sorting and cursor pages that
# stay stable under inserts, component tree validation, file path rules and
# raw serving, ETag / If-None-Match, If-Match races, Idempotency-Key
# retries, templates with fresh ids, and the audit log.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_start_api
J='Content-Type: application/json'

read -r OWN OWN_ID <<<"$(signup owner@example.com)"
read -r ED ED_ID <<<"$(signup editor@example.com)"
read -r VW VW_ID <<<"$(signup viewer@example.com)"

# ---- teams and members ----
eq "create a team" "$(call "$OWN" POST /teams '{"name":"Acme"}')" 201
TEAM=$(body | jget id)
eq "the creator is owner" "$(body | jget role)" owner
eq "an empty name is refused" "$(call "$OWN" POST /teams '{"name":""}')" 400
eq "unknown fields are refused" "$(call "$OWN" POST /teams '{"name":"x","colour":"red"}')" 400
contains "and named" "$(body)" '"field":"colour"'
eq "anonymous cannot list teams" "$(http "$A/teams")" 401
eq "add an existing account" "$(call "$OWN" POST "/teams/$TEAM/members" '{"email":"Editor@example.com","role":"editor"}')" 201
eq "as editor" "$(body | jget role)" editor
eq "adding twice is a conflict" "$(call "$OWN" POST "/teams/$TEAM/members" '{"email":"editor@example.com","role":"viewer"}')" 409
eq "a bad role is refused" "$(call "$OWN" POST "/teams/$TEAM/members" '{"email":"viewer@example.com","role":"boss"}')" 400
eq "add a viewer" "$(call "$OWN" POST "/teams/$TEAM/members" '{"email":"viewer@example.com","role":"viewer"}')" 201
eq "an editor cannot add members" "$(call "$ED" POST "/teams/$TEAM/members" '{"email":"x@example.com","role":"viewer"}')" 403
eq "invite someone without an account" "$(call "$OWN" POST "/teams/$TEAM/members" '{"email":"newbie@example.com","role":"editor"}')" 201
eq "answers the invitation" "$(body | jget invite.email)" newbie@example.com
check "the invitation mail arrives" sb_mail_wait 1
mail=$(cat "$SB_MAIL/1.eml" 2>/dev/null)
contains "the invitation is mailed" "$mail" "newbie@example.com"
contains "with the team's name" "$mail" 'Acme'
itoken=$(grep -o 'token=[A-Za-z0-9_-]*' <<<"$mail" | head -1 | cut -d= -f2)
eq "the mail carries a join link" "${#itoken}" 43
read -r NEW NEW_ID <<<"$(signup newbie@example.com)"
eq "another user cannot use the invite" "$(call "$VW" POST /teams/join "{\"token\":\"$itoken\"}")" 404
eq "the invitee joins" "$(call "$NEW" POST /teams/join "{\"token\":\"$itoken\"}")" 200
eq "with the invited role" "$(body | jget role)" editor
eq "an invite works once" "$(call "$NEW" POST /teams/join "{\"token\":\"$itoken\"}")" 404
call "$OWN" GET "/teams/$TEAM/members" >/dev/null
eq "four members" "$(body | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')" 4
eq "the last owner cannot be demoted" "$(call "$OWN" PATCH "/teams/$TEAM/members/$OWN_ID" '{"role":"admin"}')" 409
eq "with a clear code" "$(body | jget code)" last_owner
eq "nor leave" "$(call "$OWN" DELETE "/teams/$TEAM/members/$OWN_ID")" 409
eq "promote the newcomer to admin" "$(call "$OWN" PATCH "/teams/$TEAM/members/$NEW_ID" '{"role":"admin"}')" 200
eq "an admin cannot make owners" "$(call "$NEW" PATCH "/teams/$TEAM/members/$ED_ID" '{"role":"owner"}')" 403
eq "an admin cannot touch the owner" "$(call "$NEW" DELETE "/teams/$TEAM/members/$OWN_ID")" 403
eq "demote the newcomer to a team guest" "$(call "$OWN" PATCH "/teams/$TEAM/members/$NEW_ID" '{"role":"guest"}')" 200
eq "a team guest sees the team" "$(call "$NEW" GET "/teams/$TEAM")" 200
eq "but not who is in it" "$(call "$NEW" GET "/teams/$TEAM/members")" 403
eq "a member may leave" "$(call "$NEW" DELETE "/teams/$TEAM/members/$NEW_ID")" 200
eq "other teams are invisible" "$(call "$NEW" GET "/teams/$TEAM")" 404

# ---- projects ----
mk() { # token json -> status (the new id is read with newid)
    call "$1" POST /projects "$2"
}
newid() { body | jget id; }
eq "create a team project" "$(mk "$OWN" "{\"name\":\"Bike shop\",\"description\":\"Landing page for bicycles\",\"team_id\":\"$TEAM\",\"visibility\":\"team\"}")" 201
P1=$(newid)
eq "the model" "$(body | python3 -c 'import json,sys; p=json.load(sys.stdin); print(sorted(p))')" "['created_at', 'deployment', 'description', 'id', 'name', 'owner_id', 'settings', 'team_id', 'template', 'updated_at', 'version', 'visibility']"
eq "settings sections" "$(body | jget settings)" '{"seo": {}, "performance": {}, "security": {}}'
eq "version 1" "$(body | jget version)" 1
eq "a viewer cannot create in the team" "$(mk "$VW" "{\"name\":\"x\",\"team_id\":\"$TEAM\"}")" 403
eq "a bad visibility" "$(mk "$OWN" '{"name":"x","visibility":"secret"}')" 400
eq "team visibility needs a team" "$(mk "$OWN" '{"name":"x","visibility":"team"}')" 400
eq "settings must be known sections" "$(mk "$OWN" '{"name":"x","settings":{"theme":{}}}')" 400
eq "a personal project" "$(mk "$ED" '{"name":"Cafe menu","description":"Coffee and cake"}')" 201
P2=$(newid)
eq "the viewer reads the team project" "$(call "$VW" GET "/projects/$P1")" 200
etag=$(curl -s -D - -o /dev/null -H "$(as "$VW")" "$A/projects/$P1" | tr -d '\r' | sed -n 's/^etag: //p')
eq "with an ETag" "$etag" '"1"'
eq "If-None-Match answers 304" "$(call "$VW" GET "/projects/$P1" "" -H "If-None-Match: $etag")" 304
eq "the owner cannot see a personal project of the editor" "$(call "$OWN" GET "/projects/$P2")" 404
eq "nor can anonymous callers" "$(http "$A/projects/$P1")" 404
eq "a viewer cannot edit" "$(call "$VW" PATCH "/projects/$P1" '{"name":"Hacked"}')" 403
eq "an editor edits" "$(call "$ED" PATCH "/projects/$P1" '{"description":"Landing page for bicycles and helmets"}' -H 'If-Match: "1"')" 200
eq "the version moves" "$(body | jget version)" 2
eq "a stale If-Match is 412" "$(call "$OWN" PATCH "/projects/$P1" '{"name":"Old view"}' -H 'If-Match: "1"')" 412
eq "an editor cannot change visibility" "$(call "$ED" PATCH "/projects/$P1" '{"visibility":"public"}')" 403
eq "PUT needs the name" "$(call "$OWN" PUT "/projects/$P1" '{"description":"x"}')" 400
eq "an editor cannot delete" "$(call "$ED" DELETE "/projects/$P1")" 403
# If-Match race: two writers with the same version, one wins.
call "$OWN" GET "/projects/$P1" >/dev/null
v=$(body | jget version)
eq "one racer wins, the others get 412" "$(race 4 -X PATCH -H "$(as "$OWN")" -H "$J" -H "If-Match: \"$v\"" --data-binary '{"description":"racer"}' "$A/projects/$P1")" "1 200 3 412 "

# Idempotent retries.
key="idem-$RANDOM$RANDOM"
eq "a create with an Idempotency-Key" "$(call "$OWN" POST /projects '{"name":"Once"}' -H "Idempotency-Key: $key")" 201
first=$(body | jget id)
eq "the retry gets the first answer" "$(call "$OWN" POST /projects '{"name":"Once"}' -H "Idempotency-Key: $key" -D "$SB_TMP/idem.h")" 201
eq "the same project" "$(body | jget id)" "$first"
contains "marked as a replay" "$(tr -d '\r' <"$SB_TMP/idem.h")" "idempotent-replayed: true"
eq "the key with another body is 422" "$(call "$OWN" POST /projects '{"name":"Twice"}' -H "Idempotency-Key: $key")" 422
eq "one project was made" "$(sb_sql "SELECT count(*) FROM projects WHERE name = 'Once'")" 1

# The list: filters, search, sort, pages.
for n in Alpha Bravo Charlie Delta Echo; do
    mk "$OWN" "{\"name\":\"$n\",\"team_id\":\"$TEAM\",\"visibility\":\"private\"}" >/dev/null
done
names() { body | python3 -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["items"]))'; }
eq "list by team" "$(call "$OWN" GET "/projects?team=$TEAM&sort=name")" 200
eq "sorted by name" "$(names)" "Alpha Bike shop Bravo Charlie Delta Echo"
call "$OWN" GET "/projects?team=$TEAM&sort=-name" >/dev/null
eq "descending" "$(names)" "Echo Delta Charlie Bravo Bike shop Alpha"
call "$VW" GET "/projects?team=$TEAM" >/dev/null
eq "a viewer sees team projects, not private ones" "$(names)" "Bike shop"
call "$OWN" GET "/projects?visibility=private&sort=name" >/dev/null
eq "filter by visibility" "$(names)" "Alpha Bravo Charlie Delta Echo Once"
call "$OWN" GET "/projects?q=bike" >/dev/null
eq "full-text search" "$(names)" "Bike shop"
call "$OWN" GET "/projects?q=racer%20bike" >/dev/null
eq "over name and description" "$(names)" "Bike shop"
call "$OWN" GET "/projects?q=bike%20unicorn" >/dev/null
eq "every word must match" "$(names)" ""
call "$OWN" GET "/projects?q=unicycles" >/dev/null
eq "no match, no items" "$(names)" ""
call "$OWN" GET "/projects?q=%22%20OR%20*" >/dev/null
eq "query syntax is not injected" "$(names)" ""
eq "a bad sort is 400" "$(call "$OWN" GET "/projects?sort=owner_id")" 400
eq "a bad limit is 400" "$(call "$OWN" GET "/projects?limit=0")" 400
eq "a forged cursor is 400" "$(call "$OWN" GET "/projects?cursor=bm9wZQ")" 400
call "$OWN" GET "/projects?team=$TEAM&sort=name&limit=2" >/dev/null
page1=$(names); cur=$(body | jget next_cursor)
eq "first page" "$page1" "Alpha Bike shop"
# Inserts between pages neither repeat nor skip rows.
mk "$OWN" "{\"name\":\"Aardvark\",\"team_id\":\"$TEAM\"}" >/dev/null
mk "$OWN" "{\"name\":\"Zulu\",\"team_id\":\"$TEAM\"}" >/dev/null
call "$OWN" GET "/projects?team=$TEAM&sort=name&limit=2&cursor=$cur" >/dev/null
eq "second page continues after the cursor" "$(names)" "Bravo Charlie"
cur=$(body | jget next_cursor)
call "$OWN" GET "/projects?team=$TEAM&sort=name&limit=10&cursor=$cur" >/dev/null
eq "last page sees later inserts in their place" "$(names)" "Delta Echo Zulu"
eq "and ends" "$(body | jget next_cursor)" "null"
eq "a cursor of another sort is 400" "$(call "$OWN" GET "/projects?team=$TEAM&sort=-name&cursor=$cur")" 400

# ---- pages ----
tree='[{"id":"hero","type":"Section","props":{"title":"Ride"},"children":[{"id":"cta","type":"Button","props":{"label":"Buy"}}]}]'
eq "create a page" "$(call "$ED" POST "/projects/$P1/pages" "{\"name\":\"Home\",\"path\":\"/\",\"components\":$tree}")" 201
PG=$(body | jget id)
eq "children are normalised" "$(body | jget components.0.children.0.children)" "[]"
eq "a duplicate path is 409" "$(call "$ED" POST "/projects/$P1/pages" '{"name":"Again","path":"/"}')" 409
eq "duplicate ids are refused" "$(call "$ED" POST "/projects/$P1/pages" '{"name":"Dup","path":"/dup","components":[{"id":"a","type":"X"},{"id":"b","type":"Y","children":[{"id":"a","type":"Z"}]}]}')" 400
contains "naming where" "$(body | jget detail)" "components[1].children[0].id"
eq "props must be an object" "$(call "$ED" POST "/projects/$P1/pages" '{"name":"P","path":"/p","components":[{"id":"a","type":"X","props":[]}]}')" 400
# A tree n components deep: the page's array holds n0, whose children hold n1...
deep() { python3 -c 'import json,sys; t={"id":"n0","type":"D"}; c=t
for i in range(1,int(sys.argv[1])): n={"id":"n%d"%i,"type":"D"}; c["children"]=[n]; c=n
print(json.dumps([t]))' "$1"; }
eq "a tree 64 components deep is accepted" "$(call "$ED" POST "/projects/$P1/pages" "{\"name\":\"Deep\",\"path\":\"/deep\",\"components\":$(deep 64)}")" 201
eq "and read back whole" "$(call "$ED" GET "/projects/$P1/pages/$(body | jget id)")" 200
eq "to its deepest component" "$(body | python3 -c 'import json,sys; c=json.load(sys.stdin)["components"][0]; d=1
while c["children"]: c=c["children"][0]; d+=1
print(d, c["id"])')" "64 n63"
eq "depth 65 is refused" "$(call "$ED" POST "/projects/$P1/pages" "{\"name\":\"Deeper\",\"path\":\"/deeper\",\"components\":$(deep 65)}")" 400
contains "by the tree validator, naming the limit" "$(body | jget detail)" "deeper than 64"
eq "a bad page path" "$(call "$ED" POST "/projects/$P1/pages" '{"name":"P","path":"/a/../b"}')" 400
eq "a viewer reads the page" "$(call "$VW" GET "/projects/$P1/pages/$PG")" 200
eq "with its tree" "$(body | jget components.0.children.0.props.label)" Buy
eq "a viewer cannot change it" "$(call "$VW" PUT "/projects/$P1/pages/$PG" '{"name":"X"}')" 403
eq "an editor updates it" "$(call "$ED" PUT "/projects/$P1/pages/$PG" '{"components":[{"id":"hero","type":"Section"}]}' -H 'If-Match: "1"')" 200
eq "a stale page write is 412" "$(call "$OWN" PUT "/projects/$P1/pages/$PG" '{"name":"Old"}' -H 'If-Match: "1"')" 412
eq "a page of another project is 404" "$(call "$ED" GET "/projects/$P2/pages/$PG")" 404
call "$VW" GET "/projects/$P1/pages" >/dev/null
eq "the page list" "$(body | jget items.0.path)" "/"

# ---- files ----
eq "create a file" "$(call "$ED" POST "/projects/$P1/files" '{"path":"src//./app.js","content":"console.log(1)\n"}')" 201
eq "the path is normalised" "$(body | jget path)" "src/app.js"
eq "the language from the extension" "$(body | jget language)" javascript
eq "raw content" "$(call "$VW" GET "/projects/$P1/files/src/app.js" "" -D "$SB_TMP/f.h")" 200
eq "exactly the bytes" "$(body)" "console.log(1)"
contains "its content type" "$(tr -d '\r' <"$SB_TMP/f.h")" "content-type: text/javascript; charset=utf-8"
eq "paths are case-sensitive" "$(call "$VW" GET "/projects/$P1/files/src/App.js")" 404
eq "css" "$(call "$ED" POST "/projects/$P1/files" '{"path":"styles/main.css","content":"body{}"}')" 201
eq "is css" "$(body | jget language)" css
for bad in '../etc/passwd' '/abs.js' 'a/../../x' 'a\\b.js' 'dir/'; do
    eq "refuses path $bad" "$(call "$ED" POST "/projects/$P1/files" "{\"path\":\"$bad\",\"content\":\"x\"}")" 400
done
eq "refuses NUL in a path" "$(call "$ED" POST "/projects/$P1/files" '{"path":"a\u0000b","content":"x"}')" 400
eq "encoded traversal in the URL is refused" "$(call "$VW" GET "/projects/$P1/files/src/..%2F..%2Fetc%2Fpasswd")" 400
eq "encoded dot segments are refused too" "$(call "$VW" GET "/projects/$P1/files/src/%2E%2E/app.js")" 400
eq "a duplicate file is 409" "$(call "$ED" POST "/projects/$P1/files" '{"path":"src/app.js","content":"x"}')" 409
eq "PUT changes it" "$(call "$ED" PUT "/projects/$P1/files/src/app.js" '{"content":"let a = 2;\n"}' -H 'If-Match: "1"')" 200
eq "to version 2" "$(body | jget version)" 2
eq "a stale file write is 412" "$(call "$ED" PUT "/projects/$P1/files/src/app.js" '{"content":"x"}' -H 'If-Match: "1"')" 412
python3 -c 'import json; print(json.dumps({"path": "big.txt", "content": "x" * (1024 * 1024 + 1)}))' >"$SB_TMP/big.json"
eq "a file over 1 MiB is 413" "$(call "$ED" POST "/projects/$P1/files" "@$SB_TMP/big.json")" 413
eq "viewers cannot write files" "$(call "$VW" PUT "/projects/$P1/files/src/app.js" '{"content":"x"}')" 403
eq "delete a file" "$(call "$ED" DELETE "/projects/$P1/files/styles/main.css")" 200
call "$VW" GET "/projects/$P1/files" >/dev/null
eq "the file list" "$(body | jget items.0.path)" "src/app.js"

# ---- templates ----
eq "make a template of the project" "$(call "$ED" POST /templates "{\"project_id\":\"$P1\",\"name\":\"Shop starter\"}")" 201
TPL=$(body | jget id)
eq "a project from the template" "$(mk "$ED" "{\"name\":\"Shop two\",\"team_id\":\"$TEAM\",\"visibility\":\"team\",\"template_id\":\"$TPL\",\"customizations\":{\"color\":\"red\"}}")" 201
P3=$(newid)
eq "records the template" "$(body | jget template.id) $(body | jget template.version) $(body | jget template.customizations.color)" "$TPL 1 red"
call "$ED" GET "/projects/$P3/pages" >/dev/null
NP=$(body | jget items.0.id)
call "$ED" GET "/projects/$P3/pages/$NP" >/dev/null
newid=$(body | jget components.0.id)
check "the copied tree has fresh ids" test "$newid" != hero -a ${#newid} -eq 36
eq "and the files" "$(call "$ED" GET "/projects/$P3/files/src/app.js")" 200
eq "an unknown template is 400" "$(mk "$ED" "{\"name\":\"x\",\"template_id\":\"$P3\"}")" 400
call "$VW" GET /templates >/dev/null
eq "a team viewer lists no templates (they hold drafts and code)" "$(body | jget items)" "[]"
eq "nor uses one" "$(mk "$VW" "{\"name\":\"x\",\"template_id\":\"$TPL\"}")" 400
mk "$OWN" "{\"name\":\"Secret\",\"team_id\":\"$TEAM\",\"visibility\":\"private\"}" >/dev/null
PRIV=$(newid)
call "$OWN" POST /templates "{\"project_id\":\"$PRIV\",\"name\":\"Secret kit\"}" >/dev/null
eq "a private project's template is its creator's alone" "$(body | jget team_id)" null
eq "other editors cannot use it" "$(mk "$ED" "{\"name\":\"x\",\"template_id\":\"$(body | jget id)\"}")" 400

# ---- audit ----
eq "an editor cannot read the audit log" "$(call "$ED" GET "/projects/$P1/audit")" 403
eq "the owner can" "$(call "$OWN" GET "/projects/$P1/audit")" 200
actions=$(body | python3 -c 'import json,sys; print(" ".join(e["action"] for e in json.load(sys.stdin)["items"]))')
contains "file changes are audited" "$actions" "file_updated"
contains "page changes" "$actions" "page_updated"
contains "creation" "$actions" "project_created"
eq "with the actor" "$(body | jget items.0.actor_id)" "$ED_ID"
check "and the session" test "$(body | jget items.0.session_id)" != null

eq "the owner deletes the project" "$(call "$OWN" DELETE "/projects/$P1")" 200
eq "it is gone" "$(call "$OWN" GET "/projects/$P1")" 404
eq "its pages too" "$(sb_sql "SELECT count(*) FROM pages WHERE project_id = '$P1'")" 0

# ---- team rules ----
eq "an allowlist that shuts out its author is refused" "$(call "$OWN" PATCH "/teams/$TEAM" '{"ip_allowlist":["10.0.0.0/8"]}')" 400
eq "one that holds loopback is kept" "$(call "$OWN" PATCH "/teams/$TEAM" '{"ip_allowlist":["127.0.0.1","::1/128"]}')" 200
eq "in canonical form" "$(body | jget settings.ip_allowlist)" '["127.0.0.1/32", "::1/128"]'
eq "members still reach the team" "$(call "$VW" GET "/teams/$TEAM")" 200
sb_sql "UPDATE teams SET settings = '{\"mfa_required_for_admin\":false,\"ip_allowlist\":[\"10.0.0.0/8\"]}' WHERE id = '$TEAM'" >/dev/null
eq "a member outside the ranges is refused" "$(call "$VW" GET "/projects/$P3")" 403
eq "with its own code" "$(body | jget code)" ip_not_allowed
eq "a stranger still sees nothing" "$(call "$NEW" GET "/projects/$P3")" 404
sb_sql "UPDATE teams SET settings = '{\"mfa_required_for_admin\":true,\"ip_allowlist\":[]}' WHERE id = '$TEAM'" >/dev/null
eq "admin actions need a second factor" "$(call "$OWN" GET "/projects/$P3/audit")" 403
eq "said so" "$(body | jget code)" mfa_required
eq "editing does not" "$(call "$ED" PATCH "/projects/$P3" '{"description":"still fine"}')" 200
sb_finish
