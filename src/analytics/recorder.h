/*
 * recorder.h: Sitebase's own events (sign-ups, sign-ins, AI interactions,
 * deployments, 5xx answers) written as series, without ever making a
 * request wait for the time-series store.
 *
 * analytics_record formats one point as a line (tsdb_line_write) and
 * appends it to an in-memory batch for its database, under a mutex held
 * for that append only. A thread of the recorder's own sends the batches
 * to the backend every flush interval, or sooner when a batch is full.
 * Memory is bounded: a point that would pass max_pending bytes is dropped,
 * and so is a batch the backend refuses or cannot take (after one retry);
 * every drop is counted (analytics_recorder_stats, shown on /metrics) and
 * logged, never silent.
 *
 * Databases: a project's events go to the project's database (its id);
 * events of no project (sign-ins, server errors) to ANALYTICS_SYSTEM_DB.
 */
#ifndef SB_ANALYTICS_RECORDER_H
#define SB_ANALYTICS_RECORDER_H

#include "analytics/backend.h"
#include "tsdb/line.h"

#define ANALYTICS_SYSTEM_DB "sitebase"

typedef struct analytics_recorder analytics_recorder;

typedef struct analytics_recorder_opts {
    int64_t flush_interval_ms; /* default 1000 */
    size_t max_pending;        /* bytes of lines held; default 8 MiB */
    size_t batch_lines;        /* a batch this long is sent at once; default 5000 */
} analytics_recorder_opts;

/* Starts the flushing thread. b must outlive the recorder. */
analytics_recorder *analytics_recorder_new(analytics_backend *b,
                                           const analytics_recorder_opts *opts);
/* Sends what is pending (one last attempt) and stops the thread. */
void analytics_recorder_free(analytics_recorder *r);

/* Queues one point for db (a project id or ANALYTICS_SYSTEM_DB). p->time
 * is used when p->has_time, else now. Never blocks on I/O; returns false
 * (and counts a drop) when the point cannot be written as a line or the
 * queue is full. Safe from any thread; r NULL records nothing. */
bool analytics_record(analytics_recorder *r, sb_str db, const tsdb_point *p);

/* The same for npoints points already written as lines (each ending in
 * "\n", with timestamps in nanoseconds), as analytics_collect_decode
 * makes them. */
bool analytics_record_lines(analytics_recorder *r, sb_str db, sb_str lines, size_t npoints);

typedef struct analytics_recorder_stats {
    uint64_t recorded;      /* points accepted into the queue */
    uint64_t written;       /* points the backend took */
    uint64_t dropped_queue; /* refused: queue full or unwritable */
    uint64_t dropped_store; /* lost: the backend refused or was down */
    uint64_t pending;       /* points queued now */
} analytics_recorder_stats;

void analytics_recorder_stats_get(analytics_recorder *r, analytics_recorder_stats *out);

#endif
