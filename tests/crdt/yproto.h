/*
 * yproto.h: the engine side of tests/crdt/PROTOCOL.md over one crdt_doc,
 * shared by the ycli tool and the unit tests that replay transcripts
 * recorded from Yjs (included once per program: it has static state).
 *
 * Commands not built yet answer "err unsupported", as the protocol allows.
 */
#ifndef SB_TESTS_CRDT_YPROTO_H
#define SB_TESTS_CRDT_YPROTO_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "crdt/crdt.h"
#include "crdt/update_convert.h"
#include "crdt/update_ops.h"

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(const char *p, size_t n, sb_buf *out)
{
    if (n == 0) {
        sb_buf_append(out, "-", 1);
        return;
    }
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        char q[4] = {B64[(v >> 18) & 63], B64[(v >> 12) & 63], i + 1 < n ? B64[(v >> 6) & 63] : '=',
                     i + 2 < n ? B64[v & 63] : '='};
        sb_buf_append(out, q, 4);
    }
}

static int b64_val(char c)
{
    const char *p = strchr(B64, c);
    return c && p ? (int)(p - B64) : -1;
}

static bool b64_decode(sb_str in, sb_buf *out)
{
    if (in.len == 1 && in.ptr[0] == '-')
        return true;
    if (in.len % 4)
        return false;
    for (size_t i = 0; i < in.len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (in.ptr[i + k] == '=' && i + 4 == in.len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64_val(in.ptr[i + k])) < 0) {
                return false;
            }
        }
        uint32_t x =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        char b[3] = {(char)(x >> 16), (char)(x >> 8), (char)x};
        sb_buf_append(out, b, (size_t)(3 - pad));
    }
    return true;
}

#define MAX_ARGS 64

static bool parse_u64(sb_str s, uint64_t *out)
{
    int64_t v;
    if (!sb_str_to_i64(s, 0, INT64_MAX, &v))
        return false;
    *out = (uint64_t)v;
    return true;
}

static crdt_doc *doc;
static sb_buf answer; /* the answer line of the current command, without newline */

static void reply_err(const char *msg)
{
    sb_buf_appendf(&answer, "err %s\n", msg);
}

static void reply_bytes(const sb_buf *b)
{
    sb_buf o = SB_BUF_INIT;
    b64_encode(b->ptr, b->len, &o);
    sb_buf_appendf(&answer, "ok %.*s\n", (int)o.len, o.ptr);
    sb_buf_free(&o);
}

static void reply_edit(crdt_err e, sb_buf *u, bool changed)
{
    if (e)
        reply_err(crdt_strerror(e));
    else if (!changed)
        sb_buf_appendf(&answer, "ok -\n");
    else
        reply_bytes(u);
}

/* merge <b64> ...: Y.mergeUpdates of the arguments, no document. */
static void reply_merge(const sb_str *a, size_t n, sb_buf *u)
{
    sb_buf in[MAX_ARGS];
    sb_str views[MAX_ARGS];
    bool ok = true;
    for (size_t k = 0; k < n; k++) {
        in[k] = (sb_buf)SB_BUF_INIT;
        ok = ok && b64_decode(a[k], &in[k]);
        views[k] = sb_str_make(in[k].ptr ? in[k].ptr : "", in[k].len);
    }
    if (!ok)
        reply_err("bad base64");
    else if (crdt_update_merge(views, n, false, NULL, u) != 0)
        reply_err("malformed update");
    else
        reply_bytes(u);
    for (size_t k = 0; k < n; k++)
        sb_buf_free(&in[k]);
}

static bool kind_of(sb_str k, crdt_kind *out)
{
    if (sb_str_eq(k, SB_STR("Text")))
        *out = CRDT_TEXT;
    else if (sb_str_eq(k, SB_STR("Map")))
        *out = CRDT_MAP;
    else if (sb_str_eq(k, SB_STR("Array")))
        *out = CRDT_ARRAY;
    else if (sb_str_eq(k, SB_STR("XmlFragment")))
        *out = CRDT_XML_FRAGMENT;
    else
        return false;
    return true;
}

/* `name:kind ...` of d as one JSON object; declare: doc.get<Kind>(name)
 * declares the root, as the reference does when it reads the doc. */
