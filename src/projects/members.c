/*
 * members.c: team memberships, invitations and ownership transfer.
 *
 * Invariant: every team has at least one owner. Demoting or removing an
 * owner counts the owners inside the same transaction that changes the
 * row, so two owners demoting each other at once cannot both succeed
 * (the second sees one owner left). Admins manage everyone but owners
 * (authz_may_grant); nobody grants more than they hold.
 *
 * Invitations: an email without an account gets a random token (only its
 * SHA-256 is stored) valid invite_ttl_s; the caller mails the link; the
 * invitee signs up with that email and accepts, joining with the role.
 */
#include <string.h>

#include "base/clock.h"
#include "crypto/crypto.h"
#include "identity/identity.h"
#include "projects/projects_int.h"

static void hash_hex(sb_str token, char out[65])
{
    uint8_t d[CRYPTO_SHA256_LEN];
    crypto_sha256(token.ptr, token.len, d);
    sb_hex_encode(d, sizeof(d), out);
}

static void write_member(sb_jw *w, store_stmt *st)
{
    /* user_id, email, username, role, created_at */
    char t[SB_RFC3339_LEN];
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "user_id", store_col_text(st, 0, NULL));
    sb_jw_kv_str(w, "email", store_col_text(st, 1, NULL));
    sb_jw_kv_str(w, "username", store_col_text(st, 2, NULL));
    sb_jw_kv_str(w, "role", store_col_text(st, 3, NULL));
    sb_jw_kv_str(w, "created_at", sb_rfc3339(store_col_int(st, 4), t));
    sb_jw_obj_end(w);
}

#define MEMBER_SELECT                                                                              \
    "SELECT m.user_id, u.email, u.username, m.role, m.created_at FROM team_members m "             \
    "JOIN users u ON u.id = m.user_id "

static projects_err write_member_by_id(projects_ctx *c, const char *team_id, const char *user_id,
                                       sb_jw *out)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e =
        store_prepare(c->db, MEMBER_SELECT "WHERE m.team_id = $1 AND m.user_id = $2", &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "reading a member", e, &err);
    store_bind_cstr(st, 1, team_id);
    store_bind_cstr(st, 2, user_id);
    e = store_step(st, &err);
    if (e == STORE_ROW)
        write_member(out, st);
    store_reset(st);
    if (e == STORE_DONE)
        return PROJECTS_NOT_FOUND;
    return e == STORE_ROW ? PROJECTS_OK : projects__store(c, "reading a member", e, &err);
}

projects_err projects_member_list(projects_ctx *c, sb_str team_id, sb_jw *out)
{
    projects__team t;
    projects_err r = projects__team_load(c, team_id, AUTHZ_READ, &t);
    if (r != PROJECTS_OK)
        return r;
    /* Guests of a team see what is shared with them, not who is in it
     * (the list holds everyone's email). */
    if (authz_effective_role(&t.r) == AUTHZ_GUEST)
        return PROJECTS_FORBIDDEN;
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(
        c->db, MEMBER_SELECT "WHERE m.team_id = $1 ORDER BY m.created_at, m.user_id", &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "listing members", e, &err);
    store_bind_cstr(st, 1, t.id);
    sb_jw_obj_begin(out);
    sb_jw_key(out, "items");
    sb_jw_arr_begin(out);
    while ((e = store_step(st, &err)) == STORE_ROW)
        write_member(out, st);
    store_reset(st);
    sb_jw_arr_end(out);
    if (e != STORE_DONE)
        return projects__store(c, "listing members", e, &err);
    /* Pending invitations, for those who manage the team. */
    sb_jw_key(out, "invites");
    sb_jw_arr_begin(out);
    if (t.r.team_role >= AUTHZ_ADMIN) {
        e = store_prepare(c->db,
                          "SELECT id, email, role, expires_at FROM team_invites WHERE "
                          "team_id = $1 AND accepted_at IS NULL AND expires_at > $2 ORDER BY id",
                          &st, &err);
        if (e != STORE_OK)
            return projects__store(c, "listing invites", e, &err);
        store_bind_cstr(st, 1, t.id);
        store_bind_int(st, 2, c->now_us);
        while ((e = store_step(st, &err)) == STORE_ROW) {
            char ts[SB_RFC3339_LEN];
            sb_jw_obj_begin(out);
            sb_jw_kv_str(out, "id", store_col_text(st, 0, NULL));
            sb_jw_kv_str(out, "email", store_col_text(st, 1, NULL));
            sb_jw_kv_str(out, "role", store_col_text(st, 2, NULL));
            sb_jw_kv_str(out, "expires_at", sb_rfc3339(store_col_int(st, 3), ts));
            sb_jw_obj_end(out);
        }
        store_reset(st);
        if (e != STORE_DONE)
            return projects__store(c, "listing invites", e, &err);
    }
    sb_jw_arr_end(out);
    sb_jw_kv_str(out, "next_cursor", NULL);
    sb_jw_obj_end(out);
    return PROJECTS_OK;
}

