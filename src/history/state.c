/*
 * state.c: the state document of a project and how an event changes it.
 * Pure: no I/O. The invariant every function keeps: a state passed in
 * valid (history_state_check) comes out valid, and a payload that would
 * break it is refused before anything is touched.
 */
#include <string.h>

#include "history/history_int.h"

const char *history_strerror(history_err e)
{
    switch (e) {
#define HISTORY__MSG(name, msg)                                                                    \
    case HISTORY_##name:                                                                           \
        return msg;
        HISTORY_ERRNO_MAP(HISTORY__MSG)
#undef HISTORY__MSG
    }
    return "unknown history error";
}

/* The collections of a state, in the order the document lists them. */
static const char *const collections[] = {"pages", "files", "comments", "members", "assets"};

json_t *history_state_new(void)
{
    json_t *s = json_object();
    if (!s)
        sb_die("out of memory making a state");
    json_object_set_new(s, "project", json_null());
    for (size_t i = 0; i < SB_ARRAY_LEN(collections); i++)
        json_object_set_new(s, collections[i], json_object());
    return s;
}

static bool collection_ok(const json_t *c)
{
    if (!json_is_object(c))
        return false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)c, k, v)
    {
        if (!json_is_object(v) || !*k)
            return false;
    }
    return true;
}

bool history_state_check(const json_t *v)
{
    if (!json_is_object(v) || json_object_size(v) != 1 + SB_ARRAY_LEN(collections))
        return false;
    const json_t *p = json_object_get(v, "project");
    if (!p || !(json_is_null(p) || json_is_object(p)))
        return false;
    for (size_t i = 0; i < SB_ARRAY_LEN(collections); i++)
        if (!collection_ok(json_object_get(v, collections[i])))
            return false;
    return true;
}

const char *history__collection_of(const char *kind)
{
    static const struct {
        const char *kind, *collection;
    } map[] = {{"page", "pages"},
               {"file", "files"},
               {"comment", "comments"},
               {"member", "members"},
               {"asset", "assets"}};
    for (size_t i = 0; i < SB_ARRAY_LEN(map); i++)
        if (strcmp(kind, map[i].kind) == 0)
            return map[i].collection;
    return NULL;
}

/* Removes from comments every comment whose field (page_id or parent_id)
 * is key, and their replies, and theirs: what the database's ON DELETE
 * CASCADE did to the rows when the page or comment went. One pass builds
 * the replies of each comment; then a worklist removes: linear in the
 * comments whatever their shape (a hostile snapshot with a long chain or
 * a cycle costs neither stack nor quadratic time). */
static void cascade_comments(json_t *comments, const char *field, const char *key)
{
    json_t *replies = json_object(); /* parent id -> [reply ids] */
    json_t *work = json_array();     /* ids to remove */
    const char *k;
    json_t *v;
    json_object_foreach(comments, k, v)
    {
        const char *f = json_string_value(json_object_get(v, field));
        if (f && strcmp(f, key) == 0)
            json_array_append_new(work, json_string(k));
        const char *parent = json_string_value(json_object_get(v, "parent_id"));
        if (parent) {
            json_t *list = json_object_get(replies, parent);
            if (!list) {
                list = json_array();
                json_object_set_new(replies, parent, list);
            }
            json_array_append_new(list, json_string(k));
        }
    }
    for (size_t i = 0; i < json_array_size(work); i++) {
        const char *id = json_string_value(json_array_get(work, i));
        if (!json_object_get(comments, id))
            continue; /* already removed: a cycle or a repeat */
        json_object_del(comments, id);
        json_t *list = json_object_get(replies, id);
        for (size_t j = 0; j < json_array_size(list); j++)
            json_array_append(work, json_array_get(list, j));
    }
    json_decref(work);
    json_decref(replies);
}

history_err history_apply(json_t *state, const json_t *payload)
{
    /* Not history_state_check: it is linear in the state, and a replay
     * calls this for every event. Callers get states only from
     * history_state_new, a checked snapshot, or this function. */
    assert(json_is_object(state));
    const char *kind = json_string_value(json_object_get(payload, "kind"));
    json_t *value = json_object_get(payload, "value");
    if (!json_is_object(payload) || !kind)
        return HISTORY_CORRUPT;
    if (strcmp(kind, "none") == 0 || strcmp(kind, "ref") == 0)
        return HISTORY_OK; /* refs are not part of the state (docs/history.md) */
    if (strcmp(kind, "state") == 0) {
        if (!history_state_check(value))
            return HISTORY_CORRUPT;
        /* A copy: the collections are changed in place by later events
         * and must not be shared with the caller's payload. */
        json_t *copy = json_deep_copy(value);
        if (!copy)
            sb_die("out of memory copying a state");
        json_object_update(state, copy); /* the same keys: replaces each */
        json_decref(copy);
        return HISTORY_OK;
    }
    if (!value || !(json_is_object(value) || json_is_null(value)))
        return HISTORY_CORRUPT;
    if (strcmp(kind, "project") == 0) {
        json_object_set(state, "project", value);
        /* A project deleted takes its content along (ON DELETE CASCADE). */
        if (json_is_null(value))
            for (size_t i = 0; i < SB_ARRAY_LEN(collections); i++)
                json_object_clear(json_object_get(state, collections[i]));
        return HISTORY_OK;
    }
    const char *coll = history__collection_of(kind);
    const char *key = json_string_value(json_object_get(payload, "key"));
    if (!coll || !key || !*key)
        return HISTORY_CORRUPT;
    json_t *also = json_object_get(payload, "also");
    if (also && !json_is_object(also))
        return HISTORY_CORRUPT;
    const char *ak;
    json_t *av;
    json_object_foreach(also, ak, av)
    {
        if (!*ak || !(json_is_object(av) || json_is_null(av)))
            return HISTORY_CORRUPT;
    }
    json_t *c = json_object_get(state, coll);
    if (json_is_object(value)) {
        json_object_set(c, key, value);
    } else {
        json_object_del(c, key);
        if (strcmp(kind, "page") == 0)
            cascade_comments(json_object_get(state, "comments"), "page_id", key);
        else if (strcmp(kind, "comment") == 0)
            cascade_comments(c, "parent_id", key);
    }
    json_object_foreach(also, ak, av)
    {
        if (json_is_object(av))
            json_object_set(c, ak, av);
        else
            json_object_del(c, ak);
    }
    return HISTORY_OK;
}

void history_state_text(const json_t *state, sb_buf *out)
{
    /* JSON_REAL_PRECISION is left at jansson's default (17 digits): the
     * live state and a replayed one go through the same printer, so the
     * same numbers print the same. */
    char *t = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!t)
        sb_die("out of memory writing a state");
    sb_buf_puts(out, t);
    free(t);
}
