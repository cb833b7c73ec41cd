/*
 * keys.c (cli): `sitebase keys rotate` makes a new JWT signing key. New
 * access tokens carry its kid at once on this store; running servers pick
 * it up within key_reload_interval. The old keys keep verifying for one
 * access-token lifetime, so nobody is signed out by a rotation.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define USAGE "rotate [--config FILE] [--data DIR] [--db URL]"

int cli_keys(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "rotate") != 0) {
        bool help = argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0);
        fprintf(help ? stdout : stderr, "usage: sitebase keys " USAGE "\n");
        return help ? 0 : 2;
    }
    sb_config cfg;
    int rc = cli_config("keys rotate", USAGE, argc - 1, argv + 1, NULL, &cfg);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    cli_log_setup(&cfg);
    store *db;
    identity *id;
    sb_errbuf err;
    rc = 1;
    if (!cli_open_identity(&cfg, &db, &id, &err)) {
        fprintf(stderr, "sitebase keys rotate: %s\n", err.msg);
        goto out;
    }
    char kid[32];
    /* Tokens live access_token_ttl; 30 s more covers clock skew. */
    int64_t old_valid_s = cfg.access_token_ttl_ms / 1000 + 30;
    if (identity_keys_rotate(id, db, old_valid_s, kid, &err)) {
        printf("new signing key %s; older keys verify for %lld s more\n", kid,
               (long long)old_valid_s);
        rc = 0;
    } else {
        fprintf(stderr, "sitebase keys rotate: %s\n", err.msg);
    }
    identity_free(id);
    store_close(db);
out:
    sb_config_deinit(&cfg);
    return rc;
}