/* The role of user_id in team_id, NONE when not a member. */
static store_err role_in(store *db, const char *team_id, const char *user_id, authz_role *out,
                         sb_errbuf *err)
{
    store_stmt *st;
    store_err e = store_prepare(
        db, "SELECT role FROM team_members WHERE team_id = $1 AND user_id = $2", &st, err);
    if (e != STORE_OK)
        return e;
    store_bind_cstr(st, 1, team_id);
    store_bind_cstr(st, 2, user_id);
    *out = AUTHZ_NONE;
    e = store_step(st, err);
    if (e == STORE_ROW) {
        size_t n;
        const char *s = store_col_text(st, 0, &n);
        authz_role_parse(sb_str_make(s, n), out);
    }
    store_reset(st);
    return e == STORE_ROW || e == STORE_DONE ? STORE_OK : e;
}

static store_err owner_count(store *db, const char *team_id, int64_t *n, sb_errbuf *err)
{
    store_stmt *st;
    store_err e = store_prepare(
        db, "SELECT count(*) FROM team_members WHERE team_id = $1 AND role = 'owner'", &st, err);
    if (e != STORE_OK)
        return e;
    store_bind_cstr(st, 1, team_id);
    e = store_step(st, err);
    *n = e == STORE_ROW ? store_col_int(st, 0) : 0;
    store_reset(st);
    return e == STORE_ROW ? STORE_OK : e;
}

static projects_err parse_role(sb_str role, authz_role *out, projects_problem *p)
{
    if (!authz_role_parse(role, out))
        return projects__invalid(p, "role", "must be owner, admin, editor, viewer or guest");
    return PROJECTS_OK;
}

/* Loads the team with MANAGE and checks the caller may grant `to`. */
static projects_err may_manage(projects_ctx *c, sb_str team_id, authz_role to, bool target_owner,
                               projects__team *t)
{
    projects_err r = projects__team_load(c, team_id, AUTHZ_READ, t);
    if (r != PROJECTS_OK)
        return r;
    t->r.target_owner = target_owner || to == AUTHZ_OWNER;
    r = projects__decide(c, AUTHZ_MANAGE, &t->r);
    if (r == PROJECTS_OK && !authz_may_grant(t->r.team_role, to))
        r = PROJECTS_FORBIDDEN;
    return r;
}

static projects_err find_user(projects_ctx *c, const char *email, char uid[SB_UUID_STR_LEN],
                              bool *found)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(c->db, "SELECT id FROM users WHERE email = $1", &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "finding a user", e, &err);
    store_bind_cstr(st, 1, email);
    e = store_step(st, &err);
    *found = e == STORE_ROW;
    if (*found)
        snprintf(uid, SB_UUID_STR_LEN, "%s", store_col_text(st, 0, NULL));
    store_reset(st);
    return e == STORE_ROW || e == STORE_DONE ? PROJECTS_OK
                                             : projects__store(c, "finding a user", e, &err);
}

