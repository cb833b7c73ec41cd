/*
 * body_fuzz.c: libFuzzer target for the JSON body decoders of the API
 * routes: the bytes go through the same limits and parser as a request
 * body (sb_json_parse), then through every route's field table. Beyond "no
 * crash, no leak, no UB" it checks the decoder's promises: success means
 * no errors were listed, failure lists at least one, and every decoded
 * string is the document's own (borrowed, not copied or cut).
 */
#include <assert.h>
#include <string.h>

#include "api/auth.h"
#include "base/json.h"
#include "net/req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sb_json_limits limits = {.max_bytes = 1 << 20, .max_depth = NET_JSON_MAX_DEPTH};
    json_t *doc;
    if (sb_json_parse((const char *)data, size, &limits, &doc, NULL) != SB_JSON_OK)
        return 0;
    for (size_t t = 0; t < api_auth_bodies_len; t++) {
        const api_body_table *b = &api_auth_bodies[t];
        unsigned char out[256];
        assert(b->size <= sizeof(out));
        memset(out, 0, sizeof(out));
        api_errors errs;
        bool ok = api_decode(doc, b->fields, b->nfields, out, &errs);
        assert(ok == (errs.n == 0));
        assert(errs.n <= API_MAX_ERRORS);
        for (size_t f = 0; ok && f < b->nfields; f++) {
            if (b->fields[f].type != API_STRING)
                continue;
            sb_str s;
            memcpy(&s, out + b->fields[f].offset, sizeof(s));
            if (s.ptr)
                assert(s.ptr == json_string_value(json_object_get(doc, b->fields[f].name)));
        }
    }
    json_decref(doc);
    return 0;
}
