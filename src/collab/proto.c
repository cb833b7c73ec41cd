/*
 * proto.c: the y-websocket framing over lib0's primitives (crdt/lib0.h),
 * whose reader never reads past the end and rejects var-uints above
 * 2^53-1 and invalid UTF-8 strings.
 */
#include "collab/proto.h"

#include "crdt/lib0.h"

const char *collab_proto_strerror(collab_proto_err e)
{
    switch (e) {
#define COLLAB__PS(code, msg)                                                                      \
    case code:                                                                                     \
        return msg;
        COLLAB_PROTO_ERRORS(COLLAB__PS)
#undef COLLAB__PS
    }
    return "unknown error";
}

collab_proto_err collab_msg_decode(const void *p, size_t n, collab_msg *out)
{
    if (n == 0)
        return COLLAB_PROTO_EMPTY;
    crdt_dec d;
    crdt_dec_init(&d, p, n);
    collab_msg m = {0};
    uint64_t type = crdt_dec_var_uint(&d);
    if (!crdt_dec_ok(&d))
        return COLLAB_PROTO_TRUNCATED;
    switch (type) {
    case COLLAB_MSG_SYNC: {
        uint64_t step = crdt_dec_var_uint(&d);
        if (!crdt_dec_ok(&d))
            return COLLAB_PROTO_TRUNCATED;
        if (step > COLLAB_SYNC_UPDATE)
            return COLLAB_PROTO_STEP;
        m.step = (unsigned)step;
        m.payload = crdt_dec_var_bytes(&d);
        break;
    }
    case COLLAB_MSG_AWARENESS:
        m.payload = crdt_dec_var_bytes(&d);
        break;
    case COLLAB_MSG_AUTH: {
        uint64_t code = crdt_dec_var_uint(&d);
        if (code > 0xffff) /* y-protocols knows only 0; keep the value small */
            return COLLAB_PROTO_TYPE;
        m.step = (unsigned)code;
        m.payload = crdt_dec_var_string(&d);
        break;
    }
    case COLLAB_MSG_QUERY_AWARENESS:
        break;
    default:
        return COLLAB_PROTO_TYPE;
    }
    if (!crdt_dec_ok(&d))
        return COLLAB_PROTO_TRUNCATED;
    if (crdt_dec_remaining(&d) != 0)
        return COLLAB_PROTO_TRAILING;
    m.type = (unsigned)type;
    *out = m;
    return COLLAB_PROTO_OK;
}

void collab_aw_init(collab_aw_iter *it, sb_str update, uint64_t max)
{
    *it = (collab_aw_iter){.p = (const uint8_t *)update.ptr, .len = update.len};
    crdt_dec d;
    crdt_dec_init(&d, it->p, it->len);
    uint64_t count = crdt_dec_var_uint(&d);
    /* Each entry takes at least three bytes: a count beyond that is a lie. */
    if (!crdt_dec_ok(&d) || count > max || count > crdt_dec_remaining(&d) / 3) {
        it->bad = true;
        return;
    }
    it->left = count;
    it->pos = d.pos;
}

bool collab_aw_next(collab_aw_iter *it, collab_aw_entry *e)
{
    if (it->bad || it->left == 0)
        return false;
    crdt_dec d;
    crdt_dec_init(&d, it->p, it->len);
    d.pos = it->pos;
    uint64_t client = crdt_dec_var_uint(&d);
    uint64_t clock = crdt_dec_var_uint(&d);
    sb_str state = crdt_dec_var_string(&d);
    if (!crdt_dec_ok(&d) || state.len == 0) {
        it->bad = true;
        return false;
    }
    it->pos = d.pos;
    it->left--;
    *e = (collab_aw_entry){client, clock, state};
    return true;
}

bool collab_aw_ok(const collab_aw_iter *it)
{
    return !it->bad && it->left == 0 && it->pos == it->len;
}

void collab_msg_sync(sb_buf *out, unsigned step, const void *payload, size_t n)
{
    crdt_enc_var_uint(out, COLLAB_MSG_SYNC);
    crdt_enc_var_uint(out, step);
    crdt_enc_var_bytes(out, payload, n);
}

void collab_msg_awareness(sb_buf *out, const void *update, size_t n)
{
    crdt_enc_var_uint(out, COLLAB_MSG_AWARENESS);
    crdt_enc_var_bytes(out, update, n);
}

void collab_msg_query_awareness(sb_buf *out)
{
    crdt_enc_var_uint(out, COLLAB_MSG_QUERY_AWARENESS);
}

void collab_msg_permission_denied(sb_buf *out, const char *reason)
{
    crdt_enc_var_uint(out, COLLAB_MSG_AUTH);
    crdt_enc_var_uint(out, 0);
    crdt_enc_var_string(out, reason, strlen(reason));
}

void collab_aw_begin(sb_buf *out, uint64_t count)
{
    crdt_enc_var_uint(out, count);
}

void collab_aw_put(sb_buf *out, uint64_t client, uint64_t clock, const char *state, size_t n)
{
    crdt_enc_var_uint(out, client);
    crdt_enc_var_uint(out, clock);
    crdt_enc_var_string(out, state, n);
}
