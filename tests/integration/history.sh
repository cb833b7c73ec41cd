#!/usr/bin/env bash
# The event log and the states of a project (docs/history.md): a random run
# of edits through REST (pages, code files, comments, members, project
# fields) with the state at the head recorded after each step, then the
# state at every recorded sequence number (and at each event's time)
# compared with what was recorded, across snapshots taken every 7 events;
# event pagination; who may read events and states; bad input; concurrent
# writers to one project (numbers without gaps); and kill -9 during writes
# of files, tags and branch commits (no acknowledged change lost, no event
# without its change or change without its event).
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

SNAP_EVERY=7
sb_start_api --history-snapshot-every $SNAP_EVERY

read -r OWN OWN_ID <<<"$(signup olive@example.com olive)"
read -r ED ED_ID <<<"$(signup eddie@example.com eddie)"
read -r VW VW_ID <<<"$(signup vera@example.com vera)"
read -r GU GU_ID <<<"$(signup gus@example.com gus)"
read -r ST ST_ID <<<"$(signup sam@example.com sam)"
read -r XA XA_ID <<<"$(signup xavier@example.com xavier)"

call "$OWN" POST /teams '{"name":"Studio"}' >/dev/null
TEAM=$(body | jget id)
for m in "eddie editor" "vera viewer"; do
    read -r who role <<<"$m"
    call "$OWN" POST "/teams/$TEAM/members" "{\"email\":\"$who@example.com\",\"role\":\"$role\"}" >/dev/null
done
eq "a team project" "$(call "$OWN" POST /projects "{\"name\":\"Bakery\",\"team_id\":\"$TEAM\",\"visibility\":\"team\"}")" 201
P=$(body | jget id)

# ---- the first event is the creation, with the whole state ----
eq "events of a new project" "$(call "$OWN" GET "/projects/$P/events")" 200
eq "one event: project_created, seq 1" "$(body | jget items.0.type) $(body | jget items.0.seq) $(body | jget next_cursor)" "project_created 1 null"
eq "by its actor" "$(body | jget items.0.actor_id)" "$OWN_ID"
eq "its payload is the whole state" "$(body | jget items.0.payload.kind) $(body | jget items.0.payload.value.project.name)" "state Bakery"
eq "the state at the head" "$(call "$OWN" GET "/projects/$P/state")" 200
eq "is at seq 1, with the project and no pages" "$(body | jget seq) $(body | jget state.project.id) $(body | jget state.pages)" "1 $P {}"

# ---- a random run of edits, the state recorded after each ----
SEED=${SITEBASE_HISTORY_SEED:-$RANDOM}
echo "seed $SEED"
cat >"$SB_TMP/walk.py" <<'EOF'
import json, random, sys, urllib.request, urllib.error

base, project, seed, steps, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
tokens = json.loads(sys.argv[6])  # role -> token
users = json.loads(sys.argv[7])   # user ids that may be made members
rnd = random.Random(seed)

