/*
 * update_coder.h: the field-level coders of Yjs updates, formats v1 and v2
 * behind one interface (yjs src/utils/UpdateEncoder.js, UpdateDecoder.js),
 * so the struct and delete-set code is written once for both formats.
 *
 * v1 writes every field into one stream. v2 gives each field its own
 * run-length column (lib0_rle.h): a var-uint feature flag (0), then nine
 * columns as var-uint8-arrays (key clocks, clients, left clocks, right
 * clocks, info, strings, parent info, type refs, lengths), then the "rest"
 * stream (struct and client counts, first clocks, any/buf content, delete
 * sets) to the end. Where v1 uses var-uints, v2 codes:
 *  - keys: a key clock column; a clock below the number of keys read so far
 *    reuses that key, otherwise the next string is a new key (Yjs's encoder
 *    never reuses, its key map being disabled, but a decoder must accept it);
 *  - JSON (embeds, format values): v1 a JSON string, v2 a lib0 "any";
 *  - delete sets: v2 codes clocks as deltas and lengths as len - 1.
 *
 * Counts and first clocks are read straight from crdt_upd_dec_rest() in
 * both formats, as Yjs does. The first error in any stream is sticky for
 * the whole decoder: every field read after it returns 0 or a NULL view,
 * so checking crdt_upd_dec_err() after a batch of reads is enough. Caution for callers: in v2 the
 * input size does not bound how many values the columns yield (a run of 2^53 costs a few bytes,
 * rle_u8's last run never ends), so cap struct counts by limits of your own.
 */
#ifndef SB_CRDT_UPDATE_CODER_H
#define SB_CRDT_UPDATE_CODER_H

#include "crdt/any.h"
#include "crdt/lib0_rle.h"

typedef struct crdt_upd_dec {
    bool v2;
    int err;       /* the first error of any stream, in time */
    crdt_dec rest; /* v1: the whole update */
    uint64_t ds_cur;
    /* v2 only: */
    crdt_int_diff_opt_rle_dec key_clock, left_clock, right_clock;
    crdt_uint_opt_rle_dec client, type_ref, len;
    crdt_rle_u8_dec info, parent_info;
    crdt_string_dec string;
    sb_str *keys; /* views into the string column, in order of first use */
    size_t nkeys, keys_cap;
} crdt_upd_dec;

/* Reads update p[0..n) (borrowed; must outlive the decoder and the views it
 * returns). For v2 this reads the header and the columns: returns 0, or the
 * error (the decoder is still valid to deinit). */
int crdt_upd_dec_init(crdt_upd_dec *u, const void *p, size_t n, bool v2);
void crdt_upd_dec_deinit(crdt_upd_dec *u);
/* The first error in any stream (the rest stream included), or 0. */
int crdt_upd_dec_err(const crdt_upd_dec *u);
static inline crdt_dec *crdt_upd_dec_rest(crdt_upd_dec *u)
{
    return &u->rest;
}

void crdt_upd_dec_left_id(crdt_upd_dec *u, uint64_t *client, uint64_t *clock);
void crdt_upd_dec_right_id(crdt_upd_dec *u, uint64_t *client, uint64_t *clock);
uint64_t crdt_upd_dec_client(crdt_upd_dec *u);
uint8_t crdt_upd_dec_info(crdt_upd_dec *u);
/* A view, UTF-8 checked. */
sb_str crdt_upd_dec_string(crdt_upd_dec *u);
/* True: the parent is named by a root key; false: by an item id. */
bool crdt_upd_dec_parent_info(crdt_upd_dec *u);
uint64_t crdt_upd_dec_type_ref(crdt_upd_dec *u);
uint64_t crdt_upd_dec_len(crdt_upd_dec *u);
/* Reads a lib0 "any" into *out (undefined on error). */
int crdt_upd_dec_any(crdt_upd_dec *u, crdt_any *out);
/* A view of a var-uint8-array. */
sb_str crdt_upd_dec_buf(crdt_upd_dec *u);
/* An embed or format value: v1 parses the JSON text as JSON.parse would
 * (bad JSON is CRDT_LIB0_EFORMAT), v2 reads an "any". */
int crdt_upd_dec_json(crdt_upd_dec *u, crdt_any *out);
/* A map key or format key, a view. */
sb_str crdt_upd_dec_key(crdt_upd_dec *u);
/* Delete sets: reset before each client's ranges. */
void crdt_upd_dec_ds_reset(crdt_upd_dec *u);
uint64_t crdt_upd_dec_ds_clock(crdt_upd_dec *u);
uint64_t crdt_upd_dec_ds_len(crdt_upd_dec *u);

typedef struct crdt_upd_enc {
    bool v2;
    sb_buf rest;
    uint64_t ds_cur;
    uint64_t next_key_clock;
    /* v2 only: */
    crdt_int_diff_opt_rle_enc key_clock, left_clock, right_clock;
    crdt_uint_opt_rle_enc client, type_ref, len;
    crdt_rle_u8_enc info, parent_info;
    crdt_string_enc string;
} crdt_upd_enc;

void crdt_upd_enc_init(crdt_upd_enc *e, bool v2);
void crdt_upd_enc_deinit(crdt_upd_enc *e);
/* Counts and first clocks go here directly, as in the decoder. */
static inline sb_buf *crdt_upd_enc_rest(crdt_upd_enc *e)
{
    return &e->rest;
}
/* Appends the finished update to out; the encoder is spent (deinit it). */
void crdt_upd_enc_finish(crdt_upd_enc *e, sb_buf *out);

/* Clocks below 2^51 (the v2 clock columns double differences). */
void crdt_upd_enc_left_id(crdt_upd_enc *e, uint64_t client, uint64_t clock);
void crdt_upd_enc_right_id(crdt_upd_enc *e, uint64_t client, uint64_t clock);
void crdt_upd_enc_client(crdt_upd_enc *e, uint64_t client);
void crdt_upd_enc_info(crdt_upd_enc *e, uint8_t info);
void crdt_upd_enc_string(crdt_upd_enc *e, const char *s, size_t len);
void crdt_upd_enc_parent_info(crdt_upd_enc *e, bool is_key);
void crdt_upd_enc_type_ref(crdt_upd_enc *e, uint64_t ref);
void crdt_upd_enc_len(crdt_upd_enc *e, uint64_t len);
void crdt_upd_enc_any(crdt_upd_enc *e, const crdt_any *v);
void crdt_upd_enc_buf(crdt_upd_enc *e, const void *p, size_t n);
/* v1: JSON.stringify's text as a var-string; v2: the "any". */
void crdt_upd_enc_json(crdt_upd_enc *e, const crdt_any *v);
/* Every key is written anew, as Yjs does (its key map is disabled). */
void crdt_upd_enc_key(crdt_upd_enc *e, const char *s, size_t len);
void crdt_upd_enc_ds_reset(crdt_upd_enc *e);
void crdt_upd_enc_ds_clock(crdt_upd_enc *e, uint64_t clock);
/* len > 0. */
void crdt_upd_enc_ds_len(crdt_upd_enc *e, uint64_t len);

#endif
