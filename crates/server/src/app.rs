//! The server's components and how a configuration reaches them.
//!
//! [`App::build`] creates every component against the opened TSDB; [`App::apply`] hands
//! a loaded configuration to each (scrape pools, rule files, Alertmanagers, external
//! labels); [`App::reload`] re-reads the files (SIGHUP, `POST /-/reload`). A configuration
//! that fails to load changes nothing and is reported; a component that refuses its part
//! keeps its previous setting, and the reload is reported as failed.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context as _;
use argus_alert::notifier::{Notifier, NotifierOptions};
use argus_alert::{AlertSender, FanoutSender, RuleManager, RuleManagerOptions};
use argus_alertmanager::{AlertManager, SystemClock};
use argus_model::{now_ms, Appendable, Queryable};
use argus_query::{Engine, EngineOptions};
use argus_scrape::ScrapeManager;
use argus_tsdb::Db;
use parking_lot::RwLock;
use prometheus::{Gauge, IntGauge, Registry};
use tokio_util::sync::CancellationToken;

use crate::builtin_am::{self, BuiltinSender};
use crate::cli::ServerArgs;
use crate::config::{self, LoadedConfig};
use crate::providers::{ScrapeTargets, ServerStatus};

/// Every long-lived component of the server.
pub struct App {
    pub args: ServerArgs,
    pub registry: Registry,
    pub db: Db,
    pub engine: Engine,
    pub scrape: ScrapeManager,
    pub targets: ScrapeTargets,
    pub rules: RuleManager,
    pub notifier: Arc<Notifier>,
    pub builtin: Arc<BuiltinSender>,
    pub am: Arc<AlertManager>,
    pub adapter: RwLock<Option<crate::adapter::Adapter>>,
    /// The remote-write sender (queues per `remote_write` entry, reading the WAL).
    pub remote: argus_remote::RemoteWriteManager,
    pub status: Arc<ServerStatus>,
    pub ready: Arc<AtomicBool>,
    pub external_url: String,
    /// External labels added to what is sent out (federation, remote read), replica
    /// label included.
    pub external_labels: RwLock<std::collections::BTreeMap<String, String>>,
    /// What queries and rules read: the TSDB, behind replica deduplication when
    /// `--query.replica-label` is given.
    pub query_storage: Arc<dyn Queryable>,
    /// The replica cluster, when this server is a member of one.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// Cancelled when the server shuts down (SIGTERM, SIGINT, `/-/quit`).
    pub shutdown: CancellationToken,
    reload_lock: tokio::sync::Mutex<()>,
    reload_ok: IntGauge,
    reload_time: Gauge,
}

/// `--web.external-url`, or `http://<hostname>:<port>/` as Prometheus defaults it.
pub fn external_url(args: &ServerArgs) -> String {
    match &args.external_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => {
            let host = argus_query::api::providers::hostname();
            let host = if host.is_empty() {
                "localhost".to_owned()
            } else {
                host
            };
            format!("http://{host}:{}", args.listen_address.port())
        }
    }
}

fn engine_options(args: &ServerArgs, cfg: &LoadedConfig) -> EngineOptions {
    EngineOptions {
        max_samples: args.query_max_samples,
        timeout: std::time::Duration::from_millis(args.query_timeout.as_millis().max(1) as u64),
        lookback_delta_ms: args.lookback_delta.as_millis(),
        max_concurrency: args.query_max_concurrency,
        delayed_name_removal: args.feature("promql-delayed-name-removal"),
        default_subquery_step_ms: cfg.main.global.evaluation_interval.as_millis(),
    }
}

fn rule_options(args: &ServerArgs, cfg: &LoadedConfig, external_url: &str) -> RuleManagerOptions {
    let g = &cfg.main.global;
    RuleManagerOptions {
        evaluation_interval_ms: g.evaluation_interval.as_millis(),
        query_offset_ms: g.rule_query_offset.map_or(0, |d| d.as_millis()),
        external_labels: g.external_labels.clone(),
        external_url: external_url.to_owned(),
        outage_tolerance_ms: args.for_outage_tolerance.as_millis(),
        for_grace_period_ms: args.for_grace_period.as_millis(),
        resend_delay_ms: args.resend_delay.as_millis(),
        ..RuleManagerOptions::default()
    }
}

