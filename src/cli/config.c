/*
 * config.c (cli): turns argv into an sb_config, layering file, environment
 * and flags, and prints help from the configuration table itself.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

static void print_help(const char *command, const char *usage, const cli_flag *flags)
{
    printf("usage: sitebase %s %s\n\n", command, usage);
    printf("Configuration (defaults < --config file < SITEBASE_<KEY> < --<key> flags):\n");
    printf("  %-24s %s\n", "--config FILE",
           "read `key = value` lines from FILE (or SITEBASE_CONFIG)");
    const char *key, *help, *def;
    for (size_t i = 0; sb_config_describe(i, &key, &help, &def); i++) {
        char flag[48];
        snprintf(flag, sizeof(flag), "--%s", key);
        for (char *p = flag + 2; *p; p++)
            if (*p == '_')
                *p = '-';
        printf("  %-24s %s (default: %s)\n", flag, help, def[0] ? def : "\"\"");
    }
    if (flags && flags[0].name) {
        printf("\nOptions:\n");
        for (const cli_flag *f = flags; f->name; f++)
            printf("  --%s\n", f->name);
    }
}

static bool is_flag(const char *arg, const char *name)
{
    return strncmp(arg, "--", 2) == 0 && strcmp(arg + 2, name) == 0;
}

int cli_config(const char *command, const char *usage, int argc, char **argv, const cli_flag *flags,
               sb_config *cfg)
{
    sb_errbuf err;
    const char *file = getenv("SITEBASE_CONFIG");
    for (int i = 0; i < argc; i++) {
        if (is_flag(argv[i], "help") || strcmp(argv[i], "-h") == 0) {
            print_help(command, usage, flags);
            return -1;
        }
        if (is_flag(argv[i], "config")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sitebase %s: --config needs a file\n", command);
                return 2;
            }
            file = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            file = argv[i] + 9;
        }
    }

    sb_config_init(cfg);
    if (file && file[0] && !sb_config_load_file(cfg, file, &err))
        goto bad;
    if (!sb_config_load_env(cfg, getenv, &err))
        goto bad;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (is_flag(arg, "config")) {
            i++;
            continue;
        }
        if (strncmp(arg, "--config=", 9) == 0)
            continue;
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "sitebase %s: unexpected argument '%s' (see --help)\n", command, arg);
            goto usage;
        }
        bool matched = false;
        for (const cli_flag *f = flags; f && f->name; f++) {
            if (is_flag(arg, f->name)) {
                *f->set = true;
                matched = true;
            }
        }
        if (matched)
            continue;
        /* --key value or --key=value, with dashes as underscores. */
        char key[64];
        const char *eq = strchr(arg, '=');
        size_t klen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (klen == 0 || klen >= sizeof(key)) {
            fprintf(stderr, "sitebase %s: unknown option '%s' (see --help)\n", command, arg);
            goto usage;
        }
        memcpy(key, arg + 2, klen);
        key[klen] = '\0';
        for (char *p = key; *p; p++)
            if (*p == '-')
                *p = '_';
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sitebase %s: %s needs a value\n", command, arg);
                goto usage;
            }
            value = argv[++i];
        }
        char source[80];
        snprintf(source, sizeof(source), "--%.*s", (int)klen, arg + 2);
        if (!sb_config_set(cfg, key, value, source, &err))
            goto bad;
    }
    if (!sb_config_validate(cfg, &err))
        goto bad;
    return 0;

bad:
    fprintf(stderr, "sitebase %s: %s\n", command, err.msg);
usage:
    sb_config_deinit(cfg);
    return 2;
}

void cli_log_setup(const sb_config *cfg)
{
    sb_log_level level = SB_LOG_INFO;
    sb_log_format format = isatty(2) ? SB_LOG_PRETTY : SB_LOG_JSON;
    sb_log_level_parse(cfg->log_level, &level);
    if (strcmp(cfg->log_format, "auto") != 0)
        sb_log_format_parse(cfg->log_format, &format);
    sb_log_setup(format, level, 2);
}
