/*
 * range_fuzz.c: libFuzzer target for the Range header. The first 8 bytes
 * pick the representation's size, the rest is the header value. Beyond
 * "no crash, no UB": an OK range lies inside the representation and is not
 * empty; UNSATISFIABLE and NONE leave the outputs alone; and a header
 * that names no digits past 18 can be answered at all.
 */
#include <assert.h>
#include <string.h>

#include "net/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t raw;
    memcpy(&raw, data, 8);
    int64_t rep = (int64_t)(raw & ((UINT64_C(1) << 62) - 1));
    if (raw & (UINT64_C(1) << 63))
        rep %= 4096; /* small sizes too, where the edges are */
    sb_str v = sb_str_make((const char *)data + 8, size - 8);
    int64_t off = -7, len = -7;
    net_range_result r = net_range_parse(v, rep, &off, &len);
    if (r == NET_RANGE_OK) {
        assert(off >= 0 && len >= 1);
        assert(off < rep && len <= rep - off);
    } else {
        assert(r == NET_RANGE_NONE || r == NET_RANGE_UNSATISFIABLE);
        assert(off == -7 && len == -7);
    }
    return 0;
}
