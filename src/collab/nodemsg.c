/*
 * nodemsg.c: the bus messages between nodes, encoded and parsed (see
 * nodemsg.h). The reader never reads past its end: each take checks the
 * bytes left first.
 */
#include "collab/nodemsg.h"

typedef struct rd {
    const uint8_t *p;
    size_t n;
    bool ok;
} rd;

static uint64_t take_be(rd *r, size_t w)
{
    if (!r->ok || r->n < w) {
        r->ok = false;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < w; i++)
        v = v << 8 | r->p[i];
    r->p += w;
    r->n -= w;
    return v;
}

static sb_str take_str(rd *r)
{
    size_t len = (size_t)take_be(r, 2);
    if (!r->ok || len > NODEMSG_STR_MAX || r->n < len) {
        r->ok = false;
        return sb_str_make("", 0);
    }
    sb_str s = sb_str_make((const char *)r->p, len);
    r->p += len;
    r->n -= len;
    return s;
}

static void take_conn(rd *r, nodemsg_conn *c)
{
    c->id = take_be(r, 8);
    c->user_id = take_str(r);
    c->name = take_str(r);
    c->doc = take_str(r);
}

bool nodemsg_decode(const uint8_t *p, size_t n, nodemsg *m)
{
    rd r = {p, n, true};
    memset(m, 0, sizeof(*m));
    if (take_be(&r, 1) != NODEMSG_VERSION)
        return false;
    m->type = (nodemsg_type)take_be(&r, 1);
    m->key = take_str(&r);
    if (!r.ok || m->key.len == 0)
        return false;
    switch (m->type) {
    case NODEMSG_UPDATE:
        m->seq = (int64_t)take_be(&r, 8);
        m->rest_ver = (int64_t)take_be(&r, 8);
        if (m->seq <= 0)
            return false;
        break;
    case NODEMSG_AWARENESS:
        take_conn(&r, &m->conn);
        break;
    case NODEMSG_HELLO:
        break;
    case NODEMSG_BEAT: {
        m->head = (int64_t)take_be(&r, 8);
        m->rest_ver = (int64_t)take_be(&r, 8);
        m->nconns = (uint32_t)take_be(&r, 4);
        if (!r.ok || m->head < 0 || m->nconns > NODEMSG_CONNS_MAX)
            return false;
        const uint8_t *start = r.p;
        for (uint32_t i = 0; i < m->nconns && r.ok; i++) {
            nodemsg_conn c;
            take_conn(&r, &c);
        }
        m->conns = sb_str_make((const char *)start, (size_t)(r.p - start));
        if (r.ok && r.n != 0)
            return false; /* bytes after the list */
        break;
    }
    default:
        return false;
    }
    if (!r.ok || m->rest_ver < 0)
        return false;
    if (m->type == NODEMSG_UPDATE || m->type == NODEMSG_AWARENESS)
        m->payload = sb_str_make((const char *)r.p, r.n);
    else if (r.n != 0)
        return false;
    return true;
}

bool nodemsg_conns_next(sb_str *rest, nodemsg_conn *c)
{
    if (rest->len == 0)
        return false;
    rd r = {(const uint8_t *)rest->ptr, rest->len, true};
    take_conn(&r, c);
    if (!r.ok) {
        rest->len = 0;
        return false;
    }
    *rest = sb_str_make((const char *)r.p, r.n);
    return true;
}

static void put_be(sb_buf *out, uint64_t v, size_t w)
{
    uint8_t b[8];
    for (size_t i = 0; i < w; i++)
        b[i] = (uint8_t)(v >> (8 * (w - 1 - i)));
    sb_buf_append(out, b, w);
}

/* Strings longer than the limit are cut (names and documents never are:
 * both are shorter by construction). */
static void put_str(sb_buf *out, sb_str s)
{
    size_t len = s.len > NODEMSG_STR_MAX ? NODEMSG_STR_MAX : s.len;
    put_be(out, len, 2);
    sb_buf_append(out, s.ptr, len);
}

static void put_head(sb_buf *out, nodemsg_type t, sb_str key)
{
    put_be(out, NODEMSG_VERSION, 1);
    put_be(out, (uint64_t)t, 1);
    put_str(out, key);
}

void nodemsg_put_conn(sb_buf *out, const nodemsg_conn *c)
{
    put_be(out, c->id, 8);
    put_str(out, c->user_id);
    put_str(out, c->name);
    put_str(out, c->doc);
}

void nodemsg_put_update(sb_buf *out, sb_str key, int64_t seq, int64_t rest_ver, sb_str update)
{
    put_head(out, NODEMSG_UPDATE, key);
    put_be(out, (uint64_t)seq, 8);
    put_be(out, (uint64_t)rest_ver, 8);
    sb_buf_append(out, update.ptr, update.len);
}

void nodemsg_put_awareness(sb_buf *out, sb_str key, const nodemsg_conn *c, sb_str body)
{
    put_head(out, NODEMSG_AWARENESS, key);
    nodemsg_put_conn(out, c);
    sb_buf_append(out, body.ptr, body.len);
}

void nodemsg_put_hello(sb_buf *out, sb_str key)
{
    put_head(out, NODEMSG_HELLO, key);
}

void nodemsg_put_beat(sb_buf *out, sb_str key, int64_t head, int64_t rest_ver, uint32_t nconns)
{
    put_head(out, NODEMSG_BEAT, key);
    put_be(out, (uint64_t)head, 8);
    put_be(out, (uint64_t)rest_ver, 8);
    put_be(out, nconns, 4);
}
