/*
 * replay.c: the state of a project at a sequence number or a time, and
 * its state now. The state at n is the newest snapshot at or before n
 * with the events after it, up to n, applied in order; with a snapshot
 * every N events that is one decode and at most N - 1 applications.
 *
 * Most of a replay's time is parsing payloads, and most events rewrite an
 * entity that a later event rewrites again (a page saved fifty times). So
 * the events of the range are read once, newest first, over their types
 * and keys, and only the payloads that can matter are kept (collect):
 *   - nothing before a "state" event, which replaces the whole state;
 *   - no write of a page, file, member or asset that a later event in the
 *     range writes again, unless it is a deletion: deletions cascade
 *     (a page takes its comments), so they are always kept.
 * Comments and the project are always kept: a comment's payload may move
 * its thread root ("also"), and cascades read comments' fields. The kept
 * payloads are then applied oldest first. The result is exactly the
 * in-order application of every event (history_log_test, the bench and
 * tests/integration/history.sh compare the two).
 */
#include <string.h>

#include "base/map.h"
#include "history/history_int.h"

/* The payloads to apply, newest first (as read). */
typedef struct kept {
    char **text;
    size_t *len;
    int64_t *seq;
    size_t n, cap;
} kept;

static void kept_push(kept *k, int64_t seq, const char *text, size_t len)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 64;
        k->text = sb_realloc(k->text, k->cap * sizeof(*k->text));
        k->len = sb_realloc(k->len, k->cap * sizeof(*k->len));
        k->seq = sb_realloc(k->seq, k->cap * sizeof(*k->seq));
    }
    k->text[k->n] = sb_malloc(len + 1);
    memcpy(k->text[k->n], text ? text : "", len);
    k->text[k->n][len] = 0;
    k->len[k->n] = len;
    k->seq[k->n] = seq;
    k->n++;
}

static void kept_free(kept *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->text[i]);
    free(k->text);
    free(k->len);
    free(k->seq);
}

/* Reads events (from, seq] newest first, keeping those to apply. CORRUPT
 * when a number is missing: a lost event must not give a state that never
 * was. */
static history_err collect(store *db, const char *project_id, int64_t from, int64_t seq, kept *out,
                           sb_errbuf *err)
{
    store_stmt *st;
    if (store_prepare(db,
                      "SELECT seq, type, target, payload FROM events WHERE project_id = $1 AND "
                      "seq > $2 AND seq <= $3 ORDER BY seq DESC",
                      &st, err) != STORE_OK)
        return HISTORY_STORE;
    store_bind_cstr(st, 1, project_id);
    store_bind_int(st, 2, from);
    store_bind_int(st, 3, seq);
    sb_map later; /* "kind/key" of the entities written later in the range */
    sb_map_init(&later);
    sb_buf k = SB_BUF_INIT;
    bool reset = false; /* a later "state" event replaces everything */
    int64_t expect = seq;
    history_err r = HISTORY_OK;
    store_err e;
    while ((e = store_step(st, err)) == STORE_ROW) {
        int64_t s = store_col_int(st, 0);
        if (s != expect--) {
            sb_errf(err, "event %lld is missing", (long long)(expect + 1));
            r = HISTORY_CORRUPT;
            break;
        }
        if (reset)
            continue; /* numbers are still checked */
        const char *type = store_col_text(st, 1, NULL);
        bool removes, keep = true;
        const char *kind = history__kind_of(type ? type : "", &removes);
        if (strcmp(kind, "state") == 0) {
            reset = true;
        } else if (strcmp(kind, "ref") == 0 || strcmp(kind, "none") == 0) {
            keep = false; /* they change no state */
        } else if (!strcmp(kind, "page") || !strcmp(kind, "file") || !strcmp(kind, "member") ||
                   !strcmp(kind, "asset")) {
            size_t n;
            const char *key = store_col_text(st, 2, &n);
            sb_buf_reset(&k);
            sb_buf_puts(&k, kind);
            sb_buf_putc(&k, '/');
            sb_buf_append(&k, key ? key : "", n);
            if (sb_map_get(&later, sb_buf_str(&k)))
                keep = removes;
            else
                sb_map_put(&later, sb_buf_str(&k), (void *)1);
        }
        if (keep) {
            size_t n;
            const char *text = store_col_text(st, 3, &n);
            kept_push(out, s, text, n);
        }
    }
    store_reset(st);
    sb_map_deinit(&later);
    sb_buf_free(&k);
    if (r == HISTORY_OK && e != STORE_DONE)
        r = HISTORY_STORE;
    if (r == HISTORY_OK && expect != from) {
        sb_errf(err, "events %lld..%lld are missing", (long long)from + 1, (long long)expect);
        r = HISTORY_CORRUPT;
    }
    return r;
}

/* The newest snapshot at or before seq: *state a new reference and *at
 * its number, or an empty state at 0 when there is none. */
