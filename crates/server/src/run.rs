//! Server lifecycle. Start-up order follows Prometheus: validate the configuration, bind
//! the listener (probes answer at once: healthy, not ready), open storage (WAL replay),
//! build the components and apply the configuration, report ready, then start scraping,
//! rule evaluation and notification. Shutdown stops the producers first and closes storage
//! last, so every acknowledged sample is flushed.

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use argus_model::now_ms;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::cli::ServerArgs;
use crate::http::{full_router, Routes};
use crate::providers::ServerStatus;
use crate::{config, self_metrics};

/// How long shutdown waits for each producer to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs the server until SIGINT/SIGTERM or `/-/quit`.
pub fn serve(args: ServerArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("argus")
        .build()
        .context("starting the async runtime")?;
    rt.block_on(serve_async(args))
}

async fn serve_async(mut args: ServerArgs) -> anyhow::Result<ExitCode> {
    let start_ms = now_ms();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Starting Argus.");
    for f in &args.enable_feature {
        if f.trim() != "promql-delayed-name-removal" {
            tracing::info!(feature = %f, "Feature flag accepted; Argus has no such switch.");
        }
    }
    // A bad configuration stops the start before anything is touched.
    let cfg = config::load(&args).context("loading configuration")?;
    if let Some(w) = cfg.out_of_order_window {
        args.out_of_order_time_window = Some(w);
    }
    if args.cluster.enabled() && args.out_of_order_time_window.is_none() {
        // Gaps found while running are older than the head's newest samples.
        args.out_of_order_time_window = Some(args.cluster.backfill_max_window);
        tracing::info!(window = %args.cluster.backfill_max_window, "Replica cluster: out-of-order window set for backfill.");
    }
    let registry = self_metrics::new_registry();
    let shutdown = CancellationToken::new();

    let routes = Routes::default();
    let web_config = crate::listener::WebSetup::load(args.web_config_file.as_deref())?;
    let listener = tokio::net::TcpListener::bind(args.listen_address)
        .await
        .with_context(|| format!("listening on {}", args.listen_address))?;
    tracing::info!(
        address = %args.listen_address,
        tls = web_config.tls.is_some(),
        basic_auth = web_config.basic_auth.is_some(),
        "Listening."
    );
    let web = web_config.serve(listener, routes.service(), shutdown.clone());
    tokio::spawn(watch_termination(shutdown.clone()));

    // Storage: WAL replay must finish before the server reports ready.
    let db = crate::storage::open(&args, &registry).await?;
    let status = Arc::new(ServerStatus::new(
        start_ms,
        args.flag_map(),
        args.retention_time.to_string(),
    ));
    let replay = db.replay_stats();
    status.replayed(replay.next_segment, i64::from(replay.dropped_bytes > 0));

    let app = match App::build(args, registry, db.clone(), &cfg, status, shutdown.clone()).await {
        Ok(a) => a,
        Err(e) => {
            crate::storage::close(db).await;
            return Err(e);
        }
    };
    if let Err(e) = app.apply(&cfg).await {
        app.initial_config_applied(&cfg, false);
        crate::storage::close(db).await;
        return Err(e.context("applying configuration"));
    }
    app.initial_config_applied(&cfg, true);
    routes.set_full(full_router(app.clone()));

    match crate::adapter::start(
        &app.args,
        Arc::new(app.db.clone()),
        app.engine.clone(),
        &app.registry,
        shutdown.clone(),
    )
    .await
    {
        Ok(a) => *app.adapter.write() = a,
        Err(e) => {
            shutdown.cancel();
            crate::storage::close(db).await;
            return Err(e.context("starting the Kubernetes metrics APIs"));
        }
    }

    // A replica heals its gaps before it takes queries, and knows its peers before it
    // notifies.
    let backfilled = match app.cluster.clone() {
        Some(c) => {
            if let Err(e) = c.start(&app).await {
                shutdown.cancel();
                crate::storage::close(db).await;
                return Err(e.context("starting the replica cluster"));
            }
            Some((c.clone(), c.startup_backfill(&app).await))
        }
        None => None,
    };

    app.ready.store(true, Ordering::SeqCst);
    tracing::info!("Server is ready to receive web requests.");

    let producers = start_producers(&app);
    if let Some((c, from)) = backfilled {
        c.start_periodic_backfill(&app, from);
    }
    tokio::spawn(watch_reload(app.clone()));

    shutdown.cancelled().await;
    stop(&app, producers).await;
    let _ = tokio::time::timeout(STOP_TIMEOUT, web).await;
    // Producers are stopped; close storage last so every acknowledged sample is synced.
    crate::storage::close(app.db.clone()).await;
    tracing::info!("See you next time!");
    Ok(ExitCode::SUCCESS)
}

struct Producers {
    scrape: tokio::task::JoinHandle<()>,
    notifier_stop: tokio::sync::watch::Sender<bool>,
    notifier: tokio::task::JoinHandle<()>,
}

fn start_producers(app: &Arc<App>) -> Producers {
    let scrape = {
        let m = app.scrape.clone();
        tokio::spawn(async move { m.run().await })
    };
    if let Err(e) = app.rules.run() {
        tracing::error!(error = %e, "Rule evaluation not started.");
    }
    app.am.start();
    let (notifier_stop, rx) = tokio::sync::watch::channel(false);
    let notifier = tokio::spawn(app.notifier.clone().run(rx));
    Producers {
        scrape,
        notifier_stop,
        notifier,
    }
}

async fn stop(app: &Arc<App>, p: Producers) {
    tracing::info!("Stopping scrape manager.");
    app.scrape.shutdown();
    let _ = tokio::time::timeout(STOP_TIMEOUT, p.scrape).await;
    tracing::info!("Stopping rule manager.");
    app.rules.stop();
    let _ = p.notifier_stop.send(true);
    let _ = tokio::time::timeout(STOP_TIMEOUT, p.notifier).await;
    tracing::info!("Stopping alert manager.");
    let _ = tokio::time::timeout(STOP_TIMEOUT, app.am.stop()).await;
    tracing::info!("Stopping remote-write queues.");
    // Flushes what it can (bounded by the manager) and saves the send positions; what is
    // not sent stays in the WAL and goes out after the restart.
    app.remote.shutdown().await;
    if let Some(a) = app.adapter.write().take() {
        for t in a.tasks {
            t.abort();
        }
    }
}

/// SIGINT and SIGTERM end the server.
async fn watch_termination(shutdown: CancellationToken) {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "Cannot listen for SIGINT.");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "Cannot listen for SIGTERM.");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = ctrl_c => tracing::warn!("Received SIGINT, exiting gracefully."),
        _ = term => tracing::warn!("Received SIGTERM, exiting gracefully."),
        _ = shutdown.cancelled() => return,
    }
    shutdown.cancel();
}

/// SIGHUP reloads every configuration file.
async fn watch_reload(app: Arc<App>) {
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "Cannot listen for SIGHUP; reload with POST /-/reload.");
            return;
        }
    };
    loop {
        tokio::select! {
            r = hup.recv() => {
                if r.is_none() {
                    return;
                }
                // Errors are logged and reported by reload() itself.
                let _ = app.reload().await;
            }
            _ = app.shutdown.cancelled() => return,
        }
    }
}
