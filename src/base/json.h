/*
 * json.h: JSON in and out.
 *
 * Parsing untrusted bodies goes through jansson, behind limits checked
 * before jansson sees a byte: total size, nesting depth, strict UTF-8.
 * Duplicate keys and NUL inside strings are rejected. Errors carry the
 * byte offset, line and column of the problem, for a 400 the client can act
 * on.
 *
 * Writing responses uses sb_jw, a streaming writer into an sb_buf that
 * places commas itself and escapes strings (RFC 8259 §7); it never emits
 * invalid UTF-8 (invalid input bytes become U+FFFD) and escapes '<', '>' and
 * '&' as \u003c etc. so JSON is safe to inline into HTML.
 */
#ifndef SB_BASE_JSON_H
#define SB_BASE_JSON_H

#include <jansson.h>

#include "base/common.h"
#include "base/str.h"

typedef struct sb_json_limits {
    size_t max_bytes;   /* 0 = no size limit */
    unsigned max_depth; /* nesting of arrays/objects; 0 = 64 */
} sb_json_limits;

typedef enum sb_json_errcode {
    SB_JSON_OK = 0,
    SB_JSON_TOO_LARGE,
    SB_JSON_TOO_DEEP,
    SB_JSON_BAD_UTF8,
    SB_JSON_SYNTAX,
} sb_json_errcode;

typedef struct sb_json_error {
    sb_json_errcode code;
    size_t offset; /* byte offset of the problem in the input */
    int line;      /* 1-based */
    int column;    /* 1-based, in bytes */
    char text[160];
} sb_json_error;

/* Parses buf[0..len) into *out (a new reference the caller json_decref's).
 * On failure returns the code, fills err (if not NULL), leaves *out alone. */
sb_json_errcode sb_json_parse(const char *buf, size_t len, const sb_json_limits *limits,
                              json_t **out, sb_json_error *err);

/* ---- streaming writer ---- */

/* Deep enough to write back anything a request body may hold
 * (NET_JSON_MAX_DEPTH) inside a few levels of our own. */
#define SB_JW_MAX_DEPTH 192

typedef struct sb_jw {
    struct sb_buf *out;
    unsigned depth;
    bool need_comma[SB_JW_MAX_DEPTH + 1];
    bool after_key;
} sb_jw;

/* Writes into out, appending; out stays the caller's. */
void sb_jw_init(sb_jw *w, struct sb_buf *out);
void sb_jw_obj_begin(sb_jw *w);
void sb_jw_obj_end(sb_jw *w);
void sb_jw_arr_begin(sb_jw *w);
void sb_jw_arr_end(sb_jw *w);
/* An object key; the next value call writes its value. */
void sb_jw_key(sb_jw *w, const char *key);
void sb_jw_keyn(sb_jw *w, const char *key, size_t len);
void sb_jw_str(sb_jw *w, const char *s); /* NULL writes null */
void sb_jw_strn(sb_jw *w, const char *s, size_t len);
void sb_jw_int(sb_jw *w, int64_t v);
void sb_jw_uint(sb_jw *w, uint64_t v);
/* Non-finite doubles are written as null (JSON has no NaN/Infinity). */
void sb_jw_double(sb_jw *w, double v);
void sb_jw_bool(sb_jw *w, bool v);
void sb_jw_null(sb_jw *w);
/* json_equal, except that numbers compare by value, as JavaScript's do:
 * 3 and 3.0 are the same number (a Yjs document holds 3.0 as 3). */
bool sb_json_same(const json_t *a, const json_t *b);

/* Writes a jansson value (for passing stored JSON through). */
void sb_jw_json(sb_jw *w, const json_t *v);
/* Appends already-serialised JSON verbatim (the caller vouches for it). */
void sb_jw_raw(sb_jw *w, const char *json, size_t len);

/* Convenience: key + value. */
#define sb_jw_kv_str(w, k, v)  (sb_jw_key((w), (k)), sb_jw_str((w), (v)))
#define sb_jw_kv_int(w, k, v)  (sb_jw_key((w), (k)), sb_jw_int((w), (v)))
#define sb_jw_kv_bool(w, k, v) (sb_jw_key((w), (k)), sb_jw_bool((w), (v)))

/* Appends s as a quoted, escaped JSON string (the writer's escaping). */
void sb_json_escape(struct sb_buf *out, const char *s, size_t len);

#endif