def req(token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    r = urllib.request.Request(base + path, data=data, method=method)
    r.add_header("Authorization", "Bearer " + token)
    if data is not None:
        r.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(r, timeout=30) as a:
            raw = a.read()
            return a.status, (json.loads(raw) if raw[:1] in (b"{", b"[") else raw)
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def tree():
    def comp(depth):
        c = {"id": "c%d" % rnd.randrange(10**9), "type": rnd.choice(["Section", "Text", "Button"]),
             "props": {"text": rnd.choice(["hi", "héllo ✓", "a\"b", "x" * rnd.randrange(50)]),
                       "n": rnd.randrange(100), "f": rnd.choice([0.5, 1.25, -3.0])}}
        if depth < 2 and rnd.random() < 0.5:
            c["children"] = [comp(depth + 1) for _ in range(rnd.randrange(3))]
        return c
    return [comp(0) for _ in range(rnd.randrange(1, 4))]

ed = tokens["editor"]
own = tokens["owner"]
pages, files, comments = [], [], []
elements = {}  # page id -> the ids of its top-level components
records = []  # [seq, time, state]
errors = []
for step in range(steps):
    op = rnd.choice(["page+", "page+", "page~", "page-", "file+", "file+", "file~", "file-",
                     "comment+", "reply", "resolve", "comment-", "member", "project~"])
    st = None
    if op == "page+":
        t = tree()
        st, b = req(ed, "POST", "/projects/%s/pages" % project,
                    {"name": "P%d" % step, "path": "/p%d" % step, "components": t})
        if st == 201:
            pages.append(b["id"])
            elements[b["id"]] = [c["id"] for c in t]
    elif op == "page~" and pages:
        pg, t = rnd.choice(pages), tree()
        st, b = req(ed, "PUT", "/projects/%s/pages/%s" % (project, pg),
                    {"name": "Renamed %d" % step, "components": t, "metadata": {"title": "t%d" % step}})
        if st == 200: elements[pg] = [c["id"] for c in t]
    elif op == "page-" and pages:
        pg = pages.pop(rnd.randrange(len(pages)))
        st, b = req(ed, "DELETE", "/projects/%s/pages/%s" % (project, pg))
        comments[:] = [c for c in comments if c[1] != pg]
    elif op == "file+":
        path = "src/f%d.%s" % (step, rnd.choice(["js", "css", "html"]))
        st, b = req(ed, "POST", "/projects/%s/files" % project,
                    {"path": path, "content": "// %d\n" % step + "é" * rnd.randrange(20)})
        if st == 201: files.append(path)
    elif op == "file~" and files:
        st, b = req(ed, "PUT", "/projects/%s/files/%s" % (project, rnd.choice(files)),
                    {"content": "changed at %d\n" % step})
    elif op == "file-" and files:
        st, b = req(ed, "DELETE", "/projects/%s/files/%s" % (project, files.pop(rnd.randrange(len(files)))))
    elif op == "comment+" and pages:
        pg = rnd.choice(pages)
        st, b = req(tokens["viewer"], "POST", "/projects/%s/comments" % project,
                    {"page_id": pg, "element_id": rnd.choice(elements[pg]), "body": "note %d" % step})
        if st == 201: comments.append((b["id"], pg))
    elif op == "reply" and comments:
        st, b = req(ed, "POST", "/projects/%s/comments" % project,
                    {"parent_id": rnd.choice(comments)[0], "body": "reply %d" % step})
    elif op == "resolve" and comments:
        st, b = req(ed, "POST", "/projects/%s/comments/%s/%s" % (project, rnd.choice(comments)[0],
                                                              rnd.choice(["resolve", "reopen"])))
    elif op == "comment-" and comments:
        c = comments.pop(rnd.randrange(len(comments)))
        st, b = req(own, "DELETE", "/projects/%s/comments/%s" % (project, c[0]))
    elif op == "member":
        st, b = req(own, "PUT", "/projects/%s/members" % project,
                    {"user_id": rnd.choice(users), "role": rnd.choice(["admin", "editor", "viewer", "none"])})
    elif op == "project~":
        st, b = req(own, "PATCH", "/projects/%s" % project, {"description": "step %d" % step})
    if st is None:
        continue
    if st not in (200, 201, 409):
        errors.append("step %d %s: %s %r" % (step, op, st, b))
    s, head = req(own, "GET", "/projects/%s/state" % project)
    if s != 200:
        errors.append("state after step %d: %s" % (step, s))
        continue
    records.append([head["seq"], head["at"], head["state"]])
json.dump({"records": records, "errors": errors}, open(out, "w"))
EOF
python3 "$SB_TMP/walk.py" "$A" "$P" "$SEED" 90 "$SB_TMP/walk.json" \
    "{\"owner\":\"$OWN\",\"editor\":\"$ED\",\"viewer\":\"$VW\"}" "[\"$XA_ID\",\"$GU_ID\"]"
eq "every edit of the run succeeded" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["errors"])' "$SB_TMP/walk.json")" "[]"
NREC=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["records"]))' "$SB_TMP/walk.json")
check "the run made changes ($NREC states recorded)" test "$NREC" -gt 40
HEAD=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"][-1][0])' "$SB_TMP/walk.json")

