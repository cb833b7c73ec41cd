#!/usr/bin/env bash
# Version control of projects: commits from the live project and from
# change lists, branches, tags, history, diffs (unified for files,
# structural for pages), merges with and without conflicts and their
# resolution, rollback, role rules, `git clone` over dumb HTTP with
# the real git client, `git log` and `git show` on the clone, and the
# event of every ref move (docs/vcs.md, "Events").
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_start_api
read -r OWN OWN_ID <<<"$(signup owner@example.com)"
read -r ED ED_ID <<<"$(signup editor@example.com editor)"
read -r VW _ <<<"$(signup viewer@example.com)"
read -r OUT _ <<<"$(signup outsider@example.com)"

call "$OWN" POST /teams '{"name":"Acme"}' >/dev/null
TEAM=$(body | jget id)
call "$OWN" POST "/teams/$TEAM/members" '{"email":"editor@example.com","role":"editor"}' >/dev/null
call "$OWN" POST "/teams/$TEAM/members" '{"email":"viewer@example.com","role":"viewer"}' >/dev/null
call "$OWN" POST /projects "{\"name\":\"Site\",\"team_id\":\"$TEAM\",\"visibility\":\"team\"}" >/dev/null
P=$(body | jget id)
V="/projects/$P/vcs"

tree='[{"id":"hero","type":"Section","props":{"title":"Hello","color":"red"},"children":[{"id":"cta","type":"Button","props":{"label":"Go"}}]},{"id":"footer","type":"Footer","props":{}}]'
eq "a page" "$(call "$ED" POST "/projects/$P/pages" "{\"name\":\"Home\",\"path\":\"/\",\"components\":$tree}")" 201
PG=$(body | jget id)
printf 'line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\n' >"$SB_TMP/app.js"
APPJS=$(python3 -c 'import json,sys;print(json.dumps(open(sys.argv[1]).read()))' "$SB_TMP/app.js")
eq "a file" "$(call "$ED" POST "/projects/$P/files" "{\"path\":\"src/app.js\",\"content\":$APPJS}")" 201
eq "a style" "$(call "$ED" POST "/projects/$P/files" '{"path":"styles/site.css","content":"body { color: red; }\n"}')" 201

# ---- history starts empty; the first commit snapshots the live project ----
eq "an empty history" "$(call "$VW" GET "$V/commits")" 200
eq "has no commits" "$(body | jget items)" "[]"
eq "a viewer may not commit" "$(call "$VW" POST "$V/commits" '{"message":"x","from_live":true}')" 403
eq "an outsider sees nothing" "$(call "$OUT" GET "$V/commits")" 404
eq "the editor commits the live project" "$(call "$ED" POST "$V/commits" '{"message":"First version","from_live":true}')" 201
C1=$(body | jget id)
eq "by the editor" "$(body | jget author.name)" editor
eq "with no parent" "$(body | jget parents)" "[]"
eq "main exists" "$(call "$VW" GET "$V/branches")" 200
eq "at the commit" "$(body | jget items.0.commit)" "$C1"
eq "committing the same content again changes nothing" "$(call "$ED" POST "$V/commits" '{"message":"again","from_live":true}')" 400
eq "the file at main" "$(call "$VW" GET "$V/files/files/src/app.js")" 200
eq "is the file" "$(body)" "$(cat "$SB_TMP/app.js")"
eq "the page at main" "$(call "$VW" GET "$V/files/pages/$PG.json")" 200
eq "is the page as JSON" "$(body | jget components.0.props.title)" Hello

# ---- a branch, both sides edited through REST ----
eq "a viewer may not branch" "$(call "$VW" POST "$V/branches" '{"name":"redesign"}')" 403
eq "the editor branches" "$(call "$ED" POST "$V/branches" '{"name":"redesign"}')" 201
eq "at main's head" "$(body | jget commit)" "$C1"
eq "a taken name is 409" "$(call "$ED" POST "$V/branches" '{"name":"redesign"}')" 409
eq "a bad name is 400" "$(call "$ED" POST "$V/branches" '{"name":"a..b"}')" 400

