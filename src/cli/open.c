/*
 * open.c (cli): what every command that touches accounts needs first: the
 * store, migrated, and the identity service with its keys loaded.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "cli/cli.h"
#include "store/migrate.h"

identity_config cli_identity_config(const sb_config *cfg)
{
    return (identity_config){
        .access_ttl_s = cfg->access_token_ttl_ms / 1000,
        .refresh_ttl_s = cfg->refresh_token_ttl_ms / 1000,
        .reuse_window_s = cfg->refresh_reuse_window_ms / 1000,
        .lockout_threshold = cfg->lockout_threshold,
        .lockout_base_s = cfg->lockout_base_ms / 1000,
        .lockout_max_s = cfg->lockout_max_ms / 1000,
        .risk_threshold = cfg->risk_threshold,
        .argon2 = {(uint32_t)(cfg->argon2_memory / 1024), (uint32_t)cfg->argon2_iterations,
                   (uint32_t)cfg->argon2_parallelism},
        .issuer = "sitebase",
        .data_dir = cfg->data_dir,
        .master_key_hex = getenv("SITEBASE_MASTER_KEY"),
    };
}

bool cli_open_identity(const sb_config *cfg, store **db, identity **id, sb_errbuf *err)
{
    int applied = 0;
    *id = NULL;
    if (store_open(cfg->db, cfg->data_dir, db, err) != STORE_OK)
        return false;
    if (store_migrate(*db, &applied, err) != STORE_OK) {
        store_close(*db);
        return false;
    }
    if (applied > 0)
        sb_log(SB_LOG_INFO, "schema migrated", SB_LOG_INT("applied", applied));
    identity_config icfg = cli_identity_config(cfg);
    if (!(*id = identity_new(&icfg, *db, err))) {
        store_close(*db);
        return false;
    }
    return true;
}
