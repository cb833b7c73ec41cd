/*
 * history_fixture.h: what the history/ unit tests share: JSON from test
 * text and the canonical text of a state, for exact comparisons. Included
 * once per test program; the functions are inline so that a program that
 * uses one of them builds without warnings.
 */
#ifndef SB_TESTS_HISTORY_FIXTURE_H
#define SB_TESTS_HISTORY_FIXTURE_H

#include <jansson.h>

#include "history/history.h"

/* The JSON value of text (any value, not only objects); a bad text fails
 * the test. */
static inline json_t *fixture_json(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return v;
}

/* The canonical text of state (history_state_text), NUL-terminated; the
 * caller frees it. */
static inline char *fixture_state_text(const json_t *state)
{
    sb_buf b = SB_BUF_INIT;
    history_state_text(state, &b);
    sb_buf_putc(&b, 0);
    return b.ptr;
}

#endif
