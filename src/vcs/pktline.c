/*
 * pktline.c: the request of git's smart upload-pack over HTTP (Documentation/
 * gitprotocol-pack.txt, gitprotocol-http.txt; protocol version 0/1): pkt-
 * lines of four hex digits of length (the four included) and a payload,
 * "0000" a flush.
 *
 *     want <oid>[ <capabilities>]\n   (one or more)
 *     [shallow ...] [deepen ...]       refused: no shallow clones
 *     0000
 *     have <oid>\n                     (zero or more)
 *     [done\n]
 *
 * The bytes are a client's: every length is checked against what is left,
 * counts against VCS_UPLOAD_*_MAX, and any line we do not understand makes
 * the request invalid.
 */
#include <string.h>

#include "vcs/vcs_int.h"

/* 40 lower-case hex digits (as git writes ids) into 20 bytes. */
static bool oid_parse(const char *p, size_t n, unsigned char out[20])
{
    if (n < 40 || !vcs__oid_hex_ok(sb_str_make(p, 40)))
        return false;
    for (size_t i = 0; i < 20; i++)
        out[i] = (unsigned char)(sb_hex_digit(p[2 * i]) << 4 | sb_hex_digit(p[2 * i + 1]));
    return n == 40 || p[40] == ' ' || p[40] == '\n';
}

static bool fail(char *err, size_t cap, const char *why)
{
    snprintf(err, cap, "%s", why);
    return false;
}

bool vcs_upload_parse(const void *body, size_t len, vcs_upload_request *out, char *err, size_t cap)
{
    memset(out, 0, sizeof(*out));
    const char *p = body;
    size_t at = 0;
    bool in_haves = false;
    while (at < len) {
        if (len - at < 4)
            return fail(err, cap, "a pkt-line is cut short");
        int n = 0;
        for (int i = 0; i < 4; i++) {
            int v = sb_hex_digit((unsigned char)p[at + i]);
            if (v < 0)
                return fail(err, cap, "a pkt-line length is not hex");
            n = n * 16 + v;
        }
        if (n == 0) { /* flush: the wants end */
            if (out->nwants == 0)
                return fail(err, cap, "no want");
            in_haves = true;
            at += 4;
            continue;
        }
        if (n < 4 || (size_t)n > len - at)
            return fail(err, cap, "a pkt-line length is out of range");
        const char *line = p + at + 4;
        size_t ln = (size_t)n - 4;
        at += (size_t)n;
        if (ln > 0 && line[ln - 1] == '\n')
            ln--;
        if (!in_haves && ln >= 5 && memcmp(line, "want ", 5) == 0) {
            if (out->nwants == VCS_UPLOAD_WANTS_MAX)
                return fail(err, cap, "too many wants");
            if (!oid_parse(line + 5, ln - 5, out->wants[out->nwants]))
                return fail(err, cap, "a want is not an object id");
            out->nwants++;
        } else if (in_haves && ln >= 5 && memcmp(line, "have ", 5) == 0) {
            if (out->nhaves == VCS_UPLOAD_HAVES_MAX)
                return fail(err, cap, "too many haves");
            if (!oid_parse(line + 5, ln - 5, out->haves[out->nhaves]))
                return fail(err, cap, "a have is not an object id");
            out->nhaves++;
        } else if (in_haves && ln == 4 && memcmp(line, "done", 4) == 0) {
            out->done = true;
            if (at != len)
                return fail(err, cap, "bytes after done");
        } else {
            return fail(err, cap,
                        "a line upload-pack does not take (shallow clones are not "
                        "served)");
        }
    }
    if (out->nwants == 0)
        return fail(err, cap, "no want");
    return true;
}
