/*
 * uuid.h: UUIDv7 ids (RFC 9562 §5.7): 48 bits of Unix milliseconds, then
 * random bits, so ids sort by creation time. Within one millisecond on one
 * thread, ids stay strictly increasing (RFC 9562 §6.2 method 1: the 12-bit
 * rand_a field is a counter seeded randomly each new millisecond; if it
 * overflows, the timestamp is advanced by one).
 */
#ifndef SB_BASE_UUID_H
#define SB_BASE_UUID_H

#include "base/common.h"
#include "base/str.h"

typedef struct sb_uuid {
    uint8_t b[16];
} sb_uuid;

#define SB_UUID_STR_LEN 37 /* 36 characters + NUL */

/* A new v7 id for the current wall time. Thread-safe (per-thread state). */
void sb_uuid_v7(sb_uuid *out);
/* A v7 id from its parts: unix_ms (48 bits), counter (its low 12 bits go in
 * rand_a) and rnd (its 62 low-order bits go in rand_b). Deterministic, for
 * tests and for sb_uuid_v7 itself. */
void sb_uuid_v7_from(sb_uuid *out, uint64_t unix_ms, uint16_t counter, const uint8_t rnd[8]);
/* Lower-case canonical form 8-4-4-4-12; returns out. */
char *sb_uuid_format(const sb_uuid *u, char out[SB_UUID_STR_LEN]);
/* Accepts the canonical form in either case; rejects anything else. */
bool sb_uuid_parse(sb_str s, sb_uuid *out);
int sb_uuid_cmp(const sb_uuid *a, const sb_uuid *b);
/* Milliseconds stored in a v7 id. */
uint64_t sb_uuid_v7_ms(const sb_uuid *u);

#endif
