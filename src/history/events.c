/*
 * events.c: reading the event log, oldest first, a page at a time. The
 * cursor is the last sequence number shown: numbers have no gaps and
 * never change, so a page is stable whatever is written meanwhile.
 */
#include "base/clock.h"
#include "history/history_int.h"

static void write_event(sb_jw *w, store_stmt *st)
{
    char t[SB_RFC3339_LEN];
    size_t n;
    sb_jw_obj_begin(w);
    sb_jw_kv_int(w, "seq", store_col_int(st, 0));
    sb_jw_kv_str(w, "type", store_col_text(st, 1, NULL));
    sb_jw_kv_str(w, "target", store_col_text(st, 2, NULL));
    sb_jw_kv_str(w, "actor_id", store_col_text(st, 3, NULL));
    sb_jw_kv_str(w, "session_id", store_col_text(st, 4, NULL));
    sb_jw_kv_str(w, "created_at", sb_rfc3339(store_col_int(st, 5), t));
    const char *p = store_col_text(st, 6, &n);
    sb_jw_key(w, "payload");
    sb_jw_raw(w, p, n); /* written by append.c as JSON */
    sb_jw_obj_end(w);
}

history_err history_events_list(store *db, const char *project_id, int64_t after, int limit,
                                sb_jw *out, sb_errbuf *err)
{
    assert(limit >= 1 && limit <= 200);
    store_stmt *st;
    if (store_prepare(db,
                      "SELECT seq, type, target, actor_id, session_id, created_at, payload "
                      "FROM events WHERE project_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                      &st, err) != STORE_OK)
        return HISTORY_STORE;
    store_bind_cstr(st, 1, project_id);
    store_bind_int(st, 2, after);
    /* One row more than shown tells whether there is a next page. */
    store_bind_int(st, 3, limit + 1);
    sb_jw_obj_begin(out);
    sb_jw_key(out, "items");
    sb_jw_arr_begin(out);
    store_err e;
    int rows = 0;
    int64_t last = after;
    while ((e = store_step(st, err)) == STORE_ROW) {
        if (++rows > limit)
            continue;
        last = store_col_int(st, 0);
        write_event(out, st);
    }
    store_reset(st);
    if (e != STORE_DONE)
        return HISTORY_STORE;
    sb_jw_arr_end(out);
    sb_jw_key(out, "next_cursor");
    if (rows > limit) {
        char c[24];
        snprintf(c, sizeof(c), "%lld", (long long)last);
        sb_jw_str(out, c);
    } else {
        sb_jw_null(out);
    }
    sb_jw_obj_end(out);
    return HISTORY_OK;
}
