//! Argus' ingest side: exposition parsers, the Prometheus configuration file, relabeling,
//! service discovery, the scrape manager and the remote-write receiver.
//!
//! - [`parse`]: Prometheus text 0.0.4, OpenMetrics 1.0 and protobuf exposition parsers
//!   (nom), producing one stream of [`parse::Entry`] values; content negotiation.
//! - [`config`]: the whole Prometheus YAML file, used unchanged.
//! - [`relabel`]: every relabel action.
//! - [`discovery`]: static, file-based and Kubernetes API target discovery.
//! - [`ScrapeManager`]: scrape pools and per-target loops writing to an
//!   [`argus_model::Appendable`], with Prometheus' staleness, limits and report series.
//! - [`remote_write`]: the `POST /api/v1/write` receiver.
//! - [`tls`]: the rustls client configuration of a `tls_config` (shared with the remote-write
//!   sender).

pub mod api;
pub mod config;
pub mod discovery;
mod manager;
mod metrics;
pub mod parse;
pub mod relabel;
pub mod remote_write;
mod scrape_cache;
mod scrape_loop;
mod scrape_pool;
mod scraper;
pub mod target;
pub mod tls;

pub use manager::{ApplyConfigError, ScrapeManager};
pub use remote_write::{remote_write_router, RemoteWriteError};
pub use scrape_cache::{AppendStats, ScrapeFailure};
