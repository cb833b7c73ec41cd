/*
 * crdt_int.h: the document model's private layouts, shared by the files of
 * src/crdt/ and never seen by callers of crdt.h.
 *
 * The model follows Yjs (INTERNALS.md): every insertion is an Item with a
 * unique id (client, clock) covering `length` clocks; per client the struct
 * store keeps a clock-ordered array of structs (Items and GCs) that covers
 * [0, state) without gaps. Items of one parent form a doubly linked list
 * (left/right) in document order; map entries are lists per key whose
 * rightmost item is the current value.
 *
 * Invariants (checked by crdt__doc_check in debug builds):
 * - structs[i].id.clock + structs[i].length == structs[i+1].id.clock;
 * - an item's content length equals item->length (UTF-16 units for strings);
 * - type->length is the sum of the lengths of undeleted countable items of
 *   its list (parent_sub == NULL);
 * - nothing here does I/O or keeps global state.
 */
#ifndef SB_CRDT_INT_H
#define SB_CRDT_INT_H

#include "base/common.h"
#include "base/map.h"
#include "base/str.h"
#include "base/vec.h"
#include "crdt/crdt.h"

/* Limits applied to decoded input before anything is allocated or mutated. */
#define CRDT_MAX_CLOCK   ((uint64_t)1 << 53) /* Yjs numbers are exact below 2^53 */
#define CRDT_MAX_DEPTH   256                 /* nesting of shared types */
#define CRDT_MAX_CLIENTS (1u << 20)

typedef struct crdt_id {
    uint64_t client;
    uint64_t clock;
} crdt_id;

static inline bool crdt__id_eq(crdt_id a, crdt_id b)
{
    return a.client == b.client && a.clock == b.clock;
}

/* Struct kinds. GC covers clocks whose content was collected; SKIP exists
 * only in decoded updates (a gap the sender did not include). */
enum { CRDT_STRUCT_ITEM = 0, CRDT_STRUCT_GC = 1, CRDT_STRUCT_SKIP = 2 };

/* Content refs as encoded in the info byte (Yjs's getRef()). */
enum {
    CRDT_C_GC = 0,
    CRDT_C_DELETED = 1,
    CRDT_C_JSON = 2,
    CRDT_C_BINARY = 3,
    CRDT_C_STRING = 4,
    CRDT_C_EMBED = 5,
    CRDT_C_FORMAT = 6,
    CRDT_C_TYPE = 7,
    CRDT_C_ANY = 8,
    CRDT_C_DOC = 9,
    CRDT_C_SKIP = 10,
};

/* Type refs of ContentType (Yjs's typeRefs). */
enum {
    CRDT_T_ARRAY = 0,
    CRDT_T_MAP = 1,
    CRDT_T_TEXT = 2,
    CRDT_T_XML_ELEMENT = 3,
    CRDT_T_XML_FRAGMENT = 4,
    CRDT_T_XML_HOOK = 5,
    CRDT_T_XML_TEXT = 6,
    CRDT_T_UNDEFINED = 7, /* a root named by an update before the app declared it */
};

/* Item flags. */
enum {
    CRDT_F_DELETED = 1,
    CRDT_F_KEEP = 2,
    CRDT_F_HAS_ORIGIN = 4,
    CRDT_F_HAS_RORIGIN = 8,
    CRDT_F_MARKER = 16, /* a search marker points here, or did (marker.c) */
};

typedef struct crdt_item crdt_item;
typedef struct crdt_type crdt_type;

/* Yjs's search markers of a text (marker.c). */
#define CRDT_YMARK_MAX 80
typedef struct crdt_ymark {
    crdt_item *p;
    uint64_t index;
    uint64_t ts; /* last use, from the doc's ymark_clock */
} crdt_ymark;
typedef struct crdt_ymarks {
    uint32_t n;
    crdt_ymark m[CRDT_YMARK_MAX];
} crdt_ymarks;

/* An owned byte string (JSON text, keys, binaries). */
typedef struct crdt_bytes {
    char *p;
    size_t n;
} crdt_bytes;

/* One "any" value, kept in its lib0 encoding (see anyval.c): decoding
 * validates it, encoding copies it, JSON output renders it. */
typedef crdt_bytes crdt_anyv;

