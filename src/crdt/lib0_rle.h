/*
 * lib0_rle.h: the column codecs of Yjs's update format v2 (lib0
 * src/encoding.js and src/decoding.js; UpdateEncoderV2/UpdateDecoderV2 in
 * yjs src/utils/). A v2 update stores each field of its structs in its own
 * column, run-length coded, so the columns compress well:
 *
 *  - rle_u8 (RleEncoder over writeUint8; info and parentInfo): a value,
 *    then var-uint (run length - 1) when another value follows. The last
 *    run has no length and repeats for ever.
 *  - uint_opt_rle (clients, type refs, lengths): var-int of the value; a
 *    run of more than one is flagged by a negative sign (-0 for the value
 *    0, hence var-int's distinct negative zero) and followed by var-uint
 *    (run length - 2).
 *  - inc_uint_opt_rle: as uint_opt_rle for runs of v, v+1, v+2, ... (lib0
 *    has it; Yjs 13 does not use it).
 *  - int_diff_opt_rle (key clocks, left and right clocks): var-int of
 *    diff * 2 + (run > 1), then var-uint (run length - 2) for a run; each
 *    value is the previous plus diff, starting from 0.
 *  - string: the concatenation of all strings as one var-string, then a
 *    uint_opt_rle column of their lengths in UTF-16 code units (JavaScript
 *    string length), not bytes.
 *
 * Encoders own a growable buffer; *_finish flushes the pending run and
 * returns the column's bytes (the caller writes them, Yjs as a
 * var-uint8-array). Decoders read a borrowed column through a crdt_dec and
 * share its sticky error: reading past the column's end is an error here
 * (lib0 would read undefined as 0 for ever), values keep to 2^53-1.
 *
 * Never: allocate in a decoder; loop per element of a run (a hostile run
 * length of 2^53 costs nothing until values are read one by one).
 */
#ifndef SB_CRDT_LIB0_RLE_H
#define SB_CRDT_LIB0_RLE_H

#include "crdt/lib0.h"

/* --- rle_u8 --- */

typedef struct crdt_rle_u8_enc {
    sb_buf buf;
    uint8_t s;
    uint64_t count; /* 0 before the first write */
} crdt_rle_u8_enc;

void crdt_rle_u8_enc_init(crdt_rle_u8_enc *e);
void crdt_rle_u8_enc_write(crdt_rle_u8_enc *e, uint8_t v);
/* The column (valid until the next write or deinit); the last run needs no
 * flush: its length is implied. */
const sb_buf *crdt_rle_u8_enc_finish(crdt_rle_u8_enc *e);
void crdt_rle_u8_enc_deinit(crdt_rle_u8_enc *e);

typedef struct crdt_rle_u8_dec {
    crdt_dec d;
    uint8_t s;
    uint64_t count; /* values left in the run */
    bool forever;   /* the last run: no length followed it */
} crdt_rle_u8_dec;

/* Reads the column p[0..len) (borrowed). */
void crdt_rle_u8_dec_init(crdt_rle_u8_dec *r, const void *p, size_t len);
/* The next value; 0 and an error in r->d when the column is exhausted. */
uint8_t crdt_rle_u8_dec_read(crdt_rle_u8_dec *r);

/* --- uint_opt_rle and inc_uint_opt_rle --- */

typedef struct crdt_uint_opt_rle_enc {
    sb_buf buf;
    uint64_t s;
    uint64_t count;
    bool inc; /* inc_uint_opt_rle: runs of v, v+1, ... */
} crdt_uint_opt_rle_enc;

/* inc selects inc_uint_opt_rle. */
void crdt_uint_opt_rle_enc_init(crdt_uint_opt_rle_enc *e, bool inc);
/* v at most CRDT_MAX_SAFE_INT. */
void crdt_uint_opt_rle_enc_write(crdt_uint_opt_rle_enc *e, uint64_t v);
/* Flushes the pending run and returns the column (valid until the next
 * write or deinit). Writing after finishing starts a new run. */
const sb_buf *crdt_uint_opt_rle_enc_finish(crdt_uint_opt_rle_enc *e);
void crdt_uint_opt_rle_enc_deinit(crdt_uint_opt_rle_enc *e);

typedef struct crdt_uint_opt_rle_dec {
    crdt_dec d;
    uint64_t s;
    uint64_t count;
    bool inc;
} crdt_uint_opt_rle_dec;

void crdt_uint_opt_rle_dec_init(crdt_uint_opt_rle_dec *r, const void *p, size_t len, bool inc);
/* The next value; 0 and an error in r->d past the end or out of range. */
uint64_t crdt_uint_opt_rle_dec_read(crdt_uint_opt_rle_dec *r);

/* --- int_diff_opt_rle --- */

typedef struct crdt_int_diff_opt_rle_enc {
    sb_buf buf;
    int64_t s, diff;
    uint64_t count;
} crdt_int_diff_opt_rle_enc;

void crdt_int_diff_opt_rle_enc_init(crdt_int_diff_opt_rle_enc *e);
/* |v| at most CRDT_MAX_SAFE_INT / 4 (2^51-1), so that 2 * (v - previous) + 1
 * stays within 2^53-1 where the decoder reads it. */
void crdt_int_diff_opt_rle_enc_write(crdt_int_diff_opt_rle_enc *e, int64_t v);
const sb_buf *crdt_int_diff_opt_rle_enc_finish(crdt_int_diff_opt_rle_enc *e);
void crdt_int_diff_opt_rle_enc_deinit(crdt_int_diff_opt_rle_enc *e);

typedef struct crdt_int_diff_opt_rle_dec {
    crdt_dec d;
    int64_t s, diff;
    uint64_t count;
} crdt_int_diff_opt_rle_dec;

void crdt_int_diff_opt_rle_dec_init(crdt_int_diff_opt_rle_dec *r, const void *p, size_t len);
/* The next value; 0 and an error past the end or when a value leaves
 * [-(2^53-1), 2^53-1]. */
int64_t crdt_int_diff_opt_rle_dec_read(crdt_int_diff_opt_rle_dec *r);

/* --- string --- */

typedef struct crdt_string_enc {
    sb_buf str; /* the concatenation, UTF-8 */
    crdt_uint_opt_rle_enc lens;
    sb_buf out;
} crdt_string_enc;

void crdt_string_enc_init(crdt_string_enc *e);
/* s must be valid UTF-8; its length is counted in UTF-16 units. */
void crdt_string_enc_write(crdt_string_enc *e, const char *s, size_t len);
/* The column: var-string of the concatenation, then the lengths. */
const sb_buf *crdt_string_enc_finish(crdt_string_enc *e);
void crdt_string_enc_deinit(crdt_string_enc *e);

typedef struct crdt_string_dec {
    crdt_uint_opt_rle_dec lens; /* its d holds the error for the column */
    sb_str str;                 /* the concatenation, borrowed */
    size_t spos;                /* byte offset of the next string */
} crdt_string_dec;

/* Reads the concatenated string (checked to be UTF-8) at once; an error is
 * then in r->lens.d. */
void crdt_string_dec_init(crdt_string_dec *r, const void *p, size_t len);
/* The next string, a view into the column. Fails (NULL view, error in
 * r->lens.d) past the end of the concatenation, or when a length ends in
 * the middle of a character outside the BMP: JavaScript would slice a
 * surrogate pair in two there, which UTF-8 cannot hold (CRDT_LIB0_EFORMAT;
 * Yjs itself never writes such a split). */
sb_str crdt_string_dec_read(crdt_string_dec *r);
static inline int crdt_string_dec_err(const crdt_string_dec *r)
{
    return r->lens.d.err;
}

#endif
