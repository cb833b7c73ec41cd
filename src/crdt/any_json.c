/*
 * any_json.c: crdt_any to JSON text exactly as JSON.stringify writes the
 * values Yjs's toJSON returns (ECMA-262 §25.5.2, Number::toString §6.1.6.1.20),
 * and from jansson values as JSON.parse would build them.
 *
 * Never: print a number differently from JavaScript; escape differently
 * from JSON.stringify (it leaves U+2028/2029 and non-ASCII as they are).
 * Numbers go through snprintf/strtod, so the process must keep the "C"
 * numeric locale (Sitebase never calls setlocale).
 */
#include "crdt/any_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

/* Number::toString for a finite number: the shortest digits that read back
 * as the same double, laid out as JavaScript does (plain up to 21 integer
 * digits, 0.000001 down to 1e-7 switching to exponent form). */
static void put_js_number(sb_buf *out, double v)
{
    if (v == 0) {
        sb_buf_putc(out, '0'); /* -0 prints as 0 */
        return;
    }
    if (v < 0) {
        sb_buf_putc(out, '-');
        v = -v;
    }
    /* Integers below 2^53 print as their digits: the common case, without
     * the search below. */
    if (v < 9007199254740992.0 && v == floor(v)) {
        sb_buf_appendf(out, "%" PRIu64, (uint64_t)v);
        return;
    }
    char tmp[40];
    int p;
    /* The first precision that round-trips gives the shortest digits, and
     * printf's correct rounding makes them the closest such digits. */
    for (p = 1; p < 17; p++) {
        snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
    char digits[20];
    int k = 0;
    const char *c = tmp;
    for (; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9')
            digits[k++] = *c;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    int n = atoi(c + 1) + 1; /* v = 0.digits * 10^n */
    if (k <= n && n <= 21) {
        sb_buf_append(out, digits, (size_t)k);
        for (int i = k; i < n; i++)
            sb_buf_putc(out, '0');
    } else if (0 < n && n <= 21) {
        sb_buf_append(out, digits, (size_t)n);
        sb_buf_putc(out, '.');
        sb_buf_append(out, digits + n, (size_t)(k - n));
    } else if (-6 < n && n <= 0) {
        sb_buf_puts(out, "0.");
        for (int i = n; i < 0; i++)
            sb_buf_putc(out, '0');
        sb_buf_append(out, digits, (size_t)k);
    } else {
        sb_buf_putc(out, digits[0]);
        if (k > 1) {
            sb_buf_putc(out, '.');
            sb_buf_append(out, digits + 1, (size_t)(k - 1));
        }
        sb_buf_appendf(out, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
}

/* JSON.stringify's QuoteJSONString for valid UTF-8 input: only '"', '\\'
 * and control characters are escaped (base's sb_json_escape also escapes
 * U+2028/2029, which JSON.stringify leaves alone). */
static void put_js_string(sb_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    static const char short_esc[0x20] = {
        ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'};
    sb_buf_putc(out, '"');
    size_t run = 0; /* start of the bytes still to copy as they are */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        sb_buf_append(out, s + run, i - run);
        run = i + 1;
        char e[6] = {'\\', (char)ch};
        size_t n = 2;
        if (ch < 0x20 && short_esc[ch]) {
            e[1] = short_esc[ch];
        } else if (ch < 0x20) {
            memcpy(e + 1, "u00", 3);
            e[4] = hex[ch >> 4];
            e[5] = hex[ch & 15];
            n = 6;
        }
        sb_buf_append(out, e, n);
    }
    sb_buf_append(out, s + run, len - run);
    sb_buf_putc(out, '"');
}

void crdt_any_to_json(const crdt_any *v, sb_buf *out)
{
    switch (v->kind) {
    case CRDT_ANY_UNDEFINED:
    case CRDT_ANY_NULL:
        sb_buf_puts(out, "null");
        break;
    case CRDT_ANY_NUMBER:
        if (isfinite(v->u.num))
            put_js_number(out, v->u.num);
        else
            sb_buf_puts(out, "null");
        break;
    case CRDT_ANY_BIGINT:
        sb_buf_appendf(out, "%lld", (long long)v->u.big);
        break;
    case CRDT_ANY_BOOL:
        sb_buf_puts(out, v->u.b ? "true" : "false");
        break;
    case CRDT_ANY_STRING:
        put_js_string(out, v->u.str.ptr, v->u.str.len);
        break;
    case CRDT_ANY_BINARY:
        /* A Uint8Array has no toJSON: its own keys are its indices. */
        sb_buf_putc(out, '{');
        for (size_t i = 0; i < v->u.str.len; i++)
            sb_buf_appendf(out, "%s\"%zu\":%u", i ? "," : "", i,
                           (unsigned)(uint8_t)v->u.str.ptr[i]);
        sb_buf_putc(out, '}');
        break;
    case CRDT_ANY_ARRAY:
        sb_buf_putc(out, '[');
        for (size_t i = 0; i < v->u.arr.len; i++) {
            if (i)
                sb_buf_putc(out, ',');
            crdt_any_to_json(&v->u.arr.items[i], out);
        }
        sb_buf_putc(out, ']');
        break;
    case CRDT_ANY_OBJECT: {
        sb_buf_putc(out, '{');
        bool first = true;
        for (size_t i = 0; i < v->u.obj.len; i++) {
            const crdt_any_prop *p = &v->u.obj.props[i];
            if (p->value.kind == CRDT_ANY_UNDEFINED)
                continue;
            if (!first)
                sb_buf_putc(out, ',');
            first = false;
            put_js_string(out, p->key, p->key_len);
            sb_buf_putc(out, ':');
            crdt_any_to_json(&p->value, out);
        }
        sb_buf_putc(out, '}');
        break;
    }
    }
}

static bool from_json(const json_t *j, crdt_any *out, int depth)
{
    *out = crdt_any_undefined();
    switch (json_typeof(j)) {
    case JSON_NULL:
        *out = crdt_any_null();
        return true;
    case JSON_TRUE:
    case JSON_FALSE:
        *out = crdt_any_bool(json_is_true(j));
        return true;
    case JSON_INTEGER:
        *out = crdt_any_number((double)json_integer_value(j));
        return true;
    case JSON_REAL:
        *out = crdt_any_number(json_real_value(j));
        return true;
    case JSON_STRING: {
        const char *s = json_string_value(j);
        size_t len = json_string_length(j);
        if (!sb_utf8_valid(s, len, NULL))
            return false;
        *out = crdt_any_string(s, len);
        return true;
    }
    case JSON_ARRAY: {
        if (depth >= CRDT_ANY_MAX_DEPTH)
            return false;
        *out = crdt_any_array();
        size_t i;
        const json_t *item;
        json_array_foreach(j, i, item)
        {
            crdt_any v;
            if (!from_json(item, &v, depth + 1))
                goto fail;
            crdt_any_array_push(out, v);
        }
        return true;
    }
    case JSON_OBJECT: {
        if (depth >= CRDT_ANY_MAX_DEPTH)
            return false;
        *out = crdt_any_object();
        size_t n = json_object_size(j);
        out->u.obj.props = n ? sb_calloc(n, sizeof(crdt_any_prop)) : NULL;
        out->u.obj.cap = n;
        const char *key;
        size_t klen;
        const json_t *value;
        /* jansson iterates in insertion order; JavaScript then reorders.
         * Keys come with their length: they may hold NUL. */
        json_object_keylen_foreach((json_t *)j, key, klen, value)
        {
            if (out->u.obj.len == n || !sb_utf8_valid(key, klen, NULL))
                goto fail;
            crdt_any_prop *p = &out->u.obj.props[out->u.obj.len];
            if (!from_json(value, &p->value, depth + 1))
                goto fail;
            p->key = sb_malloc(klen + 1);
            memcpy(p->key, key, klen);
            p->key[klen] = 0;
            p->key_len = klen;
            out->u.obj.len++;
        }
        crdt__any_normalize_object(out, false);
        return true;
    }
    }
    return false;
fail:
    crdt_any_free(out);
    return false;
}

bool crdt_any_from_json(const struct json_t *j, crdt_any *out)
{
    return from_json(j, out, 0);
}