static history_err load_snapshot(store *db, const char *project_id, int64_t seq, json_t **state,
                                 int64_t *at, sb_errbuf *err)
{
    store_stmt *st;
    if (store_prepare(db,
                      "SELECT seq, state FROM event_snapshots WHERE project_id = $1 AND seq <= $2 "
                      "ORDER BY seq DESC LIMIT 1",
                      &st, err) != STORE_OK)
        return HISTORY_STORE;
    store_bind_cstr(st, 1, project_id);
    store_bind_int(st, 2, seq);
    store_err e = store_step(st, err);
    history_err r = HISTORY_OK;
    if (e == STORE_ROW) {
        size_t n;
        const void *p = store_col_blob(st, 1, &n);
        *at = store_col_int(st, 0);
        r = history_snapshot_decode(p, n, HISTORY_STATE_MAX, state);
        if (r != HISTORY_OK)
            sb_errf(err, "snapshot %lld: %s", (long long)*at, history_strerror(r));
    } else if (e == STORE_DONE) {
        *state = history_state_new();
        *at = 0;
    } else {
        r = HISTORY_STORE;
    }
    store_reset(st);
    return r;
}

history_err history_state_at(store *db, const char *project_id, int64_t seq, json_t **out,
                             sb_errbuf *err)
{
    int64_t head;
    history_err r = history_head(db, project_id, &head, err);
    if (r != HISTORY_OK)
        return r;
    if (seq < 1 || seq > head)
        return HISTORY_NOT_FOUND;
    json_t *state;
    int64_t from;
    if ((r = load_snapshot(db, project_id, seq, &state, &from, err)) != HISTORY_OK)
        return r;
    kept k = {0};
    r = collect(db, project_id, from, seq, &k, err);
    for (size_t i = k.n; r == HISTORY_OK && i-- > 0;) {
        json_t *payload = history__parse(k.text[i], k.len[i]);
        if (!payload || history_apply(state, payload) != HISTORY_OK) {
            sb_errf(err, "event %lld cannot be applied", (long long)k.seq[i]);
            r = HISTORY_CORRUPT;
        }
        json_decref(payload);
    }
    kept_free(&k);
    if (r != HISTORY_OK) {
        json_decref(state);
        return r;
    }
    *out = state;
    return HISTORY_OK;
}

history_err history_state_live(store *db, const char *project_id, json_t **out, int64_t *seq,
                               sb_errbuf *err)
{
    assert(!store_in_transaction(db));
    if (store_begin(db, err) != STORE_OK)
        return HISTORY_STORE;
    /* PostgreSQL's default (read committed) gives each statement its own
     * snapshot; one snapshot for the whole read is what makes the number
     * and the tables agree. SQLite's transaction is serialised already. */
    if (store_driver_of(db) == STORE_POSTGRES &&
        store_exec(db, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", err) != STORE_OK) {
        store_rollback(db, NULL);
        return HISTORY_STORE;
    }
    sb_buf text = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &text);
    int64_t head = 0;
    history_err r = history_head(db, project_id, &head, err);
    if (r == HISTORY_OK)
        r = history__live_state(db, project_id, &w, err);
    store_rollback(db, NULL);
    if (r == HISTORY_OK) {
        json_t *s = history__parse(text.ptr, text.len);
        if (!s || !history_state_check(s)) {
            json_decref(s);
            sb_errf(err, "the tables do not make a state");
            r = HISTORY_CORRUPT;
        } else {
            *out = s;
            *seq = head;
        }
    }
    sb_buf_free(&text);
    return r;
}

static history_err one_int(store *db, const char *sql, const char *project_id, int64_t arg,
                           int64_t *out, sb_errbuf *err)
{
    store_stmt *st;
    if (store_prepare(db, sql, &st, err) != STORE_OK)
        return HISTORY_STORE;
    store_bind_cstr(st, 1, project_id);
    store_bind_int(st, 2, arg);
    store_err e = store_step(st, err);
    bool found = e == STORE_ROW && !store_col_is_null(st, 0);
    int64_t v = found ? store_col_int(st, 0) : 0;
    store_reset(st);
    if (e != STORE_ROW && e != STORE_DONE)
        return HISTORY_STORE;
    if (!found)
        return HISTORY_NOT_FOUND;
    *out = v;
    return HISTORY_OK;
}

history_err history_seq_at_time(store *db, const char *project_id, int64_t t_us, int64_t *seq,
                                sb_errbuf *err)
{
    return one_int(db, "SELECT MAX(seq) FROM events WHERE project_id = $1 AND created_at <= $2",
                   project_id, t_us, seq, err);
}

history_err history_event_time(store *db, const char *project_id, int64_t seq, int64_t *t_us,
                               sb_errbuf *err)
{
    return one_int(db, "SELECT created_at FROM events WHERE project_id = $1 AND seq = $2",
                   project_id, seq, t_us, err);
}