# main: the live page's title and the file's first line change
tree2='[{"id":"hero","type":"Section","props":{"title":"Welcome","color":"red"},"children":[{"id":"cta","type":"Button","props":{"label":"Go"}}]},{"id":"footer","type":"Footer","props":{}}]'
eq "edit the live page" "$(call "$ED" PUT "/projects/$P/pages/$PG" "{\"name\":\"Home\",\"path\":\"/\",\"components\":$tree2}")" 200
sed -i 's/^line 1$/line one/' "$SB_TMP/app.js"
APPJS=$(python3 -c 'import json,sys;print(json.dumps(open(sys.argv[1]).read()))' "$SB_TMP/app.js")
eq "edit the live file" "$(call "$ED" PUT "/projects/$P/files/src/app.js" "{\"content\":$APPJS}")" 200
eq "commit main" "$(call "$ED" POST "$V/commits" "{\"message\":\"Welcome\",\"from_live\":true,\"expect\":\"$C1\"}")" 201
C2=$(body | jget id)
eq "a stale expect is 412" "$(call "$ED" POST "$V/commits" "{\"message\":\"late\",\"from_live\":true,\"expect\":\"$C1\"}")" 412

# redesign: the colour of hero, a new component, the file's last line
page_b=$(python3 - "$PG" <<'PY'
import json, sys
page = {"id": sys.argv[1], "name": "Home", "path": "/", "published": False, "metadata": {},
        "components": [
            {"id": "hero", "type": "Section", "props": {"title": "Hello", "color": "blue"},
             "children": [{"id": "cta", "type": "Button", "props": {"label": "Go"}}]},
            {"id": "promo", "type": "Banner", "props": {"text": "Sale"}},
            {"id": "footer", "type": "Footer", "props": {}}]}
print(json.dumps(page))
PY
)
JS_B=$(printf 'line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline seven\n' | python3 -c 'import json,sys;print(json.dumps(sys.stdin.read()))')
eq "commit on the branch" "$(call "$ED" POST "$V/commits" "{\"branch\":\"redesign\",\"message\":\"Blue hero\",\"changes\":[{\"path\":\"pages/$PG.json\",\"page\":$page_b},{\"path\":\"files/src/app.js\",\"content\":$JS_B},{\"path\":\"files/src/new.js\",\"content\":\"export {};\\n\"}]}")" 201
B1=$(body | jget id)
eq "whose parent is the fork point" "$(body | jget parents.0)" "$C1"
eq "a path outside the layout is refused" "$(call "$ED" POST "$V/commits" '{"branch":"redesign","message":"x","changes":[{"path":"../etc/passwd","content":"x"}]}')" 400
eq "an invalid page tree is refused" "$(call "$ED" POST "$V/commits" "{\"branch\":\"redesign\",\"message\":\"x\",\"changes\":[{\"path\":\"pages/$PG.json\",\"page\":{\"components\":[{\"id\":\"a\"},{\"id\":\"a\"}]}}]}")" 400
eq "a page under another page's id is refused" "$(call "$ED" POST "$V/commits" "{\"branch\":\"redesign\",\"message\":\"x\",\"changes\":[{\"path\":\"pages/00000000-0000-7000-8000-000000000000.json\",\"page\":$page_b}]}")" 400
eq "a component the service would refuse is refused" "$(call "$ED" POST "$V/commits" "{\"branch\":\"redesign\",\"message\":\"x\",\"changes\":[{\"path\":\"pages/$PG.json\",\"page\":{\"id\":\"$PG\",\"name\":\"H\",\"path\":\"/\",\"components\":[{\"id\":\"a b\",\"type\":\"X\"}]}}]}")" 400
contains "naming where" "$(body)" "components[0].id"
eq "a commit to a missing branch is 404" "$(call "$ED" POST "$V/commits" '{"branch":"nope","message":"x","changes":[{"path":"files/a","content":"x"}]}')" 404

