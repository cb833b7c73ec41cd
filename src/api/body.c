/*
 * body.c: JSON bodies for API routes (see body.h).
 */
#include "api/body.h"

#include <stdio.h>

#include "base/json.h"

static void field_error(sb_jw *w, const char *field, const char *message)
{
    sb_jw_obj_begin(w);
    sb_jw_kv_str(w, "field", field);
    sb_jw_kv_str(w, "message", message);
    sb_jw_obj_end(w);
}

static void error_members(sb_jw *w, const void *ctx)
{
    const api_errors *errs = ctx;
    sb_jw_key(w, "errors");
    sb_jw_arr_begin(w);
    for (size_t i = 0; i < errs->n; i++)
        field_error(w, errs->items[i].field, errs->items[i].message);
    sb_jw_arr_end(w);
}

void api_field_error_members(sb_jw *w, const void *ctx)
{
    const api_field_error *fe = ctx;
    sb_jw_key(w, "errors");
    sb_jw_arr_begin(w);
    field_error(w, fe->field, fe->message);
    sb_jw_arr_end(w);
}

void api_respond_invalid(net_req *req, const api_errors *errs)
{
    char detail[160];
    if (errs->n == 1 && errs->items[0].field[0])
        snprintf(detail, sizeof(detail), "%s %s.", errs->items[0].field, errs->items[0].message);
    else if (errs->n == 1)
        snprintf(detail, sizeof(detail), "Invalid body: %s.", errs->items[0].message);
    else
        snprintf(detail, sizeof(detail), "%zu fields are invalid.", errs->n);
    net_respond_problem_ext(req, 400, "validation", "Validation Failed", detail, error_members,
                            errs);
}

void api_respond_invalid_field(net_req *req, const char *field, const char *message)
{
    api_errors errs = {.n = 1};
    errs.items[0].field = field;
    snprintf(errs.items[0].message, sizeof(errs.items[0].message), "%s", message);
    api_respond_invalid(req, &errs);
}

bool api_body(net_req *req, const api_field *fields, size_t nfields, void *out, json_t **doc)
{
    json_t *v;
    if (!net_req_json(req, &v))
        return false;
    api_errors errs;
    if (!api_decode(v, fields, nfields, out, &errs)) {
        api_respond_invalid(req, &errs);
        json_decref(v);
        return false;
    }
    *doc = v;
    return true;
}
