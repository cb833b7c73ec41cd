/*
 * crdt_transcript.h: replaying transcripts recorded from the yjs npm package
 * (the .txt files of tests/crdt/vectors) through the engine's line protocol (yproto.h)
 * for the CRDT unit tests:
 *
 *   # case name        starts a case
 *   > command          a line for the engine
 *   < answer           what Yjs answered to it
 *
 * Include once per test program, after cmocka_prelude.h and yproto.h.
 */
#ifndef SB_TESTS_CRDT_TRANSCRIPT_H
#define SB_TESTS_CRDT_TRANSCRIPT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A file below SITEBASE_SOURCE_DIR (ctest sets it), NUL-terminated. */
static char *vec_read_file(const char *rel, size_t *n)
{
    const char *root = getenv("SITEBASE_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", root ? root : ".", rel);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    buf[len] = 0;
    fclose(f);
    *n = (size_t)len;
    return buf;
}

typedef struct vec_stats {
    int cases;   /* "#" lines */
    int bad;     /* cases with at least one answer that differs */
    int counted; /* commands starting with the caller's prefix */
    int refused; /* answers "err" (loose mode) */
} vec_stats;

/* Replays rel. loose: an answer "err" matches any "err ..." (the error's
 * text is not part of the contract); else answers must be equal. The
 * first difference of each case is printed. */
static vec_stats vec_replay(const char *rel, bool loose, const char *count_prefix)
{
    size_t n;
    char *text = vec_read_file(rel, &n);
    vec_stats st = {0};
    bool case_bad = false;
    char *save = NULL, *cmd = NULL;
    const char *casename = "";
    size_t plen = count_prefix ? strlen(count_prefix) : 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') {
            st.cases++;
            case_bad = false;
            casename = line;
        } else if (line[0] == '>') {
            cmd = line + 2;
            yproto_line(cmd, (ssize_t)strlen(cmd));
            st.counted += plen && strncmp(cmd, count_prefix, plen) == 0;
        } else if (line[0] == '<') {
            const char *want = line + 2, *got = answer.ptr ? answer.ptr : "";
            bool err = loose && strcmp(want, "err") == 0;
            bool same = err ? strncmp(got, "err ", 4) == 0 : strcmp(got, want) == 0;
            st.refused += err;
            if (!same && !case_bad) {
                case_bad = true;
                st.bad++;
                fprintf(stderr, "%s: %.100s\n  want %.200s\n  got  %.200s\n", casename,
                        cmd ? cmd : "", want, got);
            }
        }
    }
    free(text);
    return st;
}

#endif
