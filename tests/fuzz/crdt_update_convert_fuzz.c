/*
 * crdt_update_convert_fuzz.c: libFuzzer target for v1 <-> v2 update
 * conversion (update_convert.h), which walks every struct and delete range
 * of an untrusted update. Bit 0 of the first byte says the input format,
 * the rest is the update. Beyond "no crash, no leak, no UB": a failed
 * conversion leaves the output alone, and one that succeeds is stable: its
 * result converts back, and forth again to the same bytes.
 */
#include <assert.h>
#include <string.h>

#include "crdt/update_convert.h"

/* Small, so the fuzzer meets the cap as well as the rest. */
#define MAX_ITEMS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool v2 = data[0] & 1;
    sb_buf y = SB_BUF_INIT, z = SB_BUF_INIT, y2 = SB_BUF_INIT;
    if (crdt_update_convert(data + 1, size - 1, v2, !v2, MAX_ITEMS, &y) != 0) {
        assert(y.len == 0);
        return 0;
    }
    int err = crdt_update_convert(y.ptr, y.len, !v2, v2, MAX_ITEMS, &z);
    assert(err == 0);
    err = crdt_update_convert(z.ptr, z.len, v2, !v2, MAX_ITEMS, &y2);
    assert(err == 0);
    assert(y.len == y2.len && memcmp(y.ptr, y2.ptr, y.len) == 0);
    sb_buf_free(&y);
    sb_buf_free(&z);
    sb_buf_free(&y2);
    return 0;
}
