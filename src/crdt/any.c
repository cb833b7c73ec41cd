/*
 * any.c: crdt_any values, their lib0 "any" encoding (writeAny/readAny in
 * lib0 src/encoding.js, src/decoding.js) and JavaScript's object key order.
 *
 * Never: allocate on read more than the remaining input could describe;
 * recurse deeper than CRDT_ANY_MAX_DEPTH on read; leave a half-built value
 * behind on a failed read.
 */
#include "crdt/any.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "crdt/any_int.h"

static char *dup_bytes(const void *p, size_t len)
{
    char *s = sb_malloc(len + 1);
    if (len > 0)
        memcpy(s, p, len);
    s[len] = 0;
    return s;
}

/* Copies p[0..len) as UTF-8, each ill-formed part replaced by U+FFFD the
 * way TextDecoder does (WHATWG Encoding §4.3 "UTF-8 decoder": a maximal
 * subpart of a valid sequence becomes one U+FFFD, and the byte that broke
 * it is read again). The common valid case is one memcpy. */
static char *dup_utf8(const char *p, size_t len, size_t *out_len)
{
    if (sb_utf8_valid(p, len, NULL)) {
        *out_len = len;
        return dup_bytes(p, len);
    }
    const unsigned char *b = (const unsigned char *)p;
    sb_buf out = SB_BUF_INIT;
    size_t start = 0, need = 0, seen = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    for (size_t i = 0; i < len;) {
        unsigned char c = b[i];
        if (need == 0) {
            start = i++;
            if (c < 0x80) {
                sb_buf_putc(&out, (char)c);
            } else if (c >= 0xC2 && c <= 0xF4) {
                need = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
                lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
                hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
                seen = 0;
            } else {
                sb_buf_puts(&out, "\xEF\xBF\xBD");
            }
            continue;
        }
        if (c < lo || c > hi) {
            need = 0; /* c starts afresh */
            sb_buf_puts(&out, "\xEF\xBF\xBD");
            continue;
        }
        lo = 0x80, hi = 0xBF, i++;
        if (++seen == need) {
            sb_buf_append(&out, p + start, need + 1);
            need = 0;
        }
    }
    if (need)
        sb_buf_puts(&out, "\xEF\xBF\xBD");
    *out_len = out.len;
    char *r = dup_bytes(out.ptr, out.len);
    sb_buf_free(&out);
    return r;
}

crdt_any crdt_any_string(const char *s, size_t len)
{
    crdt_any v = {.kind = CRDT_ANY_STRING};
    v.u.str.ptr = dup_utf8(s, len, &v.u.str.len);
    return v;
}

crdt_any crdt_any_binary(const void *p, size_t len)
{
    crdt_any v = {.kind = CRDT_ANY_BINARY};
    v.u.str.ptr = dup_bytes(p, len);
    v.u.str.len = len;
    return v;
}

crdt_any crdt_any_array(void)
{
    return (crdt_any){.kind = CRDT_ANY_ARRAY};
}

crdt_any crdt_any_object(void)
{
    return (crdt_any){.kind = CRDT_ANY_OBJECT};
}

/* Grows an items/props array to hold one more element of size elem. */
static void *grow(void *p, size_t *cap, size_t len, size_t elem)
{
    if (len < *cap)
        return p;
    size_t ncap = *cap ? *cap * 2 : 4, bytes;
    if (sb_mul_overflows(ncap, elem, &bytes))
        sb_die("crdt_any: array too large");
    *cap = ncap;
    return sb_realloc(p, bytes);
}

void crdt_any_array_push(crdt_any *arr, crdt_any v)
{
    assert(arr->kind == CRDT_ANY_ARRAY);
    arr->u.arr.items = grow(arr->u.arr.items, &arr->u.arr.cap, arr->u.arr.len, sizeof(crdt_any));
    arr->u.arr.items[arr->u.arr.len++] = v;
}