# The same run compared with what state?at= gives back, by number and by
# time; the recorded heads were read from the tables, these are replays.
cat >"$SB_TMP/compare.py" <<'EOF'
import json, sys, urllib.request, urllib.parse
base, project, token, path, by = sys.argv[1:6]
recs = json.load(open(path))["records"]
bad, n = [], 0
seen = set()
for seq, at, state in recs:
    if seq in seen: continue
    seen.add(seq)
    q = str(seq) if by == "seq" else urllib.parse.quote(at)
    r = urllib.request.Request(base + "/projects/%s/state?at=%s" % (project, q))
    r.add_header("Authorization", "Bearer " + token)
    got = json.loads(urllib.request.urlopen(r, timeout=30).read())
    n += 1
    if got["seq"] != seq or got["state"] != state:
        if not bad:  # what differs, for the log
            for k in state:
                for e in set(state[k] or {}) | set(got["state"].get(k) or {}) if k != "project" else ["."]:
                    a = (state[k] or {}).get(e) if k != "project" else state[k]
                    b = (got["state"].get(k) or {}).get(e) if k != "project" else got["state"][k]
                    if a != b:
                        print("at %d %s %s: recorded %s, replayed %s" % (seq, k, e, a, b), file=sys.stderr)
        bad.append(seq)
print("%d %s" % (n, bad))
EOF
res=$(python3 "$SB_TMP/compare.py" "$A" "$P" "$OWN" "$SB_TMP/walk.json" seq)
eq "state?at=<seq> equals the recorded state at every point" "${res#* }" "[]"
res=$(python3 "$SB_TMP/compare.py" "$A" "$P" "$VW" "$SB_TMP/walk.json" time)
eq "state?at=<time> equals it too (as a viewer)" "${res#* }" "[]"
check "the run crossed several snapshots" test "$HEAD" -gt $((3 * SNAP_EVERY))
eq "a snapshot at 1 and every $SNAP_EVERY events" \
    "$(sb_sql "SELECT COUNT(*) FROM event_snapshots WHERE project_id = '$P'")" \
    "$((1 + HEAD / SNAP_EVERY))"
# Without the snapshots (but the first) every point is a replay from seq 1,
# which skips payloads that later events overwrite: still the same states.
sb_sql "DELETE FROM event_snapshots WHERE project_id = '$P' AND seq > 1" >/dev/null
res=$(python3 "$SB_TMP/compare.py" "$A" "$P" "$OWN" "$SB_TMP/walk.json" seq)
eq "and so does a replay of the whole log, at every point" "${res#* }" "[]"

# The recorded head is the live tables; check it against the plain REST views too.
call "$OWN" GET "/projects/$P/pages" >/dev/null
pages_rest=$(body | python3 -c 'import json,sys; print(sorted((p["id"], p["name"], p["path"]) for p in json.load(sys.stdin)["items"]))')
call "$OWN" GET "/projects/$P/state" >/dev/null
pages_state=$(body | python3 -c 'import json,sys; print(sorted((k, p["name"], p["path"]) for k, p in json.load(sys.stdin)["state"]["pages"].items()))')
eq "the head's pages are the pages the API lists" "$pages_state" "$pages_rest"

# ---- events: pagination, oldest first, no gaps ----
cat >"$SB_TMP/pages.py" <<'EOF'
import json, sys, urllib.request
base, project, token, limit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
seqs, cursor, pages = [], None, 0
while pages < 1000:
    q = "limit=%s" % limit + ("&after=%s" % cursor if cursor else "")
    r = urllib.request.Request(base + "/projects/%s/events?%s" % (project, q))
    r.add_header("Authorization", "Bearer " + token)
    b = json.loads(urllib.request.urlopen(r, timeout=30).read())
    pages += 1
    assert len(b["items"]) <= int(limit)
    seqs += [e["seq"] for e in b["items"]]
    cursor = b["next_cursor"]
    if cursor is None: break
