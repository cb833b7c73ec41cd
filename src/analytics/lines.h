/*
 * lines.h: reading a /write body as InfluxDB 1.6 does, for drivers that
 * store points themselves (local): every good line becomes a point handed
 * to the driver, bad lines are skipped, and the answer says what InfluxDB
 * 1.6 would say, byte for byte (checked against a real influxd):
 *
 *   all written                      204, no body
 *   only bad lines                   400 {"error":"unable to parse '<line>': <reason>\n..."}
 *   bad lines, the rest written      400 {"error":"partial write: unable to parse '<line>':
 *                                    <reason>\nunable to parse ... dropped=0"}
 *   points refused by the store      400 {"error":"partial write: <the first refusal's
 *                                    reason> dropped=<refused points>"}  (bad lines are
 *                                    then not mentioned, as in 1.6)
 *   a store failure                  what the callback says (500, 503), at once
 */
#ifndef SB_ANALYTICS_LINES_H
#define SB_ANALYTICS_LINES_H

#include "analytics/backend.h"
#include "tsdb/line.h"

/* Stores the good points of a body, in order, in one write: 0 when that
 * write happened, with *refused the points the store refused (why: the
 * first refusal, e.g. "field type conflict: input field \"v\" on
 * measurement \"m\" is type string, already exists as type float"); or
 * an HTTP status >= 500 (why: the error) when nothing was written. */
typedef int (*analytics_points_fn)(void *arg, const tsdb_point *pts, size_t n, size_t *refused,
                                   sb_errbuf *why);

/* Reads body in precision (ptr NULL or empty: ns; the caller has checked
 * it with tsdb_precision_parse) with now_ns for points without a time,
 * hands every good point to fn in one call (none: no call) and fills out.
 * Points and their strings are valid only during fn. */
void analytics_write_lines(sb_str body, sb_str precision, int64_t now_ns, analytics_points_fn fn,
                           void *arg, analytics_result *out);

#endif
