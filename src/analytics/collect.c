/*
 * collect.c: decoding and checking a beacon body (see collect.h). The
 * JSON goes through sb_json_parse (size, depth and UTF-8 checked before
 * jansson sees it); each value is then checked against the table of what
 * an event may hold, and written with tsdb_line_write, so no byte of the
 * body reaches a line unescaped.
 */
#include "analytics/collect.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analytics/backend.h"
#include "base/json.h"
#include "base/utf8.h"
#include "tsdb/line.h"

static bool fail(analytics_collect_error *err, const char *field, const char *fmt, ...)
    SB_PRINTF(3, 4);

static bool fail(analytics_collect_error *err, const char *field, const char *fmt, ...)
{
    snprintf(err->field, sizeof(err->field), "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return false;
}

/* A path: starts with '/', no control characters, bounded. */
static bool path_ok(sb_str s)
{
    if (s.len == 0 || s.len > ANALYTICS_COLLECT_MAX_PATH || s.ptr[0] != '/')
        return false;
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.ptr[i] < 0x20 || s.ptr[i] == 0x7f)
            return false;
    return true;
}

/* Names of events and props: [A-Za-z0-9_.-], 1..max bytes, not "time". */
static bool name_ok(sb_str s, size_t max)
{
    if (s.len == 0 || s.len > max || sb_str_eq(s, SB_STR("time")))
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static sb_str jstr(const json_t *v)
{
    return sb_str_make(json_string_value(v), json_string_length(v));
}

/* The host of an http(s) URL ("https://a.example:8080/x" -> a.example:8080),
 * or an empty string for anything else. */
static sb_str referrer_host(sb_str url)
{
    sb_str rest;
    if (sb_str_has_prefix(url, SB_STR("https://")))
        rest = sb_str_slice(url, 8, url.len);
    else if (sb_str_has_prefix(url, SB_STR("http://")))
        rest = sb_str_slice(url, 7, url.len);
    else
        return SB_STR("");
    size_t n = 0;
    while (n < rest.len && rest.ptr[n] != '/' && rest.ptr[n] != '?' && rest.ptr[n] != '#')
        n++;
    sb_str host = sb_str_slice(rest, 0, n);
    /* Never the credentials part. */
    ptrdiff_t at = sb_str_index(host, '@', 0);
    if (at >= 0)
        host = sb_str_slice(host, (size_t)at + 1, host.len);
    for (size_t i = 0; i < host.len; i++) {
        char c = host.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return SB_STR("");
    }
    return host.len <= 255 ? host : SB_STR("");
}

typedef struct vital {
    const char *name;
    double max; /* largest value believed; ms for timings, unitless for CLS */
} vital;

static const vital vitals[] = {
    {"CLS", 100.0}, {"FCP", 600000.0}, {"INP", 600000.0}, {"LCP", 600000.0}, {"TTFB", 600000.0},
};

static bool only_keys(const json_t *o, const char *const *allowed, size_t n, const char *where,
                      analytics_collect_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        bool known = false;
        for (size_t i = 0; i < n; i++)
            known = known || strcmp(key, allowed[i]) == 0;
        if (!known) {
            char f[72]; /* where is an events[i] label (< 24 bytes), key cut to 40 */
            snprintf(f, sizeof(f), "%.23s%s%.40s", where, where[0] ? "." : "", key);
            return fail(err, f, "is not a known field");
        }
    }
    return true;
}

