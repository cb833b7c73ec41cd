/*
 * crdt_update_coder_fuzz.c: libFuzzer target for the v1/v2 update field
 * decoders (update_coder.h), the layer every update passes through. The
 * input is: one byte (format in bit 0, script length in bits 1-6), the
 * script (one field read a byte), then the update. Beyond "no crash, no
 * leak, no UB": every view lies inside the update, and once an error is
 * recorded it stays and reads return nothing.
 */
#include <assert.h>
#include <string.h>

#include "crdt/update_coder.h"

static void check_view(sb_str s, const uint8_t *p, size_t n, int err)
{
    if (err) {
        assert(s.ptr == NULL && s.len == 0);
        return;
    }
    assert(s.ptr != NULL);
    /* Empty views may be a literal "" outside the input. */
    assert(s.len == 0 || ((const uint8_t *)s.ptr >= p && (const uint8_t *)s.ptr + s.len <= p + n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool v2 = data[0] & 1;
    size_t nops = SB_MIN((size_t)(data[0] >> 1) & 63, size - 1);
    const uint8_t *ops = data + 1;
    const uint8_t *p = data + 1 + nops;
    size_t n = size - 1 - nops;

    crdt_upd_dec u;
    crdt_upd_dec_init(&u, p, n, v2);
    for (size_t i = 0; i < nops; i++) {
        int before = crdt_upd_dec_err(&u);
        uint64_t a = 0, b = 0;
        sb_str s = SB_STR_NULL;
        bool is_view = false;
        crdt_any v;
        switch (ops[i] % 15) {
        case 0:
            crdt_upd_dec_left_id(&u, &a, &b);
            break;
        case 1:
            crdt_upd_dec_right_id(&u, &a, &b);
            break;
        case 2:
            a = crdt_upd_dec_client(&u);
            break;
        case 3:
            a = crdt_upd_dec_info(&u);
            break;
        case 4:
            s = crdt_upd_dec_string(&u), is_view = true;
            break;
        case 5:
            a = crdt_upd_dec_parent_info(&u);
            break;
        case 6:
            a = crdt_upd_dec_type_ref(&u);
            break;
        case 7:
            a = crdt_upd_dec_len(&u);
            break;
        case 8:
            crdt_upd_dec_any(&u, &v);
            crdt_any_free(&v);
            break;
        case 9:
            s = crdt_upd_dec_buf(&u), is_view = true;
            break;
        case 10:
            crdt_upd_dec_json(&u, &v);
            crdt_any_free(&v);
            break;
        case 11:
            s = crdt_upd_dec_key(&u), is_view = true;
            break;
        case 12:
            crdt_upd_dec_ds_reset(&u);
            break;
        case 13:
            a = crdt_upd_dec_ds_clock(&u);
            break;
        default:
            a = crdt_upd_dec_ds_len(&u);
            break;
        }
        int err = crdt_upd_dec_err(&u);
        assert(a <= CRDT_MAX_SAFE_INT && b <= CRDT_MAX_SAFE_INT);
        if (before)
            assert(err == before && a == 0 && b == 0);
        if (is_view)
            check_view(s, p, n, err);
    }
    crdt_upd_dec_deinit(&u);
    return 0;
}
