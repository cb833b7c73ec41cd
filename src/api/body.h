/*
 * body.h: request bodies for API routes: parse the JSON (net_req_json's
 * limits and errors) and decode it by a field table (decode.h), answering
 * 400 with every field problem when it does not fit:
 *   {"type":".../errors/validation","title":"Validation Failed","status":400,
 *    "detail":"...","code":"validation","errors":[{"field":"email","message":"is required"}]}
 */
#ifndef SB_API_BODY_H
#define SB_API_BODY_H

#include "api/decode.h"
#include "base/json.h"
#include "net/req.h"

/* Parses and decodes req's body into out. On success returns true and
 * *doc holds the parsed document (strings in out borrow from it; the caller
 * json_decref's it). On failure it has answered and returns false. */
bool api_body(net_req *req, const api_field *fields, size_t nfields, void *out, json_t **doc);

/* Answers 400 validation with the listed field errors. */
void api_respond_invalid(net_req *req, const api_errors *errs);

/* One field error, for checks the table cannot express. */
void api_respond_invalid_field(net_req *req, const char *field, const char *message);

/* One field's error, for answers that word their own detail. */
typedef struct api_field_error {
    const char *field, *message;
} api_field_error;

/* A members writer for net_respond_problem_ext: ctx is an api_field_error,
 * written as "errors": [{"field": ..., "message": ...}], the shape every
 * problem+json of ours with field errors has. */
void api_field_error_members(sb_jw *w, const void *ctx);

#endif
