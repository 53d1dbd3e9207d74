//! Argus' own metrics: one registry shared by every component, served on `/metrics` in the
//! Prometheus text format, plus the standard `process_*` metrics.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus::{Encoder, Registry, TextEncoder};

/// A registry with the process collector and build info registered.
pub fn new_registry() -> Registry {
    let registry = Registry::new();
    #[cfg(target_os = "linux")]
    {
        let pc = prometheus::process_collector::ProcessCollector::for_self();
        if let Err(e) = registry.register(Box::new(pc)) {
            tracing::warn!(error = %e, "Cannot register process metrics.");
        }
    }
    let opts = prometheus::Opts::new(
        "argus_build_info",
        "A metric with a constant '1' value labeled by version and the Rust version it was built with.",
    )
    .const_label("version", env!("CARGO_PKG_VERSION"));
    if let Ok(g) = prometheus::IntGauge::with_opts(opts) {
        g.set(1);
        let _ = registry.register(Box::new(g));
    }
    registry
}

/// Renders the registry as the `/metrics` response.
pub fn render(registry: &Registry) -> Response {
    let mut buf = Vec::with_capacity(16 * 1024);
    match TextEncoder::new().encode(&registry.gather(), &mut buf) {
        Ok(()) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            buf,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("error encoding metrics: {e}\n"),
        )
            .into_response(),
    }
}
