/*
 * library_insert.c: puts a copy of a team's library component into a
 * page. The copy gets fresh ids (tree.h, as pages copied from templates
 * do), so one component can be inserted any number of times and its ids
 * never collide with the page's or with other copies'.
 *
 * The page's tree is read, changed in memory and written back only if its
 * version is still the one read (projects__page_set_tree), so an insertion
 * never overwrites a concurrent edit. With If-Match the caller named the
 * version it built on and a moved page is STALE; without it the caller
 * asked for no particular version, so the insertion reads the page again
 * and retries a few times before giving up with STALE.
 *
 * The result must still be a valid page (depth, component count, size):
 * inserting under a deep parent or a large component can push it over.
 */
#include <stdio.h>

#include "projects/projects_int.h"

/* Readings of the page before an insertion without If-Match gives up. */
#define ATTEMPTS 4

/* Inserts a fresh copy of component into tree where in says; its new root
 * id goes to element_id. */
static projects_err insert_copy(json_t *tree, const json_t *component,
                                const projects_library_insert_input *in,
                                char element_id[SB_UUID_STR_LEN], projects_problem *p)
{
    json_t *siblings = tree;
    if (in->parent_id.ptr) {
        json_t *parent = projects_tree_find(tree, in->parent_id);
        if (!parent)
            return projects__invalid(p, "parent_id", "is not the id of a component on the page");
        siblings = json_object_get(parent, "children"); /* stored trees are normal */
    }
    size_t n = json_array_size(siblings);
    if (in->index > (int64_t)n) {
        p->field = "index";
        snprintf(p->message, sizeof(p->message), "must be at most %zu, the number of children", n);
        return PROJECTS_INVALID;
    }
    json_t *copy = projects_tree_copy_one(component, true);
    snprintf(element_id, SB_UUID_STR_LEN, "%s", json_string_value(json_object_get(copy, "id")));
    if (json_array_insert_new(siblings, in->index < 0 ? n : (size_t)in->index, copy) != 0)
        sb_die("out of memory inserting a component");
    projects_tree_limits lim = PROJECTS_TREE_LIMITS_DEFAULT;
    projects_tree_error te;
    if (!projects_tree_validate(tree, &lim, &te))
        return projects__tree_invalid(p, "library_component_id", "would make the page invalid at ",
                                      &te);
    return PROJECTS_OK;
}

projects_err projects_library_insert(projects_ctx *c, sb_str project_id, sb_str page_id,
                                     const projects_library_insert_input *in, projects_ver if_ver,
                                     sb_jw *out, projects_ver *ver, projects_problem *p)
{
    /* The page decides (EDIT, below), as for PUT of a page: a guest's
     * unshared page is 404, a shared one 403. */
    projects__proj pr;
    projects_err r = projects__project(c, project_id, AUTHZ_READ, &pr);
    if (r != PROJECTS_OK)
        return r;
    char pid[SB_UUID_STR_LEN], element_id[SB_UUID_STR_LEN], details[160];
    projects__copy(pid, sizeof(pid), page_id);
    json_t *component = NULL;
    sb_buf page = SB_BUF_INIT;
    for (int attempt = 1;; attempt++) {
        json_t *tree = NULL;
        projects_ver cur = 0;
        r = projects__page_tree(c, &pr, page_id, AUTHZ_EDIT, &tree, &cur);
        if (r == PROJECTS_OK && if_ver && if_ver != cur)
            r = PROJECTS_STALE;
        /* The component once the page is known to be there and editable,
         * so a missing page answers 404 whatever the body says. */
        if (r == PROJECTS_OK && !component) {
            r = projects__library_component(c, in->library_component_id, &component);
            if (r == PROJECTS_NOT_FOUND)
                r = projects__invalid(p, "library_component_id",
                                      "must be the id of a library component you can read");
        }
        if (r == PROJECTS_OK)
            r = insert_copy(tree, component, in, element_id, p);
        if (r == PROJECTS_OK) {
            snprintf(details, sizeof(details),
                     "{\"library_component_id\":\"%.36s\",\"element_id\":\"%s\"}",
                     in->library_component_id.ptr, element_id);
            projects__page_change change = {cur, "library_component_inserted", details};
            sb_jw pw;
            sb_jw_init(&pw, &page);
            r = projects__page_set_tree(c, &pr, pid, tree, &change, &pw, ver, p);
        }
        json_decref(tree);
        if (r != PROJECTS_STALE || if_ver || attempt == ATTEMPTS)
            break;
    }
    json_decref(component);
    if (r == PROJECTS_OK) {
        sb_jw_obj_begin(out);
        sb_jw_kv_str(out, "element_id", element_id);
        sb_jw_key(out, "page");
        sb_jw_raw(out, page.ptr, page.len);
        sb_jw_obj_end(out);
    }
    sb_buf_free(&page);
    return r;
}
