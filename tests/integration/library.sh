#!/usr/bin/env bash
# A team's component library, AI content records and project ownership
# transfer over HTTP: who may read and write (viewers read, editors write,
# guests and other teams see nothing, anonymous callers are 401), tree
# validation of library components, name conflicts, saving an element of a
# page, inserting copies with fresh ids (page version bumped, If-Match,
# the page's limits), ETag / If-None-Match, If-Match races, Idempotency-Key
# replays, cursor pages, audit rows, and the transfer rules.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_start_api
J='Content-Type: application/json'
read -r OWN OWN_ID <<<"$(signup owner@example.com)"
read -r ED ED_ID <<<"$(signup editor@example.com)"
read -r VW VW_ID <<<"$(signup viewer@example.com)"
read -r GU GU_ID <<<"$(signup guest@example.com)"
read -r OUT OUT_ID <<<"$(signup outsider@example.com)"
py() { python3 -c "$1"; }

call "$OWN" POST /teams '{"name":"Acme"}' >/dev/null
T=$(body | jget id)
for m in "editor@example.com editor" "viewer@example.com viewer" "guest@example.com guest"; do
    read -r email role <<<"$m"
    call "$OWN" POST "/teams/$T/members" "{\"email\":\"$email\",\"role\":\"$role\"}" >/dev/null
done
call "$OUT" POST /teams '{"name":"Elsewhere"}' >/dev/null
T2=$(body | jget id)

# ---- the library ----
card='{"id":"card","type":"Card","props":{"title":"Hi"},"children":[{"id":"btn","type":"Button"}]}'
eq "anonymous callers are asked to sign in" "$(http "$A/teams/$T/components")" 401
eq "an editor saves a component" "$(call "$ED" POST "/teams/$T/components" "{\"name\":\"Hero card\",\"component\":$card}" -D "$SB_TMP/h")" 201
C1=$(body | jget id)
contains "with its location" "$(tr -d '\r' <"$SB_TMP/h")" "location: /api/teams/$T/components/$C1"
eq "the model" "$(body | py 'import json,sys; print(sorted(json.load(sys.stdin)))')" "['component', 'created_at', 'created_by', 'id', 'name', 'team_id', 'updated_at', 'version']"
eq "normalised" "$(body | jget component.children.0.children)" "[]"
eq "its ids kept" "$(body | jget component.children.0.id)" btn
eq "by whom" "$(body | jget created_by)" "$ED_ID"
eq "a name is unique in the team" "$(call "$OWN" POST "/teams/$T/components" "{\"name\":\"Hero card\",\"component\":$card}")" 409
eq "said so" "$(body | jget errors.0.field)" name
eq "another team may use the name" "$(call "$OUT" POST "/teams/$T2/components" "{\"name\":\"Hero card\",\"component\":$card}")" 201
C2=$(body | jget id)

bad() { # name json-of-component -> status, detail in body
    call "$ED" POST "/teams/$T/components" "{\"name\":\"$1\",\"component\":$2}"
}
eq "a component needs a type" "$(bad x '{"id":"a"}')" 400
contains "named where" "$(body | jget detail)" "component.type: is required"
eq "ids are unique in the component" "$(bad x '{"id":"a","type":"T","children":[{"id":"b","type":"T"},{"id":"a","type":"T"}]}')" 400
contains "at the repeat" "$(body | jget detail)" "component.children[1].id"
eq "unknown component fields are refused" "$(bad x '{"id":"a","type":"T","style":{}}')" 400
eq "props must be an object" "$(bad x '{"id":"a","type":"T","props":[]}')" 400
eq "the component must be an object" "$(bad x '[]')" 400
eq "unknown body fields are refused" "$(call "$ED" POST "/teams/$T/components" "{\"name\":\"x\",\"component\":$card,\"colour\":1}")" 400
contains "and named" "$(body)" '"field":"colour"'
eq "a component or a page element is needed" "$(call "$ED" POST "/teams/$T/components" '{"name":"x"}')" 400
eq "an empty name" "$(bad '' "$card")" 400
py 'import json; print(json.dumps({"name":"Big","component":{"id":"b","type":"T","children":[{"id":"c%d"%i,"type":"T","props":{"t":"x"*60000}} for i in range(10)]}}))' >"$SB_TMP/big.json"
eq "a component over the page limit is 413" "$(call "$ED" POST "/teams/$T/components" "@$SB_TMP/big.json")" 413

