/*
 * config.c: the table of every setting, and the four layers that fill it.
 * Defaults go through the same setter as user values, so a default that
 * broke its own rule would fail every start, not slip through.
 */
#include "base/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/str.h"

typedef enum { T_STRING, T_INT, T_SIZE, T_DURATION, T_BOOL } key_type;

typedef struct key_def {
    const char *name;
    key_type type;
    size_t offset;
    int64_t min, max;
    const char *def;
    const char *help;
} key_def;

#define OFF(f) offsetof(sb_config, f)
#define KiB    1024LL
#define MiB    (1024LL * 1024)
#define GiB    (1024LL * 1024 * 1024)

static const key_def keys[] = {
    {"listen", T_STRING, OFF(listen), 0, 0, "127.0.0.1:8080", "address to serve on, host:port"},
    {"data", T_STRING, OFF(data_dir), 0, 0, "./data", "data folder (SQLite file, blobs)"},
    {"db", T_STRING, OFF(db), 0, 0, "", "postgres://... to use PostgreSQL; empty for SQLite"},
    {"bus", T_STRING, OFF(bus), 0, 0, "mem://",
     "message bus between nodes: mem:// (this process) or redis://host:port/db"},
    {"threads", T_INT, OFF(threads), 0, 256, "0", "event-loop threads; 0 = one per core"},
    {"workers", T_INT, OFF(workers), 1, 256, "4", "threads for blocking work"},
    {"log_level", T_STRING, OFF(log_level), 0, 0, "info", "debug, info, warn or error"},
    {"log_format", T_STRING, OFF(log_format), 0, 0, "auto", "json, pretty or auto"},
    {"max_json_body", T_SIZE, OFF(max_json_body), 1, 1 * GiB, "1M", "largest JSON body"},
    {"history_snapshot_every", T_INT, OFF(history_snapshot_every), 1, 1000000, "100",
     "events between snapshots of a project's event log"},
    {"max_upload_body", T_SIZE, OFF(max_upload_body), 1, 4 * GiB, "50M", "largest upload"},
    {"request_timeout", T_DURATION, OFF(request_timeout_ms), 100, 3600 * 1000, "10s",
     "time allowed to send a request's head, and keep-alive idle time"},
    {"shutdown_timeout", T_DURATION, OFF(shutdown_timeout_ms), 0, 3600 * 1000, "10s",
     "how long a graceful stop waits for requests in flight"},
    {"tls_cert", T_STRING, OFF(tls_cert), 0, 0, "",
     "PEM certificate chain; enables HTTPS + HTTP/2"},
    {"tls_key", T_STRING, OFF(tls_key), 0, 0, "", "PEM private key for tls_cert"},
    {"cors_origins", T_STRING, OFF(cors_origins), 0, 0, "",
     "origins allowed by CORS, comma-separated, or *"},
    {"ws_max_message", T_SIZE, OFF(ws_max_message), 1, 1 * GiB, "1M", "largest WebSocket message"},
    {"ws_max_queue", T_SIZE, OFF(ws_max_queue), 1, 4 * GiB, "4M",
     "bytes queued to a slow WebSocket or event stream before it is dropped"},
    {"access_log", T_BOOL, OFF(access_log), 0, 1, "true", "log one line per request"},
    {"access_token_ttl", T_DURATION, OFF(access_token_ttl_ms), 10 * 1000, 24 * 3600 * 1000LL, "15m",
     "lifetime of access tokens (JWTs)"},
    {"refresh_token_ttl", T_DURATION, OFF(refresh_token_ttl_ms), 60 * 1000,
     365 * 24 * 3600 * 1000LL, "30d", "lifetime of refresh tokens, renewed on each use"},
    {"refresh_reuse_window", T_DURATION, OFF(refresh_reuse_window_ms), 0, 60 * 1000, "10s",
     "how long a spent refresh token still yields its successor (concurrent tabs)"},
    {"argon2_memory", T_SIZE, OFF(argon2_memory), 8 * KiB, 4 * GiB, "19M",
     "argon2id memory per password hash"},
    {"argon2_iterations", T_INT, OFF(argon2_iterations), 1, 100, "2", "argon2id passes"},
    {"argon2_parallelism", T_INT, OFF(argon2_parallelism), 1, 64, "1", "argon2id lanes"},
    {"public_url", T_STRING, OFF(public_url), 0, 0, "",
     "the server's address as users reach it, for links in mail; empty = http://<listen>"},
    {"smtp_url", T_STRING, OFF(smtp_url), 0, 0, "",
     "mail relay, smtp://host:port or smtps://host:port; empty = no mail is sent"},
    {"smtp_from", T_STRING, OFF(smtp_from), 0, 0, "no-reply@localhost", "sender address of mail"},
    {"smtp_user", T_STRING, OFF(smtp_user), 0, 0, "", "SMTP AUTH user; empty = no AUTH"},
    {"smtp_password", T_STRING, OFF(smtp_password), 0, 0, "",
     "SMTP AUTH password (secret: prefer SITEBASE_SMTP_PASSWORD)"},
    {"smtp_starttls", T_BOOL, OFF(smtp_starttls), 0, 1, "false",
     "require STARTTLS on an smtp:// relay"},
    {"smtp_ca_file", T_STRING, OFF(smtp_ca_file), 0, 0, "",
     "PEM file of CAs to trust for the relay's certificate; empty = the system's"},
    {"blob_store", T_STRING, OFF(blob_store), 0, 0, "",
     "where asset bytes live: fs (<data>/blobs), fs:<dir>, or store (the database)"},
    {"rate_limit_auth_ip", T_INT, OFF(rate_limit_auth_ip), 0, 1000000, "60",
     "auth requests a minute from one IP (burst the same); 0 = no limit"},
    {"rate_limit_auth_account", T_INT, OFF(rate_limit_auth_account), 0, 1000000, "10",
     "sign-in and magic-link requests a minute for one email; 0 = no limit"},
    {"lockout_threshold", T_INT, OFF(lockout_threshold), 0, 1000, "5",
     "failed sign-ins in a row before an account is locked; 0 = never"},
    {"lockout_base", T_DURATION, OFF(lockout_base_ms), 1000, 24 * 3600 * 1000LL, "30s",
     "first lockout; each further failure doubles it"},
    {"lockout_max", T_DURATION, OFF(lockout_max_ms), 1000, 30 * 24 * 3600 * 1000LL, "1h",
     "longest lockout"},
    {"risk_threshold", T_INT, OFF(risk_threshold), 0, 100, "50",
     "sign-in risk score (0-100) above which a second proof is demanded"},
    {"key_reload_interval", T_DURATION, OFF(key_reload_interval_ms), 1000, 3600 * 1000, "30s",
     "how often a server re-reads its signing keys (picks up `sitebase keys rotate`)"},
    {"blob_gc_interval", T_DURATION, OFF(blob_gc_interval_ms), 1000, 7 * 24 * 3600 * 1000LL, "1h",
     "how often a server removes blobs nothing references"},
    {"blob_gc_grace", T_DURATION, OFF(blob_gc_grace_ms), 1000, 30 * 24 * 3600 * 1000LL, "1h",
     "how long an unreferenced blob is kept first (longer than any upload takes)"},
    {"tsdb", T_STRING, OFF(tsdb), 0, 0, "local",
     "where analytics series live: local (the data folder) or influx://host:port[/prefix]"},
    {"max_write_body", T_SIZE, OFF(max_write_body), 1, 1 * GiB, "25M",
     "largest /write body (line protocol, after gunzip)"},
    {"rate_limit_collect", T_INT, OFF(rate_limit_collect), 0, 1000000, "600",
     "/api/collect beacons a minute from one IP to one site (burst the same); 0 = no limit"},
    {"collab_max_clients", T_INT, OFF(collab_max_clients), 1, 100000, "500",
     "connections to one collaborative document"},
    {"collab_max_conns_per_user", T_INT, OFF(collab_max_conns_per_user), 1, 100000, "20",
     "open collaboration connections of one user"},
    {"collab_max_queue", T_SIZE, OFF(collab_max_queue), 1024, 4 * GiB, "4M",
     "bytes waiting to go to one collaboration client before it is disconnected"},
    {"collab_evict_grace", T_DURATION, OFF(collab_evict_grace_ms), 0, 24 * 3600 * 1000LL, "30s",
     "how long a document stays in memory after its last client left"},
    {"collab_compact_after", T_INT, OFF(collab_compact_after), 0, 1000000, "200",
     "logged updates of a document before they are folded into its state (also: the log holds half "
     "the state's bytes); 0 = never"},
    {"collab_fold_delay", T_DURATION, OFF(collab_fold_delay_ms), 0, 60 * 1000, "50ms",
     "how long accepted updates gather in the collaboration journal before they are folded "
     "into the database (they are durable in the journal meanwhile); 0 = at once"},
    {"collab_awareness_timeout", T_DURATION, OFF(collab_awareness_timeout_ms), 1000, 3600 * 1000,
     "30s", "awareness states (cursors) not renewed this long are removed (y-protocols: 30 s)"},
};

