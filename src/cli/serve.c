/*
 * serve.c: `sitebase serve`: migrate the schema, start the worker pool and
 * the loops, serve until SIGTERM/SIGINT, drain, and exit 0 when the drain
 * was clean.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    identity *id;
    sb_errbuf err;
    if (!cli_open_identity(cfg, &db, &id, &err)) {
        sb_log(SB_LOG_ERROR, "cannot open the store and keys", SB_LOG_STR("error", err.msg));
        return NULL;
    }
    store_close(db);
    return id;
}

/* Re-reads the JWT keys every key_reload_interval, so a `sitebase keys
 * rotate` run elsewhere reaches this server without a restart. */
typedef struct reloader {
    const sb_config *cfg;
    identity *id;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
} reloader;

static void *reloader_run(void *arg)
{
    reloader *r = arg;
    store *db = NULL;
    sb_errbuf err;
    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (r->cfg->key_reload_interval_ms % 1000) * 1000000;
        until.tv_sec += (time_t)(r->cfg->key_reload_interval_ms / 1000 + ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&r->wake, &r->lock, &until);
        if (r->stop)
            break;
        pthread_mutex_unlock(&r->lock);
        if (!db && store_open(r->cfg->db, r->cfg->data_dir, &db, &err) != STORE_OK)
            db = NULL;
        if (db && !identity_keys_reload(r->id, db, &err)) {
            sb_log(SB_LOG_WARN, "cannot reload signing keys", SB_LOG_STR("error", err.msg));
            store_close(db); /* a fresh connection next time */
            db = NULL;
        }
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    store_close(db);
    return NULL;
}

static void reloader_start(reloader *r, const sb_config *cfg, identity *id)
{
    *r = (reloader){.cfg = cfg, .id = id};
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    pthread_create(&r->thread, NULL, reloader_run, r);
}

static void reloader_stop(reloader *r)
{
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
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
    reloader keys;
    reloader_start(&keys, &cfg, app.identity);
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
    reloader_stop(&keys);
    identity_free(app.identity);
    sb_ratelimit_free(app.ip_limit);
    sb_ratelimit_free(app.account_limit);
out:
    sb_config_deinit(&cfg);
    return rc;
}