# ---- diff ----
eq "diff main..redesign" "$(call "$VW" GET "$V/diff?from=main&to=redesign")" 200
body >"$SB_TMP/diff.json"
check "the page diff names the prop that changed" python3 - "$SB_TMP/diff.json" "$PG" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); pg = "pages/%s.json" % sys.argv[2]
f = {x["path"]: x for x in d["files"]}
page = f[pg]; assert page["kind"] == "page" and page["status"] == "modified", page
ch = page["changes"]
hero = [c for c in ch if c["op"] == "changed" and c["component_id"] == "hero"][0]
props = {p["name"]: (p["old"], p["new"]) for p in hero["props"]}
assert props == {"title": ("Welcome", "Hello"), "color": ("red", "blue")}, props
added = [c for c in ch if c["op"] == "added"]
assert [(c["component_id"], c["type"], c["parent_id"]) for c in added] == [("promo", "Banner", None)], added
assert f["files/src/new.js"]["status"] == "added"
patch = f["files/src/app.js"]["patch"]
assert "-line one" in patch and "+line 1" in patch and "+line seven" in patch, patch
assert patch.startswith("diff --git a/files/src/app.js b/files/src/app.js"), patch
PY
eq "diff from an unknown ref is 404" "$(call "$VW" GET "$V/diff?from=nope&to=main")" 404

# ---- merge without conflicts: different props, different lines ----
eq "an editor may not merge into main" "$(call "$ED" POST "$V/merge" '{"source":"redesign"}')" 403
eq "the owner merges redesign into main" "$(call "$OWN" POST "$V/merge" '{"source":"redesign"}')" 200
M1=$(body | jget commit)
eq "a merge commit" "$(body | jget fast_forward)" false
call "$VW" GET "$V/commits?limit=1" >/dev/null
eq "with two parents" "$(body | jget items.0.parents)" "[\"$C2\", \"$B1\"]"
call "$VW" GET "$V/files/pages/$PG.json" >/dev/null
body >"$SB_TMP/merged.json"
check "the page holds both sides' changes" python3 - "$SB_TMP/merged.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
c = p["components"]
assert [x["id"] for x in c] == ["hero", "promo", "footer"], c
assert c[0]["props"] == {"title": "Welcome", "color": "blue"}, c[0]
assert c[0]["children"][0]["id"] == "cta"
PY
call "$VW" GET "$V/files/files/src/app.js" >/dev/null
eq "the file holds both sides' lines" "$(body | head -1),$(body | tail -1)" "line one,line seven"
call "$VW" GET "/projects/$P/pages/$PG" >/dev/null
eq "the live page follows main" "$(body | jget components.0.props.color),$(body | jget components.1.id)" "blue,promo"
eq "the branch's new file is live" "$(call "$VW" GET "/projects/$P/files/src/new.js")" 200
eq "committing the live project after the merge changes nothing" "$(call "$OWN" POST "$V/commits" '{"message":"same","from_live":true}')" 400
eq "merging again is up to date" "$(call "$OWN" POST "$V/merge" '{"source":"redesign"}')" 200
eq "nothing to do" "$(body | jget up_to_date)" true

