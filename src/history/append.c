/*
 * append.c: writing the event log, inside the transaction of the change.
 *
 * The sequence number comes from an upsert on the project's row of
 * event_seqs: the row lock it takes (PostgreSQL) or the write lock the
 * transaction already holds (SQLite's BEGIN IMMEDIATE) makes a concurrent
 * writer of the same project wait until this transaction ends, and a
 * rollback takes the number back with the change. So numbers are unique,
 * without gaps, and in commit order. Writers of different projects do not
 * wait for each other (on PostgreSQL).
 *
 * The payload is read back from the tables after the change, rather than
 * handed in by each service: one reader (live.c) for events and
 * snapshots, and a service cannot forget a field.
 */
#include <string.h>

#include "history/history_int.h"

const char *history__kind_of(const char *type, bool *removes)
{
    static const struct {
        const char *type, *kind;
        bool removes;
    } map[] = {
        /* A project created from a template comes with pages and files;
         * a transfer changes the owner and the members at once. */
        {"project_created", "state", false},
        {"project_transferred", "state", false},
        {"project_updated", "project", false},
        {"project_settings_changed", "project", false},
        {"project_deleted", "project", true},
        {"page_created", "page", false},
        {"page_updated", "page", false},
        {"page_deleted", "page", true},
        {"library_component_inserted", "page", false},
        {"file_created", "file", false},
        {"file_updated", "file", false},
        {"file_deleted", "file", true},
        {"comment_created", "comment", false},
        {"comment_updated", "comment", false},
        {"comment_resolved", "comment", false},
        {"comment_reopened", "comment", false},
        {"comment_deleted", "comment", true},
        {"member_role_changed", "member", false}, /* role none: null, no cascade */
        {"asset_created", "asset", false},
        {"asset_deleted", "asset", true},
        /* Not part of the state (docs/history.md). */
        {"item_shared", "none", false},
        {"ai_content_created", "none", false},
        {"ai_content_deleted", "none", false},
        /* Version control: a ref moved (vcs/event.c); the value is the
         * move (ref, old and new commit, ...). Refs are not part of the
         * state: the content a ref names is in git, the live project is
         * written by its own page and file events. */
        {"vcs_commit", "ref", false},
        {"vcs_branch_created", "ref", false},
        {"vcs_branch_deleted", "ref", false},
        {"vcs_tag_created", "ref", false},
        {"vcs_tag_deleted", "ref", false},
        {"vcs_merge", "ref", false},
        {"vcs_merge_resolved", "ref", false},
        {"vcs_rollback", "ref", false},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(map); i++)
        if (strcmp(type, map[i].type) == 0) {
            if (removes)
                *removes = map[i].removes;
            return map[i].kind;
        }
    if (removes)
        *removes = false;
    return "state";
}

static history_err next_seq(store *db, const char *project_id, int64_t *seq, sb_errbuf *err)
{
    store_stmt *st;
    if (store_prepare(db,
                      "INSERT INTO event_seqs (project_id, seq) VALUES ($1, 1) "
                      "ON CONFLICT (project_id) DO UPDATE SET seq = event_seqs.seq + 1 "
                      "RETURNING seq",
                      &st, err) != STORE_OK)
        return HISTORY_STORE;
    store_bind_cstr(st, 1, project_id);
    store_err e = store_step(st, err);
    if (e == STORE_ROW)
        *seq = store_col_int(st, 0);
    store_reset(st);
    return e == STORE_ROW ? HISTORY_OK : HISTORY_STORE;
}

/* The time of event seq: now, or the previous event's time when that is
 * later. A writer takes its clock before it waits for the project's
 * number (a room's materialise job can wait behind a REST write), so
 * without this, times could go backwards as numbers go up, and "the
 * state at time T" (the highest number at or before T) would show a
 * change from after T. */
static history_err event_time(store *db, const char *project_id, int64_t seq, int64_t now_us,
                              int64_t *at, sb_errbuf *err)
{
    *at = now_us;
    if (seq <= 1)
        return HISTORY_OK;
    store_stmt *st;
    if (store_prepare(db, "SELECT created_at FROM events WHERE project_id = $1 AND seq = $2", &st,
                      err) != STORE_OK)
        return HISTORY_STORE;
    store_bind_cstr(st, 1, project_id);
    store_bind_int(st, 2, seq - 1);
    store_err e = store_step(st, err);
    if (e == STORE_ROW && store_col_int(st, 0) > now_us)
        *at = store_col_int(st, 0);
    store_reset(st);
    return e == STORE_ROW || e == STORE_DONE ? HISTORY_OK : HISTORY_STORE;
}

/* The key of the entity that a change to key also moved on, or "": a
 * reply's thread root, whose version and time every change to a reply
 * bumps (projects__thread_touch). A deleted reply is gone from the table;
 * the service names its thread in the audit details. */
static history_err also_key(store *db, const history_event_in *ev, const char *kind, char *out,
                            size_t cap, sb_errbuf *err)
{
    out[0] = 0;
    if (strcmp(kind, "comment") != 0)
        return HISTORY_OK;
    store_stmt *st;
    if (store_prepare(db, "SELECT parent_id FROM comments WHERE id = $1 AND project_id = $2", &st,
                      err) != STORE_OK)
        return HISTORY_STORE;
    store_bind_cstr(st, 1, ev->target);
    store_bind_cstr(st, 2, ev->project_id);
    store_err e = store_step(st, err);
    const char *parent = e == STORE_ROW ? store_col_text(st, 0, NULL) : NULL;
    if (parent)
        snprintf(out, cap, "%s", parent);
    store_reset(st);
    if (e != STORE_ROW && e != STORE_DONE)
        return HISTORY_STORE;
    if (e == STORE_DONE && ev->details) {
        json_t *d = history__parse(ev->details, strlen(ev->details));
        const char *t = json_string_value(json_object_get(d, "thread"));
        if (t)
            snprintf(out, cap, "%s", t);
        json_decref(d);
    }
    return HISTORY_OK;
}

