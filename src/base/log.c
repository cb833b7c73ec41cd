/*
 * log.c: one line per call, built in memory and written with one write(2)
 * so lines from several threads never interleave. The sink is set once at
 * start (sb_log_setup) and only read afterwards.
 */
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/str.h"

static struct {
    sb_log_format format;
    sb_log_level min;
    int fd;
} sink = {SB_LOG_PRETTY, SB_LOG_INFO, 2};

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const level_tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

void sb_log_setup(sb_log_format format, sb_log_level min_level, int fd)
{
    sink.format = format;
    sink.min = min_level;
    sink.fd = fd;
}

bool sb_log_level_parse(const char *s, sb_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (sb_log_level)i;
            return true;
        }
    }
    return false;
}

bool sb_log_format_parse(const char *s, sb_log_format *out)
{
    if (strcmp(s, "json") == 0)
        *out = SB_LOG_JSON;
    else if (strcmp(s, "pretty") == 0)
        *out = SB_LOG_PRETTY;
    else
        return false;
    return true;
}

bool sb_log_enabled(sb_log_level level)
{
    return level >= sink.min;
}

/* Pretty values: bare when plain, else JSON-quoted (which also escapes
 * control characters and invalid UTF-8, so no value can forge a line). */
static void pretty_value(sb_buf *b, const char *s, size_t n)
{
    bool plain = n > 0;
    for (size_t i = 0; i < n && plain; i++) {
        unsigned char c = (unsigned char)s[i];
        plain = c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
    }
    if (plain)
        sb_buf_append(b, s, n);
    else
        sb_json_escape(b, s, n);
}

static void render_field(sb_buf *b, sb_log_format format, const sb_log_field *f)
{
    if (format == SB_LOG_JSON) {
        sb_buf_putc(b, ',');
        sb_json_escape(b, f->key, strlen(f->key));
        sb_buf_putc(b, ':');
    } else {
        sb_buf_putc(b, ' ');
        sb_buf_puts(b, f->key);
        sb_buf_putc(b, '=');
    }
    switch (f->type) {
    case SB_LOG_T_STR:
    case SB_LOG_T_STRN: {
        const char *s = f->v.s;
        if (!s) {
            sb_buf_puts(b, "null");
            break;
        }
        size_t n = f->type == SB_LOG_T_STR ? strlen(s) : f->len;
        if (format == SB_LOG_JSON)
            sb_json_escape(b, s, n);
        else
            pretty_value(b, s, n);
        break;
    }
    case SB_LOG_T_INT:
        sb_buf_appendf(b, "%lld", (long long)f->v.i);
        break;
    case SB_LOG_T_DBL:
        sb_buf_appendf(b, "%.3f", f->v.d);
        break;
    case SB_LOG_T_BOOL:
        sb_buf_puts(b, f->v.b ? "true" : "false");
        break;
    case SB_LOG_T_SECRET:
        sb_buf_puts(b, format == SB_LOG_JSON ? "\"[redacted]\"" : "[redacted]");
        break;
    }
}

void sb_log_render(sb_buf *b, sb_log_format format, int64_t time_us, sb_log_level level,
                   const char *msg, const sb_log_field *fields, size_t n)
{
    char when[SB_RFC3339_LEN];
    sb_rfc3339(time_us, when);
    if (format == SB_LOG_JSON) {
        sb_buf_appendf(b, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", when, level_names[level]);
        sb_json_escape(b, msg, strlen(msg));
    } else {
        sb_buf_appendf(b, "%s %s ", when, level_tags[level]);
        pretty_value(b, msg, strlen(msg));
    }
    for (size_t i = 0; i < n; i++)
        render_field(b, format, &fields[i]);
    if (format == SB_LOG_JSON)
        sb_buf_putc(b, '}');
    sb_buf_putc(b, '\n');
}

void sb_log_fields(sb_log_level level, const char *msg, const sb_log_field *fields, size_t n)
{
    if (level < sink.min)
        return;
    sb_buf b = SB_BUF_INIT;
    sb_buf_reserve(&b, 256);
    sb_log_render(&b, sink.format, sb_wall_us(), level, msg, fields, n);
    size_t off = 0;
    while (off < b.len) {
        ssize_t w = write(sink.fd, b.ptr + off, b.len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break; /* nowhere left to report a failing log */
        }
        off += (size_t)w;
    }
    sb_buf_free(&b);
}