# ---- merge with conflicts: the same prop and the same line both ways ----
eq "branch b2 from main" "$(call "$ED" POST "$V/branches" '{"name":"b2"}')" 201
eq "branch b3 from main" "$(call "$ED" POST "$V/branches" '{"name":"b3"}')" 201
edit_page() { # branch title label
    call "$VW" GET "$V/files/pages/$PG.json?ref=$1" >/dev/null
    local pg
    pg=$(body | python3 -c 'import json,sys
p=json.load(sys.stdin); p["components"][0]["props"]["title"]=sys.argv[1]
p["components"][0]["children"][0]["props"]["label"]=sys.argv[2]; print(json.dumps(p))' "$2" "$3")
    call "$ED" POST "$V/commits" "{\"branch\":\"$1\",\"message\":\"$2\",\"changes\":[{\"path\":\"pages/$PG.json\",\"page\":$pg},{\"path\":\"files/styles/site.css\",\"content\":\"body { color: $2; }\\n\"}]}"
}
eq "b2 edits" "$(edit_page b2 green Go)" 201
eq "b3 edits" "$(edit_page b3 purple Buy)" 201
B3=$(body | jget id)
eq "an editor merges b3 into b2: conflicts" "$(call "$ED" POST "$V/merge" '{"source":"b3","target":"b2"}')" 409
body >"$SB_TMP/conflicts.json"
check "conflicts are structured" python3 - "$SB_TMP/conflicts.json" "$PG" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); pg = "pages/%s.json" % sys.argv[2]
c = {x["id"]: x for x in d["conflicts"]}
assert set(c) == {pg + "#hero/props/title", "files/styles/site.css"}, list(c)
t = c[pg + "#hero/props/title"]
assert (t["kind"], t["component_id"], t["prop"], t["base"], t["ours"], t["theirs"]) == \
    ("prop", "hero", "title", "Welcome", "green", "purple"), t
f = c["files/styles/site.css"]
assert f["kind"] == "content" and "<<<<<<< ours" in f["merged"], f
assert len(d["target_head"]) == 40 and len(d["source_head"]) == 40
PY
TH=$(jget target_head <"$SB_TMP/conflicts.json")
SH=$(jget source_head <"$SB_TMP/conflicts.json")
eq "b2 did not move" "$(call "$VW" GET "$V/branches" >/dev/null; body | python3 -c 'import json,sys;print([b["commit"] for b in json.load(sys.stdin)["items"] if b["name"]=="b2"][0])')" "$TH"
eq "resolve needs the heads" "$(call "$ED" POST "$V/merge/resolve" '{"source":"b3","target":"b2","resolutions":{}}')" 400
eq "a partial resolution still conflicts" "$(call "$ED" POST "$V/merge/resolve" "{\"source\":\"b3\",\"target\":\"b2\",\"expect_target\":\"$TH\",\"expect_source\":\"$SH\",\"resolutions\":{\"pages/$PG.json#hero/props/title\":\"theirs\"}}")" 409
eq "one left" "$(body | jget conflicts.0.id)" "files/styles/site.css"
eq "resolved" "$(call "$ED" POST "$V/merge/resolve" "{\"source\":\"b3\",\"target\":\"b2\",\"expect_target\":\"$TH\",\"expect_source\":\"$SH\",\"resolutions\":{\"pages/$PG.json#hero/props/title\":\"theirs\",\"files/styles/site.css\":{\"value\":\"body { color: teal; }\\n\"}}}")" 200
call "$VW" GET "$V/files/pages/$PG.json?ref=b2" >/dev/null
eq "the resolution's title, b3's label" "$(body | jget components.0.props.title),$(body | jget components.0.children.0.props.label)" "purple,Buy"
call "$VW" GET "$V/files/files/styles/site.css?ref=b2" >/dev/null
eq "the resolution's file" "$(body)" "body { color: teal; }"
eq "resolving against moved heads is 412" "$(call "$ED" POST "$V/merge/resolve" "{\"source\":\"b3\",\"target\":\"b2\",\"expect_target\":\"$TH\",\"expect_source\":\"$SH\",\"resolutions\":{}}")" 412

# ---- tags ----
eq "tag main" "$(call "$ED" POST "$V/tags" "{\"name\":\"v1\",\"from\":\"$C1\"}")" 201
eq "tags list" "$(call "$VW" GET "$V/tags")" 200
eq "v1 at the first commit" "$(body | jget items.0.commit)" "$C1"

