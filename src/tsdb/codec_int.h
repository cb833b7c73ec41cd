/*
 * codec_int.h: codec pieces shared inside tsdb: the integer codec works on
 * a bit stream so that the float codec can embed it for scaled decimals.
 */
#ifndef SB_TSDB_CODEC_INT_H
#define SB_TSDB_CODEC_INT_H

#include "tsdb/bits.h"
#include "tsdb/err.h"

void tsdb__int_put(tsdb__bitw *w, const int64_t *v, size_t n);
/* Reads n integers; on a malformed stream sets r->err or returns false. */
bool tsdb__int_get(tsdb__bitr *r, size_t n, int64_t *v);

/* Bits the delta (mode 0) or delta-of-delta (mode 1) layout would take for
 * v: for tests and docs/tsdb.md, which compare the two on real shapes. */
size_t tsdb__int_mode_bits(const int64_t *v, size_t n, int mode);

/* A bit column must end within its last byte: trailing bytes are corrupt. */
static inline tsdb_err tsdb__bitr_finish(const tsdb__bitr *r)
{
    if (r->err || (r->nbits - r->pos) >= 8)
        return TSDB_E_CORRUPT;
    return TSDB_E_OK;
}

#endif