projects_err projects_member_add(projects_ctx *c, sb_str team_id, sb_str email, sb_str role,
                                 sb_jw *out, char invite_token[65], char team_name[101],
                                 projects_problem *p)
{
    invite_token[0] = 0;
    authz_role to;
    projects__team t;
    projects_err r = may_manage(c, team_id, AUTHZ_NONE, false, &t);
    if (r != PROJECTS_OK)
        return r;
    if ((r = parse_role(role, &to, p)) != PROJECTS_OK)
        return r;
    if ((r = may_manage(c, team_id, to, false, &t)) != PROJECTS_OK)
        return r;
    char norm[255];
    identity_problem ip;
    if (!identity_email_normalize(email, norm, &ip))
        return projects__invalid(p, "email", ip.message);
    snprintf(team_name, 101, "%s", t.name);
    char uid[SB_UUID_STR_LEN];
    bool found = false;
    if ((r = find_user(c, norm, uid, &found)) != PROJECTS_OK)
        return r;
    sb_errbuf err;
    store_stmt *st;
    store_err e;
    if (found) {
        e = store_prepare(c->db,
                          "INSERT INTO team_members (team_id, user_id, role, created_at, "
                          "updated_at) VALUES ($1, $2, $3, $4, $4)",
                          &st, &err);
        if (e != STORE_OK)
            return projects__store(c, "adding a member", e, &err);
        store_bind_cstr(st, 1, t.id);
        store_bind_cstr(st, 2, uid);
        store_bind_cstr(st, 3, authz_role_name(to));
        store_bind_int(st, 4, c->now_us);
        e = store_step(st, &err);
        store_reset(st);
        projects__access_changed(); /* autocommit: after the step */
        if (e == STORE_CONSTRAINT) {
            snprintf(p->message, sizeof(p->message), "is already a member of this team");
            p->field = "email";
            return PROJECTS_CONFLICT;
        }
        if (e != STORE_DONE)
            return projects__store(c, "adding a member", e, &err);
        return write_member_by_id(c, t.id, uid, out);
    }
    sb_buf token = SB_BUF_INIT;
    crypto_token(32, &token);
    char hash[65], id[SB_UUID_STR_LEN];
    hash_hex(sb_buf_str(&token), hash);
    projects__new_id(id);
    int64_t expires = c->now_us + c->limits->invite_ttl_s * 1000000;
    e = store_prepare(c->db,
                      "INSERT INTO team_invites (id, team_id, email, role, token_hash, "
                      "invited_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                      &st, &err);
    if (e == STORE_OK) {
        store_bind_cstr(st, 1, id);
        store_bind_cstr(st, 2, t.id);
        store_bind_cstr(st, 3, norm);
        store_bind_cstr(st, 4, authz_role_name(to));
        store_bind_cstr(st, 5, hash);
        store_bind_cstr(st, 6, c->caller.user_id);
        store_bind_int(st, 7, c->now_us);
        store_bind_int(st, 8, expires);
        e = store_step(st, &err);
        store_reset(st);
    }
    if (e != STORE_DONE) {
        sb_buf_free(&token);
        return projects__store(c, "inviting", e, &err);
    }
    snprintf(invite_token, 65, "%s", token.ptr);
    sb_secure_zero(token.ptr, token.len);
    sb_buf_free(&token);
    char ts[SB_RFC3339_LEN];
    sb_jw_obj_begin(out);
    sb_jw_key(out, "invite");
    sb_jw_obj_begin(out);
    sb_jw_kv_str(out, "id", id);
    sb_jw_kv_str(out, "email", norm);
    sb_jw_kv_str(out, "role", authz_role_name(to));
    sb_jw_kv_str(out, "expires_at", sb_rfc3339(expires, ts));
    sb_jw_obj_end(out);
    sb_jw_obj_end(out);
    return PROJECTS_OK;
}

/* Sets user_id's role (or removes them when to is NONE) in one
 * transaction that re-counts owners. */
static projects_err change(projects_ctx *c, sb_str team_id, sb_str user_id, authz_role to,
                           projects__team *t, projects_problem *p)
{
    if (!projects__id_ok(user_id))
        return PROJECTS_NOT_FOUND;
    char uid[SB_UUID_STR_LEN];
    projects__copy(uid, sizeof(uid), user_id);
    bool self = strcmp(uid, c->caller.user_id ? c->caller.user_id : "") == 0;
    /* Leaving is always allowed (the last owner aside); anything else
     * needs MANAGE over the member's present and new roles. */
    projects_err r = projects__team_load(c, team_id, AUTHZ_READ, t);
    if (r != PROJECTS_OK)
        return r;
    sb_errbuf err;
    authz_role cur;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = role_in(c->db, t->id, uid, &cur, &err);
    if (e != STORE_OK)
        return projects__store(c, "changing a member", e, &err);
    if (cur == AUTHZ_NONE) {
        store_rollback(c->db, NULL);
        return PROJECTS_NOT_FOUND;
    }
    if (!(self && to == AUTHZ_NONE)) {
        t->r.target_owner = cur == AUTHZ_OWNER || to == AUTHZ_OWNER;
        r = projects__decide(c, AUTHZ_MANAGE, &t->r);
        if (r == PROJECTS_OK &&
            (!authz_may_grant(t->r.team_role, cur) || !authz_may_grant(t->r.team_role, to)))
            r = PROJECTS_FORBIDDEN;
        if (r != PROJECTS_OK) {
            store_rollback(c->db, NULL);
            return r;
        }
    }
    const char *args[] = {t->id, uid, authz_role_name(to), NULL};
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)c->now_us);
    args[3] = now;
    if (to == AUTHZ_NONE)
        e = projects__exec(c->db, "DELETE FROM team_members WHERE team_id = $1 AND user_id = $2",
                           args, 2, NULL, &err);
    else
        e = projects__exec(c->db,
                           "UPDATE team_members SET role = $3, updated_at = CAST($4 AS BIGINT) "
                           "WHERE team_id = $1 AND user_id = $2",
                           args, 4, NULL, &err);
    int64_t owners = 0;
    if (e == STORE_OK)
        e = owner_count(c->db, t->id, &owners, &err);
    if (e != STORE_OK)
        return projects__store(c, "changing a member", e, &err);
    if (owners == 0) {
        store_rollback(c->db, NULL);
        if (p) {
            p->field = "role";
            snprintf(p->message, sizeof(p->message),
                     "the team's last owner cannot leave or be demoted; transfer ownership first");
        }
        return PROJECTS_LAST_OWNER;
    }
    e = projects__commit_access(c, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "changing a member", e, &err);
}

