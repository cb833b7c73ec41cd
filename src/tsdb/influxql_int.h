/*
 * influxql_int.h: the lexer shared by the InfluxQL parser's files.
 */
#ifndef SB_TSDB_INFLUXQL_INT_H
#define SB_TSDB_INFLUXQL_INT_H

#include "tsdb/influxql.h"

/* The longest float literal the lexer reads. iql_expr_write prints any
 * finite double in at most 342 bytes ("0.", 323 zeros and the digits of
 * the smallest denormals), so every printed query parses again. */
#define IQL_NUMBER_MAX 400

typedef enum iql_tok {
    IQL_T_EOF,
    IQL_T_ILLEGAL, /* an unterminated string, a bad escape, ... (text says) */
    IQL_T_IDENT,   /* value: the name, unescaped if it was quoted */
    IQL_T_KEYWORD, /* an unquoted identifier that is a keyword; kw set */
    IQL_T_STRING,  /* value: unescaped */
    IQL_T_INTEGER,
    IQL_T_NUMBER,
    IQL_T_DURATION,
    IQL_T_REGEX, /* value: the pattern */
    IQL_T_TRUE,
    IQL_T_FALSE,
    /* punctuation and operators */
    IQL_T_LPAREN,
    IQL_T_RPAREN,
    IQL_T_COMMA,
    IQL_T_SEMICOLON,
    IQL_T_DOT,
    IQL_T_DOUBLECOLON,
    IQL_T_OP, /* op set */
} iql_tok;

typedef enum iql_kw {
    IQL_KW_NONE,
    IQL_KW_AND,
    IQL_KW_AS,
    IQL_KW_ASC,
    IQL_KW_BY,
    IQL_KW_CREATE,
    IQL_KW_DATABASE,
    IQL_KW_DATABASES,
    IQL_KW_DESC,
    IQL_KW_DISTINCT,
    IQL_KW_DROP,
    IQL_KW_FIELD,
    IQL_KW_FROM,
    IQL_KW_GROUP,
    IQL_KW_IN,
    IQL_KW_INTO,
    IQL_KW_KEY,
    IQL_KW_KEYS,
    IQL_KW_LIMIT,
    IQL_KW_MEASUREMENT,
    IQL_KW_MEASUREMENTS,
    IQL_KW_OFFSET,
    IQL_KW_ON,
    IQL_KW_OR,
    IQL_KW_ORDER,
    IQL_KW_POLICIES,
    IQL_KW_RETENTION,
    IQL_KW_SELECT,
    IQL_KW_SERIES,
    IQL_KW_SHOW,
    IQL_KW_SLIMIT,
    IQL_KW_SOFFSET,
    IQL_KW_TAG,
    IQL_KW_VALUES,
    IQL_KW_WHERE,
    IQL_KW_WITH,
    IQL_KW_OTHER, /* a keyword of InfluxQL that nothing here uses */
} iql_kw;

typedef struct iql_token {
    iql_tok tok;
    iql_kw kw;
    iql_op op;
    sb_str text;         /* as written */
    sb_str value;        /* IDENT, STRING, REGEX: unescaped (maybe in the arena) */
    int64_t i;           /* INTEGER, DURATION (ns) */
    double f;            /* NUMBER */
    size_t pos;          /* byte offset of its first byte */
    const char *illegal; /* ILLEGAL: why */
} iql_token;

typedef struct iql_lexer {
    sb_str src;
    size_t pos;
    sb_arena *arena;
} iql_lexer;

/* The next token. regex_ok: a '/' starts a regex (where an operand is
 * expected) rather than being the division operator. */
iql_token iql_lex(iql_lexer *l, bool regex_ok);

/* Whether name (unquoted) must be quoted to print as an identifier. */
bool iql_needs_quotes(sb_str name);

#endif
