/*
 * history.h: the per-project event log, its snapshots, and the state of a
 * project at any sequence number (docs/history.md).
 *
 * Every change a service makes appends one event in the same transaction
 * as the change (history_append, called by projects__audit), numbered
 * 1, 2, 3 ... per project with no gaps, carrying the new value of the
 * entity it touched (or null when it is gone). Every `snapshot_every`
 * events, and at the first, the project's state is stored as an LZ4 frame
 * of its JSON. The state at sequence n is the nearest snapshot at or before
 * n, with the events after it applied in order.
 *
 * The state is one JSON object, canonical (keys sorted, compact):
 *   {"project": {...} | null, "pages": {id: page}, "files": {path: file},
 *    "comments": {id: comment}, "members": {user_id: member},
 *    "assets": {id: asset}}
 * An event's payload is {"kind": k, "key": s, "value": v}: kind "project"
 * (value the project or null), "page", "file", "comment", "member",
 * "asset" (key the entity's key, value it or null when deleted), "state"
 * (value a whole state), "none" (no change to the state) or "ref" (a
 * version-control ref moved: value the move, no change to the state). A change that
 * also moved another entity of the same kind on (a reply bumps its
 * thread's root) lists it in "also": {key: value}.
 *
 * The pure half (apply, snapshot codec, check) has no I/O; the rest reads
 * and writes through a store connection the caller owns. Nothing here
 * checks authorization: callers (projects/) do.
 */
#ifndef SB_HISTORY_HISTORY_H
#define SB_HISTORY_HISTORY_H

#include <jansson.h>

#include "base/json.h"
#include "base/str.h"
#include "store/store.h"

#define HISTORY_ERRNO_MAP(X)                                                                       \
    X(OK, "ok")                                                                                    \
    X(NOT_FOUND, "no such sequence number or time in the project's history")                       \
    X(CORRUPT, "a snapshot or event is malformed")                                                 \
    X(TOO_LARGE, "a snapshot is larger than allowed")                                              \
    X(STORE, "the database failed")

typedef enum history_err {
#define HISTORY__ENUM(name, msg) HISTORY_##name,
    HISTORY_ERRNO_MAP(HISTORY__ENUM)
#undef HISTORY__ENUM
} history_err;

const char *history_strerror(history_err e);

/* Snapshots every 100 events unless configured otherwise. */
#define HISTORY_SNAPSHOT_EVERY_DEFAULT 100
/* The largest state (JSON bytes) a snapshot may decode to: a guard against
 * hostile or corrupt frames, above anything the limits let a project hold
 * in practice. */
#define HISTORY_STATE_MAX ((size_t)512 << 20)

/* ---- pure: state, events, snapshots ---- */

/* A new empty state: no project, empty collections. Never NULL. */
json_t *history_state_new(void);

/* Whether v has the shape of a state (the keys above, collections of
 * objects, project an object or null). */
bool history_state_check(const json_t *v);

/* Applies one event payload to state (a valid state), in place. CORRUPT
 * (state untouched) when the payload is not one this module writes. */
history_err history_apply(json_t *state, const json_t *payload);

/* The canonical text of state (compact, keys sorted), into out. */
void history_state_text(const json_t *state, sb_buf *out);

/* A snapshot of state: an LZ4 frame (content size and checksum in it) of
 * its canonical text, appended to out. */
void history_snapshot_encode(const json_t *state, sb_buf *out);

/* Decodes a snapshot of p[0..n): CORRUPT for anything but one complete
 * LZ4 frame that declares its size and holds a state; TOO_LARGE when it
 * declares more than max bytes. On OK *state is a new reference. */
history_err history_snapshot_decode(const void *p, size_t n, size_t max, json_t **state);

/* ---- with a store ---- */

typedef struct history_event_in {
    const char *project_id;
    const char *type;                  /* the change: "page_updated", ... (docs/history.md) */
    const char *target;                /* the entity's key (kind project ignores it) */
    const char *actor_id, *session_id; /* may be NULL */
    const char *details;               /* the audit details (JSON object text) or NULL */
    int64_t now_us;
} history_event_in;

/* Appends ev in the caller's open transaction: reads the changed entity
 * as it now is, takes the project's next sequence number (waiting for a
 * concurrent writer of the same project to finish), and stores a
 * snapshot when the number is 1 or a multiple of snapshot_every (>= 1).
 * *seq (may be NULL) gets the number. STORE with err on failure; the
 * caller rolls back. */
history_err history_append(store *db, const history_event_in *ev, int snapshot_every, int64_t *seq,
                           sb_errbuf *err);

/* The project's last sequence number (0 when it has no events). */
history_err history_head(store *db, const char *project_id, int64_t *seq, sb_errbuf *err);

/* The project's state as its tables hold it now, with the sequence number
 * of its last event, read in one transaction so that both agree (a
 * repeatable-read transaction on PostgreSQL). Not inside another
 * transaction. */
history_err history_state_live(store *db, const char *project_id, json_t **state, int64_t *seq,
                               sb_errbuf *err);

/* The state at sequence number seq (1..head): nearest snapshot plus
 * replay. NOT_FOUND outside that range; CORRUPT for a bad snapshot or
 * payload. On OK *state is a new reference. This is the function other
 * modules (version control) build on. */
history_err history_state_at(store *db, const char *project_id, int64_t seq, json_t **state,
                             sb_errbuf *err);

/* The sequence number current at time t_us: the last event at or before
 * it. NOT_FOUND when the project had no events yet. */
history_err history_seq_at_time(store *db, const char *project_id, int64_t t_us, int64_t *seq,
                                sb_errbuf *err);

/* When event seq happened (Unix microseconds). NOT_FOUND if it did not. */
history_err history_event_time(store *db, const char *project_id, int64_t seq, int64_t *t_us,
                               sb_errbuf *err);

/* Writes {"items": [events after `after`, at most limit (1..200)],
 * "next_cursor": "<last seq>" | null} into out, oldest first. An event is
 * {seq, type, target, actor_id, session_id, created_at, payload}. */
history_err history_events_list(store *db, const char *project_id, int64_t after, int limit,
                                sb_jw *out, sb_errbuf *err);

#endif