print(seqs == list(range(1, len(seqs) + 1)), len(seqs), pages)
EOF
eq "paging by 7 walks 1..head once, in order" "$(python3 "$SB_TMP/pages.py" "$A" "$P" "$OWN" 7)" "True $HEAD $(((HEAD + 6) / 7))"
eq "after= starts past that number" "$(call "$OWN" GET "/projects/$P/events?after=$((HEAD - 1))&limit=5"; body | jget items.0.seq; body | jget next_cursor)" "200$HEAD
null"
eq "limit 0 is refused" "$(call "$OWN" GET "/projects/$P/events?limit=0")" 400
eq "limit 201 is refused" "$(call "$OWN" GET "/projects/$P/events?limit=201")" 400
eq "a negative after is refused" "$(call "$OWN" GET "/projects/$P/events?after=-1")" 400

# ---- state?at= bad input ----
eq "at=0 is refused" "$(call "$OWN" GET "/projects/$P/state?at=0")" 400
eq "at=garbage is refused" "$(call "$OWN" GET "/projects/$P/state?at=yesterday")" 400
eq "at past the head: not found" "$(call "$OWN" GET "/projects/$P/state?at=$((HEAD + 1))")" 404
eq "at a time before the project: not found" "$(call "$OWN" GET "/projects/$P/state?at=2001-01-01T00:00:00Z")" 404
eq "at a time in the future: the head" "$(call "$OWN" GET "/projects/$P/state?at=2999-01-01T00:00:00Z"; body | jget seq)" "200$HEAD"

# ---- who may read: viewers and up (API.md: read project); guests and the
# public of a public project never (the log holds drafts and unshared items) ----
call "$OWN" PUT "/projects/$P/members" "{\"user_id\":\"$GU_ID\",\"role\":\"guest\"}" >/dev/null
for w in "owner $OWN 200" "editor $ED 200" "viewer $VW 200" "guest $GU 404" "stranger $ST 404"; do
    read -r who tok want <<<"$w"
    eq "$who reads events: $want" "$(call "$tok" GET "/projects/$P/events")" "$want"
    eq "$who reads a state: $want" "$(call "$tok" GET "/projects/$P/state?at=1")" "$want"
done
eq "anonymous: 401" "$(http "$A/projects/$P/events")" 401
call "$ST" POST /projects '{"name":"Public","visibility":"public"}' >/dev/null
PUB=$(body | jget id)
eq "another user on a public project: hidden" "$(call "$OWN" GET "/projects/$PUB/state")" 404
eq "which its owner reads" "$(call "$ST" GET "/projects/$PUB/state")" 200
eq "an unknown project: 404" "$(call "$OWN" GET "/projects/01890000-0000-7000-8000-000000000000/events")" 404

# ---- concurrent writers to one project: every write numbered, no gaps ----
call "$ED" POST "/projects/$P/files" '{"path":"race.js","content":"0"}' >/dev/null
before=$(call "$OWN" GET "/projects/$P/events?after=0&limit=1" >/dev/null; sb_sql "SELECT MAX(seq) FROM events WHERE project_id = '$P'")
eq "12 racing writers all succeed" "$(race 12 -X PUT -H "$(as "$ED")" -H 'Content-Type: application/json' --data-binary '{"content":"raced"}' "$A/projects/$P/files/race.js")" "12 200 "
eq "racing page creations: one wins the path" "$(race 6 -X POST -H "$(as "$ED")" -H 'Content-Type: application/json' --data-binary '{"name":"R","path":"/race"}' "$A/projects/$P/pages")" "1 201 5 409 "
after=$(sb_sql "SELECT MAX(seq) FROM events WHERE project_id = '$P'")
eq "13 more events" "$((after - before))" 13
eq "numbers 1..head without gaps or doubles" \
    "$(sb_sql "SELECT COUNT(*), COUNT(DISTINCT seq), MIN(seq), MAX(seq) FROM events WHERE project_id = '$P'" | tr '\t' ' ')" \
    "$after $after 1 $after"
