/*
 * clock.h: monotonic time for durations and timeouts, wall time (UTC,
 * microseconds since the Unix epoch) for what is stored or shown, and the
 * RFC 3339 form the API uses ("2026-11-24T10:11:12.123456Z").
 */
#ifndef SB_BASE_CLOCK_H
#define SB_BASE_CLOCK_H

#include "base/common.h"

/* Nanoseconds from an arbitrary fixed point; never goes back. */
uint64_t sb_mono_ns(void);
/* Microseconds since 1970-01-01T00:00:00Z. */
int64_t sb_wall_us(void);

#define SB_RFC3339_LEN 28 /* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" + NUL */
/* Formats us (UTC) with microseconds; out has SB_RFC3339_LEN bytes. Years
 * outside 0000..9999 are clamped. Returns out. */
char *sb_rfc3339(int64_t us, char out[SB_RFC3339_LEN]);
/* Parses RFC 3339 with 'Z' or a numeric offset and 0..9 fraction digits
 * (beyond 6 truncated). Returns false on anything else. */
bool sb_rfc3339_parse(const char *s, size_t len, int64_t *us);

#endif
