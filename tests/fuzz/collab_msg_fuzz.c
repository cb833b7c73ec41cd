/*
 * collab_msg_fuzz.c: libFuzzer target for the y-websocket message decoder
 * (collab/proto.h) and the awareness-update walker. Properties beyond "no
 * crash, no leak, no UB": a decoded message re-encodes to exactly the
 * input (the framing is canonical apart from var-uint padding, which the
 * check allows for by comparing decoded values instead), payload views lie
 * inside the input, and an awareness walk never reads past its update.
 */
#include <assert.h>
#include <string.h>

#include "collab/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    collab_msg m;
    if (collab_msg_decode(data, size, &m) != COLLAB_PROTO_OK)
        return 0;
    if (m.payload.len) {
        assert((const uint8_t *)m.payload.ptr >= data);
        assert((const uint8_t *)m.payload.ptr + m.payload.len <= data + size);
    }
    /* Re-encode and decode again: the same message. */
    sb_buf b = SB_BUF_INIT;
    switch (m.type) {
    case COLLAB_MSG_SYNC:
        collab_msg_sync(&b, m.step, m.payload.ptr, m.payload.len);
        break;
    case COLLAB_MSG_AWARENESS:
        collab_msg_awareness(&b, m.payload.ptr, m.payload.len);
        break;
    case COLLAB_MSG_QUERY_AWARENESS:
        collab_msg_query_awareness(&b);
        break;
    default:
        break;
    }
    if (b.len) {
        collab_msg m2;
        assert(collab_msg_decode(b.ptr, b.len, &m2) == COLLAB_PROTO_OK);
        assert(m2.type == m.type && m2.step == m.step && m2.payload.len == m.payload.len);
        assert(m.payload.len == 0 || memcmp(m2.payload.ptr, m.payload.ptr, m.payload.len) == 0);
    }
    sb_buf_free(&b);
    if (m.type == COLLAB_MSG_AWARENESS) {
        collab_aw_iter it;
        collab_aw_entry e;
        size_t n = 0;
        collab_aw_init(&it, m.payload, 1024);
        while (collab_aw_next(&it, &e)) {
            assert(e.state.ptr >= m.payload.ptr &&
                   e.state.ptr + e.state.len <= m.payload.ptr + m.payload.len);
            n++;
        }
        assert(n <= 1024);
        (void)collab_aw_ok(&it);
    }
    return 0;
}
