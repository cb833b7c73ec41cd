/*
 * lib0.h: the binary primitives of lib0 (the encoding library under Yjs),
 * which every Yjs update, state vector and delete set is made of.
 *
 * Writers append to an sb_buf and cannot fail. Readers work on a crdt_dec, a
 * cursor over borrowed bytes with a sticky error: the first failed read
 * records why, and from then on every read returns 0 (or an empty view)
 * without moving. So a caller may read a whole struct and check
 * crdt_dec_ok() once at the end; nothing is ever read past the end.
 *
 * Readers never allocate: strings and byte arrays come back as views into
 * the input. Callers that allocate from a decoded count must first check it
 * against crdt_dec_remaining() (every element takes at least one byte), so
 * a hostile length cannot make us allocate more than the input could hold.
 *
 * Wire formats (lib0 src/encoding.js, src/decoding.js):
 *  - var-uint: 7 bits a byte, least significant first, high bit = more.
 *    Values above 2^53-1 (JavaScript's safe integers) are rejected, as
 *    lib0's errorIntegerOutOfRange; padding bytes (0x80 ...) are accepted.
 *    (lib0 checks the range only before a continuation byte, so it reads a
 *    last byte that overshoots, up to 2^56, imprecisely; we are strict.)
 *  - var-int: first byte is more(0x80) | sign(0x40) | 6 value bits, then
 *    7 bits a byte. The sign bit may be set on 0: negative zero is a
 *    distinct value on the wire (update v2's run-length codecs use it as a
 *    flag), so readers report the sign separately from the magnitude.
 *  - var-string: var-uint byte length, then UTF-8. lib0 decodes with
 *    TextDecoder, which replaces invalid sequences with U+FFFD; we reject
 *    them instead (CRDT_LIB0_EUTF8): TextEncoder never produces invalid
 *    UTF-8, so only a corrupt or hostile update has it, and a server should
 *    not silently rewrite content.
 *  - var-uint8-array: var-uint length, then the bytes.
 *  - float32, float64, bigint64: big-endian, as DataView writes them.
 */
#ifndef SB_CRDT_LIB0_H
#define SB_CRDT_LIB0_H

#include "base/str.h"

/* Number.MAX_SAFE_INTEGER: the largest var-uint or var-int magnitude. */
#define CRDT_MAX_SAFE_INT ((uint64_t)9007199254740991ULL)

/* The error codes of the crdt lib0 layer and their messages; 0 is success. */
#define CRDT_LIB0_ERRORS(X)                                                                        \
    X(CRDT_LIB0_OK, "ok")                                                                          \
    X(CRDT_LIB0_EEOF, "unexpected end of input")                                                   \
    X(CRDT_LIB0_ERANGE, "integer out of range (above 2^53-1)")                                     \
    X(CRDT_LIB0_EUTF8, "string is not valid UTF-8")                                                \
    X(CRDT_LIB0_ETAG, "unknown type tag")                                                          \
    X(CRDT_LIB0_EDEPTH, "value nested too deeply")                                                 \
    X(CRDT_LIB0_ELIMIT, "length exceeds the remaining input")                                      \
    X(CRDT_LIB0_EFORMAT, "malformed value")

typedef enum crdt_lib0_err {
#define CRDT_LIB0_ENUM_(code, msg) code,
    CRDT_LIB0_ERRORS(CRDT_LIB0_ENUM_)
#undef CRDT_LIB0_ENUM_
} crdt_lib0_err;

/* A static message for an error code ("unknown error" for others). */
const char *crdt_lib0_strerror(int err);

/* --- Writing: append to b, never fail (allocation failure aborts). --- */

void crdt_enc_u8(sb_buf *b, uint8_t v);
/* Raw bytes, no length. */
void crdt_enc_bytes(sb_buf *b, const void *p, size_t n);
/* v should be at most CRDT_MAX_SAFE_INT: readers reject larger values. */
void crdt_enc_var_uint(sb_buf *b, uint64_t v);
/* A signed var-int; 0 is written as positive zero. */
void crdt_enc_var_int(sb_buf *b, int64_t v);
/* A var-int from sign and magnitude, so negative zero can be written
 * (negative && magnitude == 0 gives the byte 0x40). */
void crdt_enc_var_int_signed(sb_buf *b, uint64_t magnitude, bool negative);
/* var-uint byte length, then the bytes; the caller vouches they are UTF-8. */
void crdt_enc_var_string(sb_buf *b, const char *s, size_t len);
/* var-uint length, then the bytes. */
void crdt_enc_var_bytes(sb_buf *b, const void *p, size_t n);
void crdt_enc_f32(sb_buf *b, float v);
void crdt_enc_f64(sb_buf *b, double v);
void crdt_enc_i64be(sb_buf *b, int64_t v);

/* --- Reading. --- */

typedef struct crdt_dec {
    const uint8_t *p; /* borrowed; must outlive every view read from it */
    size_t len;
    size_t pos; /* invariant: pos <= len */
    int err;    /* 0, or the first crdt_lib0_err (or a caller's code) */
} crdt_dec;

void crdt_dec_init(crdt_dec *d, const void *p, size_t len);
static inline bool crdt_dec_ok(const crdt_dec *d)
{
    return d->err == 0;
}
static inline size_t crdt_dec_remaining(const crdt_dec *d)
{
    return d->len - d->pos;
}
/* Records err unless an error is already recorded (the first one wins). */
void crdt_dec_fail(crdt_dec *d, int err);
/* The next byte without consuming it, or -1 at the end or after an error
 * (neither sets an error). */
int crdt_dec_peek(const crdt_dec *d);

uint8_t crdt_dec_u8(crdt_dec *d);
/* A view of the next n raw bytes (NULL when n == 0 or on error). */
const uint8_t *crdt_dec_bytes(crdt_dec *d, size_t n);
/* 0 on error; never above CRDT_MAX_SAFE_INT. */
uint64_t crdt_dec_var_uint(crdt_dec *d);
/* The value, magnitude at most CRDT_MAX_SAFE_INT; *negative (may be NULL)
 * receives the sign bit, which is how -0 is told from 0. */
int64_t crdt_dec_var_int(crdt_dec *d, bool *negative);
/* A view of the string's bytes, checked to be UTF-8; ptr is NULL only on
 * error (an empty string is ""). */
sb_str crdt_dec_var_string(crdt_dec *d);
/* A view of a var-uint8-array's bytes; ptr NULL only on error. */
sb_str crdt_dec_var_bytes(crdt_dec *d);
float crdt_dec_f32(crdt_dec *d);
double crdt_dec_f64(crdt_dec *d);
int64_t crdt_dec_i64be(crdt_dec *d);

#endif
