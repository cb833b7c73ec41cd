/*
 * diff.c: the local edits that turn a document's content into the content
 * a REST write gives (collab_content_diff). Text: one delete and one
 * insert between the common prefix and suffix, which keeps every
 * character both versions share (and so the cursors and concurrent edits
 * anchored to them). Page: the top-level strings that differ, and the
 * components and metadata trees that differ, rebuilt as shared types.
 *
 * The edits are made one by one on d; the update returned is d's state
 * after them encoded against its state vector before them, so several
 * edits travel as one update.
 */
#include "collab/collab.h"

#include "base/utf8.h"

#include <jansson.h>
#include <string.h>

/* UTF-16 units of the UTF-8 bytes s[0..n) (valid UTF-8): one per
 * character, two for a character past the BMP (4-byte sequences). */
/* The root's JSON decoded (a string for texts, an object for maps). */
static json_t *root_value(crdt_doc *d, const char *root, crdt_kind kind, crdt_err *e)
{
    sb_buf js = SB_BUF_INIT;
    *e = crdt_doc_json(d, sb_str_c(root), kind, &js);
    json_t *v = NULL;
    if (*e == CRDT_OK) {
        v = json_loadb(js.ptr, js.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (!v)
            *e = CRDT_E_JSON;
    }
    sb_buf_free(&js);
    return v;
}

static crdt_err text_diff(crdt_doc *d, const char *root, sb_str to, bool *changed)
{
    crdt_err e;
    json_t *cur = root_value(d, root, CRDT_TEXT, &e);
    if (!cur)
        return e;
    const char *a = json_string_value(cur);
    size_t la = json_string_length(cur), lb = to.len;
    const char *b = to.ptr ? to.ptr : "";
    size_t p = 0;
    while (p < la && p < lb && a[p] == b[p])
        p++;
    while (p > 0 && p < la && ((unsigned char)a[p] & 0xC0) == 0x80)
        p--; /* never split a character */
    size_t s = 0;
    while (s < la - p && s < lb - p && a[la - 1 - s] == b[lb - 1 - s])
        s++;
    while (s > 0 && ((unsigned char)a[la - s] & 0xC0) == 0x80)
        s--;
    uint64_t at = sb_utf16_len(a, p);
    uint64_t del = sb_utf16_len(a + p, la - p - s);
    sb_buf scratch = SB_BUF_INIT;
    bool ch = false;
    e = CRDT_OK;
    if (del > 0)
        e = crdt_text_delete(d, sb_str_c(root), at, del, &scratch, &ch);
    *changed |= ch;
    if (e == CRDT_OK && lb - p - s > 0) {
        e = crdt_text_insert(d, sb_str_c(root), at, sb_str_make(b + p, lb - p - s), SB_STR_NULL,
                             &scratch, &ch);
        *changed |= ch;
    }
    sb_buf_free(&scratch);
    json_decref(cur);
    return e;
}

static crdt_err page_diff(crdt_doc *d, sb_str to, bool *changed)
{
    json_t *want = json_loadb(to.ptr ? to.ptr : "", to.len, 0, NULL);
    if (!json_is_object(want)) {
        json_decref(want);
        return CRDT_E_JSON;
    }
    crdt_err e;
    json_t *cur = root_value(d, "page", CRDT_MAP, &e);
    static const char *const keys[] = {"name", "path"};
    for (size_t i = 0; cur && e == CRDT_OK && i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(want, keys[i]);
        if (!json_is_string(v) || json_equal(v, json_object_get(cur, keys[i])))
            continue;
        char *js = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        sb_buf scratch = SB_BUF_INIT;
        bool ch = false;
        e = crdt_map_set(d, SB_STR("page"), sb_str_c(keys[i]), sb_str_c(js), &scratch, &ch);
        *changed |= ch;
        sb_buf_free(&scratch);
        free(js);
    }
    /* The trees, as API.md's shared types; a changed one is rebuilt whole
     * (not diffed per component: concurrent edits inside it are replaced
     * by the write). */
    static const char *const trees[] = {"components", "metadata"};
    static const char *const flat[] = {"props", "metadata", NULL};
    for (size_t i = 0; cur && e == CRDT_OK && i < sizeof(trees) / sizeof(trees[0]); i++) {
        json_t *v = json_object_get(want, trees[i]);
        bool ok = i == 0 ? json_is_array(v) : json_is_object(v);
        if (!ok || sb_json_same(v, json_object_get(cur, trees[i])))
            continue;
        char *js = json_dumps(v, JSON_COMPACT);
        sb_buf scratch = SB_BUF_INIT;
        bool ch = false;
        e = crdt_map_set_tree(d, SB_STR("page"), sb_str_c(trees[i]), sb_str_c(js), flat, &scratch,
                              &ch);
        *changed |= ch;
        sb_buf_free(&scratch);
        free(js);
    }
    json_decref(cur);
    json_decref(want);
    return e;
}

crdt_err collab_content_diff(crdt_doc *d, collab_kind kind, sb_str content, sb_buf *update,
                             bool *changed)
{
    *changed = false;
    sb_buf sv = SB_BUF_INIT;
    crdt_doc_encode_state_vector(d, &sv);
    crdt_err e;
    switch (kind) {
    case COLLAB_CODE:
    case COLLAB_STYLE:
        e = sb_utf8_valid(content.ptr ? content.ptr : "", content.len, NULL)
                ? text_diff(d, "content", content, changed)
                : CRDT_E_UTF8;
        break;
    case COLLAB_PAGE:
        e = page_diff(d, content, changed);
        break;
    default:
        e = CRDT_E_UNSUPPORTED;
        break;
    }
    if (e == CRDT_OK && *changed)
        e = crdt_doc_encode_state(d, sv.ptr, sv.len, update);
    sb_buf_free(&sv);
    return e;
}

crdt_err collab_content_seed(crdt_doc *d, collab_kind kind, sb_str content, sb_buf *update)
{
    crdt_doc *scratch = crdt_doc_new(1, true);
    bool changed;
    sb_errbuf err = {{0}};
    crdt_err ce = collab_content_diff(scratch, kind, content, update, &changed);
    if (ce == CRDT_OK && changed)
        ce = crdt_doc_apply_update(d, update->ptr, update->len, &err);
    crdt_doc_free(scratch);
    if (ce != CRDT_OK)
        sb_buf_reset(update);
    return ce;
}