static const key_def *find_key(const char *name)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(keys); i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* Digits then an optional unit from units[] (name, multiplier), e.g. "1M". */
typedef struct unit {
    const char *name;
    int64_t mult;
} unit;

static const unit size_units[] = {{"", 1},     {"K", KiB},   {"KB", KiB},  {"KiB", KiB},
                                  {"M", MiB},  {"MB", MiB},  {"MiB", MiB}, {"G", GiB},
                                  {"GB", GiB}, {"GiB", GiB}, {NULL, 0}};
static const unit duration_units[] = {{"", 1},        {"ms", 1},       {"s", 1000}, {"m", 60000},
                                      {"h", 3600000}, {"d", 86400000}, {NULL, 0}};

static bool parse_units(const char *v, const unit *units, int64_t *out)
{
    size_t n = 0;
    while (v[n] >= '0' && v[n] <= '9')
        n++;
    int64_t num;
    if (n == 0 || !sb_str_to_i64(sb_str_make(v, n), 0, INT64_MAX, &num))
        return false;
    for (const unit *u = units; u->name; u++) {
        if (strcmp(v + n, u->name) == 0) {
            if (num > INT64_MAX / u->mult)
                return false;
            *out = num * u->mult;
            return true;
        }
    }
    return false;
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcmp(v, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

bool sb_config_set(sb_config *c, const char *key, const char *value, const char *source,
                   sb_errbuf *err)
{
    const key_def *k = find_key(key);
    if (!k)
        return sb_errf(err, "unknown key '%s' (from %s)", key, source);
    void *field = (char *)c + k->offset;
    int64_t n;
    bool b;
    switch (k->type) {
    case T_STRING:
        if (strcmp(key, "log_level") == 0) {
            sb_log_level l;
            if (!sb_log_level_parse(value, &l))
                return sb_errf(err,
                               "log_level: must be debug, info, warn or error, got '%s' (from %s)",
                               value, source);
        } else if (strcmp(key, "log_format") == 0) {
            sb_log_format f;
            if (strcmp(value, "auto") != 0 && !sb_log_format_parse(value, &f))
                return sb_errf(err, "log_format: must be json, pretty or auto, got '%s' (from %s)",
                               value, source);
        }
        free(*(char **)field);
        *(char **)field = sb_strdup(value);
        return true;
    case T_INT:
        if (!sb_str_to_i64(sb_str_c(value), INT64_MIN, INT64_MAX, &n) || n < k->min || n > k->max)
            return sb_errf(err, "%s: must be between %lld and %lld, got %s (from %s)", key,
                           (long long)k->min, (long long)k->max, value, source);
        *(int *)field = (int)n;
        return true;
    case T_SIZE:
        if (!parse_units(value, size_units, &n) || n < k->min || n > k->max)
            return sb_errf(err,
                           "%s: must be a size like 512K, 1M or 2G between %lld and %lld bytes, "
                           "got '%s' (from %s)",
                           key, (long long)k->min, (long long)k->max, value, source);
        *(size_t *)field = (size_t)n;
        return true;
    case T_DURATION:
        if (!parse_units(value, duration_units, &n) || n < k->min || n > k->max)
            return sb_errf(err,
                           "%s: must be a duration like 500ms, 10s or 30d between %lldms and "
                           "%lldms, got '%s' (from %s)",
                           key, (long long)k->min, (long long)k->max, value, source);
        *(int64_t *)field = n;
        return true;
    case T_BOOL:
        if (!parse_bool(value, &b))
            return sb_errf(err, "%s: must be true or false, got '%s' (from %s)", key, value,
                           source);
        *(bool *)field = b;
        return true;
    }
    return false;
}

void sb_config_init(sb_config *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < SB_ARRAY_LEN(keys); i++) {
        sb_errbuf err;
        if (!sb_config_set(c, keys[i].name, keys[i].def, "defaults", &err))
            sb_die("%s", err.msg);
    }
}

void sb_config_deinit(sb_config *c)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(keys); i++) {
        if (keys[i].type == T_STRING) {
            char **field = (char **)((char *)c + keys[i].offset);
            free(*field);
            *field = NULL;
        }
    }
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

