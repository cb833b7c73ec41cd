/*
 * decode.c: the table-driven body decoder (see decode.h).
 */
#include "api/decode.h"

#include <stdio.h>
#include <string.h>

static void add(api_errors *errs, const char *field, const char *fmt, size_t a, size_t b)
{
    if (errs->n == API_MAX_ERRORS)
        return;
    errs->items[errs->n].field = field;
    snprintf(errs->items[errs->n].message, sizeof(errs->items[errs->n].message), fmt, a, b);
    errs->n++;
}

/* Code points in valid UTF-8 (jansson has validated it). */
static size_t chars(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

static const api_field *find(const api_field *fields, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

bool api_decode(const json_t *body, const api_field *fields, size_t nfields, void *out,
                api_errors *errs)
{
    errs->n = 0;
    if (!json_is_object(body)) {
        add(errs, "", "the body must be a JSON object", 0, 0);
        return false;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        if (!find(fields, nfields, key))
            add(errs, key, "is not a known field", 0, 0);
    }
    for (size_t i = 0; i < nfields; i++) {
        const api_field *f = &fields[i];
        void *slot = (char *)out + f->offset;
        v = json_object_get(body, f->name);
        if (!v || json_is_null(v)) {
            if (f->required)
                add(errs, f->name, "is required", 0, 0);
            continue;
        }
        switch (f->type) {
        case API_STRING: {
            if (!json_is_string(v)) {
                add(errs, f->name, "must be a string", 0, 0);
                break;
            }
            const char *s = json_string_value(v);
            size_t len = json_string_length(v), n = chars(s, len);
            if (f->max && (n < f->min || n > f->max)) {
                if (f->min == f->max)
                    add(errs, f->name, "must have %zu characters", f->min, 0);
                else
                    add(errs, f->name, "must have %zu to %zu characters", f->min, f->max);
                break;
            }
            *(sb_str *)slot = sb_str_make(s, len);
            break;
        }
        case API_BOOL:
            if (!json_is_boolean(v)) {
                add(errs, f->name, "must be true or false", 0, 0);
                break;
            }
            *(api_bool *)slot = (api_bool){true, json_is_true(v)};
            break;
        case API_INT: {
            json_int_t x = json_is_integer(v) ? json_integer_value(v) : 0;
            if (!json_is_integer(v) ||
                (f->max && (x < (json_int_t)f->min || x > (json_int_t)f->max))) {
                add(errs, f->name, "must be an integer from %zu to %zu", f->min, f->max);
                break;
            }
            *(api_int *)slot = (api_int){true, (int64_t)x};
            break;
        }
        case API_OBJECT:
            if (!json_is_object(v)) {
                add(errs, f->name, "must be an object", 0, 0);
                break;
            }
            *(json_t **)slot = v;
            break;
        case API_ARRAY:
            if (!json_is_array(v)) {
                add(errs, f->name, "must be an array", 0, 0);
                break;
            }
            *(json_t **)slot = v;
            break;
        case API_JSON: /* null was taken for absent above */
            *(json_t **)slot = v;
            break;
        }
    }
    return errs->n == 0;
}
