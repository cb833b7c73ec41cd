/*
 * nodemsg.h: what the nodes serving one document say to each other on the
 * bus (docs/collab.md, "Several nodes"). One channel per document; the
 * bytes come from Redis, so they are parsed as untrusted input: every
 * length is checked against what is left, and the document key is checked
 * by the receiver against its room's (channel names are hashes, so two
 * documents could share one).
 *
 * Layout, integers big-endian, strings as u16 length + bytes:
 *
 *   u8 version (1), u8 type, str key (project_id "/" stored doc), then
 *   UPDATE     i64 seq, i64 rest_ver, the Yjs update (the rest)
 *   AWARENESS  conn, the awareness update body (the rest)
 *   HELLO      nothing: "I opened this document: tell me your states"
 *   BEAT       i64 head, i64 rest_ver, u32 n, n x conn
 *
 * where conn is u64 id, str user_id, str name, str doc (the name the
 * client connected with). Pure functions: no I/O, no allocation but the
 * output buffer.
 */
#ifndef SB_COLLAB_NODEMSG_H
#define SB_COLLAB_NODEMSG_H

#include "base/str.h"

#define NODEMSG_VERSION   1
#define NODEMSG_STR_MAX   1024 /* bytes of any string */
#define NODEMSG_CONNS_MAX 4096 /* connections in one beat */

typedef enum nodemsg_type {
    NODEMSG_UPDATE = 1,    /* an update, durable as seq */
    NODEMSG_AWARENESS = 2, /* awareness states of one connection (id 0: removals) */
    NODEMSG_HELLO = 3,     /* a node opened the document */
    NODEMSG_BEAT = 4,      /* a node still serves it: its head, REST version, connections */
} nodemsg_type;

typedef struct nodemsg_conn {
    uint64_t id; /* unique on its node while it is open; 0: none */
    sb_str user_id, name, doc;
} nodemsg_conn;

typedef struct nodemsg {
    nodemsg_type type;
    sb_str key;
    int64_t seq;       /* UPDATE */
    int64_t head;      /* BEAT: every seq up to it is in the sender's document */
    int64_t rest_ver;  /* UPDATE, BEAT */
    nodemsg_conn conn; /* AWARENESS */
    uint32_t nconns;   /* BEAT: read them with nodemsg_conns_next */
    sb_str conns;      /* BEAT: the encoded list, already checked */
    sb_str payload;    /* UPDATE: the update; AWARENESS: the awareness body */
} nodemsg;

/* Parses p[0..n): false on anything malformed (m is then unspecified).
 * Pointers in m point into p. The payload is not interpreted. */
bool nodemsg_decode(const uint8_t *p, size_t n, nodemsg *m);

/* Takes the next connection off a BEAT's list (*rest starts as m.conns):
 * false at the end. */
bool nodemsg_conns_next(sb_str *rest, nodemsg_conn *c);

/* Encoders: append one message to out. */
void nodemsg_put_update(sb_buf *out, sb_str key, int64_t seq, int64_t rest_ver, sb_str update);
void nodemsg_put_awareness(sb_buf *out, sb_str key, const nodemsg_conn *c, sb_str body);
void nodemsg_put_hello(sb_buf *out, sb_str key);
/* A BEAT's head; then nodemsg_put_conn for each of the nconns. */
void nodemsg_put_beat(sb_buf *out, sb_str key, int64_t head, int64_t rest_ver, uint32_t nconns);
void nodemsg_put_conn(sb_buf *out, const nodemsg_conn *c);

#endif