static bool decode_event(const json_t *e, size_t idx, int64_t now_ns, sb_buf *out,
                         analytics_collect_error *err)
{
    char at[24], f[96];
    snprintf(at, sizeof(at), "events[%zu]", idx);
    if (!json_is_object(e))
        return fail(err, at, "must be an object");
    static const char *const keys[] = {"type", "path", "referrer", "name", "value", "props"};
    if (!only_keys(e, keys, SB_ARRAY_LEN(keys), at, err))
        return false;
    const json_t *type = json_object_get(e, "type"), *path = json_object_get(e, "path");
    snprintf(f, sizeof(f), "%s.type", at);
    if (!json_is_string(type))
        return fail(err, f, "must be pageview, vital or event");
    snprintf(f, sizeof(f), "%s.path", at);
    if (!json_is_string(path) || !path_ok(jstr(path)))
        return fail(err, f,
                    "must be a path starting with / (at most %d bytes, no control "
                    "characters)",
                    ANALYTICS_COLLECT_MAX_PATH);
    sb_str t = jstr(type);
    tsdb_tag tags[2];
    tsdb_field fields[1 + ANALYTICS_COLLECT_MAX_PROPS];
    tsdb_point p = {.tags = tags, .fields = fields, .time = now_ns, .has_time = true};
    const json_t *name = json_object_get(e, "name"), *value = json_object_get(e, "value"),
                 *referrer = json_object_get(e, "referrer"), *props = json_object_get(e, "props");
    if (sb_str_eq(t, SB_STR("pageview"))) {
        if (name || value || props) {
            snprintf(f, sizeof(f), "%s.%s", at, name ? "name" : value ? "value" : "props");
            return fail(err, f, "is not a field of a pageview");
        }
        p.measurement = SB_STR("page_views");
        tags[p.ntags++] = (tsdb_tag){SB_STR("path"), jstr(path)};
        if (referrer) {
            snprintf(f, sizeof(f), "%s.referrer", at);
            if (!json_is_string(referrer) || json_string_length(referrer) > 2048)
                return fail(err, f, "must be a URL of at most 2048 bytes");
            sb_str host = referrer_host(jstr(referrer));
            if (host.len)
                tags[p.ntags++] = (tsdb_tag){SB_STR("referrer"), host};
        }
        fields[p.nfields++] = (tsdb_field){.key = SB_STR("count"), .type = TSDB_INT, .v.i = 1};
    } else if (sb_str_eq(t, SB_STR("vital"))) {
        if (referrer || props) {
            snprintf(f, sizeof(f), "%s.%s", at, referrer ? "referrer" : "props");
            return fail(err, f, "is not a field of a vital");
        }
        snprintf(f, sizeof(f), "%s.name", at);
        const vital *vt = NULL;
        for (size_t i = 0; json_is_string(name) && i < SB_ARRAY_LEN(vitals); i++)
            if (strcmp(json_string_value(name), vitals[i].name) == 0)
                vt = &vitals[i];
        if (!vt)
            return fail(err, f, "must be CLS, FCP, INP, LCP or TTFB");
        snprintf(f, sizeof(f), "%s.value", at);
        double v = json_number_value(value);
        if (!json_is_number(value) || !isfinite(v) || v < 0 || v > vt->max)
            return fail(err, f, "must be a number between 0 and %g", vt->max);
        p.measurement = SB_STR("web_vitals");
        tags[p.ntags++] = (tsdb_tag){SB_STR("metric"), sb_str_c(vt->name)};
        tags[p.ntags++] = (tsdb_tag){SB_STR("path"), jstr(path)};
        fields[p.nfields++] = (tsdb_field){.key = SB_STR("value"), .type = TSDB_FLOAT, .v.f = v};
    } else if (sb_str_eq(t, SB_STR("event"))) {
        if (referrer || value) {
            snprintf(f, sizeof(f), "%s.%s", at, referrer ? "referrer" : "value");
            return fail(err, f, "is not a field of an event");
        }
        snprintf(f, sizeof(f), "%s.name", at);
        if (!json_is_string(name) || !name_ok(jstr(name), ANALYTICS_COLLECT_MAX_NAME))
            return fail(err, f, "must be 1 to %d of A-Z a-z 0-9 _ . -", ANALYTICS_COLLECT_MAX_NAME);
        p.measurement = SB_STR("events");
        tags[p.ntags++] = (tsdb_tag){SB_STR("name"), jstr(name)};
        tags[p.ntags++] = (tsdb_tag){SB_STR("path"), jstr(path)};
        fields[p.nfields++] = (tsdb_field){.key = SB_STR("count"), .type = TSDB_INT, .v.i = 1};
        if (props) {
            snprintf(f, sizeof(f), "%s.props", at);
            if (!json_is_object(props) || json_object_size(props) > ANALYTICS_COLLECT_MAX_PROPS)
                return fail(err, f, "must be an object of at most %d members",
                            ANALYTICS_COLLECT_MAX_PROPS);
            const char *k;
            json_t *v;
            json_object_foreach((json_t *)props, k, v)
            {
                snprintf(f, sizeof(f), "%s.props.%.32s", at, k);
                sb_str key = sb_str_c(k);
                if (!name_ok(key, 32) || sb_str_eq(key, SB_STR("count")))
                    return fail(err, f, "names must be 1 to 32 of A-Z a-z 0-9 _ . - (not count)");
                tsdb_field *fd = &fields[p.nfields++];
                fd->key = key;
                if (json_is_string(v)) {
                    if (json_string_length(v) > ANALYTICS_COLLECT_MAX_VALUE ||
                        memchr(json_string_value(v), '\n', json_string_length(v)))
                        return fail(err, f, "must be at most %d bytes, without newlines",
                                    ANALYTICS_COLLECT_MAX_VALUE);
                    fd->type = TSDB_STRING;
                    fd->v.s = jstr(v);
                } else if (json_is_integer(v)) {
                    fd->type = TSDB_INT;
                    fd->v.i = json_integer_value(v);
                } else if (json_is_real(v) && isfinite(json_real_value(v))) {
                    fd->type = TSDB_FLOAT;
                    fd->v.f = json_real_value(v);
                } else if (json_is_boolean(v)) {
                    fd->type = TSDB_BOOL;
                    fd->v.b = json_is_true(v);
                } else {
                    return fail(err, f, "must be a string, number or boolean");
                }
            }
        }
    } else {
        snprintf(f, sizeof(f), "%s.type", at);
        return fail(err, f, "must be pageview, vital or event");
    }
    /* Every value was checked above; a refusal here is a bug, but a body
     * must never crash the server, so it is an error like the others. */
    if (tsdb_line_write(out, &p) != TSDB_E_OK)
        return fail(err, at, "cannot be stored");
    return true;
}

