/*
 * log.h: structured logging. Each call writes one complete line with a
 * single write(2), so lines from several threads never interleave:
 *   json:   {"time":"2026-...Z","level":"info","msg":"listening","addr":"127.0.0.1:8080"}
 *   pretty: 2026-11-24T10:11:12.123Z INFO  listening addr=127.0.0.1:8080
 * The sink is configured once at start (sb_log_setup) and read-only after.
 *
 * Secrets never reach logs: fields made with SB_LOG_SECRET print
 * "[redacted]" whatever their value; string values are escaped so a client
 * cannot forge lines (control characters, quotes, invalid UTF-8).
 */
#ifndef SB_BASE_LOG_H
#define SB_BASE_LOG_H

#include "base/common.h"

typedef enum sb_log_level {
    SB_LOG_DEBUG,
    SB_LOG_INFO,
    SB_LOG_WARN,
    SB_LOG_ERROR,
} sb_log_level;

typedef enum sb_log_format {
    SB_LOG_JSON,
    SB_LOG_PRETTY,
} sb_log_format;

typedef enum sb_log_type {
    SB_LOG_T_STR,
    SB_LOG_T_STRN, /* ptr + len, not NUL-terminated */
    SB_LOG_T_INT,
    SB_LOG_T_DBL,
    SB_LOG_T_BOOL,
    SB_LOG_T_SECRET,
} sb_log_type;

typedef struct sb_log_field {
    const char *key;
    sb_log_type type;
    union {
        const char *s;
        int64_t i;
        double d;
        bool b;
    } v;
    size_t len; /* for SB_LOG_T_STRN */
} sb_log_field;

#define SB_LOG_STR(k, x) ((sb_log_field){.key = (k), .type = SB_LOG_T_STR, .v.s = (x)})
#define SB_LOG_STRN(k, p, n)                                                                       \
    ((sb_log_field){.key = (k), .type = SB_LOG_T_STRN, .v.s = (p), .len = (n)})
#define SB_LOG_INT(k, x)  ((sb_log_field){.key = (k), .type = SB_LOG_T_INT, .v.i = (int64_t)(x)})
#define SB_LOG_DBL(k, x)  ((sb_log_field){.key = (k), .type = SB_LOG_T_DBL, .v.d = (double)(x)})
#define SB_LOG_BOOL(k, x) ((sb_log_field){.key = (k), .type = SB_LOG_T_BOOL, .v.b = (x)})
#define SB_LOG_SECRET(k)  ((sb_log_field){.key = (k), .type = SB_LOG_T_SECRET})

/* Sets format, minimum level and the file descriptor lines go to (2 by
 * default). Call before any thread starts. */
void sb_log_setup(sb_log_format format, sb_log_level min_level, int fd);
/* Parses "debug|info|warn|error" / "json|pretty"; false if unknown. */
bool sb_log_level_parse(const char *s, sb_log_level *out);
bool sb_log_format_parse(const char *s, sb_log_format *out);
bool sb_log_enabled(sb_log_level level);

/* Writes one line: msg plus fields. A NULL string value prints as null. */
void sb_log_fields(sb_log_level level, const char *msg, const sb_log_field *fields, size_t n);

/* sb_log(SB_LOG_INFO, "listening", SB_LOG_STR("addr", a), SB_LOG_INT("threads", n)); */
#define sb_log(level, msg, ...)                                                                    \
    sb_log_fields((level), (msg), (const sb_log_field[]){__VA_ARGS__},                             \
                  sizeof((const sb_log_field[]){__VA_ARGS__}) / sizeof(sb_log_field))
#define sb_log0(level, msg) sb_log_fields((level), (msg), NULL, 0)

/* Renders one line into buf without writing it (for tests and sinks).
 * time_us is the timestamp to print. */
struct sb_buf;
void sb_log_render(struct sb_buf *buf, sb_log_format format, int64_t time_us, sb_log_level level,
                   const char *msg, const sb_log_field *fields, size_t n);

#endif
