/*
 * serve.c: `sitebase serve`: migrate the schema, start the worker pool and
 * the loops, serve until SIGTERM/SIGINT, drain, and exit 0 when the drain
 * was clean.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "base/clock.h"
#include "base/log.h"
#include "cli/cli.h"
#include "cli/housekeeper.h"
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
    app.limits = projects_limits_default();
    app.limits.snapshot_every = cfg.history_snapshot_every;
    /* An upload is one blob, held in memory while it is stored. */
    app.limits.asset_max = SB_MIN((size_t)cfg.max_upload_body, BLOB_MAX_SIZE);
    {
        sb_errbuf berr;
        if (blob_open(cfg.blob_store, cfg.data_dir, &app.blobs, &berr) != BLOB_OK) {
            sb_log(SB_LOG_ERROR, "cannot open the blob store", SB_LOG_STR("error", berr.msg));
            identity_free(app.identity);
            sb_ratelimit_free(app.ip_limit);
            sb_ratelimit_free(app.account_limit);
            goto out;
        }
    }
    /* Before any thread starts, so that every thread inherits the mask:
     * SIGINT/SIGTERM go to net_server_run's sigtimedwait and SIGHUP to the
     * reloader, never to a worker or loop (where they would kill). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    {
        /* A Redis bus opens even while Redis is down (it reconnects in the
         * background and /readyz says so); only a bad URL stops us. */
        sb_errbuf berr;
        if (bus_open(cfg.bus, &app.bus, &berr) != BUS_OK) {
            sb_log(SB_LOG_ERROR, "cannot open the message bus", SB_LOG_STR("error", berr.msg));
            blob_close(app.blobs);
            identity_free(app.identity);
            sb_ratelimit_free(app.ip_limit);
            sb_ratelimit_free(app.account_limit);
            goto out; /* nothing else has started yet */
        }
    }
    housekeeper chores;
    if (!housekeeper_start(&chores, &cfg, app.identity, app.blobs)) {
        bus_close(app.bus);
        blob_close(app.blobs);
        identity_free(app.identity);
        sb_ratelimit_free(app.ip_limit);
        sb_ratelimit_free(app.account_limit);
        goto out;
    }
    {
        sb_errbuf terr;
        if (!(app.tsdb = analytics_backend_open(cfg.tsdb, cfg.data_dir, &terr))) {
            sb_log(SB_LOG_ERROR, "cannot open the analytics store", SB_LOG_STR("error", terr.msg));
            housekeeper_stop(&chores);
            blob_close(app.blobs);
            identity_free(app.identity);
            sb_ratelimit_free(app.ip_limit);
            sb_ratelimit_free(app.account_limit);
            sb_ratelimit_free(app.collect_limit);
            goto out;
        }
        sb_log(SB_LOG_INFO, "analytics", SB_LOG_STR("tsdb", app.tsdb->vt->name));
        app.recorder = analytics_recorder_new(app.tsdb, NULL);
    }
    net_worker_hooks worker_hooks = api_worker_hooks(&app);
    app.workers = net_workers_new((unsigned)cfg.workers, WORKER_QUEUE_MAX, &worker_hooks);
    /* The collaboration writer's own thread, at normal priority: every
     * edit waits for its commit, and the pool's nice 19 let a busy machine
     * starve it (p99 of edits 20-100 ms at 2,000 edits/s). */
    net_workers *collab_writer = net_workers_new_nice(1, WORKER_QUEUE_MAX, &worker_hooks, 0);
    /* And the jobs a client or a REST reader waits on: a room's load, and
     * the materialise that writes a page or file, which holds SQLite's
     * write lock; at nice 19 a busy machine parked it there and every
     * commit of every room waited behind it. */
    net_workers *collab_fore = net_workers_new_nice(2, WORKER_QUEUE_MAX, &worker_hooks, 0);
    collab_limits collab_lim = api_collab_limits(&cfg);
    app.collab = collab_hub_new(&collab_lim, app.workers, collab_writer, collab_fore,
                                api_worker_store, app.bus);
    /* Before any room loads: what a crash left in the journal goes into
     * the log first; a journal that cannot be read stops the start rather
     * than lose what it holds. */
    bool journal_ok;
    {
        store *db = NULL;
        sb_errbuf jerr = {{0}};
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/collab-journal", cfg.data_dir);
        journal_ok = store_open(cfg.db, cfg.data_dir, &db, &jerr) == STORE_OK &&
                     collab_hub_journal(app.collab, db, dir, cfg.collab_fold_delay_ms, &jerr);
        store_close(db);
        if (!journal_ok)
            sb_log(SB_LOG_ERROR, "cannot recover the collaboration journal",
                   SB_LOG_STR("error", jerr.msg));
    }
    app.events = api_events_new();
    net_router *router = net_router_new();
    api_routes_register(router, &app);
    if (extra_routes)
        extra_routes(router, &app);
    net_server_hooks hooks = api_server_hooks(&app);
    sb_errbuf err;
    net_server *server = journal_ok ? net_server_new(&cfg, router, &hooks, &err) : NULL;
    if (!journal_ok) {
        /* said above */
    } else if (!server) {
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
        /* Jobs left by a loop cut off at the deadline still send their
         * completions to it: finish them while the loops' memory lives. */
        net_workers_free(app.workers);
        app.workers = NULL;
        net_workers_free(collab_writer);
        collab_writer = NULL;
        net_workers_free(collab_fore);
        collab_fore = NULL;
        net_server_free(server);
    }
    net_workers_free(app.workers); /* NULL unless the server never started */
    net_workers_free(collab_writer);
    net_workers_free(collab_fore);
    collab_hub_free(app.collab); /* after the loops freed their rooms */
    api_events_free(app.events); /* every stream ended with its loop */
    net_router_free(router);
    /* After the loops and workers: nothing records any more; what is
     * pending gets its last flush. */
    analytics_recorder_free(app.recorder);
    analytics_backend_free(app.tsdb);
    sb_ratelimit_free(app.collect_limit);
    housekeeper_stop(&chores);
    bus_close(app.bus);
    blob_close(app.blobs);
    identity_free(app.identity);
    sb_ratelimit_free(app.ip_limit);
    sb_ratelimit_free(app.account_limit);
out:
    sb_config_deinit(&cfg);
    return rc;
}
