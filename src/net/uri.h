/*
 * uri.h: parsing of the request target's path and query string (RFC 3986
 * §3.3, §3.4; application/x-www-form-urlencoded for queries). Pure
 * functions over untrusted bytes, fuzzed by tests/fuzz/uri_fuzz.c.
 *
 * Decoding is strict: a '%' must be followed by two hex digits, a decoded
 * NUL is refused (it would truncate C strings downstream), and a path
 * segment "." or ".." is refused rather than resolved, so a route can never
 * be reached by a path that a proxy or file system reads differently.
 */
#ifndef SB_NET_URI_H
#define SB_NET_URI_H

#include "base/arena.h"
#include "base/str.h"

typedef enum net_uri_err {
    NET_URI_OK = 0,
    NET_URI_BAD_ESCAPE,   /* '%' not followed by two hex digits, or %00 */
    NET_URI_CONTROL,      /* a raw control character (below 0x20, or 0x7f) */
    NET_URI_DOT_SEGMENT,  /* "." or ".." as a segment (also when encoded) */
    NET_URI_NOT_ABSOLUTE, /* the path does not start with '/' */
    NET_URI_TOO_MANY,     /* more segments / pairs than the caller's limit */
} net_uri_err;

const char *net_uri_strerror(net_uri_err e);

/* Percent-decodes in[0..n) into out (which has room for n bytes); with
 * plus_is_space, '+' decodes to ' ' (query strings). *out_len gets the
 * decoded length. */
net_uri_err net_uri_decode(const char *in, size_t n, bool plus_is_space, char *out,
                           size_t *out_len);

/* Splits an absolute path (no query) into raw segments, without decoding:
 * "/a/b/" gives "a", "b", "" (a trailing slash is an empty last segment);
 * "/" gives one empty segment. Empty inner segments ("//") are kept.
 * Dot segments are checked on the decoded form. Returns the count in *n. */
net_uri_err net_uri_split_path(sb_str path, sb_str *segs, size_t max_segs, size_t *n);

typedef struct net_query_pair {
    sb_str key;   /* decoded, in the arena */
    sb_str value; /* decoded, in the arena; empty when the pair has no '=' */
} net_query_pair;

/* Parses "a=1&b=x%20y&c" into decoded pairs allocated from arena. Empty
 * pieces ("a=1&&b=2") are skipped. */
net_uri_err net_uri_parse_query(sb_str query, sb_arena *arena, net_query_pair *pairs,
                                size_t max_pairs, size_t *n);

#endif
