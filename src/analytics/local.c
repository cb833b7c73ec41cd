/*
 * local.c: the `local` driver: the embedded tsdb/ engine in the data
 * folder.
 *
 * PLACEHOLDER, TO BE REPLACED AT MERGE: the storage engine
 * (tsdb/engine.{h,c}) and the InfluxQL executor (tsdb/exec.{h,c}) are
 * being built on their own branches. Until they are merged in, this
 * driver answers every call with 503 "local tsdb engine not built yet",
 * so that a server on the default setting starts and says plainly why
 * its analytics do not work; `--tsdb influx://host:port` works today.
 * The merge replaces this file with one that opens the engine under
 * <data>/tsdb and answers through it.
 */
#include "analytics/backend.h"

#include <stdlib.h>

#define NOT_BUILT "local tsdb engine not built yet (run with --tsdb influx://host:port)"

static void local_write(analytics_backend *b, sb_str db, sb_str body, sb_str precision,
                        analytics_result *out)
{
    analytics_result_error(out, 503, NOT_BUILT);
}

static void local_query(analytics_backend *b, const analytics_query *q, analytics_result *out)
{
    analytics_result_error(out, 503, NOT_BUILT);
}

static void local_db(analytics_backend *b, sb_str db, analytics_result *out)
{
    analytics_result_error(out, 503, NOT_BUILT);
}

static void local_ping(analytics_backend *b, analytics_result *out)
{
    analytics_result_error(out, 503, NOT_BUILT);
}

static void local_free(analytics_backend *b)
{
    free(b);
}

static const analytics_backend_vt local_vt = {
    .name = "local",
    .write = local_write,
    .query = local_query,
    .create_db = local_db,
    .drop_db = local_db,
    .ping = local_ping,
    .free = local_free,
};

analytics_backend *analytics_local_open(const char *data_dir, sb_errbuf *err)
{
    analytics_backend *b = sb_calloc(1, sizeof(*b));
    b->vt = &local_vt;
    return b;
}
