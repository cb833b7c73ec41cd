/* crdt_vectors.h: loading tests/crdt/lib0_vectors.json (bytes from the real
 * lib0, see tests/crdt/lib0_vectors.mjs) for the crdt unit tests that check
 * our codecs against it. Test-only helpers, static in each test. */
#ifndef SB_TESTS_CRDT_VECTORS_H
#define SB_TESTS_CRDT_VECTORS_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "crdt/any.h"

/* The loaded vectors, for the whole test group (vectors_setup/teardown). */
static json_t *vec;

/* Runs the block after it once for each vector v in the section name. */
#define EACH(name, v)                                                                              \
    size_t i_;                                                                                     \
    const json_t *v;                                                                               \
    assert_true(json_array_size(json_object_get(vec, name)) > 0);                                  \
    json_array_foreach(json_object_get(vec, name), i_, v)

static inline json_t *vectors_load(void)
{
    const char *src = getenv("SITEBASE_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/crdt/lib0_vectors.json", src ? src : ".");
    json_error_t err;
    json_t *v = json_load_file(path, JSON_ALLOW_NUL, &err);
    if (!v)
        fail_msg("cannot load %s: %s", path, err.text);
    return v;
}

static inline int vectors_setup(void **state)
{
    vec = vectors_load();
    return 0;
}

static inline int vectors_teardown(void **state)
{
    json_decref(vec);
    return 0;
}

/* Hex text into b (reset first). */
static inline void vectors_unhex(const char *h, sb_buf *b)
{
    sb_buf_reset(b);
    for (size_t i = 0; h[i] && h[i + 1]; i += 2)
        sb_buf_putc(b, (char)(sb_hex_digit(h[i]) << 4 | sb_hex_digit(h[i + 1])));
}

static inline double vectors_f64(const char *h)
{
    uint64_t bits = strtoull(h, NULL, 16);
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

static inline void vectors_expect_hex(const sb_buf *b, const char *want, const char *what)
{
    char got[b->len * 2 + 1];
    sb_hex_encode(b->ptr, b->len, got);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got %s, lib0 wrote %s", what, got, want);
}

/* Builds the crdt_any that a tagged tree from describe() in the .mjs stands
 * for. */
static inline crdt_any vectors_any(const json_t *t)
{
    const char *tag = json_string_value(json_array_get(t, 0));
    const json_t *arg = json_array_get(t, 1);
    if (!strcmp(tag, "undefined"))
        return crdt_any_undefined();
    if (!strcmp(tag, "null"))
        return crdt_any_null();
    if (!strcmp(tag, "bool"))
        return crdt_any_bool(json_is_true(arg));
    if (!strcmp(tag, "number"))
        return crdt_any_number(vectors_f64(json_string_value(arg)));
    if (!strcmp(tag, "bigint"))
        return crdt_any_bigint(strtoll(json_string_value(arg), NULL, 10));
    if (!strcmp(tag, "string"))
        return crdt_any_string(json_string_value(arg), json_string_length(arg));
    if (!strcmp(tag, "binary")) {
        sb_buf b = SB_BUF_INIT;
        vectors_unhex(json_string_value(arg), &b);
        crdt_any v = crdt_any_binary(b.ptr, b.len);
        sb_buf_free(&b);
        return v;
    }
    size_t i;
    const json_t *item;
    if (!strcmp(tag, "array")) {
        crdt_any v = crdt_any_array();
        json_array_foreach(arg, i, item) crdt_any_array_push(&v, vectors_any(item));
        return v;
    }
    assert_string_equal(tag, "object");
    crdt_any v = crdt_any_object();
    json_array_foreach(arg, i, item)
    {
        const json_t *k = json_array_get(item, 0);
        crdt_any_object_set(&v, json_string_value(k), json_string_length(k),
                            vectors_any(json_array_get(item, 1)));
    }
    return v;
}

#endif