eq "a viewer reads the library" "$(call "$VW" GET "/teams/$T/components")" 200
eq "a viewer reads a component" "$(call "$VW" GET "/teams/$T/components/$C1" "" -D "$SB_TMP/h")" 200
etag=$(tr -d '\r' <"$SB_TMP/h" | sed -n 's/^etag: //p')
eq "with an ETag" "$etag" '"1"'
eq "If-None-Match answers 304" "$(call "$VW" GET "/teams/$T/components/$C1" "" -H "If-None-Match: $etag")" 304
eq "a viewer cannot save" "$(call "$VW" POST "/teams/$T/components" "{\"name\":\"V\",\"component\":$card}")" 403
eq "nor change" "$(call "$VW" PUT "/teams/$T/components/$C1" '{"name":"V"}')" 403
eq "nor delete" "$(call "$VW" DELETE "/teams/$T/components/$C1")" 403
eq "a team guest does not see the library" "$(call "$GU" GET "/teams/$T/components")" 404
eq "nor its components" "$(call "$GU" GET "/teams/$T/components/$C1")" 404
eq "another team's member sees nothing" "$(call "$OUT" GET "/teams/$T/components")" 404
eq "not one component" "$(call "$OUT" GET "/teams/$T/components/$C1")" 404
eq "nor may save into it" "$(call "$OUT" POST "/teams/$T/components" "{\"name\":\"O\",\"component\":$card}")" 404
eq "a component is reached through its own team only" "$(call "$OWN" GET "/teams/$T/components/$C2")" 404
eq "a malformed id is 404" "$(call "$OWN" GET "/teams/$T/components/nope")" 404

eq "PUT renames with If-Match" "$(call "$ED" PUT "/teams/$T/components/$C1" '{"name":"Hero"}' -H 'If-Match: "1"')" 200
eq "the version moves" "$(body | jget version)" 2
eq "the tree is kept" "$(body | jget component.id)" card
eq "a stale If-Match is 412" "$(call "$OWN" PUT "/teams/$T/components/$C1" '{"name":"Old"}' -H 'If-Match: "1"')" 412
eq "PUT checks the tree" "$(call "$ED" PUT "/teams/$T/components/$C1" '{"component":{"id":"a"}}')" 400
eq "PUT takes no page source" "$(call "$ED" PUT "/teams/$T/components/$C1" '{"page_id":"x"}')" 400
call "$ED" POST "/teams/$T/components" "{\"name\":\"Spare\",\"component\":$card}" >/dev/null
eq "PUT to a taken name is 409" "$(call "$ED" PUT "/teams/$T/components/$C1" '{"name":"Spare"}')" 409
eq "PUT replaces the tree" "$(call "$ED" PUT "/teams/$T/components/$C1" '{"component":{"id":"card","type":"Card","children":[{"id":"btn","type":"Button","props":{"label":"Go"}}]}}')" 200
v=$(body | jget version)
eq "racing writers: one wins" "$(race 4 -X PUT -H "$(as "$ED")" -H "$J" -H "If-Match: \"$v\"" --data-binary '{"name":"Raced"}' "$A/teams/$T/components/$C1")" "1 200 3 412 "
call "$ED" PUT "/teams/$T/components/$C1" '{"name":"Hero"}' >/dev/null

key="idem-$RANDOM$RANDOM"
eq "a save with an Idempotency-Key" "$(call "$ED" POST "/teams/$T/components" "{\"name\":\"Once\",\"component\":$card}" -H "Idempotency-Key: $key")" 201
first=$(body | jget id)
eq "the retry gets the first answer" "$(call "$ED" POST "/teams/$T/components" "{\"name\":\"Once\",\"component\":$card}" -H "Idempotency-Key: $key" -D "$SB_TMP/h")" 201
eq "the same component" "$(body | jget id)" "$first"
contains "marked as a replay" "$(tr -d '\r' <"$SB_TMP/h")" "idempotent-replayed: true"
eq "one was made" "$(sb_sql "SELECT count(*) FROM library_components WHERE name = 'Once'")" 1

