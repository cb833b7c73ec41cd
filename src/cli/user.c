/*
 * user.c (cli): `sitebase user create|list|disable|enable|reset-mfa`.
 *
 * Passwords are read from standard input, never from the arguments, so
 * they stay out of `ps` and shell history.
 */
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "cli/cli.h"

#define USAGE                                                                                      \
    "create EMAIL [USERNAME]   (password on standard input)\n"                                     \
    "       sitebase user list [--json]\n"                                                         \
    "       sitebase user disable|enable|reset-mfa EMAIL-OR-ID\n"                                  \
    "       [--config FILE] [--data DIR] [--db URL]"

static identity_client operator_client(void)
{
    return (identity_client){.ip = NULL, .user_agent = "sitebase-cli", .now_us = sb_wall_us()};
}

/* One line from stdin without its line end; false at EOF or when too long. */
static bool read_password(char *buf, size_t cap, size_t *len)
{
    if (!fgets(buf, (int)cap, stdin))
        return false;
    size_t n = strlen(buf);
    if (n == cap - 1 && buf[n - 1] != '\n')
        return false;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    *len = n;
    return true;
}

static void print_row(void *ctx, const identity_user *u)
{
    bool json = *(const bool *)ctx;
    char when[SB_RFC3339_LEN];
    sb_rfc3339(u->created_at, when);
    if (json) {
        sb_buf b = SB_BUF_INIT;
        sb_jw w;
        sb_jw_init(&w, &b);
        sb_jw_obj_begin(&w);
        sb_jw_kv_str(&w, "id", u->id);
        sb_jw_kv_str(&w, "email", u->email);
        sb_jw_kv_str(&w, "username", u->username);
        sb_jw_kv_str(&w, "status", u->status);
        sb_jw_kv_bool(&w, "mfa_enabled", u->mfa_enabled);
        sb_jw_kv_str(&w, "created_at", when);
        sb_jw_obj_end(&w);
        printf("%.*s\n", (int)b.len, b.ptr);
        sb_buf_free(&b);
    } else {
        printf("%-36s  %-32s  %-16s  %-8s  %-3s  %s\n", u->id, u->email,
               u->username ? u->username : "-", u->status, u->mfa_enabled ? "on" : "off", when);
    }
}

static int create(identity *id, store *db, int npos, char **pos)
{
    if (npos < 1 || npos > 2) {
        fprintf(stderr, "sitebase user create: give EMAIL [USERNAME]\n");
        return 2;
    }
    char pw[1100];
    size_t pwlen = 0;
    if (!read_password(pw, sizeof(pw), &pwlen)) {
        fprintf(stderr, "sitebase user create: give the password on standard input (one line, "
                        "at most 1024 bytes)\n");
        return 2;
    }
    identity_client c = operator_client();
    identity_user u;
    identity_problem p = {0};
    identity_err e = identity_admin_create(id, db, sb_str_c(pos[0]), sb_str_make(pw, pwlen),
                                           sb_str_c(npos > 1 ? pos[1] : ""), &c, &u, &p);
    sb_secure_zero(pw, sizeof(pw));
    if (e != IDENTITY_OK) {
        if ((e == IDENTITY_INVALID || e == IDENTITY_WEAK_PASSWORD) && p.field)
            fprintf(stderr, "sitebase user create: %s %s\n", p.field, p.message);
        else
            fprintf(stderr, "sitebase user create: %s\n", identity_err_title(e));
        return 1;
    }
    printf("created %s %s\n", u.id, u.email);
    identity_user_clear(&u);
    return 0;
}

static int change(identity *id, store *db, const char *action, int npos, char **pos)
{
    if (npos != 1) {
        fprintf(stderr, "sitebase user %s: give one EMAIL or ID\n", action);
        return 2;
    }
    char uid[SB_UUID_STR_LEN];
    identity_err e = identity_admin_find(db, pos[0], uid);
    if (e == IDENTITY_NOT_FOUND) {
        fprintf(stderr, "sitebase user %s: no user '%s'\n", action, pos[0]);
        return 1;
    }
    identity_client c = operator_client();
    if (e == IDENTITY_OK) {
        if (strcmp(action, "reset-mfa") == 0)
            e = identity_admin_reset_mfa(db, uid, &c);
        else
            e = identity_admin_set_active(db, uid, strcmp(action, "enable") == 0, &c);
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
        if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0) {
            printf("usage: sitebase user " USAGE "\n");
            return 0;
        }
        fprintf(stderr, "usage: sitebase user " USAGE "\n");
        return 2;
    }
    /* Positional arguments come before the options. */
    int npos = 0;
    while (1 + npos < argc && strncmp(argv[1 + npos], "--", 2) != 0)
        npos++;
    char **pos = argv + 1;
    bool json = false;
    cli_flag flags[] = {{"json", &json}, {NULL, NULL}};
    sb_config cfg;
    char command[32];
    snprintf(command, sizeof(command), "user %s", action);
    int rc = cli_config(command, USAGE, argc - 1 - npos, argv + 1 + npos, flags, &cfg);
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
        rc = create(id, db, npos, pos);
    } else if (strcmp(action, "list") == 0) {
        identity_err e = identity_admin_list(id, db, print_row, &json);
        if (e != IDENTITY_OK)
            fprintf(stderr, "sitebase user list: %s\n", identity_err_title(e));
        rc = e == IDENTITY_OK ? 0 : 1;
    } else {
        rc = change(id, db, action, npos, pos);
    }
    identity_free(id);
    store_close(db);
    sb_config_deinit(&cfg);
    return rc;
}
