//! Kubernetes metrics APIs served from Argus' TSDB: `custom.metrics.k8s.io` (v1beta1 and
//! v1beta2), `external.metrics.k8s.io/v1beta1` and `metrics.k8s.io/v1beta1`, so the
//! Horizontal Pod Autoscaler and `kubectl top` need neither prometheus-adapter nor
//! metrics-server.
//!
//! - [`config`]: prometheus-adapter's rule format (`rules`, `externalRules`,
//!   `resourceRules`), with an embedded default for cAdvisor and application metrics.
//! - [`registry`]: which metrics exist, resolved against the live index.
//! - [`provider`]: requests → PromQL (in-process engine) → Kubernetes objects.
//! - [`quantity`], [`selector`], [`k8s`]: Kubernetes quantities, label selectors and API
//!   types, byte-compatible with apimachinery.
//! - [`http`], [`auth`], [`tls`]: the HTTPS listener with front-proxy/bearer
//!   authentication.
//!
//! The server wires it up as:
//!
//! ```ignore
//! let cfg = match &flags.adapter_config_file {
//!     Some(p) => AdapterConfig::load(p)?,
//!     None => AdapterConfig::embedded_default()?,
//! };
//! let kube = KubeClient::in_cluster()?.map(Arc::new);
//! let state = AdapterState::new(storage, engine, cfg, options, auth, kube, &registry)?;
//! state.spawn_refresher();
//! tokio::spawn(tls::bind_and_serve(addr, &tls_opts, router(state.clone()), shutdown));
//! ```

pub mod auth;
pub mod authz;
pub mod config;
pub mod error;
pub mod http;
pub mod k8s;
pub mod kube;
pub mod provider;
pub mod quantity;
pub mod registry;
pub mod reload;
pub mod selector;
pub mod state;
pub mod tls;

pub use auth::AuthConfig;
pub use config::{AdapterConfig, ConfigError};
pub use error::AdapterError;
pub use http::router;
pub use kube::KubeClient;
pub use quantity::Quantity;
pub use state::{AdapterOptions, AdapterState};
pub use tls::{bind_and_serve, serve_tls, server_config, TlsOptions};