typedef union crdt_content {
    struct {
        uint16_t *u; /* UTF-16 code units, as Yjs counts them */
        uint64_t cap;
    } str;
    struct {
        crdt_bytes *v; /* JSON: JSON texts ("undefined" allowed); ANY: any values */
        uint64_t cap;
    } list;
    crdt_bytes bin; /* BINARY bytes; EMBED JSON text */
    struct {
        crdt_bytes key;
        crdt_bytes val; /* JSON text */
    } fmt;
    crdt_type *type;
    struct {
        crdt_bytes guid;
        crdt_anyv opts;
    } doc;
} crdt_content;

struct crdt_item {
    crdt_id id;
    uint64_t length;
    crdt_item *left, *right;
    crdt_id origin, rorigin; /* valid when the HAS_* flags say so */
    crdt_type *parent;       /* NULL for GC structs */
    const char *parent_sub;  /* a key owned by parent's map, or NULL */
    uint32_t parent_sub_len;
    uint8_t kind;  /* CRDT_STRUCT_* */
    uint8_t ckind; /* CRDT_C_* */
    uint8_t flags;
    crdt_content c;
};

static inline bool crdt__deleted(const crdt_item *it)
{
    return it->kind != CRDT_STRUCT_ITEM || (it->flags & CRDT_F_DELETED);
}
static inline bool crdt__countable(const crdt_item *it)
{
    return it->ckind != CRDT_C_FORMAT && it->ckind != CRDT_C_DELETED;
}
static inline crdt_id crdt__last_id(const crdt_item *it)
{
    return (crdt_id){it->id.client, it->id.clock + it->length - 1};
}

typedef struct crdt_map_entry {
    crdt_bytes key;
    crdt_item *item; /* the rightmost item of the key */
} crdt_map_entry;

struct crdt_type {
    uint8_t kind;                   /* CRDT_T_* */
    uint16_t depth;                 /* 1 for roots */
    bool has_formats;               /* a format item was integrated (Yjs _hasFormatting;
                                       also: Yjs dropped the text's search markers) */
    bool ym_exact;                  /* keep Yjs's search markers in ym (marker.c) */
    bool in_changed;                /* listed in the transaction's changed texts */
    bool changed_new;               /* ... but as Yjs leaves it out (format.c) */
    crdt_item *item;                /* the item holding this type; NULL for roots */
    crdt_item *start;               /* first item of the list */
    uint64_t length;                /* undeleted countable length of the list */
    crdt_bytes name;                /* XmlElement node name, XmlHook name, or the root's key */
    SB_VEC(crdt_map_entry) entries; /* insertion order, as a JS Map */
    sb_map index;                   /* key -> entry index + 1 */
    /* A cached position: marker_p starts at index marker_i. */
    crdt_item *marker_p;
    uint64_t marker_i;
    crdt_ymarks *ym; /* Yjs's search markers, when ym_exact */
};

/* Per-client struct array, in clock order. ck[i] is s[i]->id.clock, kept
 * beside it so that finding a clock bisects one contiguous array instead
 * of touching a struct (a cache miss each) at every step: on documents of
 * thousands of structs per client those misses were 7% of a loop's time. */
typedef struct crdt_client {
    uint64_t client;
    crdt_item **s;
    uint64_t *ck;
    size_t len, cap;
} crdt_client;

typedef struct crdt_range {
    uint64_t client, clock, len;
} crdt_range;
typedef SB_VEC(crdt_range) crdt_ranges;
typedef SB_VEC(crdt_id) crdt_ids;

/* Decoded structs waiting to be integrated (pending, or a staged update). */
typedef struct crdt_ref crdt_ref;

typedef struct crdt_txn {
    bool local;
    crdt_ids before;             /* state vector at start: pairs in .client/.clock */
    crdt_ranges ds;              /* what this transaction deleted */
    crdt_ids merge;              /* ids of items created by splits */
    SB_VEC(crdt_type *) changed; /* texts touched (for the formatting cleanup) */
} crdt_txn;

typedef struct crdt_pool_chunk crdt_pool_chunk;

