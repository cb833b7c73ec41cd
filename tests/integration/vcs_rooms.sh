#!/usr/bin/env bash
# Collaborative documents and version control, with real yjs + y-websocket
# providers (tests/collab/vcs_rooms.mjs) on two loop threads: branch rooms
# (docs/vcs.md, "Branch rooms": documents branch/<name>/..., seeded from
# the branch head, separate from main's, committed with from_live, diffed
# and merged, following merges and rollbacks of their branch; viewers read,
# guests and strangers 404) and the events that providers' edits of the
# live documents write (docs/history.md).
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

MJS="$SITEBASE_SOURCE_DIR/tests/collab/vcs_rooms.mjs"
sb_start_api --collab-evict-grace 2s

sb_team_project "ED eddie editor" "VW vera viewer" "GU gus guest" "OUT otto -"
tree='[{"id":"hero","type":"Section","props":{"title":"Hello","color":"red"},"children":[{"id":"cta","type":"Button","props":{"label":"Go"}}]},{"id":"footer","type":"Footer","props":{}}]'
eq "a page" "$(call "$ED" POST "/projects/$PROJECT/pages" "{\"name\":\"Home\",\"path\":\"/\",\"components\":$tree}")" 201
PAGE=$(body | jget id)
eq "a file" "$(call "$ED" POST "/projects/$PROJECT/files" '{"path":"src/app.js","content":"line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n"}')" 201
eq "a style" "$(call "$ED" POST "/projects/$PROJECT/files" '{"path":"styles/site.css","content":"body { color: red; }\n"}')" 201
call "$OWN" POST "/projects/$PROJECT/shares" "{\"user_id\":\"$GU_ID\",\"kind\":\"page\",\"item\":\"$PAGE\"}" >/dev/null
eq "the first commit" "$(call "$ED" POST "/projects/$PROJECT/vcs/commits" '{"message":"First","from_live":true}')" 201
eq "a branch" "$(call "$ED" POST "/projects/$PROJECT/vcs/branches" '{"name":"feature"}')" 201
export SB_ADDR PROJECT PAGE OWN ED VW GU OUT

run() { sb_node_check "$1" "$MJS" "$2"; } # run NAME MODE

run "branch rooms: seeded, separate, committed, diffed, merged, following" branches
run "provider edits of the live documents are events" events

# Branch documents are stored like any (durable); none was materialised.
check "branch documents are stored under their names" test \
    "$(sb_sql "SELECT count(DISTINCT doc) FROM collab_updates WHERE project_id = '$PROJECT' AND doc LIKE 'branch/feature/%'")" -ge 3
eq "the live file never had the branch's first line" \
    "$(sb_sql "SELECT count(*) FROM events WHERE project_id = '$PROJECT' AND type = 'file_updated' AND payload LIKE '%after rollback%'")" 0

# Restart: the branch documents come back from storage, not from the head.
sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_start --argon2-memory 1M --argon2-iterations 1 --rate-limit-auth-ip 0 \
    --rate-limit-auth-account 0 --lockout-threshold 0
eq "the branch document after a restart" "$(call "$VW" GET "/projects/$PROJECT/docs/branch/feature/code:src/app.js")" 200
eq "is what the providers left" "$(body | jget content)" "by REST"

sb_stop
eq "clean exit after the restart" "$SB_EXIT" 0
sb_finish
