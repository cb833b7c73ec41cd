/*
 * user.c (cli): `sitebase user create|list|disable|enable|reset-mfa`, the
 * printing side of identity/admin.c.
 *
 * Passwords are read from standard input, never from the arguments, so
 * they stay out of `ps` and shell history; they are wiped after use and
 * never printed. Results go to stdout, messages and logs to stderr. Exit
 * status: 0 done, 1 refused or failed (the message says why), 2 usage.
 */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/vec.h"
#include "cli/cli.h"

#define USAGE                                                                                      \
    "create --email EMAIL [--username NAME]   (password on standard input)\n"                      \
    "       sitebase user create EMAIL [NAME]\n"                                                   \
    "       sitebase user list [--json]\n"                                                         \
    "       sitebase user disable|enable|reset-mfa EMAIL-OR-ID\n"                                  \
    "       [--config FILE] [--data DIR] [--db URL]"

#define PASSWORD_MAX 1024 /* crypto_password_check's limit */

/* The command's own arguments, sorted out of argv. */
typedef struct args {
    const char *email, *username; /* --email / --username */
    const char *pos[3];           /* positional arguments */
    int npos;
    char **rest; /* what cli_config reads */
    int nrest;
} args;

static identity_client operator_client(void)
{
    return (identity_client){.ip = NULL, .user_agent = "sitebase-cli", .now_us = sb_wall_us()};
}

/* Takes --email/--username out and keeps positional arguments apart from
 * configuration options, which cli_config reads as --key VALUE or
 * --key=VALUE (--json and --help stand alone). Returns false on a usage
 * error, printed. */
static bool parse_args(const char *command, int argc, char **argv, args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char **own = strncmp(arg, "--email", 7) == 0       ? &a->email
                           : strncmp(arg, "--username", 10) == 0 ? &a->username
                                                                 : NULL;
        size_t nlen = own == &a->email ? 7 : 10;
        if (own && (arg[nlen] == '\0' || arg[nlen] == '=')) {
            if (arg[nlen] == '=') {
                *own = arg + nlen + 1;
            } else if (i + 1 < argc) {
                *own = argv[++i];
            } else {
                fprintf(stderr, "sitebase %s: %s needs a value\n", command, arg);
                return false;
            }
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            if (a->npos == (int)SB_ARRAY_LEN(a->pos)) {
                fprintf(stderr, "sitebase %s: unexpected argument '%s' (see --help)\n", command,
                        arg);
                return false;
            }
            a->pos[a->npos++] = arg;
            continue;
        }
        a->rest[a->nrest++] = argv[i];
        bool alone = strchr(arg, '=') || strcmp(arg, "--json") == 0 || strcmp(arg, "--help") == 0;
        if (!alone && i + 1 < argc)
            a->rest[a->nrest++] = argv[++i];
    }
    return true;
}

/* One line of standard input without its line end, at most PASSWORD_MAX
 * bytes; false at EOF or when longer. On a terminal it asks, without echo. */
static bool read_password(char buf[PASSWORD_MAX + 2], size_t *len)
{
    struct termios saved, quiet;
    bool tty = isatty(0) && tcgetattr(0, &saved) == 0;
    if (tty) {
        fprintf(stderr, "Password: ");
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(0, TCSAFLUSH, &quiet);
    }
    bool ok = fgets(buf, PASSWORD_MAX + 2, stdin) != NULL;
    if (tty) {
        tcsetattr(0, TCSAFLUSH, &saved);
        fprintf(stderr, "\n");
    }
    if (!ok)
        return false;
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    else if (n > PASSWORD_MAX)
        return false; /* the line goes on */
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *len = n;
    return true;
}

static int create(identity *id, store *db, const args *a)
{
    const char *email = a->email ? a->email : a->npos > 0 ? a->pos[0] : NULL;
    const char *username = a->username ? a->username : a->npos > 1 ? a->pos[1] : "";
    int used = (a->email ? 0 : a->npos > 0) + (a->username ? 0 : a->npos > 1);
    if (!email || !email[0] || used != a->npos) {
        fprintf(stderr, "sitebase user create: %s\n",
                !email || !email[0] ? "give the account's email: --email EMAIL"
                                    : "too many arguments (see --help)");
        return 2;
    }
    char pw[PASSWORD_MAX + 2];
    size_t pwlen = 0;
    if (!read_password(pw, &pwlen)) {
        sb_secure_zero(pw, sizeof(pw));
        fprintf(stderr, "sitebase user create: give the password on standard input (one line, "
                        "at most 1024 bytes)\n");
        return 2;
    }
    identity_client c = operator_client();
    identity_user u;
    identity_problem p = {0};
    identity_err e = identity_admin_create(id, db, sb_str_c(email), sb_str_make(pw, pwlen),
                                           sb_str_c(username), &c, &u, &p);
    sb_secure_zero(pw, sizeof(pw));
    if (e != IDENTITY_OK) {
        if ((e == IDENTITY_INVALID || e == IDENTITY_WEAK_PASSWORD) && p.field)
            fprintf(stderr, "sitebase user create: %s: %s %s\n", identity_err_title(e), p.field,
                    p.message);
        else
            fprintf(stderr, "sitebase user create: %s\n", identity_err_title(e));
        return 1;
    }
    printf("created %s %s\n", u.id, u.email);
    identity_user_clear(&u);
    return 0;
}

typedef SB_VEC(identity_user) user_vec;

static void collect(void *ctx, const identity_user *u)
{
    user_vec *v = ctx;
    identity_user copy = *u;
    copy.email = sb_strdup(u->email);
    copy.username = u->username ? sb_strdup(u->username) : NULL;
    copy.status = sb_strdup(u->status);
    copy.subscription_tier = NULL;
    copy.profile = NULL;
    sb_vec_push(v, copy);
}

