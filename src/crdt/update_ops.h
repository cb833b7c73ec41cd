/*
 * update_ops.h: Yjs's document-free update operations (yjs
 * src/utils/updates.js): merging updates, an update minus a state vector,
 * the state vector an update brings, and an update's clock ranges. Each
 * works on encoded updates alone, struct by struct, with no document.
 *
 * Output is byte for byte Yjs 13.6's for the updates Yjs writes: the same
 * client order, the same slicing of structs at a clock (an item cut at
 * clock k gets the origin (client, k-1); a string cut inside a surrogate
 * pair starts with U+FFFD), Skip structs over gaps, adjacent GC structs
 * of a client joined (items never are: Yjs's lazy reader leaves them no
 * right neighbour to merge with), and the merged delete set.
 *
 * All updates of one call are in one format (v2 false: v1). Inputs are
 * borrowed. Every function validates its whole input (each struct, the
 * delete set, no trailing bytes; where Yjs would throw, and on input Yjs
 * never writes, see docs/crdt.md) and returns 0 or a crdt_lib0_err,
 * leaving its output untouched on error.
 *
 * Limits: in v2 a few bytes of run-length columns can stand for any number
 * of structs, so the input size bounds nothing. max_items caps structs,
 * delete ranges and the elements of JSON/Any contents read over all inputs;
 * max_out caps the output's size. Either exceeded is CRDT_LIB0_ELIMIT.
 */
#ifndef SB_CRDT_UPDATE_OPS_H
#define SB_CRDT_UPDATE_OPS_H

#include "crdt/update_coder.h"

typedef struct crdt_update_limits {
    size_t max_items; /* 0: CRDT_UPDATE_MAX_ITEMS */
    size_t max_out;   /* bytes; 0: CRDT_UPDATE_MAX_OUT */
} crdt_update_limits;

#define CRDT_UPDATE_MAX_ITEMS ((size_t)1 << 22)
#define CRDT_UPDATE_MAX_OUT   ((size_t)1 << 28)

/* Y.mergeUpdates / mergeUpdatesV2 of updates[0..n), appended to out. As in
 * Yjs, a single update comes back as it is (but is validated first). lim
 * may be NULL for the defaults. */
int crdt_update_merge(const sb_str *updates, size_t n, bool v2, const crdt_update_limits *lim,
                      sb_buf *out);

/* Y.diffUpdate / diffUpdateV2: what update p[0..n) has beyond state vector
 * sv[0..sv_len) (lib0 var-uints: count, then client and clock pairs; the
 * same bytes in both formats), appended to out. */
int crdt_update_diff(const void *p, size_t n, const void *sv, size_t sv_len, bool v2,
                     const crdt_update_limits *lim, sb_buf *out);

/* Y.encodeStateVectorFromUpdate (+V2, the same bytes): per client, the
 * clock its structs reach when they start at 0 and have no Skip before;
 * appended to out. */
int crdt_update_state_vector(const void *p, size_t n, bool v2, const crdt_update_limits *lim,
                             sb_buf *out);

/* Y.parseUpdateMeta (+V2): per client in order of first appearance, the
 * first clock (from) and the end clock (to) of its last run of structs,
 * Skips included. *meta is filled only on success; free it with
 * crdt_update_meta_free. */
typedef struct crdt_update_clock {
    uint64_t client, clock;
} crdt_update_clock;
typedef struct crdt_update_meta {
    crdt_update_clock *from, *to; /* n entries each, the same clients */
    size_t n;
} crdt_update_meta;
int crdt_update_parse_meta(const void *p, size_t n, bool v2, const crdt_update_limits *lim,
                           crdt_update_meta *meta);
void crdt_update_meta_free(crdt_update_meta *meta);

#endif
