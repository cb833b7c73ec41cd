/*
 * tree.h: component trees, the content of a website page. A page is an array
 * of components; a component is a JSON object
 *
 *     {"id": "hero", "type": "section", "props": {...}, "children": [...]}
 *
 * where id and type are short names of [A-Za-z0-9_.:-], props is any JSON
 * object (the component's settings, opaque here) and children is an array of
 * components. Ids are unique across the whole page, at every depth.
 *
 * Pure functions over jansson values: no I/O, no globals. Validation is the
 * gate for trees that arrive from clients: it walks the tree without
 * recursion, stops at the first problem and names where it is, and checks
 * every size against a limit before it does work proportional to it. The
 * other functions assume a tree that passed validation and recurse as deep
 * as it is (at most max_depth levels).
 *
 * Depth: the page's own array is depth 1, the children of a top-level
 * component depth 2, and so on; a component in an array deeper than
 * max_depth is an error. An empty children array below the last allowed
 * level holds no component and is fine (normalize adds such arrays).
 * Note that a tree of depth d is about 2d + 1 levels of JSON nesting, which
 * the JSON parser's depth limit must allow.
 */
#ifndef SB_PROJECTS_TREE_H
#define SB_PROJECTS_TREE_H

#include <jansson.h>

#include "base/common.h"
#include "base/str.h"

typedef struct projects_tree_limits {
    unsigned max_depth;     /* levels of component arrays, the page's array is 1 */
    size_t max_nodes;       /* components on the page, all levels together */
    size_t max_id_len;      /* bytes */
    size_t max_type_len;    /* bytes */
    size_t max_props_bytes; /* per component: props serialised as compact JSON */
} projects_tree_limits;

#define PROJECTS_TREE_LIMITS_DEFAULT                                                               \
    ((projects_tree_limits){.max_depth = 64,                                                       \
                            .max_nodes = 10000,                                                    \
                            .max_id_len = 64,                                                      \
                            .max_type_len = 64,                                                    \
                            .max_props_bytes = 64 * 1024})

typedef struct projects_tree_error {
    /* Where the problem is, from the page's array: "components",
     * "components[3]", "components[2].id", "components[0].children[1].props",
     * "components[0].color" (an unknown field; keys that are not plain names
     * are quoted: components[0]["a b"]). A path longer than the buffer keeps
     * its tail after "...". Always NUL-terminated, valid UTF-8. */
    char where[160];
    /* What is wrong there, as a predicate: "is required", "must be a
     * string", "must be unique within the page", ... */
    char message[96];
} projects_tree_error;

/* Checks that components is an array of valid components within lim (see
 * the top of this file and PROJECTS_TREE_LIMITS_DEFAULT). Components are
 * visited depth-first in document order; within one component the checks
 * run in the order id, type, props, children (its type), unknown fields,
 * then its children. The first problem found stops the walk: returns false
 * and fills err (if not NULL). Returns true and leaves err alone when the
 * tree is valid. An id that repeats is reported at its second occurrence.
 * Memory used is proportional to the number of components and the depth;
 * the walk over props stops as soon as their size passes max_props_bytes.
 * The input must be a tree (jansson lets callers build cycles; a cycle
 * through children fails as a repeated id). */
bool projects_tree_validate(const json_t *components, const projects_tree_limits *lim,
                            projects_tree_error *err);

/* Like projects_tree_validate for one component standing alone (a team's
 * library component): the same checks and limits, the component itself at
 * depth 1, and paths that start at "component" ("component.children[0].id").
 * Ids must be unique within the component's own tree. */
bool projects_tree_validate_one(const json_t *component, const projects_tree_limits *lim,
                                projects_tree_error *err);

/* A new deep copy of a valid tree (the caller json_decref's it) in which
 * every component has exactly the keys id, type, props, children in that
 * order, props {} and children [] when they were absent. Normalising a
 * normal tree gives an equal tree. Aborts on out-of-memory. */
json_t *projects_tree_normalize(const json_t *components);

/* Like projects_tree_normalize, but every id is replaced by a new UUIDv7
 * (lower-case canonical form, 36 bytes), so that the copy's ids differ from
 * the original's and from each other: for a project made from a template.
 * Props are deep-copied unchanged (an id mentioned inside props keeps the
 * old value). The copy validates when max_id_len >= 36. */
json_t *projects_tree_copy_fresh(const json_t *components);

/* One valid component copied like projects_tree_normalize (fresh false)
 * or projects_tree_copy_fresh (fresh true): for saving a component to a
 * team's library and for inserting a library component into a page. */
json_t *projects_tree_copy_one(const json_t *component, bool fresh);

/* The component whose id is id, at any depth of a valid tree, or NULL.
 * The pointer is into components, as jansson's getters give them: a caller
 * that owns the tree may change what it finds (add children, say). */
json_t *projects_tree_find(const json_t *components, sb_str id);

/* The number of components on the page, at all levels. Total over any
 * value: a non-array counts 0, an element that is not an object counts 1
 * and has no children. */
size_t projects_tree_count(const json_t *components);

/* Whether a component of the tree, at any level, has the id id (compared
 * byte for byte). Total like projects_tree_count: any value may be given. */
bool projects_tree_has_id(const json_t *components, sb_str id);

#endif
