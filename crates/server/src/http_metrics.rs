//! Metrics of the main listener, named as Prometheus names its own
//! (`prometheus_http_requests_total{handler,code}`,
//! `prometheus_http_request_duration_seconds{handler}`), with the `argus_` prefix. The
//! handler is the route pattern (`/api/v1/query`), never the raw path, so the label set
//! stays bounded whatever clients request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// The listener's request counter and latency histogram.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl HttpMetrics {
    /// Registers the metrics in `registry`.
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "argus_http_requests_total",
                "Counter of HTTP requests by handler and status code.",
            ),
            &["handler", "code"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "argus_http_request_duration_seconds",
                "Histogram of latencies for HTTP requests.",
            )
            .buckets(vec![0.1, 0.2, 0.4, 1.0, 3.0, 8.0, 20.0, 60.0, 120.0]),
            &["handler"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        Ok(HttpMetrics { requests, duration })
    }
}

/// Middleware counting and timing every request by its route.
pub async fn track(State(m): State<HttpMetrics>, req: Request, next: Next) -> Response {
    let handler = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let resp = next.run(req).await;
    m.requests
        .with_label_values(&[handler.as_str(), resp.status().as_str()])
        .inc();
    m.duration
        .with_label_values(&[handler.as_str()])
        .observe(start.elapsed().as_secs_f64());
    resp
}