static crdt_err roots_json(crdt_doc *d, bool declare, const sb_str *a, size_t n, sb_buf *u)
{
    sb_buf_append(u, "{", 1);
    crdt_err e = CRDT_OK;
    for (size_t k = 0; k < n && !e; k++) {
        ptrdiff_t c = sb_str_index(a[k], ':', 0);
        crdt_kind kind;
        if (c < 0 || !kind_of(sb_str_slice(a[k], (size_t)c + 1, a[k].len), &kind))
            return CRDT_E_UNSUPPORTED;
        sb_str name = sb_str_slice(a[k], 0, (size_t)c);
        if (declare && (e = crdt_doc_declare(d, name, kind)) != CRDT_OK)
            break;
        if (k > 0)
            sb_buf_append(u, ",", 1);
        sb_buf_append(u, "\"", 1);
        sb_buf_append(u, name.ptr, name.len);
        sb_buf_append(u, "\":", 2);
        e = crdt_doc_json(d, name, kind, u);
    }
    sb_buf_append(u, "}", 1);
    return e;
}

static void reply_json(crdt_err e, const sb_buf *u)
{
    if (e)
        reply_err(crdt_strerror(e));
    else
        sb_buf_appendf(&answer, "ok %.*s\n", (int)u->len, u->ptr);
}

/* The snapshot in base64 argument b, or an err reply. */
static crdt_snapshot *snapshot_arg(sb_str b)
{
    sb_buf x = SB_BUF_INIT;
    crdt_snapshot *s = NULL;
    sb_errbuf eb = {{0}};
    if (!b64_decode(b, &x))
        reply_err("bad base64");
    else if (crdt_snapshot_decode(x.ptr ? x.ptr : "", x.len, &s, &eb))
        reply_err(eb.msg);
    sb_buf_free(&x);
    return s;
}

/* json_at, delta_at, state_at: the doc as it was at a snapshot. */
static void reply_at(sb_str cmd, const sb_str *a, size_t n, sb_buf *u)
{
    crdt_snapshot *s = snapshot_arg(a[0]), *prev = NULL;
    if (!s)
        return;
    if (sb_str_eq(cmd, SB_STR("delta_at")) && n == 3 && !(prev = snapshot_arg(a[2]))) {
        crdt_snapshot_free(s);
        return;
    }
    sb_errbuf eb = {{0}};
    crdt_err e;
    if (sb_str_eq(cmd, SB_STR("json_at"))) {
        crdt_doc *at = NULL;
        e = crdt_doc_from_snapshot(doc, s, 1, true, &at, &eb);
        if (!e)
            e = roots_json(at, true, a + 1, n - 1, u);
        crdt_doc_free(at);
    } else if (sb_str_eq(cmd, SB_STR("delta_at"))) {
        /* doc.getText(name) declares the root, as the reference does */
        e = crdt_doc_declare(doc, a[1], CRDT_TEXT);
        if (!e)
            e = crdt_doc_text_delta_at(doc, s, prev, a[1], u, &eb);
    } else {
        e = crdt_doc_encode_state_at(doc, s, u, &eb);
    }
    crdt_snapshot_free(s);
    crdt_snapshot_free(prev);
    if (e)
        reply_err(eb.msg[0] ? eb.msg : crdt_strerror(e));
    else if (sb_str_eq(cmd, SB_STR("state_at")))
        reply_bytes(u);
    else
        sb_buf_appendf(&answer, "ok %.*s\n", (int)u->len, u->ptr);
}

