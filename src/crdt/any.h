/*
 * any.h: crdt_any, a JavaScript value as lib0's writeAny/readAny carry it:
 * the content of Yjs's ContentAny and ContentEmbed, map values, format
 * attributes. It is a tree that owns all its memory.
 *
 * Numbers: JavaScript has one number type and lib0 picks the wire form
 * from the value (an integer of magnitude <= 2^31-1 as a var-int, tag 125;
 * else float32 when exact, tag 124; else float64, tag 123). So there is one
 * kind, CRDT_ANY_NUMBER, a double: two C kinds for integer and float would
 * give one JavaScript value two representations. -0 is kept (a var-int may
 * carry it) and NaN is written as float64 with its payload bits, as V8's
 * DataView does (a float32 NaN read becomes the quieted float64 NaN).
 *
 * Objects keep JavaScript's property order, because re-encoding and JSON
 * follow Object.keys: array-index keys ("0", "17", below 2^32-1, no leading
 * zeros) first in ascending numeric order, then the other keys in insertion
 * order. A duplicate key keeps its first position and takes the last value.
 * A "__proto__" key read from the wire is dropped: readAny assigns it into
 * a fresh object literal, which sets the prototype, not an own property.
 *
 * Invariants: strings and keys are valid UTF-8 (checked on read and from
 * JSON), NUL-terminated for convenience (they may contain NUL too).
 */
#ifndef SB_CRDT_ANY_H
#define SB_CRDT_ANY_H

#include "crdt/lib0.h"

/* Limits on what crdt_any_read accepts. */
#define CRDT_ANY_MAX_DEPTH 64

/* lib0's type tags for writeAny/readAny. */
enum {
    CRDT_ANY_TAG_UNDEFINED = 127,
    CRDT_ANY_TAG_NULL = 126,
    CRDT_ANY_TAG_INTEGER = 125,
    CRDT_ANY_TAG_FLOAT32 = 124,
    CRDT_ANY_TAG_FLOAT64 = 123,
    CRDT_ANY_TAG_BIGINT = 122,
    CRDT_ANY_TAG_FALSE = 121,
    CRDT_ANY_TAG_TRUE = 120,
    CRDT_ANY_TAG_STRING = 119,
    CRDT_ANY_TAG_OBJECT = 118,
    CRDT_ANY_TAG_ARRAY = 117,
    CRDT_ANY_TAG_BINARY = 116,
};

typedef enum crdt_any_kind {
    CRDT_ANY_UNDEFINED = 0, /* a zeroed crdt_any is undefined */
    CRDT_ANY_NULL,
    CRDT_ANY_NUMBER,
    CRDT_ANY_BIGINT,
    CRDT_ANY_BOOL,
    CRDT_ANY_STRING,
    CRDT_ANY_OBJECT,
    CRDT_ANY_ARRAY,
    CRDT_ANY_BINARY,
} crdt_any_kind;

typedef struct crdt_any crdt_any;
typedef struct crdt_any_prop crdt_any_prop;

struct crdt_any {
    crdt_any_kind kind;
    union {
        double num;  /* NUMBER */
        int64_t big; /* BIGINT */
        bool b;      /* BOOL */
        struct {
            char *ptr; /* owned, never NULL, NUL after len */
            size_t len;
        } str; /* STRING (UTF-8) and BINARY */
        struct {
            crdt_any *items; /* owned */
            size_t len, cap;
        } arr;
        struct {
            crdt_any_prop *props; /* owned, in JavaScript key order */
            size_t len, cap;
        } obj;
    } u;
};

struct crdt_any_prop {
    char *key; /* owned, UTF-8, NUL after key_len */
    size_t key_len;
    crdt_any value;
};

