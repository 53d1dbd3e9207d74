//! `POST /api/v1/write` as an axum router, ready to be merged by the server.

use std::sync::Arc;

use argus_model::Appendable;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use prometheus::{IntCounter, IntCounterVec, Opts, Registry};
use tracing::{debug, warn};

use super::receive::{handle_with_limits, Limits, RemoteWriteError};

struct Receiver {
    appendable: Arc<dyn Appendable>,
    limits: Limits,
    samples: IntCounter,
    requests: IntCounterVec,
}

/// The receiver at `POST /api/v1/write` with default limits and unregistered metrics.
pub fn remote_write_router(appendable: Arc<dyn Appendable>) -> Router {
    remote_write_router_with(appendable, &Registry::new(), Limits::default())
}

/// The receiver with explicit limits, registering `argus_remote_write_*` metrics in
/// `registry`.
pub fn remote_write_router_with(
    appendable: Arc<dyn Appendable>,
    registry: &Registry,
    limits: Limits,
) -> Router {
    let samples = IntCounter::new(
        "argus_remote_write_samples_written_total",
        "Samples stored from remote-write requests.",
    )
    .unwrap_or_else(|_| unreachable!("BUG: static metric name"));
    let requests = IntCounterVec::new(
        Opts::new(
            "argus_remote_write_requests_total",
            "Remote-write requests by response code.",
        ),
        &["code"],
    )
    .unwrap_or_else(|_| unreachable!("BUG: static metric name"));
    for c in [
        Box::new(samples.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(requests.clone()),
    ] {
        if let Err(e) = registry.register(c) {
            debug!(error = %e, "Remote-write metric not registered.");
        }
    }
    let state = Arc::new(Receiver {
        appendable,
        limits,
        samples,
        requests,
    });
    Router::new()
        .route("/api/v1/write", post(write))
        // Axum's default body cap is 2 MiB; ours is checked in the handler with a clear
        // message, so let the extractor take up to it.
        .layer(DefaultBodyLimit::max(
            limits.max_body_bytes.saturating_add(1),
        ))
        .with_state(state)
}

fn written_header(resp: &mut Response, n: u64) {
    if let Ok(v) = HeaderValue::from_str(&n.to_string()) {
        resp.headers_mut()
            .insert("X-Prometheus-Remote-Write-Samples-Written", v);
    }
    for h in [
        "X-Prometheus-Remote-Write-Histograms-Written",
        "X-Prometheus-Remote-Write-Exemplars-Written",
    ] {
        resp.headers_mut().insert(h, HeaderValue::from_static("0"));
    }
}

async fn write(State(rx): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    let r = rx.clone();
    // Appending commits to the WAL: blocking I/O, off the async workers.
    let res = tokio::task::spawn_blocking(move || {
        handle_with_limits(&*r.appendable, &headers, &body, &r.limits)
    })
    .await;
    let res = match res {
        Ok(r) => r,
        Err(e) => Err(RemoteWriteError::Storage(argus_model::StorageError::Other(
            format!("receiver task failed: {e}"),
        ))),
    };
    let (mut resp, written) = match res {
        Ok(stats) => (
            StatusCode::NO_CONTENT.into_response(),
            stats.samples_written,
        ),
        Err(e) => {
            let code = e.status_code();
            if code.is_server_error() {
                warn!(error = %e, "Remote write failed.");
            } else {
                debug!(error = %e, "Remote write refused.");
            }
            let written = e.samples_written();
            ((code, format!("{e}\n")).into_response(), written)
        }
    };
    rx.samples.inc_by(written);
    rx.requests
        .with_label_values(&[resp.status().as_str()])
        .inc();
    written_header(&mut resp, written);
    resp
}