# ---- rollback ----
eq "an editor may not roll main back" "$(call "$ED" POST "$V/rollback" '{"to":"v1"}')" 403
eq "an editor rolls a branch back" "$(call "$ED" POST "$V/rollback" "{\"branch\":\"b2\",\"to\":\"$TH\"}")" 201
call "$VW" GET "$V/files/files/styles/site.css?ref=b2" >/dev/null
eq "b2's file is the rolled-back one" "$(body)" "body { color: green; }"
eq "the owner rolls main back to v1" "$(call "$OWN" POST "$V/rollback" '{"to":"v1"}')" 201
R1=$(body | jget id)
eq "as a new commit on top" "$(body | jget parents.0)" "$M1"
call "$VW" GET "$V/diff?from=v1&to=main" >/dev/null
eq "main's tree is v1's again" "$(body | jget files)" "[]"
call "$VW" GET "/projects/$P/pages/$PG" >/dev/null
eq "the live page is v1's again" "$(body | jget components.0.props.title),$(body | jget components.1.id)" "Hello,footer"
call "$VW" GET "/projects/$P/files/src/app.js" >/dev/null
eq "the live file is v1's again" "$(body | head -1)" "line 1"
eq "the file v1 did not have is gone live" "$(call "$VW" GET "/projects/$P/files/src/new.js")" 404
call "$OWN" GET "/projects/$P/audit" >/dev/null
contains "the rollback is in the audit log" "$(body)" "vcs_rollback"

# ---- git clone over HTTP with an access token: smart, then dumb ----
export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 HOME="$SB_TMP"
GURL="http://x:$VW@$SB_ADDR/git/$P.git"
check "git clone (smart HTTP)" git clone -q "$GURL" "$SB_TMP/clone"
eq "the working tree is main's files" "$(head -1 "$SB_TMP/clone/files/src/app.js")" "line 1"
check "the page is there" test -f "$SB_TMP/clone/pages/$PG.json"
eq "git log shows the history" "$(git -C "$SB_TMP/clone" log --format=%H | head -1)" "$R1"
eq "with every commit" "$(git -C "$SB_TMP/clone" rev-list --count HEAD)" 5
eq "git show has the author" "$(git -C "$SB_TMP/clone" show -s --format='%an <%ae>' "$C1")" "editor <editor@example.com>"
contains "git show has the change" "$(git -C "$SB_TMP/clone" show "$B1" -- files/src/app.js)" "+line seven"
check "git fsck finds the objects sound" git -C "$SB_TMP/clone" fsck --strict
eq "branches came along" "$(git -C "$SB_TMP/clone" branch -r | grep -c redesign)" 1
check "a second clone (the pack the first one built, kept)" git clone -q "$GURL" "$SB_TMP/clone2"
eq "has the same history" "$(git -C "$SB_TMP/clone2" rev-parse HEAD) $(git -C "$SB_TMP/clone2" rev-list --count HEAD)" "$R1 5"
check "and sound objects" git -C "$SB_TMP/clone2" fsck --strict
check "git clone (dumb HTTP)" env GIT_SMART_HTTP=0 git clone -q "$GURL" "$SB_TMP/dumb"
eq "the same history" "$(git -C "$SB_TMP/dumb" rev-parse HEAD)" "$R1"
check "dumb objects are sound" git -C "$SB_TMP/dumb" fsck --strict
eq "a new commit on main" "$(call "$OWN" POST "$V/commits" '{"message":"After the clone","changes":[{"path":"files/late.txt","content":"late\n"}]}')" 201
C9=$(body | jget id)
check "git pull fetches only what is new" git -C "$SB_TMP/clone" pull -q --ff-only
eq "the clone is at the new head" "$(git -C "$SB_TMP/clone" rev-parse HEAD)" "$C9"
eq "with the new file" "$(cat "$SB_TMP/clone/files/late.txt")" late
curl -sS -u "x:$VW" -D "$SB_TMP/adv.h" -o "$SB_TMP/adv" "$SB_URL/git/$P.git/info/refs?service=git-upload-pack"
contains "smart clients get the advertisement" "$(cat "$SB_TMP/adv.h")" "application/x-git-upload-pack-advertisement"
eq "which starts with the service line" "$(head -c 30 "$SB_TMP/adv")" "001e# service=git-upload-pack"
eq "pushes are refused" "$(http -u "x:$VW" "$SB_URL/git/$P.git/info/refs?service=git-receive-pack")" 403
eq "a malformed upload-pack request is 400" "$(http -u "x:$VW" -X POST --data-binary 'zzzz' "$SB_URL/git/$P.git/git-upload-pack")" 400
eq "a want that is no commit is 400" "$(http -u "x:$VW" -X POST --data-binary $'0032want 0000000000000000000000000000000000000001\n00000009done\n' "$SB_URL/git/$P.git/git-upload-pack")" 400
eq "without a token: 401" "$(http "$SB_URL/git/$P.git/info/refs")" 401
eq "an outsider's token: 404" "$(http -u "x:$OUT" "$SB_URL/git/$P.git/info/refs")" 404
eq "a wrong token: 401" "$(http -u "x:nope" "$SB_URL/git/$P.git/info/refs")" 401