struct crdt_doc {
    uint64_t client_id;
    bool gc;
    /* store: clients in insertion order + a hash index */
    SB_VEC(crdt_client) clients;
    uint64_t *cidx_keys;
    uint32_t *cidx_vals; /* index + 1 */
    size_t cidx_cap;
    /* roots in insertion order */
    SB_VEC(crdt_type *) roots;
    sb_map root_index;
    /* pending structs per client (decoded refs), and pending deletes */
    SB_VEC(void *) pending;   /* per client groups of crdt_ref (update_v1.c) */
    crdt_ids pending_missing; /* client -> lowest missing clock */
    crdt_ranges pending_ds;
    /* item pool */
    crdt_item *free_items;
    crdt_pool_chunk *chunks;
    crdt_txn *txn;
    uint64_t ymark_clock; /* Yjs's globalSearchMarkerTimestamp */
    crdt_txn scratch;     /* vectors reused by every transaction */
};

/* --- store.c --- */
crdt_client *crdt__client_get(crdt_doc *d, uint64_t client);
crdt_client *crdt__client_make(crdt_doc *d, uint64_t client);
uint64_t crdt__state(crdt_doc *d, uint64_t client);
/* Index of the struct covering clock; the clock must be < state. */
size_t crdt__find_index(const crdt_client *c, uint64_t clock);
crdt_item *crdt__find(crdt_doc *d, crdt_id id);
void crdt__add_struct(crdt_doc *d, crdt_item *it);
/* Insert it into c at position pos (splits). */
void crdt__client_insert(crdt_client *c, size_t pos, crdt_item *it);
/* The item whose first clock is id.clock, splitting if needed. */
crdt_item *crdt__clean_start(crdt_doc *d, crdt_id id);
/* The item whose last clock is id.clock, splitting if needed. */
crdt_item *crdt__clean_end(crdt_doc *d, crdt_id id);
crdt_item *crdt__item_alloc(crdt_doc *d);
void crdt__item_release(crdt_doc *d, crdt_item *it);
void crdt__ranges_sort_merge(crdt_ranges *r);
void crdt__ranges_add(crdt_ranges *r, uint64_t client, uint64_t clock, uint64_t len);

/* --- content.c --- */
/* An owned, NUL-terminated copy of n bytes. */
void crdt__bytes_set(crdt_bytes *b, const void *p, size_t n);
void crdt__content_free(crdt_doc *d, crdt_item *it);
/* Format values (JSON text) are JavaScript objects to Yjs: one that it
 * copies from a format item into another (a negated attribute, the
 * attributes in force given to an insert) stays the same object, and ===
 * holds between the two items. So format values are shared, reference
 * counted buffers, and identity is the buffer's address (crdt__js_eq). */
crdt_bytes crdt__fval_new(const char *p, size_t n);
crdt_bytes crdt__fval_ref(const crdt_bytes *v);
void crdt__fval_free(crdt_bytes *v);
/* Moves content from offset on into right (and truncates it's). */
void crdt__content_split(crdt_item *it, crdt_item *right, uint64_t offset);
/* Appends right's content to it's; false when that content kind never merges. */
bool crdt__content_merge(crdt_item *it, crdt_item *right);
bool crdt__content_mergeable(uint8_t ckind);
void crdt__str_append(crdt_item *it, const uint16_t *u, uint64_t n);

/* --- type.c --- */
crdt_type *crdt__type_new(uint8_t kind);
void crdt__type_free(crdt_doc *d, crdt_type *t);
crdt_map_entry *crdt__type_entry(crdt_type *t, const char *key, size_t klen, bool create);
crdt_type *crdt__root(crdt_doc *d, const char *name, size_t n, bool create);

/* --- item.c --- */
crdt_item *crdt__split(crdt_doc *d, crdt_item *left, uint64_t diff);
void crdt__integrate(crdt_doc *d, crdt_item *it, uint64_t offset);
void crdt__delete(crdt_doc *d, crdt_item *it);
void crdt__gc_item(crdt_doc *d, crdt_item *it, bool parent_gcd);
size_t crdt__merge_lefts(crdt_doc *d, crdt_client *c, size_t pos);

/* --- txn.c --- */
/* Starts a transaction (the doc holds its state; t is unused, may be NULL). */
void crdt__txn_begin(crdt_doc *d, crdt_txn *t, bool local);
/* Cleans up (gc, merges); when out is non-NULL writes the transaction's
 * v1 update there and sets *changed. */
void crdt__txn_end(crdt_doc *d, sb_buf *out, bool *changed);
/* --- format.c --- */
/* Formatting attributes as a JS Map (insertion order, set keeps position):
 * values are JSON texts, compared as === (same object, or equal primitives). */
