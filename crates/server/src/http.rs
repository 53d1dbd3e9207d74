//! The main listener's routes: Prometheus' HTTP API and federation, the remote-write
//! receiver, Alertmanager's API v2, the lifecycle and telemetry endpoints and the web UI.
//!
//! The listener is bound before the WAL replay, so probes get answers at once: `/-/healthy`
//! is 200 from the start, everything else 503 until [`Routes::set_full`] installs the full
//! router after the replay, as Prometheus does.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower::ServiceExt as _;

use crate::app::App;
use crate::http_metrics::{track, HttpMetrics};
use crate::self_metrics;

/// The router served on the main listener, completed once storage is open.
#[derive(Clone, Default)]
pub struct Routes {
    full: Arc<OnceLock<Router>>,
}

impl Routes {
    /// Installs the full router (once).
    pub fn set_full(&self, r: Router) {
        let _ = self.full.set(r);
    }

    /// The router to hand to `axum::serve`.
    pub fn service(&self) -> Router {
        Router::new()
            .route("/-/healthy", get(healthy).head(healthy))
            .fallback(forward)
            .with_state(self.clone())
    }
}

async fn forward(State(routes): State<Routes>, req: Request) -> Response {
    match routes.full.get() {
        Some(r) => match r.clone().oneshot(req).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        },
        None => (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response(),
    }
}

async fn healthy() -> &'static str {
    "Argus Server is Healthy.\n"
}

/// The query API's state over the running server's components.
pub fn api_state(app: &Arc<App>) -> argus_query::api::ApiState {
    let mut api = argus_query::api::ApiState::new(app.query_storage.clone(), app.engine.clone())
        .with_max_concurrency(app.args.query_max_concurrency);
    api.tsdb = Some(Arc::new(app.db.clone()));
    api.enable_admin = app.args.enable_admin_api;
    api.snapshot_dir = app.args.tsdb_path.join("snapshots");
    api.targets = Arc::new(app.targets.clone());
    api.metadata = Arc::new(app.targets.clone());
    api.rules = Arc::new(app.rules.clone());
    api.alertmanagers = Arc::new(argus_alert::api::NotifierAlertmanagers(
        app.notifier.clone(),
    ));
    api.status = app.status.clone();
    api.external_labels = {
        let pairs: Vec<(String, String)> = app
            .external_labels
            .read()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        argus_model::Labels::from_pairs(&pairs)
    };
    api.ready = Some(app.ready.clone());
    api
}

/// Every route of the running server.
pub fn full_router(app: Arc<App>) -> Router {
    let api = api_state(&app);
    let api = match api.clone().with_cors_origin(&app.args.cors_origin) {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "Invalid --web.cors.origin; using .*.");
            api
        }
    };

    let mut router = Router::new()
        .route("/-/healthy", get(healthy).head(healthy))
        .route("/-/ready", get(ready).head(ready))
        .route("/-/reload", post(reload).put(reload))
        .route("/-/quit", post(quit).put(quit))
        .route("/metrics", get(metrics))
        .with_state(app.clone())
        .merge(argus_query::api::router(api))
        .nest("/api/v2", argus_alertmanager::router(app.am.clone()));
    if !app.args.disable_remote_write_receiver {
        router = router.merge(argus_scrape::remote_write::remote_write_router_with(
            Arc::new(app.db.clone()),
            &app.registry,
            argus_scrape::remote_write::Limits::default(),
        ));
    }
    // The web UI: /, /query, /graph, the other pages and /assets/*.
    let router = router.merge(argus_ui::router());
    match HttpMetrics::new(&app.registry) {
        Ok(m) => router.layer(axum::middleware::from_fn_with_state(m, track)),
        Err(e) => {
            tracing::warn!(error = %e, "HTTP metrics not registered.");
            router
        }
    }
}

async fn ready(State(app): State<Arc<App>>) -> Response {
    if app.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "Argus Server is Ready.\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response()
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    self_metrics::render(&app.registry)
}

const LIFECYCLE_OFF: &str = "Lifecycle API is not enabled.";

async fn reload(State(app): State<Arc<App>>) -> Response {
    if !app.args.enable_lifecycle {
        return (StatusCode::FORBIDDEN, LIFECYCLE_OFF).into_response();
    }
    match app.reload().await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e:#}\n"),
        )
            .into_response(),
    }
}

async fn quit(State(app): State<Arc<App>>) -> Response {
    if !app.args.enable_lifecycle {
        return (StatusCode::FORBIDDEN, LIFECYCLE_OFF).into_response();
    }
    tracing::warn!("Received termination request via web service, exiting gracefully.");
    app.shutdown.cancel();
    (StatusCode::OK, "Requesting termination... Goodbye!").into_response()
}
