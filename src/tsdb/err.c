/* err.c: messages of the tsdb error codes, from the one table in err.h. */
#include "tsdb/err.h"

const char *tsdb_err_str(tsdb_err e)
{
    switch (e) {
#define TSDB__ERR_CASE(name, msg)                                                                  \
    case TSDB_E_##name:                                                                            \
        return msg;
        TSDB_ERR_MAP(TSDB__ERR_CASE)
#undef TSDB__ERR_CASE
    }
    return "unknown tsdb error";
}