bool sb_config_load_file(sb_config *c, const char *path, sb_errbuf *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return sb_errf(err, "cannot read config file %s: %s", path, strerror(errno));
    char line[4096];
    int lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof(line), f)) {
        lineno++;
        char source[300];
        snprintf(source, sizeof(source), "%s:%d", path, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            ok = sb_errf(err, "line too long (from %s)", source);
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            ok = sb_errf(err, "expected `key = value` (from %s)", source);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (*value == '"') {
            char *end = strrchr(value + 1, '"');
            if (!end) {
                ok = sb_errf(err, "%s: unterminated quote (from %s)", key, source);
                break;
            }
            *end = '\0';
            value++;
        } else {
            /* A comment may follow an unquoted value after a space. */
            char *hash = strstr(value, " #");
            if (hash)
                *hash = '\0';
            value = trim(value);
        }
        ok = sb_config_set(c, key, value, source, err);
    }
    fclose(f);
    return ok;
}

bool sb_config_load_env(sb_config *c, char *(*getenv_fn)(const char *), sb_errbuf *err)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(keys); i++) {
        char name[64] = "SITEBASE_";
        size_t n = strlen(name);
        for (const char *k = keys[i].name; *k && n < sizeof(name) - 1; k++)
            name[n++] = (char)toupper((unsigned char)*k);
        name[n] = '\0';
        const char *v = getenv_fn(name);
        if (v && !sb_config_set(c, keys[i].name, v, name, err))
            return false;
    }
    return true;
}

