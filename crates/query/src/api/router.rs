//! Mounting the handlers, plus the wrappers Prometheus puts around every API endpoint:
//! readiness (503 before ready), CORS, `OPTIONS` answered with 204, and gzip.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::Semaphore;
use tower_http::compression::CompressionLayer;

use super::remote_read::{self, ReadState};
use super::state::ApiState;
use super::{admin, federate, metadata, parse_query, query, rules, series, status, targets};

/// The Prometheus HTTP API: everything under `/api/v1`, plus `/federate`.
///
/// The server merges this into its own router (next to `/-/healthy`, `/metrics`, the UI).
pub fn router(state: ApiState) -> Router {
    let api = Router::new()
        .route("/query", get(query::instant).post(query::instant))
        .route("/query_range", get(query::range).post(query::range))
        .route(
            "/query_exemplars",
            get(query::exemplars).post(query::exemplars),
        )
        .route(
            "/format_query",
            get(query::format_query).post(query::format_query),
        )
        .route(
            "/parse_query",
            get(parse_query::parse_query).post(parse_query::parse_query),
        )
        .route(
            "/labels",
            get(series::label_names).post(series::label_names),
        )
        .route("/label/{name}/values", get(series::label_values))
        .route("/series", get(series::series).post(series::series))
        .route("/metadata", get(metadata::metadata))
        .route("/targets", get(targets::targets))
        .route("/targets/metadata", get(metadata::target_metadata))
        .route("/scrape_pools", get(targets::scrape_pools))
        .route("/alertmanagers", get(targets::alertmanagers))
        .route("/rules", get(rules::rules))
        .route("/alerts", get(rules::alerts))
        .route("/notifications", get(status::notifications))
        .route("/status/config", get(status::config))
        .route("/status/flags", get(status::flags))
        .route("/status/runtimeinfo", get(status::runtime_info))
        .route("/status/buildinfo", get(status::build_info))
        .route("/status/tsdb", get(status::tsdb))
        .route("/status/walreplay", get(status::wal_replay))
        .route(
            "/admin/tsdb/delete_series",
            post(admin::delete_series).put(admin::delete_series),
        )
        .route(
            "/admin/tsdb/clean_tombstones",
            post(admin::clean_tombstones).put(admin::clean_tombstones),
        )
        .route(
            "/admin/tsdb/snapshot",
            post(admin::snapshot).put(admin::snapshot),
        )
        .fallback(not_found)
        .with_state(state.clone())
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(state.clone(), cors));

    let limit = state.remote_read.concurrency_limit;
    let read = Router::new()
        .route("/read", post(remote_read::read))
        .with_state(ReadState {
            api: state.clone(),
            gate: (limit > 0).then(|| Arc::new(Semaphore::new(limit))),
        });

    let federation = Router::new()
        .route("/federate", get(federate::federate))
        .with_state(state.clone())
        .layer(CompressionLayer::new());

    Router::new()
        .nest("/api/v1", api.merge(read))
        .merge(federation)
        .layer(middleware::from_fn_with_state(state, ready))
}

/// Go's `http.NotFound` body.
async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "404 page not found\n").into_response()
}

/// 503 until the server is ready (WAL replayed), like Prometheus' `testReady`.
async fn ready(State(st): State<ApiState>, req: Request, next: Next) -> Response {
    if let Some(r) = &st.ready {
        if !r.load(Ordering::SeqCst) {
            return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
        }
    }
    next.run(req).await
}

/// Sets CORS headers when the request has an `Origin`, and answers `OPTIONS` with 204
/// (`util/httputil.SetCORS`, `r.Options("/*path")`).
async fn cors(State(st): State<ApiState>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut resp = if req.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    if let Some(origin) = origin {
        set_cors(resp.headers_mut(), &st, &origin);
    }
    resp
}

fn set_cors(h: &mut HeaderMap, st: &ApiState, origin: &HeaderValue) {
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Accept, Authorization, Content-Type, Origin"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Date"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    // The default pattern `.*` answers `*`; others echo a matching origin.
    if st.cors_origin.as_str() == "^(?:.*)$" {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    } else if origin.to_str().is_ok_and(|o| st.cors_origin.is_match(o)) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
}
