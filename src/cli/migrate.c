/*
 * migrate.c (cli): `sitebase migrate` applies pending schema migrations;
 * `sitebase migrate --status` lists each with when it was applied.
 */
#include <stdio.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "store/migrate.h"

static void print_status(void *ctx, const store_migration_status *m)
{
    char when[SB_RFC3339_LEN];
    printf("%04d  %-32s %s\n", m->version, m->name,
           m->applied_at_us ? sb_rfc3339(m->applied_at_us, when) : "pending");
}

int cli_migrate(int argc, char **argv)
{
    bool status = false;
    cli_flag flags[] = {{"status", &status}, {NULL, NULL}};
    sb_config cfg;
    int rc = cli_config("migrate", "[--status] [--config FILE] [--data DIR] [--db URL]", argc, argv,
                        flags, &cfg);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    cli_log_setup(&cfg);

    store *db;
    sb_errbuf err;
    rc = 1;
    if (store_open(cfg.db, cfg.data_dir, &db, &err) != STORE_OK) {
        fprintf(stderr, "sitebase migrate: %s\n", err.msg);
        goto out;
    }
    if (status) {
        printf("store: %s\n", store_driver_name(store_driver_of(db)));
        if (store_migrate_status(db, print_status, NULL, &err) != STORE_OK) {
            fprintf(stderr, "sitebase migrate: %s\n", err.msg);
            goto close;
        }
    } else {
        int applied = 0;
        if (store_migrate(db, &applied, &err) != STORE_OK) {
            fprintf(stderr, "sitebase migrate: %s\n", err.msg);
            goto close;
        }
        printf("applied %d migration%s\n", applied, applied == 1 ? "" : "s");
    }
    rc = 0;
close:
    store_close(db);
out:
    sb_config_deinit(&cfg);
    return rc;
}
