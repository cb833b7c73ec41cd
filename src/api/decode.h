/*
 * decode.h: turns a JSON request body into a C struct, following a table
 * of fields, with the API contract's rules: the body is an object, unknown
 * fields are refused, required fields must be there, strings are checked
 * for length (in characters) and types must match. Every problem is
 * collected, so a client gets all of them in one 400.
 *
 * Pure: no HTTP here (api_body in body.c adds that), so it is fuzzed on
 * its own. Decoded strings borrow from the json_t, which must outlive them.
 */
#ifndef SB_API_DECODE_H
#define SB_API_DECODE_H

#include <jansson.h>

#include "base/str.h"

typedef enum api_ftype {
    API_STRING, /* into an sb_str; absent leaves ptr NULL */
    API_BOOL,   /* into an api_bool */
    API_INT,    /* into an api_int */
    API_OBJECT, /* into a json_t * (borrowed); absent leaves NULL */
    API_ARRAY,  /* the same, for an array */
    API_JSON,   /* any value but null, into a json_t * (borrowed); absent leaves NULL */
} api_ftype;

typedef struct api_bool {
    bool set, value;
} api_bool;

typedef struct api_int {
    bool set;
    int64_t value;
} api_int;

typedef struct api_field {
    const char *name;
    api_ftype type;
    bool required;
    size_t min, max; /* strings: characters (code points); ints: value range */
    size_t offset;   /* where in the output struct */
} api_field;

#define API_MAX_ERRORS 16

typedef struct api_errors {
    size_t n;
    struct {
        const char *field;
        char message[96];
    } items[API_MAX_ERRORS];
} api_errors;

/* Decodes body (any JSON value) into out by fields. Returns true when
 * there was no problem; otherwise errs lists them (up to API_MAX_ERRORS)
 * and out may be partly filled. An unknown field's name in errs borrows
 * from body too: report errors before releasing it. A non-object body is one error with field
 * "" ("the body must be a JSON object"). */
bool api_decode(const json_t *body, const api_field *fields, size_t nfields, void *out,
                api_errors *errs);

#endif
