/*
 * collab_bus_fuzz.c: libFuzzer target for the messages between nodes
 * (collab/nodemsg.h), which arrive from Redis and are untrusted. Beyond
 * "no crash, no leak, no UB": every view a decoded message holds lies
 * inside the input, a beat's connection list yields exactly the count it
 * declared, and since the encoding is canonical (fixed widths, no
 * padding), re-encoding a decoded message gives the input byte for byte.
 */
#include <assert.h>
#include <string.h>

#include "collab/nodemsg.h"

static void inside(sb_str s, const uint8_t *data, size_t size)
{
    if (s.len) {
        assert((const uint8_t *)s.ptr >= data);
        assert((const uint8_t *)s.ptr + s.len <= data + size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nodemsg m;
    if (!nodemsg_decode(data, size, &m))
        return 0;
    inside(m.key, data, size);
    inside(m.payload, data, size);
    inside(m.conns, data, size);
    sb_buf b = SB_BUF_INIT;
    switch (m.type) {
    case NODEMSG_UPDATE:
        nodemsg_put_update(&b, m.key, m.seq, m.rest_ver, m.payload);
        break;
    case NODEMSG_AWARENESS:
        inside(m.conn.user_id, data, size);
        inside(m.conn.name, data, size);
        inside(m.conn.doc, data, size);
        nodemsg_put_awareness(&b, m.key, &m.conn, m.payload);
        break;
    case NODEMSG_HELLO:
        nodemsg_put_hello(&b, m.key);
        break;
    case NODEMSG_BEAT: {
        nodemsg_put_beat(&b, m.key, m.head, m.rest_ver, m.nconns);
        sb_str rest = m.conns;
        nodemsg_conn c;
        uint32_t n = 0;
        while (nodemsg_conns_next(&rest, &c)) {
            inside(c.user_id, data, size);
            inside(c.name, data, size);
            inside(c.doc, data, size);
            nodemsg_put_conn(&b, &c);
            n++;
        }
        assert(n == m.nconns);
        break;
    }
    }
    assert(b.len == size && memcmp(b.ptr, data, size) == 0);
    sb_buf_free(&b);
    return 0;
}
