/*
 * crdt_any_fuzz.c: libFuzzer target for lib0's "any" decoder (crdt_any_read),
 * the first thing a hostile update's content reaches. Beyond "no crash, no
 * leak, no UB, no read past the end": a value that decodes re-encodes to
 * bytes that decode to an equal value and re-encode to the same bytes (the
 * encoding is a function of the value), and prints as JSON.
 */
#include <assert.h>
#include <string.h>

#include "crdt/any.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crdt_dec d;
    crdt_dec_init(&d, data, size);
    crdt_any v;
    if (crdt_any_read(&d, &v) != 0) {
        assert(v.kind == CRDT_ANY_UNDEFINED);
        assert(d.pos <= size);
        return 0;
    }
    sb_buf once = SB_BUF_INIT, twice = SB_BUF_INIT, json = SB_BUF_INIT;
    crdt_any_write(&once, &v);
    crdt_dec_init(&d, once.ptr, once.len);
    crdt_any w;
    int err = crdt_any_read(&d, &w);
    assert(err == 0 && crdt_dec_remaining(&d) == 0);
    assert(crdt_any_equal(&v, &w));
    crdt_any_write(&twice, &w);
    assert(once.len == twice.len && memcmp(once.ptr, twice.ptr, once.len) == 0);
    crdt_any c = crdt_any_copy(&w);
    assert(crdt_any_equal(&c, &v));
    crdt_any_to_json(&c, &json);
    crdt_any_free(&c);
    crdt_any_free(&w);
    crdt_any_free(&v);
    sb_buf_free(&once);
    sb_buf_free(&twice);
    sb_buf_free(&json);
    return 0;
}
