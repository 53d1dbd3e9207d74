//! Shared state of the adapter's handlers: storage, engine, the current configuration,
//! the metric registry, the optional Kubernetes client and self-metrics.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use argus_model::Queryable;
use argus_query::{Engine, QueryError, QueryOptions, QueryResult};
use parking_lot::RwLock;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts};
use tracing::{info, warn};

use crate::auth::AuthConfig;
use crate::config::{AdapterConfig, ConfigError};
use crate::error::AdapterError;
use crate::kube::KubeClient;
use crate::registry::{Registry, Snapshot};

/// Tunables of the adapter.
#[derive(Debug, Clone)]
pub struct AdapterOptions {
    /// The rules file (`--adapter.config.file`); `None` uses the embedded default.
    pub config_file: Option<PathBuf>,
    /// How far back discovery looks for series, ms.
    pub discovery_window_ms: i64,
    /// How often the metric list is rebuilt in the background.
    pub refresh_interval: Duration,
    /// Per-request query timeout.
    pub query_timeout: Duration,
    /// Only series newer than this count as present for kube-state-metrics lookups, ms.
    pub lookback_ms: i64,
}

impl Default for AdapterOptions {
    fn default() -> Self {
        Self {
            config_file: None,
            discovery_window_ms: 3_600_000,
            refresh_interval: Duration::from_secs(30),
            query_timeout: Duration::from_secs(30),
            lookback_ms: 300_000,
        }
    }
}

/// Self-metrics of the adapter.
#[derive(Clone)]
pub(crate) struct AdapterMetrics {
    pub requests: IntCounterVec,
    pub duration: HistogramVec,
    pub reloads: IntCounterVec,
}

impl AdapterMetrics {
    fn new(reg: &prometheus::Registry) -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "argus_adapter_requests_total",
                "Requests to the Kubernetes metrics APIs by API group and HTTP code.",
            ),
            &["group", "code"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "argus_adapter_request_duration_seconds",
                "Latency of Kubernetes metrics API requests.",
            )
            .buckets(vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
            ]),
            &["group"],
        )?;
        let reloads = IntCounterVec::new(
            Opts::new(
                "argus_adapter_config_reloads_total",
                "Adapter configuration reloads by result.",
            ),
            &["result"],
        )?;
        reg.register(Box::new(requests.clone()))?;
        reg.register(Box::new(duration.clone()))?;
        reg.register(Box::new(reloads.clone()))?;
        Ok(Self {
            requests,
            duration,
            reloads,
        })
    }
}

type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub(crate) struct Inner {
    pub storage: Arc<dyn Queryable>,
    pub engine: Engine,
    pub config: RwLock<Arc<AdapterConfig>>,
    pub registry: Registry,
    pub kube: Option<Arc<KubeClient>>,
    pub auth: AuthConfig,
    pub options: AdapterOptions,
    pub metrics: AdapterMetrics,
    pub clock: Clock,
}

/// Handle to the adapter's state; cheap to clone.
#[derive(Clone)]
pub struct AdapterState(pub(crate) Arc<Inner>);

impl AdapterState {
    /// Builds the state. `config` is usually [`AdapterConfig::load`] of
    /// `options.config_file` or [`AdapterConfig::embedded_default`]; its warnings are
    /// logged here. Self-metrics are registered in `registry`.
    pub fn new(
        storage: Arc<dyn Queryable>,
        engine: Engine,
        config: AdapterConfig,
        options: AdapterOptions,
        auth: AuthConfig,
        kube: Option<Arc<KubeClient>>,
        registry: &prometheus::Registry,
    ) -> Result<Self, AdapterError> {
        for w in &config.warnings {
            warn!(warning = %w, "Adapter config warning.");
        }
        let metrics = AdapterMetrics::new(registry)
            .map_err(|e| AdapterError::Internal(format!("registering adapter metrics: {e}")))?;
        Ok(Self(Arc::new(Inner {
            storage,
            engine,
            config: RwLock::new(Arc::new(config)),
            registry: Registry::new(options.discovery_window_ms),
            kube,
            auth,
            options,
            metrics,
            clock: Arc::new(argus_model::now_ms),
        })))
    }

