/*
 * collab_journal_fuzz.c: libFuzzer target for what the start-up reads
 * back from a collaboration journal file (collab/journal.h). Byte 0 picks
 * the path:
 *   0: the rest is a file image, scanned record by record;
 *   1: the rest is one payload, framed with a valid length and CRC (to get
 *      past the CRC) and scanned.
 * Beyond "no crash, no UB, no out-of-bounds read": every record handed
 * over lies inside the image and after the last; a record encodes again
 * to exactly its bytes; a torn or corrupt verdict comes with *good at a
 * record boundary.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/crc32c.h"
#include "collab/journal.h"

typedef struct walk {
    const uint8_t *p;
    size_t n, last_end;
} walk;

static bool check(void *ctx, const collab_jrec *rec)
{
    walk *w = ctx;
    assert(rec->start == w->last_end && rec->end > rec->start && rec->end <= w->n);
    assert(rec->n > 0 && rec->first_seq > 0);
    for (uint32_t i = 0; i < rec->n; i++) {
        assert((const uint8_t *)rec->updates[i].ptr >= w->p + rec->start);
        assert((const uint8_t *)rec->updates[i].ptr + rec->updates[i].len <= w->p + rec->end);
    }
    /* the same record, encoded again, is the same bytes */
    char key[1 << 16];
    size_t klen = rec->project_id.len + 1 + rec->doc.len;
    assert(klen < sizeof(key));
    memcpy(key, rec->project_id.ptr, rec->project_id.len);
    key[rec->project_id.len] = '/';
    memcpy(key + rec->project_id.len + 1, rec->doc.ptr, rec->doc.len);
    key[klen] = '\0';
    if (strlen(key) == klen) { /* a key with a NUL in it cannot be encoded */
        sb_buf b = SB_BUF_INIT;
        collab_journal_encode(&b, key, rec->first_seq, rec->updates, rec->n);
        assert(b.len == rec->end - rec->start);
        assert(memcmp(b.ptr, w->p + rec->start, b.len) == 0);
        sb_buf_free(&b);
    }
    w->last_end = rec->end;
    return true;
}

static void scan(const uint8_t *p, size_t n)
{
    walk w = {.p = p, .n = n};
    size_t good;
    collab_jscan r = collab_journal_scan(p, n, 0, check, &w, &good);
    assert(good == w.last_end);
    assert(r != COLLAB_JSCAN_OK || good == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (data[0] % 2 == 0) {
        scan(p, n);
        return 0;
    }
    uint8_t *framed = malloc(n + 8);
    uint32_t len = (uint32_t)n, crc = sb_crc32c(0, p, n);
    for (int i = 0; i < 4; i++) {
        framed[i] = (uint8_t)(len >> (8 * i));
        framed[4 + i] = (uint8_t)(crc >> (8 * i));
    }
    memcpy(framed + 8, p, n);
    scan(framed, n + 8);
    free(framed);
    return 0;
}
