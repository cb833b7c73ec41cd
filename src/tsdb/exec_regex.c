/*
 * exec_regex.c: the /regex/ of InfluxQL (=~, !~, FROM /re/, GROUP BY /re/,
 * WITH KEY =~) on PCRE2. InfluxDB uses Go's RE2 syntax; the common subset
 * (classes, anchors, alternation, repetition, (?i)) reads the same in
 * PCRE2. A match is a search anywhere in the subject, as Go's MatchString.
 *
 * Hostile patterns: a query is untrusted input, and backtracking can take
 * exponential time, so every match runs under a match limit and a depth
 * limit; hitting one fails the statement instead of hanging the server.
 * Patterns compile with JIT when the platform has it (the JIT honours the
 * match limit too).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>

#include "tsdb/exec_int.h"

#define EX_REGEX_MATCH_LIMIT 1000000u
#define EX_REGEX_DEPTH_LIMIT 10000u

struct ex_regex {
    pcre2_code *code;
    pcre2_match_data *md;
    pcre2_match_context *mc;
};

ex_regex *ex__regex_new(sb_str pattern, sb_errbuf *err)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern.ptr, pattern.len,
                                     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &off, NULL);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        sb_errf(err, "error parsing regexp: %s at offset %zu", (const char *)msg, (size_t)off);
        return NULL;
    }
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    ex_regex *re = calloc(1, sizeof(*re));
    if (!re)
        abort();
    re->code = code;
    re->md = pcre2_match_data_create_from_pattern(code, NULL);
    re->mc = pcre2_match_context_create(NULL);
    if (!re->md || !re->mc)
        abort();
    pcre2_set_match_limit(re->mc, EX_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(re->mc, EX_REGEX_DEPTH_LIMIT);
    return re;
}

int ex__regex_match(ex_regex *re, sb_str subject)
{
    int rc = pcre2_match(re->code, (PCRE2_SPTR)(subject.ptr ? subject.ptr : ""), subject.len, 0, 0,
                         re->md, re->mc);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    return -1;
}

void ex__regex_free(ex_regex *re)
{
    if (!re)
        return;
    pcre2_match_context_free(re->mc);
    pcre2_match_data_free(re->md);
    pcre2_code_free(re->code);
    free(re);
}