projects_err projects_member_set_role(projects_ctx *c, sb_str team_id, sb_str user_id, sb_str role,
                                      sb_jw *out, projects_problem *p)
{
    authz_role to;
    projects_err r = parse_role(role, &to, p);
    projects__team t;
    if (r == PROJECTS_OK)
        r = change(c, team_id, user_id, to, &t, p);
    if (r != PROJECTS_OK)
        return r;
    char uid[SB_UUID_STR_LEN];
    projects__copy(uid, sizeof(uid), user_id);
    return write_member_by_id(c, t.id, uid, out);
}

projects_err projects_member_remove(projects_ctx *c, sb_str team_id, sb_str user_id)
{
    projects__team t;
    projects_problem p;
    return change(c, team_id, user_id, AUTHZ_NONE, &t, &p);
}

projects_err projects_team_transfer(projects_ctx *c, sb_str team_id, sb_str user_id,
                                    projects_problem *p)
{
    projects__team t;
    projects_err r = projects__team_load(c, team_id, AUTHZ_DELETE, &t);
    if (r != PROJECTS_OK)
        return r;
    if (!projects__id_ok(user_id))
        return projects__invalid(p, "user_id", "must be the id of a member of the team");
    char uid[SB_UUID_STR_LEN];
    projects__copy(uid, sizeof(uid), user_id);
    if (strcmp(uid, c->caller.user_id) == 0)
        return projects__invalid(p, "user_id", "must be another member than you");
    sb_errbuf err;
    authz_role cur;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = role_in(c->db, t.id, uid, &cur, &err);
    if (e != STORE_OK)
        return projects__store(c, "transferring a team", e, &err);
    if (cur == AUTHZ_NONE) {
        store_rollback(c->db, NULL);
        return projects__invalid(p, "user_id", "must be the id of a member of the team");
    }
    const char *args[] = {t.id, uid, c->caller.user_id};
    e = projects__exec(c->db,
                       "UPDATE team_members SET role = 'owner' WHERE team_id = $1 AND user_id = $2",
                       args, 2, NULL, &err);
    if (e == STORE_OK)
        e = projects__exec(c->db,
                           "UPDATE team_members SET role = 'admin' WHERE team_id = $1 AND "
                           "user_id = $2",
                           (const char *const[]){t.id, c->caller.user_id}, 2, NULL, &err);
    if (e == STORE_OK)
        e = projects__commit_access(c, &err);
    return e == STORE_OK ? PROJECTS_OK : projects__store(c, "transferring a team", e, &err);
}