typedef struct fattr {
    crdt_bytes key;
    const crdt_bytes *val;
} fattr;
typedef SB_VEC(fattr) fattrs;
extern const crdt_bytes crdt__null_json;
bool crdt__js_eq(const crdt_bytes *a, const crdt_bytes *b);
const crdt_bytes *crdt__fa_get(fattrs *a, const crdt_bytes *key); /* null when absent */
void crdt__fa_set(fattrs *a, const crdt_bytes *key, const crdt_bytes *val);
void crdt__fa_delete(fattrs *a, const crdt_bytes *key);
void crdt__fa_update(fattrs *a, crdt_item *format); /* updateCurrentAttributes */
void crdt__format_cleanup(crdt_doc *d, crdt_txn *first, crdt_txn *second);
/* cleanupFormattingGap: format items from start up to the next live
 * counted item that no longer change anything are deleted. */
void crdt__cleanup_gap(crdt_doc *d, crdt_item *start, crdt_item *curr, fattrs *start_attrs,
                       fattrs *curr_attrs);
/* Notes that a text type changed in the current transaction. */
void crdt__txn_changed(crdt_doc *d, crdt_type *t);

/* --- update_v1.c --- */
void crdt__pending_free(crdt_doc *d);
struct crdt_upd_enc;
void crdt__write_structs(crdt_doc *d, struct crdt_upd_enc *e, const crdt_id *sv, size_t svn);
/* One whole struct as Yjs's struct.write(encoder, 0); tmp is scratch. */
void crdt__write_struct(struct crdt_upd_enc *e, const crdt_item *it, sb_buf *tmp);
void crdt__write_ds(struct crdt_upd_enc *e, const crdt_ranges *r);
bool crdt__json_canon(const char *s, size_t n, crdt_bytes *out);
struct crdt_any;
bool crdt__json_parse(const char *s, size_t n, struct crdt_any *out);

/* --- edit.c --- */
/* The root name, declared as kind (CRDT_T_*) if it was not; CRDT_E_KIND
 * when it was declared as another. */
crdt_err crdt__root_of(crdt_doc *d, sb_str name, uint8_t kind, crdt_type **out);
uint8_t crdt__kind_ref(crdt_kind k);

/* --- richtext.c --- */
/* YText.insert and YText.delete in the current transaction, for texts with
 * formatting or inserts with attributes (attrs: a JSON object, or empty
 * for "the attributes in force"); arguments already checked. */
crdt_err crdt__text_insert_rich(crdt_doc *d, crdt_type *t, uint64_t index, sb_str utf8,
                                sb_str attrs);
void crdt__text_delete_rich(crdt_doc *d, crdt_type *t, uint64_t index, uint64_t len);

/* --- marker.c --- */
/* findMarker: the marker to start a search for index from (made or moved
 * as Yjs does), or NULL (empty text, index 0). */
crdt_ymark *crdt__ymark_find(crdt_doc *d, crdt_type *t, uint64_t index);
/* updateMarkerChanges: len units inserted (> 0) or deleted (< 0) at index. */
void crdt__ymark_changes(crdt_type *t, uint64_t index, int64_t len);
/* Item.mergeWith: r is merged into its left neighbour l. */
void crdt__ymark_merged(crdt_type *t, crdt_item *l, crdt_item *r);
/* A format item was integrated: Yjs drops the markers for good. */
void crdt__ymark_drop(crdt_type *t);

/* --- snapshot.c --- */
/* Yjs's isVisible(item, snapshot) for the item's first clock. */
bool crdt__snapshot_visible(const crdt_snapshot *s, const crdt_item *it);

/* --- json.c --- */
/* Appends t.toDelta(s, prev) (NULL: none); on error out is as it was. The
 * structs s and prev cut must be split already. */
crdt_err crdt__delta_json(crdt_type *t, const crdt_snapshot *s, const crdt_snapshot *prev,
                          sb_buf *out);

/* --- utf16.c --- */
/* UTF-8 (already validated) to UTF-16; returns units written (out must hold n). */
size_t crdt__utf8_to_utf16(const char *s, size_t n, uint16_t *out);
/* Bytes of the UTF-8 form of UTF-16 units (lone surrogates: 3). */
size_t crdt__utf8_len_of_utf16(const uint16_t *u, size_t n);
/* UTF-16 to UTF-8, lone surrogates as U+FFFD (like TextEncoder). */
void crdt__utf16_to_utf8(const uint16_t *u, size_t n, sb_buf *out);

#endif
