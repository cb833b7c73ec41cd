#!/usr/bin/env bash
# The authorization matrix: every team, project, content and template route
# called as owner, admin, editor, viewer, guest (a project guest with shared
# items), a member of another team and an anonymous caller, on a private, a
# team and a public project, each status compared with the one API.md's
# role table gives; lists never show what the caller may not see; every
# route of the OpenAPI document is in the matrix or explicitly skipped.
# The matrix and its expectations are data in authz_matrix.py.
# drivers: sqlite postgres
. "$SITEBASE_SOURCE_DIR/tests/lib.sh"

sb_smtp_start # the invitation's join link (the "join" row) comes by mail
sb_start --argon2-memory 1M --argon2-iterations 1 --rate-limit-auth-ip 0 \
    --rate-limit-auth-account 0 --lockout-threshold 0 \
    --smtp-url "smtp://127.0.0.1:$SB_SMTP_PORT" --public-url "http://app.example"

if /usr/bin/python3 "$SITEBASE_SOURCE_DIR/tests/integration/authz_matrix.py" "$SB_URL" "$SB_MAIL"; then
    pass "authorization matrix"
else
    fail "authorization matrix" "see the matrix above"
fi
sb_stop
eq "clean exit" "$SB_EXIT" 0
sb_finish