projects_err projects_invite_accept(projects_ctx *c, sb_str token, sb_jw *out)
{
    if (!c->caller.user_id || token.len < 16 || token.len > 128)
        return PROJECTS_NOT_FOUND;
    char hash[65];
    hash_hex(token, hash);
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_begin(c->db, &err);
    if (e == STORE_OK)
        e = store_prepare(c->db,
                          "SELECT i.id, i.team_id, i.role FROM team_invites i JOIN users u ON "
                          "u.email = i.email WHERE i.token_hash = $1 AND u.id = $2 AND "
                          "i.accepted_at IS NULL AND i.expires_at > $3",
                          &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "accepting an invite", e, &err);
    store_bind_cstr(st, 1, hash);
    store_bind_cstr(st, 2, c->caller.user_id);
    store_bind_int(st, 3, c->now_us);
    e = store_step(st, &err);
    char id[SB_UUID_STR_LEN] = "", team[SB_UUID_STR_LEN] = "", role[16] = "";
    if (e == STORE_ROW) {
        snprintf(id, sizeof(id), "%s", store_col_text(st, 0, NULL));
        snprintf(team, sizeof(team), "%s", store_col_text(st, 1, NULL));
        snprintf(role, sizeof(role), "%s", store_col_text(st, 2, NULL));
    }
    store_reset(st);
    if (e != STORE_ROW) {
        store_rollback(c->db, NULL);
        return e == STORE_DONE ? PROJECTS_NOT_FOUND
                               : projects__store(c, "accepting an invite", e, &err);
    }
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)c->now_us);
    const char *args[] = {id, c->caller.user_id, now};
    e = projects__exec(c->db,
                       "UPDATE team_invites SET accepted_at = CAST($3 AS BIGINT), accepted_by = $2 "
                       "WHERE id = $1",
                       args, 3, NULL, &err);
    /* Already a member (invited twice, or added since): the invite is
     * spent and the membership stays as it is. */
    if (e == STORE_OK)
        e = projects__exec(c->db,
                           "INSERT INTO team_members (team_id, user_id, role, created_at, "
                           "updated_at) SELECT $1, $2, $3, CAST($4 AS BIGINT), CAST($4 AS BIGINT) "
                           "WHERE NOT EXISTS (SELECT 1 FROM team_members WHERE team_id = $1 AND "
                           "user_id = $2)",
                           (const char *const[]){team, c->caller.user_id, role, now}, 4, NULL,
                           &err);
    if (e == STORE_OK)
        e = projects__commit_access(c, &err);
    if (e != STORE_OK)
        return projects__store(c, "accepting an invite", e, &err);
    return write_member_by_id(c, team, c->caller.user_id, out);
}