static void run(sb_str *a, size_t n)
{
    sb_str cmd = a[0];
    sb_buf u = SB_BUF_INIT, x = SB_BUF_INIT;
    bool changed = false;
    uint64_t i1, i2;
    if (sb_str_eq(cmd, SB_STR("reset")) && n == 3 && parse_u64(a[1], &i1)) {
        crdt_doc_free(doc);
        doc = crdt_doc_new(i1, !sb_str_eq(a[2], SB_STR("0")));
        sb_buf_appendf(&answer, "ok\n");
    } else if (sb_str_eq(cmd, SB_STR("apply")) && n == 2) {
        sb_errbuf eb = {{0}};
        if (!b64_decode(a[1], &x))
            reply_err("bad base64");
        else if (crdt_doc_apply_update(doc, x.ptr, x.len, &eb))
            reply_err(eb.msg);
        else
            sb_buf_appendf(&answer, "ok\n");
    } else if (sb_str_eq(cmd, SB_STR("apply2")) && n == 2) {
        sb_errbuf eb = {{0}};
        if (!b64_decode(a[1], &x))
            reply_err("bad base64");
        else if (crdt_doc_apply_update_v2(doc, x.ptr, x.len, &eb))
            reply_err(eb.msg);
        else
            sb_buf_appendf(&answer, "ok\n");
    } else if (sb_str_eq(cmd, SB_STR("state2")) && n == 1) {
        if (crdt_doc_encode_state_v2(doc, NULL, 0, &u))
            reply_err("unsupported");
        else
            reply_bytes(&u);
    } else if ((sb_str_eq(cmd, SB_STR("v1tov2")) || sb_str_eq(cmd, SB_STR("v2tov1"))) && n == 2) {
        bool to2 = sb_str_eq(cmd, SB_STR("v1tov2"));
        if (!b64_decode(a[1], &x) || crdt_update_convert(x.ptr, x.len, !to2, to2, 0, &u) != 0)
            reply_err("malformed update");
        else
            reply_bytes(&u);
    } else if (sb_str_eq(cmd, SB_STR("merge")) && n >= 2) {
        reply_merge(a + 1, n - 1, &u);
    } else if (sb_str_eq(cmd, SB_STR("diffupdate")) && n == 3) {
        sb_buf sv = SB_BUF_INIT;
        if (!b64_decode(a[1], &x) || !b64_decode(a[2], &sv))
            reply_err("bad base64");
        else if (crdt_update_diff(x.ptr ? x.ptr : "", x.len, sv.ptr ? sv.ptr : "", sv.len, false,
                                  NULL, &u) != 0)
            reply_err("malformed update or state vector");
        else
            reply_bytes(&u);
        sb_buf_free(&sv);
    } else if (sb_str_eq(cmd, SB_STR("state")) && n == 1) {
        crdt_doc_encode_state(doc, NULL, 0, &u);
        reply_bytes(&u);
    } else if (sb_str_eq(cmd, SB_STR("diff")) && n == 2) {
        if (!b64_decode(a[1], &x) || crdt_doc_encode_state(doc, x.ptr, x.len, &u))
            reply_err("bad state vector");
        else
            reply_bytes(&u);
    } else if (sb_str_eq(cmd, SB_STR("sv")) && n == 1) {
        crdt_doc_encode_state_vector(doc, &u);
        reply_bytes(&u);
    } else if (sb_str_eq(cmd, SB_STR("pending")) && n == 1) {
        sb_buf_appendf(&answer, "ok %d\n", crdt_doc_has_pending(doc) ? 1 : 0);
    } else if (sb_str_eq(cmd, SB_STR("json")) && n >= 1) {
        reply_json(roots_json(doc, true, a + 1, n - 1, &u), &u);
    } else if (sb_str_eq(cmd, SB_STR("snapshot")) && n == 1) {
        crdt_snapshot *snap = crdt_snapshot_take(doc);
        crdt_snapshot_encode(snap, &u);
        crdt_snapshot_free(snap);
        reply_bytes(&u);
    } else if ((sb_str_eq(cmd, SB_STR("json_at")) && n >= 2) ||
               (sb_str_eq(cmd, SB_STR("delta_at")) && (n == 3 || n == 4)) ||
               (sb_str_eq(cmd, SB_STR("state_at")) && n == 2)) {
        reply_at(cmd, a + 1, n - 1, &u);
    } else if (sb_str_eq(cmd, SB_STR("delta")) && n == 2) {
        crdt_err e = crdt_doc_text_delta(doc, a[1], &u);
        if (e)
            reply_err(crdt_strerror(e));
        else
            sb_buf_appendf(&answer, "ok %.*s\n", (int)u.len, u.ptr);
    } else if (sb_str_eq(cmd, SB_STR("text_insert")) && (n == 4 || n == 5) &&
               parse_u64(a[2], &i1) && b64_decode(a[3], &x)) {
        sb_str attrs = n == 5 ? a[4] : SB_STR_NULL;
        {
            crdt_err e_ = crdt_text_insert(doc, a[1], i1, sb_str_make(x.ptr ? x.ptr : "", x.len),
                                           attrs, &u, &changed);
            reply_edit(e_, &u, changed);
        }
    } else if (sb_str_eq(cmd, SB_STR("text_format")) && n == 5 && parse_u64(a[2], &i1) &&
               parse_u64(a[3], &i2)) {
        crdt_err e_ = crdt_text_format(doc, a[1], i1, i2, a[4], &u, &changed);
        reply_edit(e_, &u, changed);
    } else if (sb_str_eq(cmd, SB_STR("text_embed")) && n == 4 && parse_u64(a[2], &i1)) {
        crdt_err e_ = crdt_text_embed(doc, a[1], i1, a[3], &u, &changed);
        reply_edit(e_, &u, changed);
    } else if (sb_str_eq(cmd, SB_STR("text_delete")) && n == 4 && parse_u64(a[2], &i1) &&
               parse_u64(a[3], &i2)) {
        {
            crdt_err e_ = crdt_text_delete(doc, a[1], i1, i2, &u, &changed);
            reply_edit(e_, &u, changed);
        }
    } else if (sb_str_eq(cmd, SB_STR("map_set")) && n == 4) {
        {
            crdt_err e_ = crdt_map_set(doc, a[1], a[2], a[3], &u, &changed);
            reply_edit(e_, &u, changed);
        }
    } else if (sb_str_eq(cmd, SB_STR("map_delete")) && n == 3) {
        {
            crdt_err e_ = crdt_map_delete(doc, a[1], a[2], &u, &changed);
            reply_edit(e_, &u, changed);
        }
    } else if (sb_str_eq(cmd, SB_STR("array_insert")) && n == 4 && parse_u64(a[2], &i1)) {
        {
            crdt_err e_ = crdt_array_insert(doc, a[1], i1, a[3], &u, &changed);
            reply_edit(e_, &u, changed);
        }
    } else if (sb_str_eq(cmd, SB_STR("array_delete")) && n == 4 && parse_u64(a[2], &i1) &&
               parse_u64(a[3], &i2)) {
        {
            crdt_err e_ = crdt_array_delete(doc, a[1], i1, i2, &u, &changed);
            reply_edit(e_, &u, changed);
        }
    } else if (sb_str_eq(cmd, SB_STR("xml_insert")) && n == 4 && parse_u64(a[2], &i1)) {
        {
            crdt_err e_ = crdt_xml_insert_element(doc, a[1], i1, a[3], &u, &changed);
            reply_edit(e_, &u, changed);
        }
    } else if (sb_str_eq(cmd, SB_STR("xml_text")) && n == 4 && parse_u64(a[2], &i1) &&
               b64_decode(a[3], &x)) {
        {
            crdt_err e_ = crdt_xml_insert_text(
                doc, a[1], i1, sb_str_make(x.ptr ? x.ptr : "", x.len), &u, &changed);
            reply_edit(e_, &u, changed);
        }
    } else if (sb_str_eq(cmd, SB_STR("xml_attr")) && n == 5 && parse_u64(a[2], &i1) &&
               b64_decode(a[4], &x)) {
        {
            crdt_err e_ = crdt_xml_set_attr(doc, a[1], i1, a[3],
                                            sb_str_make(x.ptr ? x.ptr : "", x.len), &u, &changed);
            reply_edit(e_, &u, changed);
        }
    } else {
        reply_err("unsupported");
    }
    sb_buf_free(&u);
    sb_buf_free(&x);
}