static history_err insert_snapshot(store *db, const char *project_id, int64_t seq,
                                   const char *state, size_t len, int64_t now_us, sb_errbuf *err)
{
    json_t *s = history__parse(state, len);
    if (!s)
        sb_die("history: the live state is not JSON");
    assert(history_state_check(s));
    sb_buf frame = SB_BUF_INIT;
    history_snapshot_encode(s, &frame);
    json_decref(s);
    store_stmt *st;
    history_err r = HISTORY_STORE;
    if (store_prepare(db,
                      "INSERT INTO event_snapshots (project_id, seq, state, created_at) "
                      "VALUES ($1, $2, $3, $4)",
                      &st, err) == STORE_OK) {
        store_bind_cstr(st, 1, project_id);
        store_bind_int(st, 2, seq);
        store_bind_blob(st, 3, frame.ptr, frame.len);
        store_bind_int(st, 4, now_us);
        if (store_step(st, err) == STORE_DONE)
            r = HISTORY_OK;
        store_reset(st);
    }
    sb_buf_free(&frame);
    return r;
}

history_err history_append(store *db, const history_event_in *ev, int snapshot_every,
                           int64_t *seq_out, sb_errbuf *err)
{
    assert(store_in_transaction(db) && snapshot_every >= 1);
    const char *kind = history__kind_of(ev->type, NULL);
    const char *key = ev->target ? ev->target : "";
    history_err r;
    int64_t seq = 0;
    /* The number first: from here on this project's other writers wait. */
    if ((r = next_seq(db, ev->project_id, &seq, err)) != HISTORY_OK)
        return r;
    int64_t at;
    if ((r = event_time(db, ev->project_id, seq, ev->now_us, &at, err)) != HISTORY_OK)
        return r;

    bool snap = seq == 1 || seq % snapshot_every == 0;
    sb_buf payload = SB_BUF_INIT, state = SB_BUF_INIT;
    sb_jw w, sw;
    sb_jw_init(&w, &payload);
    sb_jw_obj_begin(&w);
    sb_jw_kv_str(&w, "kind", kind);
    sb_jw_kv_str(&w, "key", key);
    sb_jw_key(&w, "value");
    if (strcmp(kind, "state") == 0 || snap) {
        sb_jw_init(&sw, &state);
        if ((r = history__live_state(db, ev->project_id, &sw, err)) != HISTORY_OK)
            goto out;
    }
    if (strcmp(kind, "state") == 0)
        sb_jw_raw(&w, state.ptr, state.len);
    else if (strcmp(kind, "none") == 0)
        sb_jw_null(&w);
    else if (strcmp(kind, "ref") == 0 && ev->details)
        sb_jw_raw(&w, ev->details, strlen(ev->details)); /* ours: vcs/event.c writes it */
    else if (strcmp(kind, "ref") == 0)
        sb_jw_null(&w);
    else if ((r = history__live_entity(db, ev->project_id, kind, key, &w, err)) != HISTORY_OK)
        goto out;
    char also[256];
    if ((r = also_key(db, ev, kind, also, sizeof(also), err)) != HISTORY_OK)
        goto out;
    if (also[0]) {
        sb_jw_key(&w, "also");
        sb_jw_obj_begin(&w);
        sb_jw_key(&w, also);
        if ((r = history__live_entity(db, ev->project_id, kind, also, &w, err)) != HISTORY_OK)
            goto out;
        sb_jw_obj_end(&w);
    }
    sb_jw_obj_end(&w);

    store_stmt *st;
    r = HISTORY_STORE;
    if (store_prepare(db,
                      "INSERT INTO events (project_id, seq, type, target, actor_id, session_id, "
                      "created_at, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                      &st, err) != STORE_OK)
        goto out;
    store_bind_cstr(st, 1, ev->project_id);
    store_bind_int(st, 2, seq);
    store_bind_cstr(st, 3, ev->type);
    store_bind_cstr(st, 4, key);
    store_bind_cstr(st, 5, ev->actor_id);
    store_bind_cstr(st, 6, ev->session_id);
    store_bind_int(st, 7, at);
    store_bind_text(st, 8, payload.ptr, payload.len);
    store_err e = store_step(st, err);
    store_reset(st);
    if (e != STORE_DONE)
        goto out;
    r = snap ? insert_snapshot(db, ev->project_id, seq, state.ptr, state.len, at, err) : HISTORY_OK;
    if (r == HISTORY_OK && seq_out)
        *seq_out = seq;
out:
    sb_buf_free(&payload);
    sb_buf_free(&state);
    return r;
}

history_err history_head(store *db, const char *project_id, int64_t *seq, sb_errbuf *err)
{
    store_stmt *st;
    if (store_prepare(db, "SELECT seq FROM event_seqs WHERE project_id = $1", &st, err) != STORE_OK)
        return HISTORY_STORE;
    store_bind_cstr(st, 1, project_id);
    store_err e = store_step(st, err);
    int64_t v = e == STORE_ROW ? store_col_int(st, 0) : 0;
    store_reset(st);
    if (e != STORE_ROW && e != STORE_DONE)
        return HISTORY_STORE;
    *seq = v;
    return HISTORY_OK;
}