# ---- racing commits: the ref moves by compare-and-swap ----
call "$VW" GET "$V/branches" >/dev/null
HEAD_NOW=$(body | python3 -c 'import json,sys;print([b["commit"] for b in json.load(sys.stdin)["items"] if b["name"]=="main"][0])')
eq "of four commits on the same head, one wins" "$(race 4 -X POST -H "$(as "$ED")" -H 'Content-Type: application/json' \
    --data-binary "{\"message\":\"race\",\"expect\":\"$HEAD_NOW\",\"changes\":[{\"path\":\"files/race.txt\",\"content\":\"r\"}]}" \
    "$A/projects/$P/vcs/commits")" "1 201 3 412 "

# ---- branch delete ----
eq "the default branch stays" "$(call "$ED" DELETE "$V/branches/main")" 400
eq "a branch goes" "$(call "$ED" DELETE "$V/branches/b3")" 200
eq "gone" "$(call "$ED" DELETE "$V/branches/b3")" 404

# ---- tag delete ----
eq "a viewer may not delete a tag" "$(call "$VW" DELETE "$V/tags/v1")" 403
eq "a tag goes" "$(call "$ED" DELETE "$V/tags/v1")" 200
eq "gone too" "$(call "$ED" DELETE "$V/tags/v1")" 404
RACE=$(call "$VW" GET "$V/commits?limit=1" >/dev/null; body | jget items.0.id)