bool crdt_any_key_is_index(const char *key, size_t len, uint32_t *index)
{
    /* ECMA-262 array index: CanonicalNumericString of an integer in
     * [0, 2^32-2]; at most 10 digits, no leading zero unless "0". */
    if (len == 0 || len > 10 || (len > 1 && key[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (key[i] < '0' || key[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(key[i] - '0');
    }
    if (v > 0xFFFFFFFEu)
        return false;
    if (index)
        *index = (uint32_t)v;
    return true;
}

static bool key_eq(const crdt_any_prop *p, const char *key, size_t len)
{
    return p->key_len == len && (len == 0 || memcmp(p->key, key, len) == 0);
}

const crdt_any *crdt_any_object_get(const crdt_any *obj, const char *key, size_t key_len)
{
    assert(obj->kind == CRDT_ANY_OBJECT);
    for (size_t i = 0; i < obj->u.obj.len; i++)
        if (key_eq(&obj->u.obj.props[i], key, key_len))
            return &obj->u.obj.props[i].value;
    return NULL;
}

void crdt_any_object_set(crdt_any *obj, const char *key, size_t key_len, crdt_any v)
{
    assert(obj->kind == CRDT_ANY_OBJECT);
    size_t klen;
    char *k = dup_utf8(key, key_len, &klen); /* the key as it will be stored */
    key = k, key_len = klen;
    for (size_t i = 0; i < obj->u.obj.len; i++) {
        if (key_eq(&obj->u.obj.props[i], key, key_len)) {
            crdt_any_free(&obj->u.obj.props[i].value);
            obj->u.obj.props[i].value = v;
            free(k);
            return;
        }
    }
    obj->u.obj.props =
        grow(obj->u.obj.props, &obj->u.obj.cap, obj->u.obj.len, sizeof(crdt_any_prop));
    size_t at = obj->u.obj.len;
    uint32_t idx, other;
    if (crdt_any_key_is_index(key, key_len, &idx)) {
        /* Index keys come first, ascending: insert before the first
         * non-index key or larger index. */
        for (at = 0; at < obj->u.obj.len; at++) {
            const crdt_any_prop *p = &obj->u.obj.props[at];
            if (!crdt_any_key_is_index(p->key, p->key_len, &other) || other > idx)
                break;
        }
        memmove(&obj->u.obj.props[at + 1], &obj->u.obj.props[at],
                (obj->u.obj.len - at) * sizeof(crdt_any_prop));
    }
    obj->u.obj.props[at] = (crdt_any_prop){k, key_len, v};
    obj->u.obj.len++;
}

void crdt_any_free(crdt_any *v)
{
    switch (v->kind) {
    case CRDT_ANY_STRING:
    case CRDT_ANY_BINARY:
        free(v->u.str.ptr);
        break;
    case CRDT_ANY_ARRAY:
        for (size_t i = 0; i < v->u.arr.len; i++)
            crdt_any_free(&v->u.arr.items[i]);
        free(v->u.arr.items);
        break;
    case CRDT_ANY_OBJECT:
        for (size_t i = 0; i < v->u.obj.len; i++) {
            free(v->u.obj.props[i].key);
            crdt_any_free(&v->u.obj.props[i].value);
        }
        free(v->u.obj.props);
        break;
    default:
        break;
    }
    *v = crdt_any_undefined();
}

crdt_any crdt_any_copy(const crdt_any *v)
{
    crdt_any c = *v;
    switch (v->kind) {
    case CRDT_ANY_STRING:
    case CRDT_ANY_BINARY:
        c.u.str.ptr = dup_bytes(v->u.str.ptr, v->u.str.len);
        break;
    case CRDT_ANY_ARRAY:
        c.u.arr.items = v->u.arr.len ? sb_calloc(v->u.arr.len, sizeof(crdt_any)) : NULL;
        c.u.arr.cap = v->u.arr.len;
        for (size_t i = 0; i < v->u.arr.len; i++)
            c.u.arr.items[i] = crdt_any_copy(&v->u.arr.items[i]);
        break;
    case CRDT_ANY_OBJECT:
        c.u.obj.props = v->u.obj.len ? sb_calloc(v->u.obj.len, sizeof(crdt_any_prop)) : NULL;
        c.u.obj.cap = v->u.obj.len;
        for (size_t i = 0; i < v->u.obj.len; i++) {
            const crdt_any_prop *p = &v->u.obj.props[i];
            c.u.obj.props[i] = (crdt_any_prop){dup_bytes(p->key, p->key_len), p->key_len,
                                               crdt_any_copy(&p->value)};
        }
        break;
    default:
        break;
    }
    return c;
}

bool crdt_any_equal(const crdt_any *a, const crdt_any *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case CRDT_ANY_UNDEFINED:
    case CRDT_ANY_NULL:
        return true;
    case CRDT_ANY_NUMBER:
        /* Object.is: NaN is NaN, 0 is not -0. */
        if (isnan(a->u.num) || isnan(b->u.num))
            return isnan(a->u.num) && isnan(b->u.num);
        return a->u.num == b->u.num && signbit(a->u.num) == signbit(b->u.num);
    case CRDT_ANY_BIGINT:
        return a->u.big == b->u.big;
    case CRDT_ANY_BOOL:
        return a->u.b == b->u.b;
    case CRDT_ANY_STRING:
    case CRDT_ANY_BINARY:
        return a->u.str.len == b->u.str.len &&
               (a->u.str.len == 0 || memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0);
    case CRDT_ANY_ARRAY:
        if (a->u.arr.len != b->u.arr.len)
            return false;
        for (size_t i = 0; i < a->u.arr.len; i++)
            if (!crdt_any_equal(&a->u.arr.items[i], &b->u.arr.items[i]))
                return false;
        return true;
    case CRDT_ANY_OBJECT:
        if (a->u.obj.len != b->u.obj.len)
            return false;
        for (size_t i = 0; i < a->u.obj.len; i++) {
            const crdt_any_prop *p = &a->u.obj.props[i], *q = &b->u.obj.props[i];
            if (!key_eq(p, q->key, q->key_len) || !crdt_any_equal(&p->value, &q->value))
                return false;
        }
        return true;
    }
    return false;
}

/* lib0 writeAny's choice for a number. */
static void write_number(sb_buf *b, double v)
{
    if (isfinite(v) && v == floor(v) && fabs(v) <= 2147483647.0) {
        crdt_enc_u8(b, CRDT_ANY_TAG_INTEGER);
        crdt_enc_var_int_signed(b, (uint64_t)fabs(v), signbit(v) != 0);
    } else if (isinf(v) || (fabs(v) <= FLT_MAX && (double)(float)v == v)) {
        crdt_enc_u8(b, CRDT_ANY_TAG_FLOAT32);
        crdt_enc_f32(b, (float)v);
    } else {
        /* NaN too (never float32-exact: NaN !== NaN); DataView keeps the
         * payload, so do we. */
        crdt_enc_u8(b, CRDT_ANY_TAG_FLOAT64);
        crdt_enc_f64(b, v);
    }
}

void crdt_any_write(sb_buf *b, const crdt_any *v)
{
    switch (v->kind) {
    case CRDT_ANY_UNDEFINED:
        crdt_enc_u8(b, CRDT_ANY_TAG_UNDEFINED);
        break;
    case CRDT_ANY_NULL:
        crdt_enc_u8(b, CRDT_ANY_TAG_NULL);
        break;
    case CRDT_ANY_NUMBER:
        write_number(b, v->u.num);
        break;
    case CRDT_ANY_BIGINT:
        crdt_enc_u8(b, CRDT_ANY_TAG_BIGINT);
        crdt_enc_i64be(b, v->u.big);
        break;
    case CRDT_ANY_BOOL:
        crdt_enc_u8(b, v->u.b ? CRDT_ANY_TAG_TRUE : CRDT_ANY_TAG_FALSE);
        break;
    case CRDT_ANY_STRING:
        crdt_enc_u8(b, CRDT_ANY_TAG_STRING);
        crdt_enc_var_string(b, v->u.str.ptr, v->u.str.len);
        break;
    case CRDT_ANY_OBJECT:
        crdt_enc_u8(b, CRDT_ANY_TAG_OBJECT);
        crdt_enc_var_uint(b, v->u.obj.len);
        for (size_t i = 0; i < v->u.obj.len; i++) {
            crdt_enc_var_string(b, v->u.obj.props[i].key, v->u.obj.props[i].key_len);
            crdt_any_write(b, &v->u.obj.props[i].value);
        }
        break;
    case CRDT_ANY_ARRAY:
        crdt_enc_u8(b, CRDT_ANY_TAG_ARRAY);
        crdt_enc_var_uint(b, v->u.arr.len);
        for (size_t i = 0; i < v->u.arr.len; i++)
            crdt_any_write(b, &v->u.arr.items[i]);
        break;
    case CRDT_ANY_BINARY:
        crdt_enc_u8(b, CRDT_ANY_TAG_BINARY);
        crdt_enc_var_bytes(b, v->u.str.ptr, v->u.str.len);
        break;
    }
}

/* --- Reading objects: keys arrive in wire order; JavaScript reorders. --- */

static int cmp_key_then_pos(const void *x, const void *y)
{
    const crdt_any_prop *a = *(crdt_any_prop *const *)x, *b = *(crdt_any_prop *const *)y;
    size_t n = SB_MIN(a->key_len, b->key_len);
    int c = n ? memcmp(a->key, b->key, n) : 0;
    if (c)
        return c;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int cmp_js_order(const void *x, const void *y)
{
    const crdt_any_prop *a = *(crdt_any_prop *const *)x, *b = *(crdt_any_prop *const *)y;
    uint32_t ia = 0, ib = 0;
    bool xa = crdt_any_key_is_index(a->key, a->key_len, &ia);
    bool xb = crdt_any_key_is_index(b->key, b->key_len, &ib);
    if (xa != xb)
        return xa ? -1 : 1;
    if (xa && ia != ib)
        return ia < ib ? -1 : 1;
    return a < b ? -1 : a > b; /* insertion order */
}

void crdt__any_normalize_object(crdt_any *obj, bool drop_proto)
{
    size_t n = obj->u.obj.len;
    crdt_any_prop *props = obj->u.obj.props;
    if (n == 0)
        return;
    crdt_any_prop **order = sb_calloc(n, sizeof(*order));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (drop_proto && key_eq(&props[i], "__proto__", 9)) {
            free(props[i].key);
            crdt_any_free(&props[i].value);
            continue;
        }
        order[m++] = &props[i];
    }
    qsort(order, m, sizeof(*order), cmp_key_then_pos);
    size_t k = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i + 1;
        while (j < m && key_eq(order[j], order[i]->key, order[i]->key_len))
            j++;
        if (j - i > 1) {
            crdt_any_free(&order[i]->value);
            order[i]->value = order[j - 1]->value;
            for (size_t t = i + 1; t < j; t++) {
                free(order[t]->key);
                if (t != j - 1)
                    crdt_any_free(&order[t]->value);
            }
        }
        order[k++] = order[i];
        i = j;
    }
    qsort(order, k, sizeof(*order), cmp_js_order);
    crdt_any_prop *out = sb_calloc(k ? k : 1, sizeof(*out));
    for (size_t i = 0; i < k; i++)
        out[i] = *order[i];
    free(order);
    free(props);
    obj->u.obj.props = out;
    obj->u.obj.len = obj->u.obj.cap = k;
}

static int read_value(crdt_dec *d, crdt_any *out, int depth);

static int read_container(crdt_dec *d, crdt_any *out, uint8_t tag, int depth)
{
    if (depth >= CRDT_ANY_MAX_DEPTH) {
        crdt_dec_fail(d, CRDT_LIB0_EDEPTH);
        return d->err;
    }
    uint64_t n = crdt_dec_var_uint(d);
    if (d->err)
        return d->err;
    /* Each element takes at least one byte (a property two): bound the
     * allocation by what the input could hold before making it. */
    uint64_t min_bytes = tag == CRDT_ANY_TAG_OBJECT ? 2 : 1;
    if (n > crdt_dec_remaining(d) / min_bytes) {
        crdt_dec_fail(d, CRDT_LIB0_ELIMIT);
        return d->err;
    }
    if (tag == CRDT_ANY_TAG_ARRAY) {
        *out = crdt_any_array();
        out->u.arr.items = n ? sb_calloc((size_t)n, sizeof(crdt_any)) : NULL;
        out->u.arr.cap = (size_t)n;
        for (uint64_t i = 0; i < n; i++) {
            if (read_value(d, &out->u.arr.items[i], depth + 1))
                goto fail;
            out->u.arr.len++;
        }
        return 0;
    }
    *out = crdt_any_object();
    out->u.obj.props = n ? sb_calloc((size_t)n, sizeof(crdt_any_prop)) : NULL;
    out->u.obj.cap = (size_t)n;
    for (uint64_t i = 0; i < n; i++) {
        sb_str key = crdt_dec_var_string(d);
        if (d->err)
            goto fail;
        crdt_any_prop *p = &out->u.obj.props[out->u.obj.len];
        p->key = dup_bytes(key.ptr, key.len);
        p->key_len = key.len;
        out->u.obj.len++;
        if (read_value(d, &p->value, depth + 1))
            goto fail;
    }
    /* readAny assigns obj[key] = value, so "__proto__" is no own key. */
    crdt__any_normalize_object(out, true);
    return 0;
fail:
    crdt_any_free(out);
    return d->err;
}

static int read_value(crdt_dec *d, crdt_any *out, int depth)
{
    *out = crdt_any_undefined();
    uint8_t tag = crdt_dec_u8(d);
    if (d->err)
        return d->err;
    switch (tag) {
    case CRDT_ANY_TAG_UNDEFINED:
        return 0;
    case CRDT_ANY_TAG_NULL:
        *out = crdt_any_null();
        return 0;
    case CRDT_ANY_TAG_INTEGER: {
        bool neg;
        int64_t v = crdt_dec_var_int(d, &neg);
        if (d->err)
            return d->err;
        *out = crdt_any_number(neg && v == 0 ? -0.0 : (double)v);
        return 0;
    }
    case CRDT_ANY_TAG_FLOAT32: {
        float f = crdt_dec_f32(d);
        if (d->err)
            return d->err;
        *out = crdt_any_number((double)f);
        return 0;
    }
    case CRDT_ANY_TAG_FLOAT64: {
        double f = crdt_dec_f64(d);
        if (d->err)
            return d->err;
        *out = crdt_any_number(f);
        return 0;
    }
    case CRDT_ANY_TAG_BIGINT: {
        int64_t v = crdt_dec_i64be(d);
        if (d->err)
            return d->err;
        *out = crdt_any_bigint(v);
        return 0;
    }
    case CRDT_ANY_TAG_FALSE:
    case CRDT_ANY_TAG_TRUE:
        *out = crdt_any_bool(tag == CRDT_ANY_TAG_TRUE);
        return 0;
    case CRDT_ANY_TAG_STRING: {
        sb_str s = crdt_dec_var_string(d);
        if (d->err)
            return d->err;
        *out = crdt_any_string(s.ptr, s.len);
        return 0;
    }
    case CRDT_ANY_TAG_OBJECT:
    case CRDT_ANY_TAG_ARRAY:
        return read_container(d, out, tag, depth);
    case CRDT_ANY_TAG_BINARY: {
        sb_str s = crdt_dec_var_bytes(d);
        if (d->err)
            return d->err;
        *out = crdt_any_binary(s.ptr, s.len);
        return 0;
    }
    }
    /* lib0 would call undefined from its lookup table and throw. */
    d->pos--;
    crdt_dec_fail(d, CRDT_LIB0_ETAG);
    return d->err;
}

int crdt_any_read(crdt_dec *d, crdt_any *out)
{
    if (d->err) {
        *out = crdt_any_undefined();
        return d->err;
    }
    return read_value(d, out, 0);
}
