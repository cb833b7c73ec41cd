/*
 * backend.c: picking a driver from the --tsdb setting, and the answer
 * helpers every driver shares.
 */
#include "analytics/backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"

void analytics_result_free(analytics_result *r)
{
    sb_buf_free(&r->body);
    r->status = 0;
}

void analytics_result_error(analytics_result *r, int status, const char *fmt, ...)
{
    sb_buf msg = SB_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vappendf(&msg, fmt, ap);
    va_end(ap);
    sb_buf_reset(&r->body);
    sb_jw w;
    sb_jw_init(&w, &r->body);
    sb_jw_obj_begin(&w);
    sb_jw_key(&w, "error");
    sb_jw_strn(&w, msg.ptr ? msg.ptr : "", msg.len);
    sb_jw_obj_end(&w);
    sb_buf_free(&msg);
    r->status = status;
}

bool analytics_db_name_ok(sb_str s)
{
    /* A UUID as projects make them: 8-4-4-4-12 lower-case hex. */
    if (s.len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        char c = s.ptr[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

analytics_backend *analytics_backend_open(const char *setting, const char *data_dir, sb_errbuf *err)
{
    sb_str s = sb_str_c(setting ? setting : "");
    if (s.len == 0 || sb_str_eq(s, SB_STR("local")))
        return analytics_local_open(data_dir, err);
    if (sb_str_has_prefix(s, SB_STR("influx://"))) {
        sb_str rest = sb_str_slice(s, 9, s.len);
        ptrdiff_t slash = sb_str_index(rest, '/', 0);
        sb_str host = slash < 0 ? rest : sb_str_slice(rest, 0, (size_t)slash);
        sb_str prefix = slash < 0 ? SB_STR("") : sb_str_slice(rest, (size_t)slash + 1, rest.len);
        return analytics_influx_open(host, prefix, err);
    }
    sb_errf(err, "tsdb: must be local or influx://host:port[/prefix], got '%s'", setting);
    return NULL;
}

void analytics_backend_free(analytics_backend *b)
{
    if (b)
        b->vt->free(b);
}
