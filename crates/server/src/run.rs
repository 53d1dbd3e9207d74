//! Server lifecycle. Start-up order matters and follows Prometheus: open storage (WAL
//! replay), then report ready, then start scraping and rule evaluation. Shutdown stops the
//! producers first and closes storage last, so every acknowledged sample is flushed.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus::Registry;

use crate::cli::ServerArgs;
use crate::self_metrics;

/// State shared by the built-in HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
    pub ready: Arc<AtomicBool>,
    /// The time-series database (`Appendable + Queryable + TsdbAdmin`; cheap to clone).
    pub storage: argus_tsdb::Db,
}

/// Runs the server until SIGINT/SIGTERM.
pub fn serve(args: ServerArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("argus")
        .build()
        .context("starting the async runtime")?;
    rt.block_on(serve_async(args))
}

async fn serve_async(args: ServerArgs) -> anyhow::Result<ExitCode> {
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Starting Argus.");
    let registry = self_metrics::new_registry();
    // Storage first: WAL replay must finish before the server reports ready.
    let storage = crate::storage::open(&args, &registry).await?;
    let state = AppState {
        registry,
        ready: Arc::default(),
        storage,
    };

    let listener = tokio::net::TcpListener::bind(args.listen_address)
        .await
        .with_context(|| format!("listening on {}", args.listen_address))?;
    tracing::info!(address = %args.listen_address, "Listening.");

    state.ready.store(true, Ordering::SeqCst);
    tracing::info!("Server is ready to receive web requests.");

    axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?;
    // Producers are stopped; close storage last so every acknowledged sample is synced.
    crate::storage::close(state.storage.clone()).await;
    tracing::info!("See you next time!");
    Ok(ExitCode::SUCCESS)
}

/// The built-in endpoints.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/-/healthy", get(healthy).head(healthy))
        .route("/-/ready", get(ready).head(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
        // The web UI: /, /query, /graph, the other pages and /assets/*.
        .merge(argus_ui::router())
}

async fn healthy() -> &'static str {
    "Argus Server is Healthy.\n"
}

async fn ready(State(s): State<AppState>) -> Response {
    if s.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "Argus Server is Ready.\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response()
    }
}

async fn metrics(State(s): State<AppState>) -> Response {
    self_metrics::render(&s.registry)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "Cannot listen for SIGINT.");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
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
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::warn!("Received SIGINT, exiting gracefully."),
        _ = term => tracing::warn!("Received SIGTERM, exiting gracefully."),
    }
}
