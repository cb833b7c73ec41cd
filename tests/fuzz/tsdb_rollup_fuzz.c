/*
 * tsdb_rollup_fuzz.c: libFuzzer target for the rollup snapshot reader
 * (rollup_file.c), the one file of the engine that opening trusts after
 * its CRC. The input is checked as a whole image and, to get past the CRC,
 * as the rows of an image with a valid header (widths 1 min and 1 h) and
 * CRC. Beyond "no crash, no UB, no out-of-bounds read, no allocation
 * larger than the input warrants": checking twice gives the same answer.
 */
#include <assert.h>
#include <string.h>

#include "base/crc32c.h"
#include "tsdb/engine_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tsdb_engine e; /* only e.o is read */
    e.o.nrollups = 2;
    e.o.rollups[0] = 60 * INT64_C(1000000000);
    e.o.rollups[1] = 3600 * INT64_C(1000000000);
    bool whole = tsdb__rollup_check(&e, data, size);
    assert(whole == tsdb__rollup_check(&e, data, size));

    sb_buf b = SB_BUF_INIT;
    sb_buf_append(&b, "TSR1", 4);
    tsdb__put_u32(&b, 1);
    tsdb__put_u64(&b, 7);  /* P: segment */
    tsdb__put_u64(&b, 64); /* P: offset */
    tsdb__put_u32(&b, e.o.nrollups);
    for (unsigned w = 0; w < e.o.nrollups; w++)
        tsdb__put_u64(&b, (uint64_t)e.o.rollups[w]);
    sb_buf_append(&b, data, size);
    tsdb__put_u32(&b, sb_crc32c(0, b.ptr, b.len));
    bool sealed = tsdb__rollup_check(&e, (const uint8_t *)b.ptr, b.len);
    assert(sealed == tsdb__rollup_check(&e, (const uint8_t *)b.ptr, b.len));
    sb_buf_free(&b);
    return 0;
}
