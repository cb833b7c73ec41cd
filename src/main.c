/*
 * main.c: the sitebase command: one binary, subcommands for serving and
 * for operating on the data folder.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#ifdef SB_TEST_ROUTES
#include "api/app.h"
#define EXTRA_ROUTES api_test_routes_register
#else
#define EXTRA_ROUTES NULL
#endif

static int serve(int argc, char **argv)
{
    return cli_serve(argc, argv, EXTRA_ROUTES);
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"serve", serve, "run the server (HTTP, WebSocket) until SIGTERM"},
    {"migrate", cli_migrate, "apply pending schema migrations (--status lists them)"},
    {"user", cli_user, "accounts: create, list, disable, enable, reset-mfa"},
    {"keys", cli_keys, "signing keys: rotate"},
    {"version", cli_version, "print the version"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: sitebase <command> [options]\n\n"
                 "Sitebase: the data platform for AI website builders.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\n`sitebase <command> --help` describes a command and its options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cli_version(0, NULL);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "sitebase: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