/* Runs one command line (without its newline); the answer is in `answer`. */
static void yproto_line(char *line, ssize_t len)
{
    if (!doc)
        doc = crdt_doc_new(1, true);
    answer.len = 0;
    if (answer.ptr)
        answer.ptr[0] = 0;
    {
        sb_str a[MAX_ARGS];
        size_t n = 0;
        /* split on spaces; the last argument of json commands has no spaces */
        size_t i = 0;
        while (i < (size_t)len && n < MAX_ARGS) {
            while (i < (size_t)len && line[i] == ' ')
                i++;
            if (i >= (size_t)len)
                break;
            size_t s = i;
            /* a JSON argument (attributes, values) runs to the end of line */
            if (n >= 3 && (line[i] == '{' || line[i] == '[' || line[i] == '"')) {
                a[n++] = sb_str_make(line + s, (size_t)len - s);
                break;
            }
            while (i < (size_t)len && line[i] != ' ')
                i++;
            a[n++] = sb_str_make(line + s, i - s);
        }
        if (n == 0) {
            reply_err("empty command");
            return;
        }
        run(a, n);
    }
    /* answers end with a newline from the reply helpers: drop it */
    if (answer.len && answer.ptr[answer.len - 1] == '\n')
        answer.ptr[--answer.len] = 0;
}

static void yproto_done(void)
{
    crdt_doc_free(doc);
    doc = NULL;
    sb_buf_free(&answer);
}

#endif
