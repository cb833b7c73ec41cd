/*
 * events.c: Sitebase's own events as series, through the recorder (which
 * never blocks a request on the time-series store):
 *
 *   user_activity,action=signup|login,via=<route> count=1i,user_id="..."
 *       into the system database (sign-ins belong to no project);
 *   ai_interactions,type=<record type>[,model=<model>] count=1i,prompt_bytes=Ni
 *       [,tokens=Ni][,response_ms=F][,satisfaction=F]   into the project's
 *   server_errors,method=,route=,status= count=1i   (tsdb_jobs.c)
 *
 * An AI record's result is free JSON; when it is an object, the members
 * model (string), tokens or usage.total_tokens (integer), response_ms or
 * latency_ms (number) and satisfaction (number) are taken from it, each
 * only when it has the right type and a sane range. User ids are fields,
 * not tags: tags index series, and one series per user would not scale.
 */
#include "api/analytics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void api_record_signin(net_req *req, api_app *app, bool signup, const identity_user *u)
{
    const char *route = req->match.route ? req->match.route->pattern : "";
    const char *via = strrchr(route, '/');
    /* "/api/auth/mfa/verify" -> "mfa/verify": the last two segments
     * when the last is "verify". */
    if (via && strcmp(via, "/verify") == 0 && via > route) {
        const char *p = via - 1;
        while (p > route && *p != '/')
            p--;
        via = p;
    }
    tsdb_tag tags[2] = {
        {SB_STR("action"), signup ? SB_STR("signup") : SB_STR("login")},
        {SB_STR("via"), via && via[1] ? sb_str_c(via + 1) : SB_STR("unknown")},
    };
    tsdb_field f[2] = {
        {.key = SB_STR("count"), .type = TSDB_INT, .v.i = 1},
        {.key = SB_STR("user_id"), .type = TSDB_STRING, .v.s = sb_str_c(u ? u->id : "")},
    };
    tsdb_point p = {.measurement = SB_STR("user_activity"),
                    .tags = tags,
                    .ntags = 2,
                    .fields = f,
                    .nfields = u ? 2 : 1};
    api_record(app, NULL, &p);
}

static bool model_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':' || c == '/'))
            return false;
    }
    return true;
}

static bool number_in(const json_t *v, double lo, double hi, double *out)
{
    if (!json_is_number(v))
        return false;
    double d = json_number_value(v);
    if (!isfinite(d) || d < lo || d > hi)
        return false;
    *out = d;
    return true;
}

void api_record_ai(api_app *app, sb_str project_id, sb_str type, size_t prompt_bytes,
                   const json_t *result)
{
    tsdb_tag tags[2];
    tsdb_field f[5];
    tsdb_point p = {.measurement = SB_STR("ai_interactions"), .tags = tags, .fields = f};
    tags[p.ntags++] = (tsdb_tag){SB_STR("type"), type};
    f[p.nfields++] = (tsdb_field){.key = SB_STR("count"), .type = TSDB_INT, .v.i = 1};
    f[p.nfields++] =
        (tsdb_field){.key = SB_STR("prompt_bytes"), .type = TSDB_INT, .v.i = (int64_t)prompt_bytes};
    if (json_is_object(result)) {
        const json_t *m = json_object_get(result, "model");
        if (json_is_string(m) && model_ok(json_string_value(m), json_string_length(m)))
            tags[p.ntags++] = (tsdb_tag){SB_STR("model"),
                                         sb_str_make(json_string_value(m), json_string_length(m))};
        const json_t *tok = json_object_get(result, "tokens");
        if (!tok)
            tok = json_object_get(json_object_get(result, "usage"), "total_tokens");
        if (json_is_integer(tok) && json_integer_value(tok) >= 0)
            f[p.nfields++] = (tsdb_field){
                .key = SB_STR("tokens"), .type = TSDB_INT, .v.i = json_integer_value(tok)};
        double d;
        const json_t *ms = json_object_get(result, "response_ms");
        if (!ms)
            ms = json_object_get(result, "latency_ms");
        if (number_in(ms, 0, 86400000.0, &d))
            f[p.nfields++] =
                (tsdb_field){.key = SB_STR("response_ms"), .type = TSDB_FLOAT, .v.f = d};
        if (number_in(json_object_get(result, "satisfaction"), -1000, 1000, &d))
            f[p.nfields++] =
                (tsdb_field){.key = SB_STR("satisfaction"), .type = TSDB_FLOAT, .v.f = d};
    }
    char id[SB_UUID_STR_LEN];
    snprintf(id, sizeof(id), "%.*s", (int)SB_MIN(project_id.len, sizeof(id) - 1), project_id.ptr);
    api_record(app, id, &p);
}
