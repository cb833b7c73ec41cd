/*
 * crdt_merge_fuzz.c: libFuzzer target for the document-free update
 * operations (update_ops.h) on untrusted bytes. The first byte: bit 0 the
 * format (v2 when set), bits 1-3 how many updates (1-8); then each update
 * as a 2-byte big-endian length and its bytes (the last one takes what is
 * left). Beyond "no crash, no leak, no UB": failures leave the output
 * alone; a successful merge of two or more is stable: merged again with an
 * empty update, or diffed against an empty state vector, it gives the same
 * bytes but for parent-sub flags of cut map items, which Yjs drops on
 * re-reading (see below), and the bytes of that round are fixed. Diff,
 * state vector and meta of the first update run too.
 */
#include <assert.h>
#include <string.h>

#include "crdt/update_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool v2 = data[0] & 1;
    size_t n = 1 + ((data[0] >> 1) & 7);
    sb_str ups[8];
    size_t pos = 1, k = 0;
    for (; k < n && pos <= size; k++) {
        size_t len = size - pos;
        if (k + 1 < n && len >= 2) {
            size_t want = (size_t)data[pos] << 8 | data[pos + 1];
            pos += 2;
            len = want < size - pos ? want : size - pos;
        }
        ups[k] = (sb_str){(const char *)data + pos, len};
        pos += len;
    }
    /* Small, so the fuzzer meets the caps as well as the rest. */
    crdt_update_limits lim = {.max_items = 4096, .max_out = 1 << 20};
    sb_buf out = SB_BUF_INIT, again = SB_BUF_INIT, empty = SB_BUF_INIT;
    int err = crdt_update_merge(ups, k, v2, &lim, &out);
    if (err) {
        assert(out.len == 0);
    } else {
        assert(crdt_update_merge(NULL, 0, v2, NULL, &empty) == 0);
        sb_str two[2] = {sb_buf_str(&out), sb_buf_str(&empty)};
        crdt_update_limits big = {.max_items = 1 << 16, .max_out = 1 << 22};
        if (k > 1) { /* a lone update comes back as it is, not re-encoded */
            assert(crdt_update_merge(two, 2, v2, &big, &again) == 0);
            /* Yjs drops the parent-sub flag (0x20) of an item with an
             * origin when it re-reads one, and a cut map item gets one: so
             * one round may clear such flags (v1: the only change), and
             * from then on the bytes are fixed. */
            if (!v2) {
                assert(again.len == out.len);
                for (size_t i = 0; i < out.len; i++)
                    assert(again.ptr[i] == out.ptr[i] || (again.ptr[i] | 0x20) == out.ptr[i]);
            }
            sb_buf d = SB_BUF_INIT, fixed = SB_BUF_INIT;
            assert(crdt_update_diff(out.ptr, out.len, "\x00", 1, v2, &big, &d) == 0);
            assert(d.len == again.len && memcmp(d.ptr, again.ptr, d.len) == 0);
            sb_str two2[2] = {sb_buf_str(&again), sb_buf_str(&empty)};
            assert(crdt_update_merge(two2, 2, v2, &big, &fixed) == 0);
            assert(fixed.len == again.len && memcmp(fixed.ptr, again.ptr, again.len) == 0);
            sb_buf_reset(&d);
            assert(crdt_update_diff(again.ptr, again.len, "\x00", 1, v2, &big, &d) == 0);
            assert(d.len == again.len && memcmp(d.ptr, again.ptr, d.len) == 0);
            sb_buf_free(&d);
            sb_buf_free(&fixed);
        }
    }
    sb_buf_reset(&again);
    sb_buf sv = SB_BUF_INIT;
    if (crdt_update_state_vector(ups[0].ptr, ups[0].len, v2, &lim, &sv) == 0) {
        if (crdt_update_diff(ups[0].ptr, ups[0].len, sv.ptr, sv.len, v2, &lim, &again) != 0)
            assert(again.len == 0);
        crdt_update_meta meta;
        if (crdt_update_parse_meta(ups[0].ptr, ups[0].len, v2, &lim, &meta) == 0)
            crdt_update_meta_free(&meta);
    } else {
        assert(sv.len == 0);
    }
    sb_buf_free(&sv);
    sb_buf_free(&out);
    sb_buf_free(&again);
    sb_buf_free(&empty);
    return 0;
}
