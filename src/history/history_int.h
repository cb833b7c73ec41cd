/*
 * history_int.h: what the files of history/ share and nobody else sees.
 */
#ifndef SB_HISTORY_INT_H
#define SB_HISTORY_INT_H

#include <assert.h>

#include "history/history.h"

/* The state collection ("pages") that holds entities of kind ("page"),
 * or NULL for a kind without one. */
const char *history__collection_of(const char *kind);

/* The payload kind an event type carries: "state", "project", "page",
 * "file", "comment", "member", "asset" or "none". Types this module does
 * not know carry the whole state, which is always right, only larger.
 * *removes (may be NULL): whether the type is a deletion, so that its
 * value is null and it may cascade. */
const char *history__kind_of(const char *type, bool *removes);

/* live.c: writes the live value of entity key of kind in project_id (as
 * the state holds it) into w, or null when there is none. Kind "project"
 * ignores key. */
history_err history__live_entity(store *db, const char *project_id, const char *kind,
                                 const char *key, sb_jw *w, sb_errbuf *err);

/* live.c: writes the whole live state of project_id into w. */
history_err history__live_state(store *db, const char *project_id, sb_jw *w, sb_errbuf *err);

/* Parses JSON text that this module wrote (payloads, states): NULL when
 * it does not parse. */
json_t *history__parse(const char *text, size_t len);

#endif