eq "the file is at version 13" "$(call "$OWN" GET "/projects/$P/state" >/dev/null; body | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"]["files"]["race.js"]["version"])')" 13
head_state() { call "$OWN" GET "/projects/$P/state" >/dev/null; body | python3 -c 'import json,sys; b=json.load(sys.stdin); print(b["seq"], json.dumps(b["state"], sort_keys=True))'; }
replay_state() { call "$OWN" GET "/projects/$P/state?at=$1" >/dev/null; body | python3 -c 'import json,sys; b=json.load(sys.stdin); print(b["seq"], json.dumps(b["state"], sort_keys=True))'; }
eq "after the race the replay equals the tables" "$(replay_state "$after")" "$(head_state)"

# ---- kill -9 during writes ----
cat >"$SB_TMP/writer.sh" <<EOF
i=0
while [ \$i -lt 400 ]; do
    code=\$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $ED" \
        -H 'Content-Type: application/json' --data-binary "{\"path\":\"k/\$1-\$i.js\",\"content\":\"x\"}" \
        "$A/projects/$P/files" 2>/dev/null)
    [ "\$code" = 201 ] && echo "k/\$1-\$i.js" >>"$SB_TMP/acked.\$1"
    [ "\$code" = 000 ] && break
    i=\$((i + 1))
done
EOF
# and version control's writes: tags, and commits on a branch (a ref
# move and its event in one transaction, docs/vcs.md "Events")
eq "a first commit" "$(call "$ED" POST "/projects/$P/vcs/commits" '{"message":"base","from_live":true}')" 201
eq "a branch for the killed commits" "$(call "$ED" POST "/projects/$P/vcs/branches" '{"name":"kb"}')" 201
cat >"$SB_TMP/vcs_writer.sh" <<EOF
i=0
while [ \$i -lt 400 ]; do
    if [ "\$1" = tag ]; then
        code=\$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $ED" \
            -H 'Content-Type: application/json' --data-binary "{\"name\":\"k-\$i\"}" \
            "$A/projects/$P/vcs/tags" 2>/dev/null)
        [ "\$code" = 201 ] && echo "k-\$i" >>"$SB_TMP/acked.tag"
    else
        code=\$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $ED" \
            -H 'Content-Type: application/json' \
            --data-binary "{\"branch\":\"kb\",\"message\":\"k \$i\",\"changes\":[{\"path\":\"files/kb.txt\",\"content\":\"\$i\"}]}" \
            "$A/projects/$P/vcs/commits" 2>/dev/null)
        [ "\$code" = 201 ] && echo "\$i" >>"$SB_TMP/acked.commit"
    fi
    [ "\$code" = 000 ] && break
    i=\$((i + 1))
done
EOF
touch "$SB_TMP/acked.1" "$SB_TMP/acked.2" "$SB_TMP/acked.3" "$SB_TMP/acked.tag" "$SB_TMP/acked.commit"
wpids=()
for n in 1 2 3; do bash "$SB_TMP/writer.sh" $n & wpids+=($!); done
for n in tag commit; do bash "$SB_TMP/vcs_writer.sh" $n & wpids+=($!); done
sleep 1.5
kill -KILL "$SB_PID"
wait "$SB_PID" 2>/dev/null
SB_PID=""
wait "${wpids[@]}"
acked=$(cat "$SB_TMP"/acked.[123] | wc -l)
check "writes were acknowledged before the kill ($acked)" test "$acked" -gt 0
sb_start --argon2-memory 1M --argon2-iterations 1 --rate-limit-auth-ip 0 \
    --rate-limit-auth-account 0 --lockout-threshold 0 --history-snapshot-every $SNAP_EVERY