/* Constructors return values that own copies of what they are given. */
static inline crdt_any crdt_any_undefined(void)
{
    return (crdt_any){.kind = CRDT_ANY_UNDEFINED};
}
static inline crdt_any crdt_any_null(void)
{
    return (crdt_any){.kind = CRDT_ANY_NULL};
}
static inline crdt_any crdt_any_number(double v)
{
    return (crdt_any){.kind = CRDT_ANY_NUMBER, .u.num = v};
}
static inline crdt_any crdt_any_bigint(int64_t v)
{
    return (crdt_any){.kind = CRDT_ANY_BIGINT, .u.big = v};
}
static inline crdt_any crdt_any_bool(bool v)
{
    return (crdt_any){.kind = CRDT_ANY_BOOL, .u.b = v};
}
/* s may be any bytes: ill-formed UTF-8 is replaced by U+FFFD as
 * TextDecoder does, so the UTF-8 invariant holds whatever a caller passes
 * (the same for object keys). */
crdt_any crdt_any_string(const char *s, size_t len);
crdt_any crdt_any_binary(const void *p, size_t len);
crdt_any crdt_any_array(void);
crdt_any crdt_any_object(void);

/* Appends v to an array, taking ownership of v. */
void crdt_any_array_push(crdt_any *arr, crdt_any v);
/* Sets key on an object, taking ownership of v, with JavaScript's
 * ordering rules (see above); replaces and frees an existing value. O(n). */
void crdt_any_object_set(crdt_any *obj, const char *key, size_t key_len, crdt_any v);
/* The value of key, or NULL. */
const crdt_any *crdt_any_object_get(const crdt_any *obj, const char *key, size_t key_len);

/* Frees what v owns and leaves it undefined. */
void crdt_any_free(crdt_any *v);
/* A deep copy. */
crdt_any crdt_any_copy(const crdt_any *v);
/* Deep equality with Object.is on numbers (NaN equals NaN, 0 is not -0) and
 * property order significant (it is deterministic, see above). */
bool crdt_any_equal(const crdt_any *a, const crdt_any *b);

/* True when key is a JavaScript array index (canonical decimal < 2^32-1);
 * *index receives it. */
bool crdt_any_key_is_index(const char *key, size_t len, uint32_t *index);

/* Appends lib0's writeAny encoding of v. */
void crdt_any_write(sb_buf *b, const crdt_any *v);
/* Reads one value as lib0's readAny. On success returns 0 and *out owns the
 * value; on failure returns the decoder's error (unknown tag, bad UTF-8,
 * depth above CRDT_ANY_MAX_DEPTH, truncated input), records it in d, and
 * leaves *out undefined. Allocation is bounded by the remaining input. */
int crdt_any_read(crdt_dec *d, crdt_any *out);

/* Appends JSON as JSON.stringify writes what Yjs's toJSON returns for v:
 *  - undefined: omitted as an object property, null in an array, null at
 *    the top (a caller building an object skips undefined values itself);
 *  - numbers as JavaScript prints them (shortest round trip, 1e+21, -0 as
 *    0); NaN and Infinity as null;
 *  - binary (a Uint8Array) as JSON.stringify does: {"0":b0,"1":b1,...};
 *  - bigint: JSON.stringify throws on one; we write its decimal digits as
 *    a JSON number so the value is not lost (documented divergence);
 *  - strings escaped as JSON.stringify does (U+2028 is not escaped). */
void crdt_any_to_json(const crdt_any *v, sb_buf *out);

struct json_t;
/* Converts a JSON value (as JSON.parse would give it) into *out. Integers
 * and reals become numbers; object keys follow JavaScript's ordering.
 * JSON.parse makes every number a double, "-0" included: parse with
 * jansson's JSON_DECODE_INT_AS_REAL to match it (an integer 0 cannot say
 * it was -0, which lib0 writes differently, and integers beyond int64
 * fail without it).
 * Returns false (and *out undefined) when strings are not UTF-8 or nesting
 * exceeds CRDT_ANY_MAX_DEPTH. */
bool crdt_any_from_json(const struct json_t *j, crdt_any *out);

#endif
