/*
 * path.h: the paths of a project's code files ("src/app.js",
 * "styles/main.css"), and what a path's extension says about the file.
 *
 * A path is relative, '/'-separated, case-sensitive UTF-8 naming a file,
 * never a directory. Normalisation collapses repeated '/' and drops "."
 * segments, and refuses everything that could escape the project or be
 * read differently elsewhere: ".." segments, a leading '/', backslashes,
 * NUL and other control bytes, invalid UTF-8. Dotfiles (".env",
 * "a/.gitignore") are ordinary names, and so are "..." and "%2e%2e": URL
 * decoding happens in the router, before a path gets here.
 *
 * Pure functions over untrusted bytes (fuzzed by tests/fuzz/path_fuzz.c):
 * no I/O, no allocation, no globals.
 */
#ifndef SB_PROJECTS_PATH_H
#define SB_PROJECTS_PATH_H

#include "base/common.h"
#include "base/str.h"

#define PROJECTS_PATH_MAX     512 /* bytes, after normalisation */
#define PROJECTS_SEGMENT_MAX  255 /* bytes in one segment */
#define PROJECTS_PATH_OUT_CAP (PROJECTS_PATH_MAX + 1)

#define PROJECTS_PATH_ERRNO_MAP(X)                                                                 \
    X(OK, "ok")                                                                                    \
    X(EMPTY, "the path is empty")                                                                  \
    X(TOO_LONG, "the path is longer than 512 bytes")                                               \
    X(SEGMENT_TOO_LONG, "a path segment is longer than 255 bytes")                                 \
    X(ABSOLUTE, "the path must be relative (no leading '/')")                                      \
    X(DOT_DOT, "'..' segments are not allowed")                                                    \
    X(NUL, "NUL bytes are not allowed")                                                            \
    X(CONTROL, "control characters are not allowed")                                               \
    X(BACKSLASH, "backslashes are not allowed; use '/'")                                           \
    X(BAD_UTF8, "the path is not valid UTF-8")                                                     \
    X(TRAILING_SLASH, "the path names a directory, not a file")

typedef enum projects_path_err {
#define PROJECTS_PATH__ENUM(name, message) PROJECTS_PATH_##name,
    PROJECTS_PATH_ERRNO_MAP(PROJECTS_PATH__ENUM)
#undef PROJECTS_PATH__ENUM
} projects_path_err;

/* A message for e, fit for a client; "unknown error" for values outside
 * the enum. */
const char *projects_path_strerror(projects_path_err e);

/* Normalises in into out (cap >= PROJECTS_PATH_OUT_CAP bytes, asserted),
 * NUL-terminated, with its length in *out_len. Checks, in this order, and
 * returns the first that fails:
 *   EMPTY           in has no bytes;
 *   NUL, CONTROL, BACKSLASH
 *                   the first such byte (CONTROL: below 0x20, or 0x7f);
 *   BAD_UTF8        not valid UTF-8 (RFC 3629);
 *   ABSOLUTE        a leading '/';
 *   DOT_DOT         a segment that is exactly "..";
 *   SEGMENT_TOO_LONG a segment of more than 255 bytes;
 *   TRAILING_SLASH  the path ends in '/' or its last segment is "." (it
 *                   names a directory: "a/", "a/.", ".");
 *   TOO_LONG        more than 512 bytes once normalised.
 * Empty segments ("a//b") and "." segments ("./a", "a/./b") are dropped;
 * nothing else changes (case, Unicode form, spaces are kept). Normalising a
 * normal path gives the same path. On failure out and *out_len are left
 * untouched. */
projects_path_err projects_path_normalize(sb_str in, char *out, size_t cap, size_t *out_len);

/* The language of a file, for the editor, from its extension (the last
 * segment's text after its last '.', any case): "javascript" (js mjs cjs
 * jsx), "typescript" (ts tsx), "css", "scss", "html" (html htm), "json",
 * "markdown" (md markdown), "svg", "xml", "yaml" (yaml yml), "python" (py),
 * "vue", "svelte", and "text" for txt and everything else (no extension,
 * dotfiles such as ".env"). A static string. */
const char *projects_path_language(sb_str path);

/* The Content-Type to serve a file with, from its extension as above. Only
 * .html and .htm are served as text/html; types a browser cannot run
 * directly (ts, tsx, jsx, scss, vue, svelte, yaml, python) and unknown
 * extensions are text/plain. Textual types carry "; charset=utf-8". Beware
 * that SVG and XML documents can carry script when opened as a page: serve
 * user files from a sandboxed origin (or with CSP sandbox) and with
 * X-Content-Type-Options: nosniff. A static string. */
const char *projects_path_content_type(sb_str path);

#endif