# ---- every ref move is an event, in order, with its actor and session;
# the failed ones (409, 412, 400, up to date) wrote none ----
python3 "$SITEBASE_SOURCE_DIR/tests/support/events.py" "$SB_URL" "$P" "$VW" >"$SB_TMP/events.json"
call "$VW" GET "$V/branches" >/dev/null
body >"$SB_TMP/branches.json"
check "the ref events are the moves made" python3 - "$SB_TMP/events.json" "$SB_TMP/branches.json" <<PY
import json, sys
ev = json.load(open(sys.argv[1]))
refs = {b["name"]: b["commit"] for b in json.load(open(sys.argv[2]))["items"]}
vcs = [e for e in ev if e["type"].startswith("vcs_")]
ED, OWN = "$ED_ID", "$OWN_ID"
C1, C2, B1, M1, TH, SH, B3, R1, C9, RACE = "$C1", "$C2", "$B1", "$M1", "$TH", "$SH", "$B3", "$R1", "$C9", "$RACE"
want = [  # type, ref, old, commit, actor
    ("vcs_commit", "refs/heads/main", None, C1, ED),
    ("vcs_branch_created", "refs/heads/redesign", None, C1, ED),
    ("vcs_commit", "refs/heads/main", C1, C2, ED),
    ("vcs_commit", "refs/heads/redesign", C1, B1, ED),
    ("vcs_merge", "refs/heads/main", C2, M1, OWN),
    ("vcs_branch_created", "refs/heads/b2", None, M1, ED),
    ("vcs_branch_created", "refs/heads/b3", None, M1, ED),
    ("vcs_commit", "refs/heads/b2", M1, TH, ED),
    ("vcs_commit", "refs/heads/b3", M1, B3, ED),
    ("vcs_merge_resolved", "refs/heads/b2", TH, None, ED),
    ("vcs_tag_created", "refs/tags/v1", None, C1, ED),
    ("vcs_rollback", "refs/heads/b2", None, None, ED),
    ("vcs_rollback", "refs/heads/main", M1, R1, OWN),
    ("vcs_commit", "refs/heads/main", R1, C9, OWN),
    ("vcs_commit", "refs/heads/main", C9, RACE, ED),
    ("vcs_branch_deleted", "refs/heads/b3", B3, None, ED),
    ("vcs_tag_deleted", "refs/tags/v1", C1, None, ED),
]
got = [(e["type"], e["target"]) for e in vcs]
assert got == [(w[0], w[1]) for w in want], got
for e, (t, ref, old, commit, actor) in zip(vcs, want):
    v = e["payload"]["value"]
    assert e["payload"]["kind"] == "ref" and e["payload"]["key"] == ref, e
    assert e["actor_id"] == actor and e["session_id"], e
    assert v["ref"] == ref, v
    if old is not None or t.endswith("_created"):
        assert v["old"] == old, (t, v)
    if commit is not None or t.endswith("_deleted"):
        assert v["commit"] == commit, (t, v)
first = vcs[0]["payload"]["value"]
assert first["parents"] == [] and first["subject"] == "First version" and first["branch"] == "main", first
m = vcs[4]["payload"]["value"]
assert m["parents"] == [C2, B1] and m["source"] == "redesign" and m["source_commit"] == B1 and m["fast_forward"] is False, m
r = vcs[9]["payload"]["value"]
assert r["source"] == "b3" and r["source_commit"] == SH and r["parents"] == [TH, SH], r
assert sorted(r["resolved"]) == sorted(["pages/$PG.json#hero/props/title", "files/styles/site.css"]), r
rb = vcs[12]["payload"]["value"]
assert rb["to"] == C1 and rb["parents"] == [M1], rb
assert vcs[11]["payload"]["value"]["to"] == TH
assert vcs[10]["payload"]["value"]["tag"] == "v1"
# every branch is where its last event put it; deleted refs' last event deletes
last = {}
for e in vcs:
    last[e["target"]] = e["payload"]["value"]["commit"]
for name, commit in refs.items():
    assert last["refs/heads/" + name] == commit, (name, commit, last)
assert last["refs/heads/b3"] is None and last["refs/tags/v1"] is None
seqs = [e["seq"] for e in ev]
assert seqs == list(range(1, len(ev) + 1)), seqs
PY
MSEQ=$(python3 -c 'import json,sys; print([e["seq"] for e in json.load(open(sys.argv[1])) if e["type"]=="vcs_merge"][0])' "$SB_TMP/events.json")
eq "the state at a ref event replays (refs are not in the state)" "$(call "$VW" GET "/projects/$P/state?at=$MSEQ")" 200
eq "and has no refs" "$(body | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)["state"]))')" "['assets', 'comments', 'files', 'members', 'pages', 'project']"
HEADSEQ=$(sb_sql "SELECT MAX(seq) FROM events WHERE project_id = '$P'")
replayed=$(call "$VW" GET "/projects/$P/state?at=$HEADSEQ" >/dev/null; body | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["state"], sort_keys=True))')
eq "the replay to the head equals the tables" "$replayed" "$(call "$VW" GET "/projects/$P/state" >/dev/null; body | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["state"], sort_keys=True))')"
eq "the audit log has them too" "$(sb_sql "SELECT COUNT(*) FROM audit_log WHERE project_id = '$P' AND action LIKE 'vcs_%'")" 17

# a clean exit (under ASan: no leaks)
sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
