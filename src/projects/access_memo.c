/*
 * access_memo.c: this thread's memo of the project records that access
 * decisions rest on (projects__project_load's row: owner, team,
 * visibility, the caller's team and project roles, the team's policy), for
 * the analytics routes, which check a project on every /query and /write:
 * the store read was a third of a small query's server time.
 *
 * Only the record is remembered; the decision (the action, the caller's
 * address against the allowlist, MFA) is made afresh from it each time.
 * A remembered record is trusted only while nothing could have changed it
 * unseen, as identity's session memo (identity/verified.c) does:
 *   - every commit of this process that changes what the record holds
 *     (members and roles of teams and projects, owner, visibility and
 *     settings of a project, a team's policy, deletions) calls
 *     projects__access_changed after it commits, which bumps a count that
 *     a reader takes *before* its store read; a record read under an older
 *     count is void, so the next request on every thread reads again;
 *   - what another process commits on a shared store (a second server on
 *     the same Postgres, the command line) is seen within
 *     PROJECTS__ACCESS_MEMO_US (1 s) of the read the record rests on.
 * Only records the caller may read are remembered: refusals, missing
 * projects and store failures are asked again.
 *
 * The count is process-wide on purpose: a change committed through any
 * context of this process must void every thread's memo. Slots are per
 * thread (no locks), keyed by store handle, caller and project.
 */
#include "projects/projects_int.h"

#include <stdatomic.h>
#include <string.h>

#include "base/hash.h"

#define SLOTS 128 /* per thread, ~800 bytes each */

typedef struct slot {
    const store *db; /* NULL: empty */
    char user[SB_UUID_STR_LEN];
    uint64_t gen;
    int64_t read_us;
    projects__proj p;
} slot;

static _Thread_local slot memo[SLOTS];
static _Atomic uint64_t access_changes;

uint64_t projects__access_gen(void)
{
    return atomic_load(&access_changes);
}

void projects__access_changed(void)
{
    atomic_fetch_add(&access_changes, 1);
}

static const char *caller_id(const projects_ctx *c)
{
    return c->caller.user_id ? c->caller.user_id : "";
}

static slot *slot_of(const char *user, sb_str project)
{
    uint64_t h = sb_hash(project.ptr, project.len) ^ sb_hash(user, strlen(user));
    return &memo[h % SLOTS];
}

bool projects__access_memo_get(const projects_ctx *c, sb_str project_id, projects__proj *out)
{
    if (c->system || c->now_us <= 0 || !projects__id_ok(project_id))
        return false; /* no clock: no way to age an entry */
    const char *user = caller_id(c);
    const slot *s = slot_of(user, project_id);
    if (s->db != c->db || s->gen != projects__access_gen() || strcmp(s->user, user) != 0 ||
        !sb_str_eq(sb_str_c(s->p.id), project_id) || c->now_us < s->read_us ||
        c->now_us - s->read_us >= PROJECTS__ACCESS_MEMO_US)
        return false;
    *out = s->p;
    out->r.policy = out->team_id[0] ? &out->policy : NULL;
    return true;
}

void projects__access_memo_put(const projects_ctx *c, const projects__proj *p, uint64_t gen)
{
    const char *user = caller_id(c);
    if (c->system || c->now_us <= 0 || strlen(user) >= SB_UUID_STR_LEN)
        return;
    slot *s = slot_of(user, sb_str_c(p->id));
    s->db = c->db;
    memcpy(s->user, user, strlen(user) + 1);
    s->gen = gen;
    s->read_us = c->now_us;
    s->p = *p;
    s->p.r.policy = NULL; /* re-pointed at the copy on the way out */
}

store_err projects__commit_access(projects_ctx *c, sb_errbuf *err)
{
    store_err e = store_commit(c->db, err);
    projects__access_changed(); /* even after a failure: a harmless re-read */
    return e;
}