bool analytics_collect_decode(sb_str body, int64_t now_ns, sb_buf *lines, char site[37],
                              size_t *npoints, analytics_collect_error *err)
{
    if (body.len > ANALYTICS_COLLECT_MAX_BODY)
        return fail(err, "", "the body is larger than %d bytes", ANALYTICS_COLLECT_MAX_BODY);
    json_t *doc = NULL;
    sb_json_error jerr;
    sb_json_limits lim = {.max_bytes = ANALYTICS_COLLECT_MAX_BODY, .max_depth = 8};
    if (sb_json_parse(body.ptr ? body.ptr : "", body.len, &lim, &doc, &jerr) != SB_JSON_OK)
        return fail(err, "", "is not valid JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                    jerr.column);
    sb_buf out = SB_BUF_INIT;
    bool ok = false;
    static const char *const keys[] = {"site", "events"};
    if (!json_is_object(doc)) {
        fail(err, "", "must be a JSON object");
        goto out;
    }
    if (!only_keys(doc, keys, SB_ARRAY_LEN(keys), "", err))
        goto out;
    const json_t *s = json_object_get(doc, "site"), *events = json_object_get(doc, "events");
    if (!json_is_string(s) || !analytics_db_name_ok(jstr(s))) {
        fail(err, "site", "must be a project id");
        goto out;
    }
    size_t n = json_array_size(events);
    if (!json_is_array(events) || n == 0 || n > ANALYTICS_COLLECT_MAX_EVENTS) {
        fail(err, "events", "must be an array of 1 to %d events", ANALYTICS_COLLECT_MAX_EVENTS);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (!decode_event(json_array_get(events, i), i, now_ns, &out, err))
            goto out;
    memcpy(site, json_string_value(s), 36);
    site[36] = '\0';
    sb_buf_append(lines, out.ptr, out.len);
    *npoints = n;
    ok = true;
out:
    sb_buf_free(&out);
    json_decref(doc);
    return ok;
}
