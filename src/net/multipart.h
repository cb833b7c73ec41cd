/*
 * multipart.h: multipart/form-data request bodies (RFC 7578) in the
 * multipart syntax of RFC 2046 §5.1.1, parsed from a fully buffered body.
 *
 * Zero-copy: every string handed out (boundary, names, file names, content
 * types, data) is a view into the caller's content type or body and lives
 * as long as it does. Nothing is decoded: a part's data is its bytes
 * exactly (Content-Transfer-Encoding is ignored, as RFC 7578 §4.7 says
 * senders must not use it), and a quoted name keeps its backslash escapes
 * (net_multipart_unquote removes them).
 *
 * Strictness, so that we never read a body differently from a proxy or a
 * scanner in front of us: a line that starts with the delimiter must be a
 * delimiter line (only spaces and tabs after it) or the close delimiter;
 * header fields may not be folded or carry control bytes; every part needs
 * Content-Disposition: form-data with a name. Leniency: bare LF is accepted
 * wherever CRLF is expected, and a form without fields ("--b--") is fine.
 *
 * Pure functions over untrusted bytes (fuzzed by tests/fuzz/multipart_fuzz.c):
 * no I/O, no allocation, no globals; time linear in the body.
 */
#ifndef SB_NET_MULTIPART_H
#define SB_NET_MULTIPART_H

#include "base/common.h"
#include "base/str.h"

#define NET_MULTIPART_BOUNDARY_MAX 70   /* RFC 2046 §5.1.1 */
#define NET_MULTIPART_HEADER_MAX   8192 /* bytes of one part's header lines */

#define NET_MULTIPART_ERRNO_MAP(X)                                                                 \
    X(OK, "ok")                                                                                    \
    X(NOT_FORM_DATA, "the content type is not multipart/form-data")                                \
    X(NO_BOUNDARY, "the content type has no boundary parameter")                                   \
    X(BAD_BOUNDARY, "the boundary parameter is malformed")                                         \
    X(MALFORMED, "the multipart body is malformed")                                                \
    X(TOO_MANY_PARTS, "the multipart body has too many parts")                                     \
    X(HEADER_TOO_LONG, "the headers of a part are too long")                                       \
    X(NO_END, "the multipart body ends before its closing boundary")

typedef enum net_multipart_err {
#define NET_MULTIPART__ENUM(name, message) NET_MULTIPART_##name,
    NET_MULTIPART_ERRNO_MAP(NET_MULTIPART__ENUM)
#undef NET_MULTIPART__ENUM
} net_multipart_err;

/* A message for e; "unknown error" for values outside the enum. */
const char *net_multipart_strerror(net_multipart_err e);

/* Finds the boundary in a Content-Type value such as
 * `multipart/form-data; boundary="abc def"` (RFC 7231 §3.1.1.1: type and
 * parameter names in any case, OWS around ';', no spaces around '=', the
 * value a token or a quoted string). Other parameters are checked for
 * syntax and ignored. Errors: NOT_FORM_DATA (another media type),
 * NO_BOUNDARY, BAD_BOUNDARY (parameters malformed, the boundary given
 * twice, or not 1 to 70 characters of RFC 2046's bchars with no space at
 * its end). On success *boundary is a view into content_type (inside the
 * quotes, when quoted); on failure it is left untouched. */
net_multipart_err net_multipart_boundary(sb_str content_type, sb_str *boundary);

typedef struct net_part {
    sb_str name;         /* Content-Disposition's name, raw between the quotes */
    sb_str filename;     /* likewise; ptr is NULL when there is no filename
                            parameter, ptr set and len 0 for filename="" */
    sb_str content_type; /* the Content-Type field's value without OWS;
                            ptr NULL when the part has none */
    sb_str data;         /* the part's bytes, without the line break that
                            belongs to the next delimiter */
} net_part;

/* Parses body, whose boundary is `boundary` (as net_multipart_boundary
 * gives it), into parts[0..*nparts), in body order. The preamble before the
 * first delimiter and the epilogue after the close delimiter are ignored.
 * Errors: BAD_BOUNDARY (boundary not 1 to 70 bchars), MALFORMED (no
 * delimiter at all, a bad delimiter line, a header line without ':' or
 * with control bytes, a missing or malformed Content-Disposition: form-data
 * with a name, a repeated Content-Disposition or Content-Type),
 * TOO_MANY_PARTS (more than max_parts), HEADER_TOO_LONG (a part's header
 * lines, with their line breaks, over NET_MULTIPART_HEADER_MAX bytes),
 * NO_END (the body ends inside a part or its headers). On failure *nparts
 * is untouched and parts[] holds unspecified values. */
net_multipart_err net_multipart_parse(sb_str body, sb_str boundary, net_part *parts,
                                      size_t max_parts, size_t *nparts);

/* Writes raw (a name or filename as net_part gives it) into out (room for
 * raw.len bytes) with each backslash escape "\x" replaced by "x"; returns
 * the length written. A lone backslash at the end is kept. */
size_t net_multipart_unquote(sb_str raw, char *out);

#endif