names() { body | py 'import json,sys; print(" ".join(c["name"] for c in json.load(sys.stdin)["items"]))'; }
for n in Zeta alpha Beta; do call "$ED" POST "/teams/$T/components" "{\"name\":\"$n\",\"component\":$card}" >/dev/null; done
call "$VW" GET "/teams/$T/components?limit=3" >/dev/null
eq "the list is by name, bytewise" "$(names)" "Beta Hero Once"
eq "without trees" "$(body | jget items.0.component)" null
cur=$(body | jget next_cursor)
call "$ED" POST "/teams/$T/components" "{\"name\":\"Mid\",\"component\":$card}" >/dev/null
call "$VW" GET "/teams/$T/components?limit=3&cursor=$cur" >/dev/null
eq "the next page continues after the cursor" "$(names)" "Spare Zeta alpha"
eq "and ends" "$(body | jget next_cursor)" null
eq "a forged cursor is 400" "$(call "$VW" GET "/teams/$T/components?cursor=!!!")" 400
eq "a bad limit is 400" "$(call "$VW" GET "/teams/$T/components?limit=0")" 400

# ---- saving an element of a page ----
call "$ED" POST /projects "{\"name\":\"Shop\",\"team_id\":\"$T\",\"visibility\":\"team\"}" >/dev/null
P=$(body | jget id)
tree='[{"id":"hero","type":"Section","children":[{"id":"cta","type":"Button","props":{"label":"Buy"}}]},{"id":"foot","type":"Footer"}]'
call "$ED" POST "/projects/$P/pages" "{\"name\":\"Home\",\"path\":\"/\",\"components\":$tree}" >/dev/null
PG=$(body | jget id)
eq "save an element of a page" "$(call "$ED" POST "/teams/$T/components" "{\"name\":\"Buy button\",\"page_id\":\"$PG\",\"element_id\":\"cta\"}")" 201
CB=$(body | jget id)
eq "the element's subtree" "$(body | jget component)" '{"id": "cta", "type": "Button", "props": {"label": "Buy"}, "children": []}'
eq "naming the project too" "$(call "$ED" POST "/teams/$T/components" "{\"name\":\"Hero section\",\"project_id\":\"$P\",\"page_id\":\"$PG\",\"element_id\":\"hero\"}")" 201
eq "with its children" "$(body | jget component.children.0.id)" cta
eq "an element that is not there" "$(call "$ED" POST "/teams/$T/components" "{\"name\":\"Ghost\",\"page_id\":\"$PG\",\"element_id\":\"nope\"}")" 400
eq "is named" "$(body | jget errors.0.field)" element_id
eq "the element id is needed" "$(call "$ED" POST "/teams/$T/components" "{\"name\":\"Ghost\",\"page_id\":\"$PG\"}")" 400
eq "a page of another project is refused" "$(call "$ED" POST "/teams/$T/components" "{\"name\":\"Ghost\",\"project_id\":\"$C1\",\"page_id\":\"$PG\",\"element_id\":\"cta\"}")" 400
eq "component and page together are refused" "$(call "$ED" POST "/teams/$T/components" "{\"name\":\"Ghost\",\"component\":$card,\"page_id\":\"$PG\",\"element_id\":\"cta\"}")" 400
call "$OUT" POST /projects '{"name":"Secret"}' >/dev/null
SP=$(body | jget id)
call "$OUT" POST "/projects/$SP/pages" "{\"name\":\"S\",\"path\":\"/\",\"components\":$tree}" >/dev/null
SPG=$(body | jget id)
eq "a page the caller cannot read is refused" "$(call "$ED" POST "/teams/$T/components" "{\"name\":\"Stolen\",\"page_id\":\"$SPG\",\"element_id\":\"cta\"}")" 400
unreadable=$(body | jget detail)
call "$ED" POST "/teams/$T/components" '{"name":"Stolen","page_id":"00000000-0000-7000-8000-000000000000","element_id":"cta"}' >/dev/null
eq "exactly as a page that does not exist" "$(body | jget detail)" "$unreadable"

