/*
 * crdt.h: a Yjs-compatible CRDT document (issue 5). Reads and writes Yjs's
 * update format v1, merges concurrent edits as Yjs does (YATA), renders
 * shared types to JSON as Yjs's toJSON() does, and edits documents locally.
 *
 * A crdt_doc is owned by one thread; nothing here does I/O, starts threads
 * or keeps global state. Every function that takes bytes from outside
 * checks them: a failing call returns an error and leaves the document
 * exactly as it was.
 */
#ifndef SB_CRDT_CRDT_H
#define SB_CRDT_CRDT_H

#include "base/common.h"
#include "base/str.h"

typedef struct crdt_doc crdt_doc;

#define CRDT_ERROR_MAP(X)                                                                          \
    X(CRDT_OK, "ok")                                                                               \
    X(CRDT_E_TRUNCATED, "update ends inside a value")                                              \
    X(CRDT_E_MALFORMED, "malformed update")                                                        \
    X(CRDT_E_LIMIT, "update exceeds a limit")                                                      \
    X(CRDT_E_CONTENT, "unknown content ref")                                                       \
    X(CRDT_E_UTF8, "invalid UTF-8 in update")                                                      \
    X(CRDT_E_JSON, "invalid JSON")                                                                 \
    X(CRDT_E_INCONSISTENT, "update contradicts the document")                                      \
    X(CRDT_E_RANGE, "index or length out of range")                                                \
    X(CRDT_E_KIND, "shared type has another kind")                                                 \
    X(CRDT_E_UNSUPPORTED, "unsupported")                                                           \
    X(CRDT_E_GC, "garbage collection is on: deleted content is gone")

typedef enum crdt_err {
#define CRDT__ENUM(name, msg) name,
    CRDT_ERROR_MAP(CRDT__ENUM)
#undef CRDT__ENUM
} crdt_err;

/* A static message for e. */
const char *crdt_strerror(crdt_err e);

/* Root type kinds, as the app declares them (doc.getText(name) ...). */
typedef enum crdt_kind {
    CRDT_TEXT,
    CRDT_MAP,
    CRDT_ARRAY,
    CRDT_XML_FRAGMENT,
} crdt_kind;

/* A new empty document editing as client_id (< 2^53); gc true collects
 * deleted content (Yjs's default), false keeps it. Never NULL. */
crdt_doc *crdt_doc_new(uint64_t client_id, bool gc);
/* Frees d and everything it holds; NULL is fine. */
void crdt_doc_free(crdt_doc *d);

/* Applies a v1 update (Y.applyUpdate). Structs whose dependencies are
 * missing and deletes of unknown structs wait as pending and are retried
 * when later updates bring what they need. On error the doc is unchanged
 * and err (may be NULL) says what and where. */
crdt_err crdt_doc_apply_update(crdt_doc *d, const void *update, size_t n, sb_errbuf *err);

/* Appends Y.encodeStateAsUpdate(doc, sv) to out; sv NULL means everything.
 * Fails (CRDT_E_MALFORMED) only on a malformed state vector. */
crdt_err crdt_doc_encode_state(crdt_doc *d, const void *sv, size_t svn, sb_buf *out);

/* The same for update format v2 (Y.applyUpdateV2 / encodeStateAsUpdateV2),
 * through the v1/v2 converter (update_convert.h): a v2 update is checked
 * and converted as a whole before anything is applied. */
crdt_err crdt_doc_apply_update_v2(crdt_doc *d, const void *update, size_t n, sb_errbuf *err);
crdt_err crdt_doc_encode_state_v2(crdt_doc *d, const void *sv, size_t svn, sb_buf *out);

/* Appends Y.encodeStateVector(doc) to out. */
void crdt_doc_encode_state_vector(crdt_doc *d, sb_buf *out);

/* Whether structs or deletes wait for missing dependencies. */
bool crdt_doc_has_pending(const crdt_doc *d);

/* Declares root name as kind, as doc.get<Kind>(name) does in Yjs: a
 * declared Text takes part in Yjs's formatting cleanup after remote
 * updates. CRDT_E_KIND when the root was declared as another kind. Local
 * edits declare the roots they edit. */
