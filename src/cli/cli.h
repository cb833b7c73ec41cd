/*
 * cli.h: the sitebase command line. Each command is a function with the
 * argv after its name and returns the process exit status (0 ok, 1 failure,
 * 2 usage error).
 */
#ifndef SB_CLI_CLI_H
#define SB_CLI_CLI_H

#include "base/config.h"
#include "identity/identity.h"
#include "store/store.h"

struct net_router;
struct api_app;
/* extra_routes, when not NULL, registers more routes (the test build's). */
int cli_serve(int argc, char **argv,
              void (*extra_routes)(struct net_router *r, struct api_app *app));
int cli_migrate(int argc, char **argv);
int cli_version(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_keys(int argc, char **argv);

/* The identity settings of cfg. */
identity_config cli_identity_config(const sb_config *cfg);
/* Opens the store, applies pending migrations and loads the identity keys
 * (making them on first use). On failure nothing stays open. */
bool cli_open_identity(const sb_config *cfg, store **db, identity **id, sb_errbuf *err);

/* Options a command takes besides configuration keys; NULL-ended. */
typedef struct cli_flag {
    const char *name; /* "status" for --status */
    bool *set;
} cli_flag;

/* Builds the configuration for a command: defaults, then the file from
 * --config or SITEBASE_CONFIG, then SITEBASE_* variables, then flags
 * (--listen ADDR, --data DIR, --db URL, --threads N, or any key as
 * --key value / --key=value, dashes read as underscores). Prints the
 * problem and returns 2 on a usage or validation error, 0 when the command
 * should run, or -1 after printing help for --help. */
int cli_config(const char *command, const char *usage, int argc, char **argv, const cli_flag *flags,
               sb_config *cfg);

/* Sets up logging from cfg (auto: pretty on a terminal, else JSON lines). */
void cli_log_setup(const sb_config *cfg);

#endif