# ---- inserting into a page ----
ins() { # token json [curl args] -> status
    local t=$1 d=$2
    shift 2
    call "$t" POST "/projects/$P/pages/$PG/components" "$d" "$@"
}
eq "insert a library component" "$(ins "$ED" "{\"library_component_id\":\"$C1\"}" -D "$SB_TMP/h")" 201
E1=$(body | jget element_id)
eq "the page's version moves" "$(body | jget page.version)" 2
contains "in the ETag" "$(tr -d '\r' <"$SB_TMP/h")" 'etag: "2"'
eq "at the end of the top level" "$(body | jget page.components.2.id)" "$E1"
check "with a fresh root id" test ${#E1} -eq 36 -a "$E1" != card
kid1=$(body | jget page.components.2.children.0.id)
check "and fresh ids below it" test ${#kid1} -eq 36 -a "$kid1" != btn
eq "props copied" "$(body | jget page.components.2.children.0.props.label)" Go
eq "insert again, under a parent, first" "$(ins "$ED" "{\"library_component_id\":\"$C1\",\"parent_id\":\"hero\",\"index\":0}" -H 'If-Match: "2"')" 201
E2=$(body | jget element_id)
eq "where asked" "$(body | jget page.components.0.children.0.id) $(body | jget page.components.0.children.1.id)" "$E2 cta"
check "a second copy has ids of its own" test "$E2" != "$E1" -a "$(body | jget page.components.0.children.0.children.0.id)" != "$kid1"
eq "a stale If-Match is 412" "$(ins "$ED" "{\"library_component_id\":\"$C1\"}" -H 'If-Match: "2"')" 412
eq "an unknown parent" "$(ins "$ED" "{\"library_component_id\":\"$C1\",\"parent_id\":\"nope\"}")" 400
eq "is named" "$(body | jget errors.0.field)" parent_id
eq "an index past the end" "$(ins "$ED" "{\"library_component_id\":\"$C1\",\"parent_id\":\"cta\",\"index\":1}")" 400
eq "a negative index" "$(ins "$ED" "{\"library_component_id\":\"$C1\",\"index\":-1}")" 400
eq "another team's component is refused" "$(ins "$ED" "{\"library_component_id\":\"$C2\"}")" 400
eq "is named" "$(body | jget errors.0.field)" library_component_id
eq "a viewer cannot insert" "$(ins "$VW" "{\"library_component_id\":\"$C1\"}")" 403
eq "another team's member sees no page" "$(ins "$OUT" "{\"library_component_id\":\"$C2\"}")" 404
eq "an unknown page is 404" "$(call "$ED" POST "/projects/$P/pages/$C1/components" "{\"library_component_id\":\"$C1\"}")" 404
eq "anonymous callers are asked to sign in" "$(post_json "$A/projects/$P/pages/$PG/components" "{\"library_component_id\":\"$C1\"}")" 401
key="idem-$RANDOM$RANDOM"
eq "an insert with an Idempotency-Key" "$(ins "$ED" "{\"library_component_id\":\"$CB\"}" -H "Idempotency-Key: $key")" 201
E3=$(body | jget element_id)
eq "is not repeated on retry" "$(ins "$ED" "{\"library_component_id\":\"$CB\"}" -H "Idempotency-Key: $key")" 201
eq "the first answer" "$(body | jget element_id)" "$E3"
call "$ED" GET "/projects/$P/pages/$PG" >/dev/null
eq "one copy on the page" "$(body | py 'import json,sys; print(len(json.load(sys.stdin)["components"]))')" 4
eq "inserts without If-Match all land" "$(race 4 -X POST -H "$(as "$ED")" -H "$J" --data-binary "{\"library_component_id\":\"$CB\",\"parent_id\":\"foot\"}" "$A/projects/$P/pages/$PG/components")" "4 201 "
call "$ED" GET "/projects/$P/pages/$PG" >/dev/null
eq "none lost" "$(body | py 'import json,sys; print(len([c for c in json.load(sys.stdin)["components"] if c["id"] == "foot"][0]["children"]))')" 4
# A chain of 31 components (the deepest a request body can carry) fits,
# but three of them nested in one another pass the page's 64 levels.
chain=$(py 'import json; t={"id":"n1","type":"D"}; c=t
for i in range(2,32): n={"id":"n%d"%i,"type":"D"}; c["children"]=[n]; c=n
print(json.dumps({"name":"Chain","component":t}))')
call "$ED" POST "/teams/$T/components" "$chain" >/dev/null
CH=$(body | jget id)
deepest() { body | py 'import json,sys
c=json.load(sys.stdin)["page"]["components"][-1]
while c["children"]: c=c["children"][0]
print(c["id"])'; }
ins "$ED" "{\"library_component_id\":\"$CH\"}" >/dev/null
eq "a deep component may nest once" "$(ins "$ED" "{\"library_component_id\":\"$CH\",\"parent_id\":\"$(deepest)\"}")" 201
eq "not past the page's depth" "$(ins "$ED" "{\"library_component_id\":\"$CH\",\"parent_id\":\"$(deepest)\"}")" 400
contains "said so" "$(body | jget detail)" "would make the page invalid at"
contains "with the rule" "$(body | jget detail)" "nested deeper than 64 levels"

eq "delete with a stale If-Match is 412" "$(call "$ED" DELETE "/teams/$T/components/$CB" "" -H 'If-Match: "9"')" 412
eq "delete a component" "$(call "$ED" DELETE "/teams/$T/components/$CB" "" -H 'If-Match: "1"')" 200
eq "it is gone" "$(call "$ED" GET "/teams/$T/components/$CB")" 404
eq "and cannot be inserted" "$(ins "$ED" "{\"library_component_id\":\"$CB\"}")" 400
eq "pages keep their copies" "$(call "$ED" GET "/projects/$P/pages/$PG")" 200

# ---- AI content ----
ai() { # token json [curl args] -> status
    local t=$1 d=$2
    shift 2
    call "$t" POST "/projects/$P/ai-content" "$d" "$@"
}
eq "anonymous callers are asked to sign in" "$(http "$A/projects/$P/ai-content")" 401
eq "an editor records generated copy" "$(ai "$ED" '{"type":"copy","prompt":"A tagline\nfor bikes","result":"Ride further."}' -D "$SB_TMP/h")" 201
AI1=$(body | jget id)
contains "with its location" "$(tr -d '\r' <"$SB_TMP/h")" "location: /api/projects/$P/ai-content/$AI1"
eq "the model" "$(body | py 'import json,sys; print(sorted(json.load(sys.stdin)))')" "['created_at', 'created_by', 'id', 'project_id', 'prompt', 'result', 'type']"
eq "the prompt as given" "$(body | jget prompt)" $'A tagline\nfor bikes'
eq "a string result" "$(body | jget result)" "Ride further."
eq "a JSON result" "$(ai "$ED" '{"type":"page","prompt":"A home page","result":{"components":[{"id":"h","type":"Hero"}],"score":0.5}}')" 201
AI2=$(body | jget id)
eq "comes back as JSON" "$(body | jget result.components.0.type) $(body | jget result.score)" "Hero 0.5"
eq "an unknown type" "$(ai "$ED" '{"type":"poem","prompt":"p","result":"r"}')" 400
eq "is named" "$(body | jget errors.0.field)" type
eq "an empty prompt" "$(ai "$ED" '{"type":"copy","prompt":"","result":"r"}')" 400
eq "control characters in a prompt" "$(ai "$ED" '{"type":"copy","prompt":"a\u0007b","result":"r"}')" 400
eq "a number is no result" "$(ai "$ED" '{"type":"copy","prompt":"p","result":5}')" 400
eq "a result is required" "$(ai "$ED" '{"type":"copy","prompt":"p"}')" 400
eq "null is no result" "$(ai "$ED" '{"type":"copy","prompt":"p","result":null}')" 400
eq "unknown fields are refused" "$(ai "$ED" '{"type":"copy","prompt":"p","result":"r","model":"x"}')" 400
py 'import json; print(json.dumps({"type":"copy","prompt":"p"*(32*1024+1),"result":"r"}))' >"$SB_TMP/big.json"
eq "a prompt over 32 KiB is 413" "$(ai "$ED" "@$SB_TMP/big.json")" 413
eq "is named" "$(body | jget errors.0.field)" prompt
py 'import json; print(json.dumps({"type":"code","prompt":"p","result":"x"*(1024*1024)}))' >"$SB_TMP/big.json"
eq "a result over 1 MiB is 413" "$(ai "$ED" "@$SB_TMP/big.json")" 413
py 'import json; print(json.dumps({"type":"code","prompt":"p","result":"x"*(1024*1024-2)}))' >"$SB_TMP/big.json"
eq "1 MiB exactly fits" "$(ai "$ED" "@$SB_TMP/big.json")" 201
AI3=$(body | jget id)
eq "a viewer cannot record" "$(ai "$VW" '{"type":"copy","prompt":"p","result":"r"}')" 403
eq "a viewer lists" "$(call "$VW" GET "/projects/$P/ai-content")" 200
eq "newest first" "$(body | py 'import json,sys; print(" ".join(i["type"] for i in json.load(sys.stdin)["items"]))')" "code page copy"
eq "without results" "$(body | jget items.0.result)" null
call "$VW" GET "/projects/$P/ai-content?type=page" >/dev/null
eq "filtered by type" "$(body | jget items.0.id) $(body | jget next_cursor)" "$AI2 null"
eq "a bad type filter is 400" "$(call "$VW" GET "/projects/$P/ai-content?type=poem")" 400
call "$VW" GET "/projects/$P/ai-content?limit=2" >/dev/null
cur=$(body | jget next_cursor)
eq "pages of two" "$(body | jget items.1.id)" "$AI2"
call "$VW" GET "/projects/$P/ai-content?limit=2&cursor=$cur" >/dev/null
eq "the next page" "$(body | jget items.0.id) $(body | jget next_cursor)" "$AI1 null"
eq "a forged cursor is 400" "$(call "$VW" GET "/projects/$P/ai-content?cursor=abc")" 400
eq "a viewer reads one" "$(call "$VW" GET "/projects/$P/ai-content/$AI2" "" -D "$SB_TMP/h")" 200
eq "with its result" "$(body | jget result.components.0.id)" h
etag=$(tr -d '\r' <"$SB_TMP/h" | sed -n 's/^etag: //p')
eq "and an ETag" "$etag" '"1"'
eq "If-None-Match answers 304" "$(call "$VW" GET "/projects/$P/ai-content/$AI2" "" -H "If-None-Match: $etag")" 304
eq "a team guest sees none" "$(call "$GU" GET "/projects/$P/ai-content")" 404
eq "another team's member sees none" "$(call "$OUT" GET "/projects/$P/ai-content/$AI1")" 404
eq "nor may record" "$(call "$OUT" POST "/projects/$P/ai-content" '{"type":"copy","prompt":"p","result":"r"}')" 404
eq "a record of another project is 404" "$(call "$OUT" GET "/projects/$SP/ai-content/$AI1")" 404
eq "a viewer cannot delete" "$(call "$VW" DELETE "/projects/$P/ai-content/$AI3")" 403
key="idem-$RANDOM$RANDOM"
eq "a record with an Idempotency-Key" "$(ai "$ED" '{"type":"seo","prompt":"p","result":{"title":"t"}}' -H "Idempotency-Key: $key")" 201
first=$(body | jget id)
eq "is not repeated" "$(ai "$ED" '{"type":"seo","prompt":"p","result":{"title":"t"}}' -H "Idempotency-Key: $key")" 201
eq "the first answer" "$(body | jget id)" "$first"
eq "one record made" "$(sb_sql "SELECT count(*) FROM ai_content WHERE type = 'seo'")" 1
eq "delete with a stale If-Match is 412" "$(call "$ED" DELETE "/projects/$P/ai-content/$AI3" "" -H 'If-Match: "2"')" 412
eq "an editor deletes" "$(call "$ED" DELETE "/projects/$P/ai-content/$AI3" "" -H 'If-Match: "1"')" 200
eq "it is gone" "$(call "$ED" GET "/projects/$P/ai-content/$AI3")" 404
eq "deleting twice is 404" "$(call "$ED" DELETE "/projects/$P/ai-content/$AI3")" 404
# A public project shows its published pages to anyone, never AI records.
call "$OUT" PATCH "/projects/$SP" '{"visibility":"public"}' >/dev/null
call "$OUT" POST "/projects/$SP/ai-content" '{"type":"copy","prompt":"p","result":"r"}' >/dev/null
eq "a stranger reads a public project" "$(call "$ED" GET "/projects/$SP")" 200
eq "not its AI records" "$(call "$ED" GET "/projects/$SP/ai-content")" 404

# ---- transfer ----
xfer() { # token project json [curl args] -> status
    local t=$1 p=$2 d=$3
    shift 3
    call "$t" POST "/projects/$p/transfer" "$d" "$@"
}
call "$OWN" POST /projects "{\"name\":\"Handover\",\"team_id\":\"$T\",\"visibility\":\"team\"}" >/dev/null
TP=$(body | jget id)
eq "an editor cannot transfer" "$(xfer "$ED" "$TP" "{\"user_id\":\"$VW_ID\"}")" 403
eq "nor a viewer" "$(xfer "$VW" "$TP" "{\"user_id\":\"$VW_ID\"}")" 403
eq "a stranger sees no project" "$(xfer "$OUT" "$TP" "{\"user_id\":\"$OUT_ID\"}")" 404
eq "anonymous callers are asked to sign in" "$(post_json "$A/projects/$TP/transfer" "{\"user_id\":\"$OUT_ID\"}")" 401
eq "not to someone outside the team" "$(xfer "$OWN" "$TP" "{\"user_id\":\"$OUT_ID\"}")" 400
outside=$(body | jget detail)
eq "is named" "$(body | jget errors.0.field)" user_id
xfer "$OWN" "$TP" '{"user_id":"00000000-0000-7000-8000-000000000000"}' >/dev/null
eq "no account answers the same" "$(body | jget detail)" "$outside"
eq "not to a team guest" "$(xfer "$OWN" "$TP" "{\"user_id\":\"$GU_ID\"}")" 400
eq "not to the owner" "$(xfer "$OWN" "$TP" "{\"user_id\":\"$OWN_ID\"}")" 400
eq "a stale If-Match is 412" "$(xfer "$OWN" "$TP" "{\"user_id\":\"$ED_ID\"}" -H 'If-Match: "7"')" 412
eq "the owner transfers to a member" "$(xfer "$OWN" "$TP" "{\"user_id\":\"$ED_ID\"}" -H 'If-Match: "1"' -D "$SB_TMP/h")" 200
eq "who owns it now" "$(body | jget owner_id)" "$ED_ID"
eq "the version moved" "$(body | jget version)" 2
contains "in the ETag" "$(tr -d '\r' <"$SB_TMP/h")" 'etag: "2"'
eq "the new owner reads it" "$(call "$ED" GET "/projects/$TP")" 200
eq "the previous owner is an admin of it" "$(sb_sql "SELECT role FROM project_members WHERE project_id = '$TP' AND user_id = '$OWN_ID'")" admin
call "$OWN" GET "/projects/$TP/audit" >/dev/null
eq "audited" "$(body | jget items.0.action) $(body | jget items.0.target)" "project_transferred $ED_ID"
eq "from whom to whom" "$(body | jget items.0.details)" "{\"from\": \"$OWN_ID\", \"to\": \"$ED_ID\"}"

call "$ED" POST /projects '{"name":"Personal"}' >/dev/null
PP=$(body | jget id)
eq "a personal project goes only to a collaborator" "$(xfer "$ED" "$PP" "{\"user_id\":\"$VW_ID\"}")" 400
call "$ED" PUT "/projects/$PP/members" "{\"user_id\":\"$VW_ID\",\"role\":\"guest\"}" >/dev/null
eq "not a guest" "$(xfer "$ED" "$PP" "{\"user_id\":\"$VW_ID\"}")" 400
call "$ED" PUT "/projects/$PP/members" "{\"user_id\":\"$VW_ID\",\"role\":\"editor\"}" >/dev/null
call "$ED" GET "/projects/$PP" >/dev/null
v=$(body | jget version)
# The loser gets 412, or 403 when it starts after the winner made it an admin.
eq "racing transfers: one wins" "$(race 2 -X POST -H "$(as "$ED")" -H "$J" -H "If-Match: \"$v\"" --data-binary "{\"user_id\":\"$VW_ID\"}" "$A/projects/$PP/transfer" | grep -o '[0-9]* 200')" "1 200"
eq "to the collaborator" "$(sb_sql "SELECT owner_id FROM projects WHERE id = '$PP'")" "$VW_ID"
eq "the new owner's member row is gone" "$(sb_sql "SELECT count(*) FROM project_members WHERE project_id = '$PP' AND user_id = '$VW_ID'")" 0
eq "the previous owner reads on" "$(call "$ED" GET "/projects/$PP")" 200
eq "as an admin, who may not delete" "$(call "$ED" DELETE "/projects/$PP")" 403
eq "nor transfer" "$(xfer "$ED" "$PP" "{\"user_id\":\"$ED_ID\"}")" 403
key="idem-$RANDOM$RANDOM"
eq "a transfer with an Idempotency-Key" "$(xfer "$VW" "$PP" "{\"user_id\":\"$ED_ID\"}" -H "Idempotency-Key: $key")" 200
eq "its retry replays, not 403" "$(xfer "$VW" "$PP" "{\"user_id\":\"$ED_ID\"}" -H "Idempotency-Key: $key" -D "$SB_TMP/h")" 200
contains "marked as a replay" "$(tr -d '\r' <"$SB_TMP/h")" "idempotent-replayed: true"
eq "owned again by the editor" "$(body | jget owner_id)" "$ED_ID"
eq "unknown fields are refused" "$(xfer "$ED" "$PP" "{\"user_id\":\"$VW_ID\",\"team_id\":\"$T\"}")" 400
sb_finish