bool sb_config_validate(const sb_config *c, sb_errbuf *err)
{
    const char *colon = strrchr(c->listen, ':');
    int64_t port;
    if (!colon || colon == c->listen || !sb_str_to_i64(sb_str_c(colon + 1), 0, 65535, &port))
        return sb_errf(err, "listen: must be host:port (or [v6]:port), got '%s'", c->listen);
    if (!c->tls_cert[0] != !c->tls_key[0])
        return sb_errf(err, "tls_cert and tls_key: set both or neither");
    if (!c->data_dir[0])
        return sb_errf(err, "data: must not be empty");
    if (c->db[0] && strncmp(c->db, "postgres://", 11) != 0 &&
        strncmp(c->db, "postgresql://", 13) != 0 && strncmp(c->db, "sqlite:", 7) != 0)
        return sb_errf(err, "db: must be empty (SQLite in the data folder), sqlite:<path> or a "
                            "postgres:// URL");
    /* The bus parses the rest of its URL when it opens (bus_open). */
    if (strcmp(c->bus, "mem://") != 0 && strncmp(c->bus, "redis://", 8) != 0)
        return sb_errf(err, "bus: must be mem:// or redis://host:port/db, got '%s'", c->bus);
    if (c->smtp_url[0] && strncmp(c->smtp_url, "smtp://", 7) != 0 &&
        strncmp(c->smtp_url, "smtps://", 8) != 0)
        return sb_errf(err, "smtp_url: must be smtp://host:port or smtps://host:port, got '%s'",
                       c->smtp_url);
    if (c->public_url[0] && strncmp(c->public_url, "http://", 7) != 0 &&
        strncmp(c->public_url, "https://", 8) != 0)
        return sb_errf(err, "public_url: must start with http:// or https://, got '%s'",
                       c->public_url);
    if (!c->smtp_user[0] != !c->smtp_password[0])
        return sb_errf(err, "smtp_user and smtp_password: set both or neither");
    if (c->lockout_max_ms < c->lockout_base_ms)
        return sb_errf(err, "lockout_max: must not be shorter than lockout_base");
    return true;
}

bool sb_config_describe(size_t i, const char **key, const char **help, const char **def)
{
    if (i >= SB_ARRAY_LEN(keys))
        return false;
    *key = keys[i].name;
    *help = keys[i].help;
    *def = keys[i].def;
    return true;
}