fn gauges(registry: &Registry) -> anyhow::Result<(IntGauge, Gauge)> {
    let ok = IntGauge::new(
        "argus_config_last_reload_successful",
        "Whether the last configuration reload attempt was successful.",
    )?;
    let at = Gauge::new(
        "argus_config_last_reload_success_timestamp_seconds",
        "Timestamp of the last successful configuration reload.",
    )?;
    registry.register(Box::new(ok.clone()))?;
    registry.register(Box::new(at.clone()))?;
    Ok((ok, at))
}

impl App {
    /// Creates every component; nothing runs yet and no configuration is applied.
    pub async fn build(
        args: ServerArgs,
        registry: Registry,
        db: Db,
        cfg: &LoadedConfig,
        status: Arc<ServerStatus>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Arc<App>> {
        let storage: Arc<dyn Queryable> = if args.query_replica_labels.is_empty() {
            Arc::new(db.clone())
        } else {
            tracing::info!(labels = ?args.query_replica_labels, "Queries deduplicate replicas.");
            Arc::new(argus_query::dedup::DedupQueryable::new(
                Arc::new(db.clone()),
                args.query_replica_labels.clone(),
                argus_query::dedup::DEFAULT_PENALTY_MS,
            ))
        };
        let appendable: Arc<dyn Appendable> = Arc::new(db.clone());
        let engine = Engine::new(engine_options(&args, cfg));
        let external_url = external_url(&args);

        let scrape = ScrapeManager::new(appendable.clone(), &registry);
        let targets = ScrapeTargets {
            manager: scrape.clone(),
            pool_order: Arc::default(),
        };

        let notifier = Notifier::new(
            NotifierOptions {
                queue_capacity: args.notification_queue_capacity,
                external_labels: cfg.external_labels().clone(),
            },
            &registry,
        )
        .context("creating the Alertmanager notifier")?;

        let am_dir = args
            .alertmanager_storage
            .clone()
            .unwrap_or_else(|| args.tsdb_path.join("alertmanager"));
        let am_config = builtin_am::load_config(args.alertmanager_config.as_deref())?;
        let am_opts = argus_alertmanager::Options {
            peer_timeout: std::time::Duration::from_millis(
                args.cluster.peer_timeout.as_millis().max(0) as u64,
            ),
            ..argus_alertmanager::Options::default()
        };
        let am = AlertManager::with_options(
            am_config,
            &am_dir,
            &external_url,
            &registry,
            Arc::new(SystemClock),
            am_opts,
        )
        .context("starting the built-in alert manager")?;
        let cluster = crate::cluster::Cluster::new(&args, cfg, &registry)?;
        let builtin = Arc::new(BuiltinSender {
            am: am.clone(),
            external_labels: RwLock::new(cfg.shared_external_labels()),
            replica: RwLock::new(cfg.replica.clone()),
        });

        let sender: Arc<dyn AlertSender> = Arc::new(FanoutSender(vec![
            builtin.clone() as Arc<dyn AlertSender>,
            notifier.clone() as Arc<dyn AlertSender>,
        ]));
        let rules = RuleManager::new(
            engine.clone(),
            storage.clone(),
            appendable,
            sender,
            &registry,
            rule_options(&args, cfg, &external_url),
        );
        let remote = argus_remote::RemoteWriteManager::new(&args.tsdb_path, &registry)
            .context("starting the remote-write sender")?;
        remote.set_metadata_source(Arc::new(scrape.clone()));
        let (reload_ok, reload_time) = gauges(&registry)?;
        Ok(Arc::new(App {
            args,
            registry,
            db,
            engine,
            scrape,
            targets,
            rules,
            notifier,
            builtin,
            am,
            adapter: RwLock::new(None),
            remote,
            status,
            ready: Arc::default(),
            external_url,
            external_labels: RwLock::new(cfg.external_labels().clone()),
            query_storage: storage,
            cluster,
            shutdown,
            reload_lock: tokio::sync::Mutex::new(()),
            reload_ok,
            reload_time,
        }))
    }

    /// Hands `cfg` to every component. Returns the first refusal after trying them all.
    pub async fn apply(&self, cfg: &LoadedConfig) -> anyhow::Result<()> {
        let mut errors: Vec<String> = Vec::new();
        *self.targets.pool_order.write() = cfg
            .main
            .scrape_configs
            .iter()
            .map(|s| s.job_name.clone())
            .collect();
        if let Err(e) = self.scrape.apply_config(&cfg.main).await {
            errors.push(e.to_string());
        }
        self.rules
            .set_options(rule_options(&self.args, cfg, &self.external_url));
        if let Err(e) = self.rules.load(&cfg.main.rule_files) {
            errors.push(e.to_string());
        }
        self.notifier
            .set_external_labels(cfg.external_labels().clone());
        if let Err(e) = self.notifier.apply_config(&cfg.alerting) {
            errors.push(format!("alerting: {e}"));
        }
        *self.builtin.external_labels.write() = cfg.shared_external_labels();
        *self.builtin.replica.write() = cfg.replica.clone();
        *self.external_labels.write() = cfg.external_labels().clone();
        if let Some(c) = &self.cluster {
            c.set_config(cfg);
        }
        // Remote write carries every external label, the replica label included, so a
        // distributed engine can deduplicate the pair.
        if let Err(e) = self
            .remote
            .apply_config(&cfg.remote_write, cfg.external_labels())
            .await
        {
            errors.push(format!("remote_write: {e}"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(anyhow::anyhow!(errors.join("; ")))
        }
    }

    /// Re-reads every configuration file and applies it (SIGHUP, `POST /-/reload`).
    pub async fn reload(&self) -> anyhow::Result<()> {
        let _one_at_a_time = self.reload_lock.lock().await;
        tracing::info!("Loading configuration file.");
        let result = self.reload_files().await;
        match &result {
            Ok(()) => {
                self.reload_ok.set(1);
                self.reload_time.set(now_ms() as f64 / 1000.0);
                tracing::info!("Completed loading of configuration file.");
            }
            Err(e) => {
                self.reload_ok.set(0);
                self.status.config_loaded(None);
                tracing::error!(error = format!("{e:#}"), "Error reloading config.");
            }
        }
        result
    }

    async fn reload_files(&self) -> anyhow::Result<()> {
        let cfg = config::load(&self.args)?;
        let mut errors = Vec::new();
        if let Err(e) = self.apply(&cfg).await {
            errors.push(format!("{e:#}"));
        }
        match builtin_am::load_config(self.args.alertmanager_config.as_deref()) {
            Ok(c) => {
                if let Err(e) = self.am.reload(c) {
                    errors.push(format!("alert manager: {e}"));
                }
            }
            Err(e) => errors.push(format!("{e:#}")),
        }
        if let Some(a) = &*self.adapter.read() {
            if let Err(e) = a.state.reload() {
                errors.push(format!("adapter: {e}"));
            }
        }
        if !errors.is_empty() {
            anyhow::bail!(errors.join("; "));
        }
        self.status.config_loaded(Some(cfg.main.to_yaml()));
        Ok(())
    }

    /// Records the initial configuration as loaded.
    pub fn initial_config_applied(&self, cfg: &LoadedConfig, ok: bool) {
        self.reload_ok.set(i64::from(ok));
        if ok {
            self.reload_time.set(now_ms() as f64 / 1000.0);
            self.status.config_loaded(Some(cfg.main.to_yaml()));
        } else {
            self.status.config_loaded(None);
        }
    }
}
