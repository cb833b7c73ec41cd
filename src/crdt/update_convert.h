/*
 * update_convert.h: an update in format v1 or v2 re-coded into v1 or v2
 * without a document (Y.convertUpdateFormatV1ToV2 / V2ToV1), by walking its
 * structs and delete set field by field (yjs src/utils/encoding.js
 * readClientsStructRefs and DeleteSet.js readDeleteSet give the layout).
 *
 * For the updates Yjs writes (encodeStateAsUpdate, mergeUpdates, a
 * transaction's update) the result is byte for byte Yjs's. Yjs's converter
 * goes through a struct reader and a delete-set object, so on unusual input
 * it normalises where we copy: a client listed with no structs or twice in a
 * row, a delete-set client with no ranges, delete-set clients out of order.
 *
 * v1 carries embeds and format values as JSON text: a value with a bigint
 * cannot go there (JSON.stringify throws; so does Yjs's converter), nor,
 * here, one with U+0000 in an object key (jansson, which reads v1's JSON,
 * refuses it where JSON.parse would not): both are CRDT_LIB0_EFORMAT.
 *
 * It also validates: every field in range, contents of the known kinds
 * (refs 1-9; GC 0, Skip 10), nothing left over, and for v2 output the delete
 * ranges ascending and non-empty (v2 codes them as differences).
 */
#ifndef SB_CRDT_UPDATE_CONVERT_H
#define SB_CRDT_UPDATE_CONVERT_H

#include "crdt/update_coder.h"

/* Converts update p[0..n) (from_v2 says its format) and appends it, in
 * format to_v2, to out. max_items caps structs plus delete ranges: in v2 a
 * few bytes of run-length columns can stand for any number of structs, so
 * the input size bounds nothing (0 means CRDT_CONVERT_MAX_ITEMS). Returns 0,
 * or a crdt_lib0_err (CRDT_LIB0_ELIMIT for the cap) with out untouched. */
#define CRDT_CONVERT_MAX_ITEMS ((size_t)1 << 22)
int crdt_update_convert(const void *p, size_t n, bool from_v2, bool to_v2, size_t max_items,
                        sb_buf *out);

#endif
