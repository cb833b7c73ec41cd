/*
 * mentions.c: whom a comment mentions. The names come from the text
 * (@username, see mentions.h) and from the ids a client lists (a mention
 * picker knows ids); both go through the same gate: an active account
 * that may read the comment, asked of authz_check with that person's own
 * roles on the project and share of the page.
 *
 * Never say which names or ids matched nobody, or matched someone who may
 * not read the comment: those are dropped without a word, so mentions
 * cannot be used to learn whether an account exists or who is in a team.
 */
#include <string.h>

#include "projects/mentions.h"
#include "projects/projects_int.h"

static bool username_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
}

/* Whether the (valid UTF-8) character at p[0..n) goes on a word: a letter
 * of some script, so "@josé" is not a mention of "jos". Without Unicode
 * tables we call every non-ASCII character a letter except the blocks of
 * spaces and punctuation a name is likely to meet: Latin-1's (U+00A0 to
 * U+00BF: no-break space, guillemets, inverted marks), General
 * Punctuation (U+2000 to U+206F: dashes, quotes, ellipsis) and CJK's
 * (U+3000 to U+303F). */
static bool continues_word(const unsigned char *p, size_t n)
{
    if (n == 0 || p[0] < 0x80)
        return false;
    if (p[0] == 0xc2 && n >= 2)
        return !(p[1] >= 0xa0 && p[1] <= 0xbf);
    if (p[0] == 0xe2 && n >= 3 && p[1] == 0x80)
        return false; /* U+2000..U+203F */
    if (p[0] == 0xe2 && n >= 3 && p[1] == 0x81 && p[2] <= 0xaf)
        return false; /* U+2040..U+206F */
    if (p[0] == 0xe3 && n >= 3 && p[1] == 0x80)
        return false; /* U+3000..U+303F */
    return true;
}

/* A character that makes the '@' after it part of a word or an address. */
static bool joins_at(unsigned char ch)
{
    return username_char(ch) || ch == '@';
}

size_t projects_mentions_parse(sb_str text, char (*out)[PROJECTS_USERNAME_MAX + 1], size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < text.len && n < max; i++) {
        if (text.ptr[i] != '@' || (i > 0 && joins_at((unsigned char)text.ptr[i - 1])))
            continue;
        size_t start = i + 1, end = start;
        while (end < text.len && username_char((unsigned char)text.ptr[end]))
            end++;
        size_t len = end - start;
        i = end - 1;
        /* A run that goes on in a letter no username holds (@josé) names
         * someone else than its ASCII start: no mention, not a wrong one. */
        bool cut = end < text.len &&
                   (text.ptr[end] == '@' ||
                    continues_word((const unsigned char *)text.ptr + end, text.len - end));
        if (len < 3 || len > PROJECTS_USERNAME_MAX || cut)
            continue;
        char name[PROJECTS_USERNAME_MAX + 1];
        for (size_t k = 0; k < len; k++) {
            char ch = text.ptr[start + k];
            name[k] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
        }
        name[len] = 0;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp(out[k], name) == 0;
        if (!seen)
            memcpy(out[n++], name, len + 1);
    }
    return n;
}

/* Looks up who (a user id or a lower-cased username) and adds them to out
 * when they may read comments on the page. */
static projects_err add_reader(projects_ctx *c, const projects__proj *pr, const char *page_id,
                               const char *who, projects__mentions *out)
{
    sb_errbuf err;
    store_stmt *st;
    store_err e = store_prepare(
        c->db,
        "SELECT u.id, u.email, "
        "(SELECT role FROM team_members WHERE team_id = $2 AND user_id = u.id), "
        "(SELECT role FROM project_members WHERE project_id = $3 AND user_id = u.id), "
        "EXISTS (SELECT 1 FROM project_shares s WHERE s.project_id = $3 AND s.user_id = u.id "
        "AND s.kind = 'page' AND s.item = $4) "
        "FROM users u WHERE (u.id = $1 OR u.username = $1) AND u.status = 'active'",
        &st, &err);
    if (e != STORE_OK)
        return projects__store(c, "resolving mentions", e, &err);
    store_bind_cstr(st, 1, who);
    store_bind_cstr(st, 2, pr->team_id);
    store_bind_cstr(st, 3, pr->id);
    store_bind_cstr(st, 4, page_id);
    e = store_step(st, &err);
    if (e != STORE_ROW) {
        store_reset(st);
        return e == STORE_DONE ? PROJECTS_OK : projects__store(c, "resolving mentions", e, &err);
    }
    const char *uid = store_col_text(st, 0, NULL);
    bool dup = false;
    for (size_t k = 0; k < out->n && !dup; k++)
        dup = strcmp(out->who[k].user_id, uid) == 0;
    /* Their own standing, not the caller's; the team's IP and MFA rules
     * are about requests, and a mention is no request of theirs. */
    authz_resource r = {
        .kind = AUTHZ_KIND_PROJECT,
        .visibility = pr->r.visibility,
        .is_owner = strcmp(uid, pr->owner_id) == 0,
        .item = true,
        .shared = store_col_bool(st, 4),
    };
    size_t n;
    const char *role = store_col_text(st, 2, &n);
    if (role)
        authz_role_parse(sb_str_make(role, n), &r.team_role);
    if ((role = store_col_text(st, 3, &n)))
        authz_role_parse(sb_str_make(role, n), &r.project_role);
    authz_caller them = {.user_id = uid};
    if (!dup && authz_check(&them, AUTHZ_READ, &r).outcome == AUTHZ_ALLOW) {
        projects__copy(out->who[out->n].user_id, SB_UUID_STR_LEN, sb_str_c(uid));
        size_t elen;
        const char *email = store_col_text(st, 1, &elen);
        projects__copy(out->who[out->n].email, sizeof(out->who[0].email), sb_str_make(email, elen));
        out->n++;
    }
    store_reset(st);
    return PROJECTS_OK;
}

projects_err projects__mentions_resolve(projects_ctx *c, const projects__proj *pr,
                                        const char *page_id, sb_str body, const json_t *ids,
                                        projects__mentions *out, projects_problem *p)
{
    out->n = 0;
    if (ids && (!json_is_array(ids) || json_array_size(ids) > PROJECTS_MENTIONS_MAX))
        return projects__invalid(p, "mentions", "must be an array of at most 20 user ids");
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        if (!json_is_string(v) ||
            !projects__id_ok(sb_str_make(json_string_value(v), json_string_length(v))))
            return projects__invalid(p, "mentions", "must be an array of at most 20 user ids");
    }
    char names[PROJECTS_MENTIONS_MAX][PROJECTS_USERNAME_MAX + 1];
    size_t nn = projects_mentions_parse(body, names, PROJECTS_MENTIONS_MAX);
    projects_err r = PROJECTS_OK;
    for (i = 0; i < nn && r == PROJECTS_OK && out->n < PROJECTS_MENTIONS_MAX; i++)
        r = add_reader(c, pr, page_id, names[i], out);
    json_array_foreach(ids, i, v)
    {
        if (r != PROJECTS_OK || out->n == PROJECTS_MENTIONS_MAX)
            break;
        r = add_reader(c, pr, page_id, json_string_value(v), out);
    }
    return r;
}

void projects__mentions_json(const projects__mentions *m, sb_buf *out)
{
    sb_jw w;
    sb_jw_init(&w, out);
    sb_jw_arr_begin(&w);
    for (size_t i = 0; i < m->n; i++)
        sb_jw_str(&w, m->who[i].user_id);
    sb_jw_arr_end(&w);
}
