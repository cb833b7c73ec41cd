/*
 * history_snapshot_fuzz.c: libFuzzer target for the snapshot decoder
 * (history_snapshot_decode), which reads bytes back from the database.
 * Input: one flag byte, then the bytes. Beyond "no crash, no leak, no UB":
 *   - the decoder's answer is OK, CORRUPT or TOO_LARGE, and the output is
 *     set exactly when it is OK;
 *   - a decoded snapshot is a valid state, and encoding it again gives a
 *     snapshot that decodes to the same canonical text (a fixed point);
 *   - with the limit one byte below that text's size, the same input is
 *     TOO_LARGE (the limit is checked against the declared size);
 *   - flag bit 0: the bytes (as JSON) are also applied as an event payload
 *     to the decoded state (or an empty one): CORRUPT leaves the state as
 *     it was, OK leaves a valid state.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "history/history.h"

/* Small, so that the fuzzer explores rather than allocates. */
#define FUZZ_MAX ((size_t)1 << 20)

static char *text_of(const json_t *s, size_t *n)
{
    sb_buf b = SB_BUF_INIT;
    history_state_text(s, &b);
    *n = b.len;
    sb_buf_putc(&b, 0);
    return b.ptr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    data++;
    size--;
    json_t *s = NULL;
    history_err r = history_snapshot_decode(data, size, FUZZ_MAX, &s);
    assert(r == HISTORY_OK || r == HISTORY_CORRUPT || r == HISTORY_TOO_LARGE);
    assert((r == HISTORY_OK) == (s != NULL));
    if (s) {
        assert(history_state_check(s));
        size_t n;
        char *t = text_of(s, &n);
        sb_buf again = SB_BUF_INIT;
        history_snapshot_encode(s, &again);
        json_t *s2 = NULL;
        assert(history_snapshot_decode(again.ptr, again.len, FUZZ_MAX, &s2) == HISTORY_OK);
        size_t n2;
        char *t2 = text_of(s2, &n2);
        assert(n == n2 && memcmp(t, t2, n) == 0);
        /* The declared size is the canonical text's only when the input was
         * canonical; the re-encoded one is, so check the limit on it. */
        json_t *none = NULL;
        assert(history_snapshot_decode(again.ptr, again.len, n - 1, &none) == HISTORY_TOO_LARGE);
        assert(none == NULL);
        free(t2);
        free(t);
        json_decref(s2);
        sb_buf_free(&again);
    }
    if (flags & 1) {
        json_error_t e;
        json_t *payload = json_loadb((const char *)data, size, JSON_DECODE_ANY, &e);
        if (payload) {
            if (!s)
                s = history_state_new();
            size_t n;
            char *before = text_of(s, &n);
            history_err ar = history_apply(s, payload);
            assert(ar == HISTORY_OK || ar == HISTORY_CORRUPT);
            assert(history_state_check(s));
            if (ar == HISTORY_CORRUPT) {
                size_t m;
                char *after = text_of(s, &m);
                assert(n == m && memcmp(before, after, n) == 0);
                free(after);
            }
            free(before);
            json_decref(payload);
        }
    }
    json_decref(s);
    return 0;
}
