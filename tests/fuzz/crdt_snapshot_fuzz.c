/* crdt_snapshot_fuzz.c: arbitrary bytes as an encoded snapshot (issue 5).
 *
 * Properties: never crash, leak or read past the input; what decodes
 * re-encodes to bytes that decode to an equal snapshot and re-encode to the
 * same bytes; and the decoded snapshot, however odd (clients the doc does
 * not know, a vector ahead of the doc, delete ranges in any order, empty or
 * past the store), applied to a document with gc off either is refused or
 * gives the doc at the snapshot, whose restoring update a fresh doc takes
 * without error, while the document itself keeps its state byte for byte.
 * The document holds text with formatting, a map and an array from clients
 * 1 and 2 (small ids, so random bytes name them), with deletes. */
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt.h"

static crdt_doc *make_doc(void)
{
    crdt_doc *a = crdt_doc_new(1, false), *b = crdt_doc_new(2, false);
    sb_buf u = SB_BUF_INIT;
    bool ch;
    crdt_text_insert(a, SB_STR("t"), 0, SB_STR("hello world"), SB_STR_NULL, &u, &ch);
    crdt_map_set(a, SB_STR("m"), SB_STR("k"), SB_STR("[1,2]"), &u, &ch);
    u.len = 0;
    crdt_doc_encode_state(a, NULL, 0, &u);
    crdt_doc_apply_update(b, u.ptr, u.len, NULL);
    crdt_text_format(b, SB_STR("t"), 2, 5, SB_STR("{\"bold\":true}"), &u, &ch);
    crdt_text_delete(a, SB_STR("t"), 3, 4, &u, &ch);
    crdt_array_insert(b, SB_STR("a"), 0, SB_STR("[\"x\",null,3]"), &u, &ch);
    crdt_map_set(b, SB_STR("m"), SB_STR("k"), SB_STR("{\"z\":1}"), &u, &ch);
    crdt_array_delete(b, SB_STR("a"), 1, 1, &u, &ch);
    u.len = 0;
    crdt_doc_encode_state(b, NULL, 0, &u);
    crdt_doc_apply_update(a, u.ptr, u.len, NULL);
    crdt_text_insert(a, SB_STR("t"), 1, SB_STR("XY"), SB_STR("{}"), &u, &ch);
    sb_buf_free(&u);
    crdt_doc_free(b);
    return a;
}

static void check_reads(crdt_doc *d, const crdt_snapshot *s)
{
    sb_buf before = SB_BUF_INIT, after = SB_BUF_INIT, out = SB_BUF_INIT;
    crdt_doc_encode_state(d, NULL, 0, &before);
    crdt_doc *at = NULL;
    crdt_err e = crdt_doc_from_snapshot(d, s, 3, false, &at, NULL);
    if (e == CRDT_OK) {
        crdt_doc_json(at, SB_STR("t"), CRDT_TEXT, &out);
        crdt_doc_json(at, SB_STR("m"), CRDT_MAP, &out);
        crdt_doc_json(at, SB_STR("a"), CRDT_ARRAY, &out);
        crdt_doc_free(at);
        out.len = 0;
        if (crdt_doc_encode_state_at(d, s, &out, NULL) != CRDT_OK)
            abort(); /* the same snapshot just worked */
        crdt_doc *r = crdt_doc_new(4, true);
        if (crdt_doc_apply_update(r, out.ptr, out.len, NULL) != CRDT_OK)
            abort();
        crdt_doc_free(r);
    } else if (e != CRDT_E_INCONSISTENT || at) {
        abort();
    }
    /* the text at s, and the changes between s and now, both ways */
    crdt_snapshot *now = crdt_snapshot_take(d);
    const crdt_snapshot *pairs[3][2] = {{s, NULL}, {s, now}, {now, s}};
    for (int k = 0; k < 3; k++) {
        out.len = 0;
        if (crdt_doc_text_delta_at(d, pairs[k][0], pairs[k][1], SB_STR("t"), &out, NULL) != CRDT_OK)
            abort();
    }
    crdt_snapshot_free(now);
    crdt_doc_encode_state(d, NULL, 0, &after);
    if (before.len != after.len || memcmp(before.ptr, after.ptr, before.len) != 0)
        abort();
    sb_buf_free(&before);
    sb_buf_free(&after);
    sb_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crdt_snapshot *s = NULL, *s2 = NULL;
    if (crdt_snapshot_decode(data, size, &s, NULL) != CRDT_OK) {
        if (s)
            abort();
        return 0;
    }
    sb_buf enc = SB_BUF_INIT, enc2 = SB_BUF_INIT;
    crdt_snapshot_encode(s, &enc);
    if (crdt_snapshot_decode(enc.ptr, enc.len, &s2, NULL) != CRDT_OK || !crdt_snapshot_equal(s, s2))
        abort();
    crdt_snapshot_encode(s2, &enc2);
    if (enc.len != enc2.len || memcmp(enc.ptr, enc2.ptr, enc.len) != 0)
        abort();
    crdt_doc *d = make_doc();
    check_reads(d, s);
    crdt_doc_free(d);
    crdt_snapshot_free(s);
    crdt_snapshot_free(s2);
    sb_buf_free(&enc);
    sb_buf_free(&enc2);
    return 0;
}
