//! The HTTP surface: discovery documents, the three metrics APIs, health and debug
//! endpoints, behind authentication.

mod apis;
mod debug;
mod discovery;

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::{json_response, AdapterError};
use crate::state::AdapterState;

/// custom.metrics.k8s.io.
pub const CUSTOM_GROUP: &str = "custom.metrics.k8s.io";
/// external.metrics.k8s.io.
pub const EXTERNAL_GROUP: &str = "external.metrics.k8s.io";
/// metrics.k8s.io.
pub const METRICS_GROUP: &str = "metrics.k8s.io";

/// The adapter's router; serve it with [`crate::tls::serve_tls`].
pub fn router(state: AdapterState) -> Router {
    Router::new()
        .route("/healthz", get(ok))
        .route("/livez", get(ok))
        .route("/readyz", get(ok))
        .route("/apis", get(discovery::group_list))
        .route("/apis/{group}", get(discovery::group))
        .route("/apis/{group}/{version}", get(discovery::resources))
        .route("/apis/{group}/{version}/{*rest}", get(apis::dispatch))
        .route("/openapi/v2", get(discovery::openapi_v2))
        .route("/openapi/v3", get(discovery::openapi_v3))
        .route("/debug/metrics/{metric}", get(debug::metric))
        .fallback(not_found)
        // Layers run outermost-last-added: authenticate, then authorize.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::authz::authorize,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authenticate,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

async fn ok() -> &'static str {
    "ok"
}

async fn not_found() -> Response {
    AdapterError::not_found("the server could not find the requested resource").into_response()
}

/// Counts requests and their latency per API group.
async fn observe(State(state): State<AdapterState>, req: Request, next: Next) -> Response {
    let group = match req.uri().path().split('/').nth(2) {
        Some(CUSTOM_GROUP) => CUSTOM_GROUP,
        Some(EXTERNAL_GROUP) => EXTERNAL_GROUP,
        Some(METRICS_GROUP) => METRICS_GROUP,
        Some(_) | None => "other",
    };
    let start = Instant::now();
    let resp = next.run(req).await;
    let m = &state.0.metrics;
    m.duration
        .with_label_values(&[group])
        .observe(start.elapsed().as_secs_f64());
    m.requests
        .with_label_values(&[group, resp.status().as_str()])
        .inc();
    resp
}

/// The first value of each query parameter.
pub(crate) fn query_params(req_query: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if let Some(q) = req_query {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
    }
    out
}

/// A 200 JSON response.
pub(crate) fn ok_json<T: serde::Serialize>(body: &T) -> Response {
    json_response(StatusCode::OK, body)
}