A="$SB_URL/api"
call "$OWN" GET "/projects/$P/state" >/dev/null
body >"$SB_TMP/head.json"
missing=$(cat "$SB_TMP"/acked.[123] | python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["state"]["files"]; print([p for p in sys.stdin.read().split() if p not in s])' "$SB_TMP/head.json")
eq "no acknowledged write is lost" "$missing" "[]"
HEAD2=$(jget seq <"$SB_TMP/head.json")
eq "every kept write has its event and every event its write" "$(replay_state "$HEAD2")" "$(head_state)"
eq "file_created events match the k/ files" \
    "$(sb_sql "SELECT COUNT(*) FROM events WHERE project_id = '$P' AND type = 'file_created' AND target LIKE 'k/%'")" \
    "$(sb_sql "SELECT COUNT(*) FROM files WHERE project_id = '$P' AND path LIKE 'k/%'")"
eq "still without gaps" \
    "$(sb_sql "SELECT COUNT(*), MAX(seq) FROM events WHERE project_id = '$P'" | tr '\t' ' ')" "$HEAD2 $HEAD2"
check "tags and commits were acknowledged before the kill ($(wc -l <"$SB_TMP/acked.tag"), $(wc -l <"$SB_TMP/acked.commit"))" \
    test -s "$SB_TMP/acked.tag" -a -s "$SB_TMP/acked.commit"
python3 "$SITEBASE_SOURCE_DIR/tests/support/events.py" "$SB_URL" "$P" "$OWN" >"$SB_TMP/kev.json"
call "$OWN" GET "/projects/$P/vcs/tags" >/dev/null
body >"$SB_TMP/ktags.json"
call "$OWN" GET "/projects/$P/vcs/branches" >/dev/null
body >"$SB_TMP/kbranches.json"
call "$OWN" GET "/projects/$P/vcs/commits?ref=kb&limit=200" >/dev/null
body >"$SB_TMP/klog.json"
check "no acknowledged ref move lost, none without its event, no event without its move" \
    python3 - "$SB_TMP/kev.json" "$SB_TMP/ktags.json" "$SB_TMP/kbranches.json" "$SB_TMP/klog.json" "$SB_TMP/acked.tag" "$SB_TMP/acked.commit" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))
tags = {t["name"]: t["commit"] for t in json.load(open(sys.argv[2]))["items"]}
branches = {b["name"]: b["commit"] for b in json.load(open(sys.argv[3]))["items"]}
log = json.load(open(sys.argv[4]))["items"]
acked_tags = open(sys.argv[5]).read().split()
acked_commits = open(sys.argv[6]).read().split()
ktags = {t: c for t, c in tags.items() if t.startswith("k-")}
assert all(t in ktags for t in acked_tags), [t for t in acked_tags if t not in ktags]
tag_ev = {e["payload"]["value"]["tag"]: e["payload"]["value"]["commit"] for e in ev if e["type"] == "vcs_tag_created"}
assert tag_ev == ktags, (len(tag_ev), len(ktags))
# the branch's events chain from its creation to its head, one per commit
kb = [e["payload"]["value"] for e in ev if e["target"] == "refs/heads/kb"]
assert kb[0]["old"] is None and all(kb[i]["old"] == kb[i - 1]["commit"] for i in range(1, len(kb))), kb
assert kb[-1]["commit"] == branches["kb"], (kb[-1], branches["kb"])
commits = [c for c in log if c["message"].startswith("k ")]
assert [v["commit"] for v in kb[1:]] == [c["id"] for c in reversed(commits)], (len(kb), len(commits))
assert len(commits) >= len(acked_commits), (len(commits), len(acked_commits))
assert {c["message"] for c in commits} >= {"k " + i for i in acked_commits}
PY
eq "writes go on after the restart" "$(call "$ED" PUT "/projects/$P/files/race.js" '{"content":"after"}')" 200
eq "numbered next" "$(call "$OWN" GET "/projects/$P/events?after=$HEAD2"; body | jget items.0.seq)" "200$((HEAD2 + 1))"

sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
