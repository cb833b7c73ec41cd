/*
 * serve.c: `sitebase serve`: migrate the schema, start the worker pool and
 * the loops, serve until SIGTERM/SIGINT, drain, and exit 0 when the drain
 * was clean.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "base/log.h"
#include "cli/cli.h"
#include "store/migrate.h"

#define WORKER_QUEUE_MAX 1024

/* Applies pending migrations and loads the identity keys once, on a
 * connection of its own, before any loop opens the store. */
static identity *prepare_store(const sb_config *cfg)
{
    store *db;
    sb_errbuf err;
    int applied = 0;
    if (store_open(cfg->db, cfg->data_dir, &db, &err) != STORE_OK) {
        sb_log(SB_LOG_ERROR, "cannot open the store", SB_LOG_STR("error", err.msg));
        return NULL;
    }
    identity *id = NULL;
    if (store_migrate(db, &applied, &err) != STORE_OK) {
        sb_log(SB_LOG_ERROR, "migration failed", SB_LOG_STR("error", err.msg));
        goto out;
    }
    if (applied > 0)
        sb_log(SB_LOG_INFO, "schema migrated", SB_LOG_INT("applied", applied));
    identity_config icfg = {
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
    if (!(id = identity_new(&icfg, db, &err)))
        sb_log(SB_LOG_ERROR, "cannot load keys", SB_LOG_STR("error", err.msg));
out:
    store_close(db);
    return id;
}

int cli_serve(int argc, char **argv, void (*extra_routes)(net_router *r, api_app *app))
{
    sb_config cfg;
    int rc = cli_config("serve",
                        "[--config FILE] [--listen ADDR] [--data DIR] [--db URL] "
                        "[--threads N] [--<key> VALUE ...]",
                        argc, argv, NULL, &cfg);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    cli_log_setup(&cfg);

    bool postgres = strncmp(cfg.db, "postgres", 8) == 0;
    sb_log(SB_LOG_INFO, "starting", SB_LOG_STR("version", SITEBASE_VERSION),
           SB_LOG_STR("data", cfg.data_dir), SB_LOG_STR("store", postgres ? "postgres" : "sqlite"));
    rc = 1;
    api_app app = {.cfg = &cfg};
    if (!(app.identity = prepare_store(&cfg)))
        goto out;
    api_app_limits(&app);
    net_worker_hooks worker_hooks = api_worker_hooks(&app);
    app.workers = net_workers_new((unsigned)cfg.workers, WORKER_QUEUE_MAX, &worker_hooks);
    net_router *router = net_router_new();
    api_routes_register(router, &app);
    if (extra_routes)
        extra_routes(router, &app);
    net_server_hooks hooks = api_server_hooks(&app);
    sb_errbuf err;
    net_server *server = net_server_new(&cfg, router, &hooks, &err);
    if (!server) {
        sb_log(SB_LOG_ERROR, "cannot start the server", SB_LOG_STR("error", err.msg));
    } else {
        char url[128];
        snprintf(url, sizeof(url), "%s://%s/", cfg.tls_cert[0] ? "https" : "http",
                 net_server_address(server));
        /* Links in mail point here unless public_url says otherwise. */
        snprintf(app.public_url, sizeof(app.public_url), "%.*s",
                 (int)(cfg.public_url[0] ? strlen(cfg.public_url) : strlen(url) - 1),
                 cfg.public_url[0] ? cfg.public_url : url);
        sb_log(SB_LOG_INFO, "listening", SB_LOG_STR("addr", net_server_address(server)),
               SB_LOG_STR("url", url), SB_LOG_STR("data", cfg.data_dir),
               SB_LOG_STR("store", postgres ? "postgres" : "sqlite"));
        rc = net_server_run(server);
        net_server_free(server);
    }
    /* After the loops: no completion can be sent to a loop that is gone. */
    net_workers_free(app.workers);
    net_router_free(router);
    identity_free(app.identity);
    sb_ratelimit_free(app.ip_limit);
    sb_ratelimit_free(app.account_limit);
out:
    sb_config_deinit(&cfg);
    return rc;
}
