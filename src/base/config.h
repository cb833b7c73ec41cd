/*
 * config.h: Sitebase's settings, from four layers, each overriding the one
 * before: built-in defaults, a config file, SITEBASE_* environment variables,
 * command-line flags. Every key is described once in config.c's table
 * (name, type, bounds, help), so the file syntax, the environment names
 * (SITEBASE_ + upper-case key), the flags (--key) and the docs cannot drift.
 *
 * The file holds `key = value` lines; '#' starts a comment; values may be
 * double-quoted. Sizes take K/M/G suffixes (binary: 1K = 1024); durations
 * take ms, s, m, h or d (a bare number is milliseconds).
 *
 * Errors name the key, the value's source and the rule it broke, e.g.
 *   "threads: must be between 0 and 256, got 999 (from SITEBASE_THREADS)".
 */
#ifndef SB_BASE_CONFIG_H
#define SB_BASE_CONFIG_H

#include "base/common.h"

typedef struct sb_config {
    char *listen;                /* "host:port" or "[v6]:port"; default 127.0.0.1:8080 */
    char *data_dir;              /* key "data"; default "./data" */
    char *db;                    /* key "db"; "" = SQLite in data_dir, or postgres://... */
    char *bus;                   /* mem:// (one node) or redis://host:port/db (several) */
    int threads;                 /* event-loop threads; 0 = one per core */
    int workers;                 /* blocking-work pool threads; default 4 */
    char *log_level;             /* debug|info|warn|error; default info */
    char *log_format;            /* json|pretty|auto (pretty on a terminal); default auto */
    size_t max_json_body;        /* default 1 MiB */
    size_t max_upload_body;      /* default 50 MiB */
    int history_snapshot_every;  /* events between event-log snapshots; default 100 */
    int64_t request_timeout_ms;  /* header read / idle keep-alive; default 10 s */
    int64_t shutdown_timeout_ms; /* graceful drain deadline; default 10 s */
    char *tls_cert;              /* PEM chain; with tls_key enables HTTPS + HTTP/2 */
    char *tls_key;
    char *cors_origins;              /* comma-separated origins, "*" or "" (none) */
    size_t ws_max_message;           /* largest WebSocket message accepted; default 1 MiB */
    size_t ws_max_queue;             /* bytes queued to one slow WebSocket before it is closed */
    bool access_log;                 /* one log line per request; default true */
    int64_t access_token_ttl_ms;     /* default 15 min */
    int64_t refresh_token_ttl_ms;    /* default 30 days */
    int64_t refresh_reuse_window_ms; /* default 10 s */
    size_t argon2_memory;            /* bytes; default 19 MiB */
    int argon2_iterations;           /* default 2 */
    int argon2_parallelism;          /* default 1 */
    char *public_url;                /* base of links in mail; "" = http://<listen> */
    char *smtp_url;                  /* smtp[s]://host:port of the relay; "" = no mail */
    char *smtp_from;                 /* envelope and header sender */
    char *smtp_user;                 /* with smtp_password: AUTH when set */
    char *smtp_password;             /* a secret: never logged or printed */
    bool smtp_starttls;              /* require STARTTLS on smtp:// */
    char *smtp_ca_file;              /* PEM CAs to trust for the relay; "" = system's */
    char *blob_store;                /* asset bytes: "" / "fs" / "fs:<dir>" / "store" */
    int rate_limit_auth_ip;          /* auth requests a minute per IP; 0 = off */
    int rate_limit_auth_account;     /* sign-in attempts a minute per account; 0 = off */
    int lockout_threshold;           /* failures before a lockout; 0 = off */
    int64_t lockout_base_ms;         /* first lockout; doubles each time */
    int64_t lockout_max_ms;          /* longest lockout */
    int risk_threshold;              /* login risk above this needs a second proof */
    int64_t key_reload_interval_ms;  /* how often serve re-reads signing keys */
    int64_t blob_gc_interval_ms;     /* how often serve collects unreferenced blobs */
    int64_t blob_gc_grace_ms;        /* how long they are kept first */
    char *tsdb;                      /* analytics: "local" or influx://host:port[/prefix] */
    size_t max_write_body;           /* /write body, after gunzip; default 25 MiB */
    int rate_limit_collect;          /* /api/collect requests a minute per site and IP */
    int collab_max_clients;          /* connections to one collaborative document */
    int collab_max_conns_per_user;   /* open collaboration connections of one user */
    size_t collab_max_queue;         /* bytes queued to one collaboration client */
    int64_t collab_evict_grace_ms;   /* an empty room stays in memory this long */
    int collab_compact_after;        /* log rows that trigger a compaction; 0 = never */
    int64_t collab_fold_delay_ms;    /* journal records gather this long before a fold */
    int64_t collab_awareness_timeout_ms; /* awareness states not renewed this long go */
} sb_config;

/* Fills every field with its default (strings are heap copies). */
void sb_config_init(sb_config *c);
void sb_config_deinit(sb_config *c);

/* Sets one key from its text form. source names where it came from, for
 * errors ("sitebase.conf:12", "SITEBASE_THREADS", "--threads"). Returns
 * false with err filled when the key is unknown or the value is invalid;
 * c is then unchanged. */
bool sb_config_set(sb_config *c, const char *key, const char *value, const char *source,
                   sb_errbuf *err);

/* Reads a config file; the first bad line stops it with an error naming
 * file:line. A missing file is an error. */
bool sb_config_load_file(sb_config *c, const char *path, sb_errbuf *err);

/* Applies every SITEBASE_<KEY> that getenv_fn finds (pass getenv, or a fake
 * in tests). SITEBASE_CONFIG is not a key and is ignored here. */
bool sb_config_load_env(sb_config *c, char *(*getenv_fn)(const char *), sb_errbuf *err);

/* Checks cross-key rules (tls_cert needs tls_key, listen parses, ...). */
bool sb_config_validate(const sb_config *c, sb_errbuf *err);

/* Iterates the key table, for --help and docs: returns false past the end. */
bool sb_config_describe(size_t i, const char **key, const char **help, const char **def);

#endif