crdt_err crdt_doc_declare(crdt_doc *d, sb_str name, crdt_kind kind);

/* Appends doc.get<Kind>(name).toJSON() as JSON text, as JSON.stringify
 * prints it. Like doc.get<Kind>, declares the root as kind (CRDT_E_KIND
 * when it is declared as another). Fails with CRDT_E_LIMIT when nesting
 * is too deep. */
crdt_err crdt_doc_json(crdt_doc *d, sb_str name, crdt_kind kind, sb_buf *out);
/* Appends JSON.stringify(doc.getText(name).toDelta()); declares the root
 * as a Text. */
crdt_err crdt_doc_text_delta(crdt_doc *d, sb_str name, sb_buf *out);

/*
 * Snapshots (Yjs Snapshot.js): a state vector and a delete set, the
 * document's version at some moment. Reading the document as it was at a
 * snapshot needs the content deleted since, so those calls fail with
 * CRDT_E_GC on a document with gc on (Yjs throws "Garbage-collection must
 * be disabled in `originDoc`!"); they take any snapshot, also one decoded
 * from elsewhere, and fail with CRDT_E_INCONSISTENT when its state vector
 * is ahead of the document. err (may be NULL) says what and where.
 */
typedef struct crdt_snapshot crdt_snapshot;

/* Y.snapshot(doc): the doc's state vector and the delete set of its store
 * (pending structs and deletes are not part of it). Never NULL; free it
 * with crdt_snapshot_free. */
crdt_snapshot *crdt_snapshot_take(crdt_doc *d);
/* NULL is fine. */
void crdt_snapshot_free(crdt_snapshot *s);
/* Appends Y.encodeSnapshot(s): the delete set, then the state vector,
 * clients descending in both, as var-uints (update v1's encoding). */
void crdt_snapshot_encode(const crdt_snapshot *s, sb_buf *out);
/* Y.decodeSnapshot. Counts are checked against the input before anything
 * is allocated; truncated or oversized input, values above 2^53-1, delete
 * ranges ending past 2^53-1 and bytes after the state vector (which Yjs
 * ignores) fail, setting nothing. On
 * success *out is a new snapshot, kept as Yjs keeps what it read: a later
 * state-vector entry of a client replaces an earlier one, a client's
 * delete ranges stay in the order read. */
crdt_err crdt_snapshot_decode(const void *p, size_t n, crdt_snapshot **out, sb_errbuf *err);
/* Y.equalSnapshots: the same clocks per client, the same delete ranges per
 * client in the same order (so equal snapshots encode to equal bytes). */
bool crdt_snapshot_equal(const crdt_snapshot *a, const crdt_snapshot *b);
/* Yjs's isVisible(item, s) for the item id (client, clock): the snapshot's
 * state vector has the clock and its delete set does not cover it. */
bool crdt_snapshot_contains(const crdt_snapshot *s, uint64_t client, uint64_t clock);

/* Y.createDocFromSnapshot(d, s): a new document (client_id, gc) that got,
 * as one remote update, d's structs below s's state vector and s's delete
 * set. d's content is unchanged (structs s cuts are split and merged again,
 * as in Yjs). On success *out is the caller's, to crdt_doc_free. */
crdt_err crdt_doc_from_snapshot(crdt_doc *d, const crdt_snapshot *s, uint64_t client_id, bool gc,
                                crdt_doc **out, sb_errbuf *err);
/* Appends Y.createDocFromSnapshot(d, s).get<Kind>(name).toJSON(), as
 * crdt_doc_json prints it (one new document a call: to render several
 * roots, make the document once with crdt_doc_from_snapshot). */
crdt_err crdt_doc_json_at(crdt_doc *d, const crdt_snapshot *s, sb_str name, crdt_kind kind,
                          sb_buf *out, sb_errbuf *err);
/* Appends Y.encodeStateAsUpdate(Y.createDocFromSnapshot(d, s)) (v1): the
 * document at s with gc on, for "restore this version" (apply it to an
 * empty doc) or to store a version. */