    /// Replaces the clock (tests pin "now").
    pub fn with_clock(self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        match Arc::try_unwrap(self.0) {
            Ok(mut inner) => {
                inner.clock = Arc::new(clock);
                Self(Arc::new(inner))
            }
            Err(shared) => {
                warn!("with_clock called on a shared AdapterState; clock left unchanged.");
                Self(shared)
            }
        }
    }

    /// Current time, ms.
    pub fn now_ms(&self) -> i64 {
        (self.0.clock)()
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<AdapterConfig> {
        self.0.config.read().clone()
    }

    /// Swaps in a new configuration and forgets the metric list built under the old one.
    pub fn set_config(&self, config: AdapterConfig) {
        for w in &config.warnings {
            warn!(warning = %w, "Adapter config warning.");
        }
        *self.0.config.write() = Arc::new(config);
        self.0.registry.clear();
    }

    /// Re-reads `options.config_file` (SIGHUP, file change). A bad file is refused and the
    /// configuration in force is kept.
    pub fn reload(&self) -> Result<(), ConfigError> {
        let result = match &self.0.options.config_file {
            Some(p) => AdapterConfig::load(p),
            None => AdapterConfig::embedded_default(),
        };
        match result {
            Ok(c) => {
                self.set_config(c);
                self.0.metrics.reloads.with_label_values(&["success"]).inc();
                info!("Adapter configuration reloaded.");
                Ok(())
            }
            Err(e) => {
                self.0.metrics.reloads.with_label_values(&["failure"]).inc();
                warn!(error = %e, "Adapter configuration refused; keeping the previous one.");
                Err(e)
            }
        }
    }

    /// The configured rules file.
    pub fn config_file(&self) -> Option<&std::path::Path> {
        self.0.options.config_file.as_deref()
    }

    /// The current metric snapshot (never blocks on storage).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.0.registry.snapshot()
    }

    /// Rebuilds the metric list now.
    pub async fn refresh(&self) -> Result<Arc<Snapshot>, AdapterError> {
        let s = self.clone();
        let now = self.now_ms();
        tokio::task::spawn_blocking(move || {
            let cfg = s.config();
            s.0.registry.rebuild(s.0.storage.as_ref(), &cfg, now)
        })
        .await
        .map_err(|e| AdapterError::Internal(format!("metric discovery task: {e}")))?
        .map_err(AdapterError::from)
    }

    /// Rebuilds the metric list unless it was rebuilt within the last second; used when a
    /// request names a metric the snapshot doesn't know.
    pub(crate) async fn refresh_if_stale(&self) -> Result<Arc<Snapshot>, AdapterError> {
        let s = self.clone();
        let now = self.now_ms();
        tokio::task::spawn_blocking(move || {
            let cfg = s.config();
            s.0.registry
                .rebuild_if_stale(s.0.storage.as_ref(), &cfg, now)
        })
        .await
        .map_err(|e| AdapterError::Internal(format!("metric discovery task: {e}")))?
        .map_err(AdapterError::from)
    }

    /// Runs the background refresh loop until the returned handle is aborted.
    pub fn spawn_refresher(&self) -> tokio::task::JoinHandle<()> {
        let s = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(s.0.options.refresh_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = s.refresh().await {
                    warn!(error = %e, "Adapter metric discovery failed; serving the previous list.");
                }
            }
        })
    }

    /// Evaluates `query` at `ts_ms` on a blocking thread with the request timeout.
    pub(crate) async fn instant_query(
        &self,
        query: String,
        ts_ms: i64,
    ) -> Result<QueryResult, AdapterError> {
        let s = self.clone();
        let timeout = self.0.options.query_timeout;
        let q = query.clone();
        let res = tokio::task::spawn_blocking(move || {
            let opts = QueryOptions {
                timeout: Some(timeout),
                ..QueryOptions::default()
            };
            s.0.engine
                .instant_query(s.0.storage.as_ref(), &q, ts_ms, &opts)
        })
        .await
        .map_err(|e| AdapterError::Internal(format!("query task: {e}")))?;
        res.map_err(|e| match e {
            QueryError::Parse(p) => AdapterError::Internal(format!(
                "the rule's query does not parse: {p} (query: {query})"
            )),
            QueryError::Timeout(_) | QueryError::Canceled(_) => {
                AdapterError::Timeout(format!("{e} (query: {query})"))
            }
            QueryError::Storage(s) => AdapterError::from(s),
            other => AdapterError::Internal(format!("{other} (query: {query})")),
        })
    }
}
