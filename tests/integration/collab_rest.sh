#!/usr/bin/env bash
# Documents and the REST view (docs/collab.md, "Documents and the REST
# API"), with real yjs + y-websocket providers (tests/collab/collab_rest.mjs)
# on two loop threads: a document starts as its page or file; a provider's
# edit shows in GET of the file and page within a second; a REST PUT of a
# file, style sheet or page reaches connected providers as the smallest
# edit; concurrent PUTs and provider edits converge, in every provider and
# in GET; materialised writes are audited without an actor, at most one
# per 100 ms per document, and none is lost to a clean shutdown. Element locks:
# one holder (409 for others), expiry, release when the holder's last
# connection closes, editors and up; lock and comment changes pushed on the
# project's event stream.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

MJS="$SITEBASE_SOURCE_DIR/tests/collab/collab_rest.mjs"
sb_start_api --collab-evict-grace 2s

sb_team_project "ED eddie editor" "ED2 erin editor" "VW vera viewer" "ST sam -" "GU gus guest"
call "$OWN" POST "/projects/$PROJECT/pages" '{"name":"Home","path":"/"}' >/dev/null
PAGE=$(body | jget id)
eq "file created" "$(call "$OWN" POST "/projects/$PROJECT/files" '{"path":"src/main.js","content":"let a = 1;\n"}')" 201
eq "style created" "$(call "$OWN" POST "/projects/$PROJECT/files" '{"path":"styles/main.css","content":"body {}\n"}')" 201
eq "vcs file created" "$(call "$OWN" POST "/projects/$PROJECT/files" '{"path":"src/vcs.js","content":"v1\n"}')" 201
eq "race file created" "$(call "$OWN" POST "/projects/$PROJECT/files" '{"path":"race.js","content":"start\n"}')" 201
call "$OWN" POST "/projects/$PROJECT/shares" "{\"user_id\":\"$GU_ID\",\"kind\":\"page\",\"item\":\"$PAGE\"}" >/dev/null
export SB_ADDR PROJECT PAGE OWN ED ED_ID ED2 ED2_ID VW ST GU

run() { sb_node_check "$1" "$MJS" "$2"; } # run NAME MODE

run "provider edits show in GET within a second" providerToRest
run "REST PUTs reach providers" restToProvider
run "concurrent PUTs and provider edits converge" concurrent
run "locks and pushes" locks
run "a version-control rollback reaches the document" rollback

# Materialised writes go through the projects service as Sitebase itself.
check "materialised writes audited without an actor" test \
    "$(sb_sql "SELECT count(*) FROM audit_log WHERE project_id = '$PROJECT' AND action = 'file_updated' AND actor_id IS NULL")" -gt 0
run "a busy document's writes are paced" paced
# Across a restart the document, not a stale row, is what GET shows; the
# write the pacing held back when the server was told to stop is there.
WANT=$(call "$ED" GET "/projects/$PROJECT/files/race.js" >/dev/null; body)
export SB_PID
run "edits just before a clean shutdown" pacedStop
# pacedStop sent the SIGTERM; sb_stop's own is a no-op then, and stops the
# server if the mode failed before sending it (a bare wait would hang).
sb_stop 2>/dev/null
sb_start --collab-evict-grace 2s
eq "file after restart" "$(call "$ED" GET "/projects/$PROJECT/files/race.js" >/dev/null; body)" "$WANT"
eq "paced write after restart" "$(call "$ED" GET "/projects/$PROJECT/pages/$PAGE" >/dev/null; body | jget name)" "Before stop 2"

sb_finish
