/*
 * err.h: the error codes of the tsdb engine, one table so that the enum and
 * the messages cannot drift (libuv's UV_ERRNO_MAP). 0 is success. Detail
 * (which line, which limit) travels in an sb_errbuf beside the code.
 */
#ifndef SB_TSDB_ERR_H
#define SB_TSDB_ERR_H

#define TSDB_ERR_MAP(X)                                                                            \
    X(OK, "ok")                                                                                    \
    X(CORRUPT, "corrupt block")                                                                    \
    X(CHECKSUM, "block checksum mismatch")                                                         \
    X(UNSORTED, "timestamps not strictly increasing")                                              \
    X(LIMIT, "size limit exceeded")                                                                \
    X(TYPE, "unknown value type")                                                                  \
    X(SYNTAX, "unable to parse")                                                                   \
    X(RANGE, "value out of range")                                                                 \
    X(UNWRITABLE, "not representable in line protocol")                                            \
    X(IO, "I/O error")                                                                             \
    X(NODB, "database not found")                                                                  \
    X(CONFLICT, "field type conflict")                                                             \
    X(RETENTION, "points beyond retention policy")                                                 \
    X(NAME, "invalid name")                                                                        \
    X(BUSY, "would block")

typedef enum tsdb_err {
#define TSDB__ERR_ENUM(name, msg) TSDB_E_##name,
    TSDB_ERR_MAP(TSDB__ERR_ENUM)
#undef TSDB__ERR_ENUM
} tsdb_err;

/* The fixed message of a code ("corrupt block"); never NULL. */
const char *tsdb_err_str(tsdb_err e);

#endif