static void print_json(const identity_user *u)
{
    char when[SB_RFC3339_LEN];
    sb_buf b = SB_BUF_INIT;
    sb_jw w;
    sb_jw_init(&w, &b);
    sb_jw_obj_begin(&w);
    sb_jw_kv_str(&w, "id", u->id);
    sb_jw_kv_str(&w, "email", u->email);
    sb_jw_kv_str(&w, "username", u->username);
    sb_jw_kv_str(&w, "status", u->status);
    sb_jw_kv_bool(&w, "mfa_enabled", u->mfa_enabled);
    sb_jw_kv_str(&w, "created_at", sb_rfc3339(u->created_at, when));
    sb_jw_obj_end(&w);
    printf("%.*s\n", (int)b.len, b.ptr);
    sb_buf_free(&b);
}

/* Aligned columns under a header; emails and usernames set the widths. */
static void print_table(const user_vec *v)
{
    int we = (int)strlen("EMAIL"), wu = (int)strlen("USERNAME");
    for (size_t i = 0; i < v->len; i++) {
        int e = (int)strlen(v->items[i].email);
        int u = v->items[i].username ? (int)strlen(v->items[i].username) : 1;
        we = e > we ? e : we;
        wu = u > wu ? u : wu;
    }
    printf("%-36s  %-*s  %-*s  %-8s  %-3s  %s\n", "ID", we, "EMAIL", wu, "USERNAME", "STATUS",
           "MFA", "CREATED");
    for (size_t i = 0; i < v->len; i++) {
        const identity_user *u = &v->items[i];
        char when[SB_RFC3339_LEN];
        printf("%-36s  %-*s  %-*s  %-8s  %-3s  %s\n", u->id, we, u->email, wu,
               u->username ? u->username : "-", u->status, u->mfa_enabled ? "on" : "off",
               sb_rfc3339(u->created_at, when));
    }
}

static int list(identity *id, store *db, bool json)
{
    user_vec v = {0};
    identity_err e = identity_admin_list(id, db, collect, &v);
    if (e == IDENTITY_OK) {
        if (json) {
            for (size_t i = 0; i < v.len; i++)
                print_json(&v.items[i]);
        } else {
            print_table(&v);
        }
    } else {
        fprintf(stderr, "sitebase user list: %s\n", identity_err_title(e));
    }
    for (size_t i = 0; i < v.len; i++)
        identity_user_clear(&v.items[i]);
    sb_vec_free(&v);
    return e == IDENTITY_OK ? 0 : 1;
}

static int change(store *db, const char *action, const args *a)
{
    if (a->npos != 1 || a->email || a->username) {
        fprintf(stderr, "sitebase user %s: give one EMAIL or ID\n", action);
        return 2;
    }
    const char *who = a->pos[0];
    char uid[SB_UUID_STR_LEN];
    identity_err e = identity_admin_find(db, who, uid);
    if (e == IDENTITY_NOT_FOUND) {
        fprintf(stderr, "sitebase user %s: no user '%s'\n", action, who);
        return 1;
    }
    identity_client c = operator_client();
    if (e == IDENTITY_OK) {
        if (strcmp(action, "reset-mfa") == 0)
            e = identity_admin_reset_mfa(db, uid, &c);
        else
            e = identity_admin_set_active(NULL, db, uid, strcmp(action, "enable") == 0, &c);
    }
    if (e != IDENTITY_OK) {
        fprintf(stderr, "sitebase user %s: %s\n", action, identity_err_title(e));
        return 1;
    }
    printf("%s %s\n",
           strcmp(action, "reset-mfa") == 0 ? "mfa reset for"
           : strcmp(action, "enable") == 0  ? "enabled"
                                            : "disabled (sessions revoked)",
           uid);
    return 0;
}

int cli_user(int argc, char **argv)
{
    static const char *const actions[] = {"create", "list", "disable", "enable", "reset-mfa"};
    const char *action = argc > 0 ? argv[0] : "";
    bool known = false;
    for (size_t i = 0; i < SB_ARRAY_LEN(actions); i++)
        known |= strcmp(action, actions[i]) == 0;
    if (!known) {
        bool help = strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0;
        if (!help && action[0])
            fprintf(stderr, "sitebase user: unknown action '%s'\n", action);
        fprintf(help ? stdout : stderr, "usage: sitebase user " USAGE "\n");
        return help ? 0 : 2;
    }
    char command[32];
    snprintf(command, sizeof(command), "user %s", action);
    char *rest[argc > 0 ? argc : 1];
    args a = {.rest = rest};
    if (!parse_args(command, argc - 1, argv + 1, &a))
        return 2;
    bool json = false;
    cli_flag flags[] = {{"json", &json}, {NULL, NULL}};
    sb_config cfg;
    int rc = cli_config(command, USAGE, a.nrest, a.rest, flags, &cfg);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    cli_log_setup(&cfg); /* logs go to stderr: stdout keeps the results */

    store *db;
    identity *id;
    sb_errbuf err;
    if (!cli_open_identity(&cfg, &db, &id, &err)) {
        fprintf(stderr, "sitebase %s: %s\n", command, err.msg);
        sb_config_deinit(&cfg);
        return 1;
    }
    if (strcmp(action, "create") == 0) {
        rc = create(id, db, &a);
    } else if (strcmp(action, "list") == 0) {
        rc = a.npos || a.email || a.username ? 2 : list(id, db, json);
        if (rc == 2)
            fprintf(stderr, "sitebase user list: takes no arguments but options\n");
    } else {
        rc = change(db, action, &a);
    }
    identity_free(id);
    store_close(db);
    sb_config_deinit(&cfg);
    return rc;
}