crdt_err crdt_doc_encode_state_at(crdt_doc *d, const crdt_snapshot *s, sb_buf *out, sb_errbuf *err);
/* Appends JSON.stringify(doc.getText(name).toDelta(s, prev)): the text at
 * s with its formatting (embedded shared types render as they are now, as
 * in Yjs). prev NULL: no ychange. With prev (a version to compare with),
 * text there at prev but not at s is kept with the attribute ychange
 * {"type":"removed"}, text at s but not at prev gets {"type":"added"}, an
 * op for each such item (Yjs's default computeYChange; so where the store
 * cuts text shows, as in Yjs). s NULL is the doc now (Yjs's undefined
 * snapshot: then deleted text there at prev shows unmarked, as in Yjs).
 * Refuses a doc with gc on, which Yjs's toDelta does not check. */
crdt_err crdt_doc_text_delta_at(crdt_doc *d, const crdt_snapshot *s, const crdt_snapshot *prev,
                                sb_str name, sb_buf *out, sb_errbuf *err);

/*
 * Local edits. Each runs as one transaction and appends to update the v1
 * update it produced (doc.on('update')), setting *changed; *changed false
 * means nothing changed and nothing was appended. Indexes and lengths are in
 * UTF-16 units for text, elements for arrays. JSON arguments are JSON text.
 * A failing call (bad index, bad JSON, root of another kind) changes nothing.
 */
crdt_err crdt_text_insert(crdt_doc *d, sb_str name, uint64_t index, sb_str utf8, sb_str attrs_json,
                          sb_buf *update, bool *changed);
/* getText(name).format(index, len, attrs); a range past the end is
 * CRDT_E_RANGE (Yjs would append newlines). */
crdt_err crdt_text_format(crdt_doc *d, sb_str name, uint64_t index, uint64_t len, sb_str attrs_json,
                          sb_buf *update, bool *changed);
/* getText(name).insertEmbed(index, value); value is a JSON object. */
crdt_err crdt_text_embed(crdt_doc *d, sb_str name, uint64_t index, sb_str json, sb_buf *update,
                         bool *changed);
/* Text inserts with attributes (attrs_json non-empty) follow Yjs exactly;
 * without attributes, and deletes, are refused (CRDT_E_UNSUPPORTED) on a
 * text that holds format items: there Yjs's result depends on its search
 * markers. */
crdt_err crdt_text_delete(crdt_doc *d, sb_str name, uint64_t index, uint64_t len, sb_buf *update,
                          bool *changed);
crdt_err crdt_map_set(crdt_doc *d, sb_str name, sb_str key, sb_str json, sb_buf *update,
                      bool *changed);
crdt_err crdt_map_delete(crdt_doc *d, sb_str name, sb_str key, sb_buf *update, bool *changed);
/* getMap(name).set(key, v) with v built from json as shared types, as a
 * client builds nested Y types: an object becomes a Y.Map and an array a
 * Y.Array, member by member, except that the members of an object stored
 * under a key listed in flat (NULL-terminated; may be NULL) are plain
 * values (API.md's page: props and metadata are Y.Maps of plain values). */
crdt_err crdt_map_set_tree(crdt_doc *d, sb_str name, sb_str key, sb_str json,
                           const char *const *flat, sb_buf *update, bool *changed);
crdt_err crdt_array_insert(crdt_doc *d, sb_str name, uint64_t index, sb_str json_array,
                           sb_buf *update, bool *changed);
crdt_err crdt_array_delete(crdt_doc *d, sb_str name, uint64_t index, uint64_t len, sb_buf *update,
                           bool *changed);
/* getXmlFragment(name).insert(index, [new Y.XmlElement(tag)]) */
crdt_err crdt_xml_insert_element(crdt_doc *d, sb_str name, uint64_t index, sb_str tag,
                                 sb_buf *update, bool *changed);
/* getXmlFragment(name).insert(index, [new Y.XmlText(text)]) */
crdt_err crdt_xml_insert_text(crdt_doc *d, sb_str name, uint64_t index, sb_str utf8, sb_buf *update,
                              bool *changed);
/* getXmlFragment(name).get(index).setAttribute(attr, value) on an element */
crdt_err crdt_xml_set_attr(crdt_doc *d, sb_str name, uint64_t index, sb_str attr, sb_str value,
                           sb_buf *update, bool *changed);

#endif
