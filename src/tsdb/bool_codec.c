/* bool_codec.c: boolean columns, one bit a value, in order. */
#include "tsdb/codec.h"
#include "tsdb/codec_int.h"

void tsdb_bool_encode(sb_buf *out, const bool *v, size_t n)
{
    tsdb__bitw w;
    tsdb__bitw_init(&w, out);
    for (size_t i = 0; i < n; i++)
        tsdb__bitw_put(&w, v[i] ? 1 : 0, 1);
    tsdb__bitw_flush(&w);
}

tsdb_err tsdb_bool_decode(const void *p, size_t len, size_t n, bool *v)
{
    tsdb__bitr r;
    tsdb__bitr_init(&r, p, len);
    for (size_t i = 0; i < n; i++) {
        v[i] = tsdb__bitr_get(&r, 1) != 0;
        if (r.err)
            return TSDB_E_CORRUPT;
    }
    return tsdb__bitr_finish(&r);
}
