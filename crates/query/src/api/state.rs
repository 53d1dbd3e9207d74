//! What the API needs from the rest of the server, in one cloneable value.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use argus_model::{now_ms, Labels, Queryable, TsdbAdmin};
use regex::Regex;
use tokio::sync::Semaphore;

use super::providers::{
    AlertmanagersProvider, MetadataProvider, NoAlertmanagers, NoRules, NoTargets, ProcessStatus,
    RulesProvider, StatusProvider, TargetsProvider,
};
use crate::engine::Engine;

/// Limits of `/api/v1/read` (Prometheus' `--storage.remote.read-*` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteReadOptions {
    /// `--storage.remote.read-sample-limit`: samples one SAMPLES-type query may return
    /// (0 = unlimited).
    pub sample_limit: usize,
    /// `--storage.remote.read-concurrent-limit`: concurrent read requests (0 = unlimited).
    pub concurrency_limit: usize,
    /// `--storage.remote.read-max-bytes-in-frame` for streamed responses.
    pub max_bytes_in_frame: usize,
}

impl Default for RemoteReadOptions {
    fn default() -> Self {
        RemoteReadOptions {
            sample_limit: 50_000_000,
            concurrency_limit: 10,
            max_bytes_in_frame: 1_048_576,
        }
    }
}

/// Everything the `/api/v1` handlers read. Cheap to clone (all shared).
///
/// Build with [`ApiState::new`] and overwrite the fields the server has real components for.
#[derive(Clone)]
pub struct ApiState {
    /// Storage queried by the engine and the metadata endpoints.
    pub storage: Arc<dyn Queryable>,
    /// The PromQL engine (its options give the lookback delta used by `/federate`).
    pub engine: Engine,
    /// The TSDB's admin and statistics side. `/status/tsdb` falls back to counting series
    /// through `storage` when absent.
    pub tsdb: Option<Arc<dyn TsdbAdmin>>,
    /// `--web.enable-admin-api`: whether `/api/v1/admin/*` does anything.
    pub enable_admin: bool,
    /// Where `/api/v1/admin/tsdb/snapshot` puts snapshots (`<data dir>/snapshots`).
    pub snapshot_dir: PathBuf,
    /// Scrape targets.
    pub targets: Arc<dyn TargetsProvider>,
    /// Target metadata.
    pub metadata: Arc<dyn MetadataProvider>,
    /// Rules and alerts.
    pub rules: Arc<dyn RulesProvider>,
    /// Alertmanagers.
    pub alertmanagers: Arc<dyn AlertmanagersProvider>,
    /// Config, flags, runtime and build information.
    pub status: Arc<dyn StatusProvider>,
    /// `global.external_labels`: added by `/federate` and `/api/v1/read`.
    pub external_labels: Labels,
    /// `--web.cors.origin`, anchored (default `.*`, which answers `*`).
    pub cors_origin: Arc<Regex>,
    /// Queries evaluated at once (`--query.max-concurrency`); others wait.
    pub query_concurrency: Arc<Semaphore>,
    /// Remote-read limits.
    pub remote_read: RemoteReadOptions,
    /// Requests before this is true get 503, as Prometheus' `ready` wrapper does. `None`
    /// means always ready.
    pub ready: Option<Arc<AtomicBool>>,
    /// The clock (ms), replaceable for tests.
    pub now: Arc<dyn Fn() -> i64 + Send + Sync>,
}

/// Prometheus' default `--query.max-concurrency`.
pub const DEFAULT_MAX_CONCURRENCY: usize = 20;

impl ApiState {
    /// State with the given storage and engine, and empty providers: no targets, rules or
    /// Alertmanagers, process-derived status, admin APIs disabled, CORS `.*`.
    pub fn new(storage: Arc<dyn Queryable>, engine: Engine) -> Self {
        ApiState {
            storage,
            engine,
            tsdb: None,
            enable_admin: false,
            snapshot_dir: PathBuf::from("snapshots"),
            targets: Arc::new(NoTargets),
            metadata: Arc::new(NoTargets),
            rules: Arc::new(NoRules),
            alertmanagers: Arc::new(NoAlertmanagers),
            status: Arc::new(ProcessStatus::default()),
            external_labels: Labels::empty(),
            cors_origin: Arc::new(anchored_regex(".*").unwrap_or_else(|_| {
                unreachable!("BUG: the default CORS regex `.*` always compiles")
            })),
            query_concurrency: Arc::new(Semaphore::new(DEFAULT_MAX_CONCURRENCY)),
            remote_read: RemoteReadOptions::default(),
            ready: None,
            now: Arc::new(now_ms),
        }
    }

    /// Sets `--web.cors.origin` (a regex matched against the whole `Origin` header).
    pub fn with_cors_origin(mut self, pattern: &str) -> Result<Self, regex::Error> {
        self.cors_origin = Arc::new(anchored_regex(pattern)?);
        Ok(self)
    }

    /// Sets `--query.max-concurrency`.
    pub fn with_max_concurrency(mut self, n: usize) -> Self {
        self.query_concurrency = Arc::new(Semaphore::new(n.max(1)));
        self
    }
}

/// Compiles `^(?:pattern)$`, as Prometheus anchors `--web.cors.origin`.
pub fn anchored_regex(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}
