/*
 * proto.h: the y-websocket wire protocol (y-protocols PROTOCOL.md, and
 * y-websocket's server), decoded and encoded. Pure: no I/O, no state.
 *
 * A message is lib0-framed: var-uint message type, then
 *   0 sync:      var-uint step (0: state vector, 1: update answering a
 *                state vector, 2: update), then var-uint8-array payload;
 *   1 awareness: var-uint8-array of an awareness update (var-uint count,
 *                then per client: var-uint client id, var-uint clock,
 *                var-string state JSON, "null" when the client left);
 *   2 auth:      var-uint 0 (permission denied), var-string reason;
 *   3 query awareness: nothing more.
 * Bytes after a complete message make it malformed: stock clients never
 * send them, and accepting them would hide framing bugs.
 *
 * Decoding borrows: payload views point into the input.
 */
#ifndef SB_COLLAB_PROTO_H
#define SB_COLLAB_PROTO_H

#include "base/str.h"

enum {
    COLLAB_MSG_SYNC = 0,
    COLLAB_MSG_AWARENESS = 1,
    COLLAB_MSG_AUTH = 2,
    COLLAB_MSG_QUERY_AWARENESS = 3,
};

enum {
    COLLAB_SYNC_STEP1 = 0,
    COLLAB_SYNC_STEP2 = 1,
    COLLAB_SYNC_UPDATE = 2,
};

/* Why a message was refused; 0 is success. */
#define COLLAB_PROTO_ERRORS(X)                                                                     \
    X(COLLAB_PROTO_OK, "ok")                                                                       \
    X(COLLAB_PROTO_EMPTY, "empty message")                                                         \
    X(COLLAB_PROTO_TRUNCATED, "message ends early")                                                \
    X(COLLAB_PROTO_TYPE, "unknown message type")                                                   \
    X(COLLAB_PROTO_STEP, "unknown sync step")                                                      \
    X(COLLAB_PROTO_TRAILING, "bytes after the message")                                            \
    X(COLLAB_PROTO_AWARENESS, "malformed awareness update")

typedef enum collab_proto_err {
#define COLLAB__PE(code, msg) code,
    COLLAB_PROTO_ERRORS(COLLAB__PE)
#undef COLLAB__PE
} collab_proto_err;

const char *collab_proto_strerror(collab_proto_err e);

typedef struct collab_msg {
    unsigned type;  /* COLLAB_MSG_* */
    unsigned step;  /* COLLAB_SYNC_* for SYNC; the auth code for AUTH */
    sb_str payload; /* SYNC: sv or update; AWARENESS: the awareness update; AUTH: reason */
} collab_msg;

/* Decodes one whole message. On error *out is untouched. */
collab_proto_err collab_msg_decode(const void *p, size_t n, collab_msg *out);

/* One client's entry of an awareness update. state is the JSON text,
 * "null" when the client left. */
typedef struct collab_aw_entry {
    uint64_t client;
    uint64_t clock;
    sb_str state;
} collab_aw_entry;

/* Walks an awareness update: init, then next until it returns false;
 * collab_aw_ok says whether the walk ended cleanly (the whole update was
 * well formed). At most max entries (a limit against huge counts). */
typedef struct collab_aw_iter {
    const uint8_t *p;
    size_t len, pos;
    uint64_t left;
    bool bad;
} collab_aw_iter;

void collab_aw_init(collab_aw_iter *it, sb_str update, uint64_t max);
bool collab_aw_next(collab_aw_iter *it, collab_aw_entry *e);
bool collab_aw_ok(const collab_aw_iter *it);

/* Encoders: append a whole message to out. */
void collab_msg_sync(sb_buf *out, unsigned step, const void *payload, size_t n);
void collab_msg_awareness(sb_buf *out, const void *update, size_t n);
void collab_msg_query_awareness(sb_buf *out);
void collab_msg_permission_denied(sb_buf *out, const char *reason);

/* Appends one entry (client, clock, state JSON) to an awareness update
 * being built: call collab_aw_begin with the count first. */
void collab_aw_begin(sb_buf *out, uint64_t count);
void collab_aw_put(sb_buf *out, uint64_t client, uint64_t clock, const char *state, size_t n);

#endif
