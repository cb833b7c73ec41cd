/*
 * range.h: the Range request header (RFC 9110 §14) for one representation
 * of known size, in the one unit we serve: bytes.
 *
 * We answer a single range and nothing fancier: a request for several
 * ranges gets the whole representation (RFC 9110 §14.2 lets a server
 * ignore Range), which spares us multipart/byteranges and the
 * many-small-ranges amplification it invites. A header we cannot read
 * is ignored the same way, as §14.2 asks.
 *
 * Pure, over untrusted bytes (fuzzed by tests/fuzz/range_fuzz.c): no I/O,
 * no allocation; offsets are checked against overflow before any sum.
 */
#ifndef SB_NET_RANGE_H
#define SB_NET_RANGE_H

#include "base/common.h"
#include "base/str.h"

typedef enum net_range_result {
    NET_RANGE_NONE,          /* serve the whole thing: 200 */
    NET_RANGE_OK,            /* serve [*offset, *offset + *len): 206 */
    NET_RANGE_UNSATISFIABLE, /* 416 with Content-Range: bytes *\/size */
} net_range_result;

/* Reads a Range value such as "bytes=0-499", "bytes=500-" or "bytes=-500"
 * for a representation of size bytes (size >= 0). A last position past
 * the end is cut to the end; a suffix longer than the representation is
 * all of it. UNSATISFIABLE when the first position is at or past the end,
 * or for any suffix of an empty representation (§14.1.2). *offset and *len
 * are set only for OK. */
net_range_result net_range_parse(sb_str value, int64_t size, int64_t *offset, int64_t *len);

#endif
