/*
 * uuid.c: UUIDv7 (RFC 9562 §5.7) with a per-thread monotonic counter in
 * rand_a (§6.2 method 1), so ids made on one thread strictly increase even
 * within a millisecond.
 */
#include "base/uuid.h"

#include <string.h>

#include "base/clock.h"
#include "base/rand.h"

void sb_uuid_v7_from(sb_uuid *out, uint64_t unix_ms, uint16_t counter, const uint8_t rnd[8])
{
    uint8_t *b = out->b;
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)(unix_ms >> (40 - 8 * i));
    b[6] = (uint8_t)(0x70 | ((counter >> 8) & 0x0F)); /* version 7 */
    b[7] = (uint8_t)counter;
    memcpy(b + 8, rnd, 8);
    b[8] = (uint8_t)(0x80 | (b[8] & 0x3F)); /* variant 10 */
}

static _Thread_local struct {
    uint64_t ms;
    uint16_t counter;
} last;

void sb_uuid_v7(sb_uuid *out)
{
    uint64_t ms = (uint64_t)(sb_wall_us() / 1000);
    uint8_t rnd[10];
    sb_rand_bytes(rnd, sizeof(rnd));
    if (ms > last.ms) {
        /* Start low in the 12-bit space, leaving room to count up. */
        last.ms = ms;
        last.counter = (uint16_t)(((rnd[8] << 8) | rnd[9]) & 0x7FF);
    } else if (last.counter < 0xFFF) {
        last.counter++; /* same (or earlier: the clock stepped back) ms */
    } else {
        last.ms++; /* counter exhausted: borrow the next millisecond */
        last.counter = 0;
    }
    sb_uuid_v7_from(out, last.ms, last.counter, rnd);
}

char *sb_uuid_format(const sb_uuid *u, char out[SB_UUID_STR_LEN])
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[u->b[i] >> 4];
        *p++ = hex[u->b[i] & 15];
    }
    *p = '\0';
    return out;
}

bool sb_uuid_parse(sb_str s, sb_uuid *out)
{
    if (s.len != 36)
        return false;
    sb_uuid u;
    size_t j = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s.ptr[i] != '-')
                return false;
            i++;
            continue;
        }
        int hi = sb_hex_digit(s.ptr[i]), lo = sb_hex_digit(s.ptr[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        u.b[j++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    *out = u;
    return true;
}

int sb_uuid_cmp(const sb_uuid *a, const sb_uuid *b)
{
    return memcmp(a->b, b->b, 16);
}

uint64_t sb_uuid_v7_ms(const sb_uuid *u)
{
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = (ms << 8) | u->b[i];
    return ms;
}
