/*
 * snapshot.c: a state at a sequence number, as stored: one LZ4 frame
 * (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md) of the
 * state's canonical JSON text, with the content size and a content
 * checksum in the frame.
 *
 * The decoder takes bytes from the database, which a bug, a disk or a
 * person may have damaged, so it trusts nothing: the frame must declare
 * its size, that size must be within the caller's limit before anything
 * is allocated, the frame must end exactly at the end of the input and
 * produce exactly the declared size, and the text must be a state.
 */
#include <lz4frame.h>
#include <string.h>

#include "history/history_int.h"

json_t *history__parse(const char *text, size_t len)
{
    json_error_t e;
    return json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
}

void history_snapshot_encode(const json_t *state, sb_buf *out)
{
    sb_buf text = SB_BUF_INIT;
    history_state_text(state, &text);
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof(prefs));
    prefs.frameInfo.contentSize = text.len;
    prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    prefs.frameInfo.blockMode = LZ4F_blockLinked;
    size_t bound = LZ4F_compressFrameBound(text.len, &prefs);
    sb_buf_reserve(out, bound);
    size_t n =
        LZ4F_compressFrame(out->ptr + out->len, bound, text.ptr ? text.ptr : "", text.len, &prefs);
    /* Only a destination too small fails, and bound is the library's. */
    if (LZ4F_isError(n))
        sb_die("LZ4 compression failed: %s", LZ4F_getErrorName(n));
    out->len += n;
    sb_buf_free(&text);
}

history_err history_snapshot_decode(const void *p, size_t n, size_t max, json_t **state)
{
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        sb_die("out of memory making an LZ4 decoder");
    history_err r = HISTORY_CORRUPT;
    char *text = NULL;
    LZ4F_frameInfo_t info;
    size_t used = n;
    size_t hint = LZ4F_getFrameInfo(dctx, &info, p, &used);
    /* A frame header read whole (hint 0 would mean the frame is empty of
     * blocks, which a non-empty text never is). */
    if (LZ4F_isError(hint) || hint == 0 || used > n)
        goto out;
    if (info.contentSize == 0 || info.frameType != LZ4F_frame)
        goto out;
    if (info.contentSize > max) {
        r = HISTORY_TOO_LARGE;
        goto out;
    }
    size_t size = (size_t)info.contentSize;
    text = sb_malloc(size);
    const char *in = (const char *)p + used;
    size_t in_left = n - used, out_at = 0;
    for (;;) {
        size_t dst = size - out_at, src = in_left;
        size_t ret = LZ4F_decompress(dctx, text + out_at, &dst, in, &src, NULL);
        if (LZ4F_isError(ret))
            goto out;
        out_at += dst;
        in += src;
        in_left -= src;
        if (ret == 0)
            break; /* the frame is complete (and its checksum verified) */
        /* More input is wanted but there is none, or no progress at all. */
        if (in_left == 0 || (src == 0 && dst == 0))
            goto out;
    }
    if (in_left != 0 || out_at != size)
        goto out;
    json_t *s = history__parse(text, size);
    if (!s)
        goto out;
    if (!history_state_check(s)) {
        json_decref(s);
        goto out;
    }
    *state = s;
    r = HISTORY_OK;
out:
    free(text);
    LZ4F_freeDecompressionContext(dctx);
    return r;
}
