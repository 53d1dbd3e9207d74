//! [`AlertManager`]: the alert manager as one object: receives alerts, owns silences, runs
//! the dispatcher and the delivery of notifications, persists its state, and serves the
//! API v2 through [`crate::api::router`].
//!
//! Time comes from an injected [`Clock`](crate::clock::Clock). [`AlertManager::start`]
//! runs background loops (dispatch and delivery); tests instead call
//! [`AlertManager::tick`] after moving a [`ManualClock`](crate::clock::ManualClock).
//!
//! HA (replica pairs notify once): the state that replicas share is the silences and the
//! notification log, both mergeable by "latest wins" per key
//! ([`AlertManager::peer_state`] / [`AlertManager::merge_peer_state`]); changes and
//! "sending" announcements leave through a [`PeerSink`] and arrive through
//! [`AlertManager::receive_peer_events`]. The delivery rules are in `peers`.

mod deliver;
mod flush;
mod ingest;
mod peers;
mod state;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use ingest::{AlertView, GroupView, PostableAlert};
pub use peers::{ClusterStatus, PeerEvent, PeerSink, PeerStatus, SendingClaim};

use crate::clock::SharedClock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::nflog::{NflogEntry, NotificationLog};
use crate::notify::history::History;
use crate::notify::outbox::Outbox;
use crate::persist::PersistError;
use crate::silences::{Silence, SilenceError, Silences, StoredSilence};
use crate::store::AlertStore;
use state::{Compiled, State};

/// Tunables (defaults are Alertmanager's where it has one).
#[derive(Debug, Clone)]
pub struct Options {
    /// First retry delay of a failed delivery; doubles per attempt.
    pub retry_initial: Duration,
    /// Cap of the retry delay.
    pub retry_max: Duration,
    /// A notification not delivered after this long is given up (and counted failed).
    pub outbox_max_age: Duration,
    /// Expired silences are kept this long (Alertmanager `--data.retention`, 120h).
    pub silence_retention: Duration,
    /// How often resolved alerts are dropped from the store (`--alerts.gc-interval`).
    pub alerts_gc_interval: Duration,
    /// Longest sleep of the background loops (they also wake on events).
    pub poll_interval: Duration,
    /// HA: this replica's initial position; delivery waits `position × peer_timeout`
    /// (changed at run time by [`AlertManager::set_peer_position`]).
    pub peer_position: u32,
    /// HA: per-position delay (Alertmanager `--cluster.peer-timeout`, 15s).
    pub peer_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retry_initial: Duration::from_millis(500),
            retry_max: Duration::from_secs(60),
            outbox_max_age: Duration::from_secs(24 * 3600),
            silence_retention: Duration::from_secs(120 * 3600),
            alerts_gc_interval: Duration::from_secs(30 * 60),
            poll_interval: Duration::from_secs(1),
            peer_position: 0,
            peer_timeout: Duration::from_secs(15),
        }
    }
}

/// Errors of the manager.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config cannot be used (beyond parsing, e.g. an unreadable template).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// State files.
    #[error(transparent)]
    Persist(#[from] PersistError),
    /// Data directory.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Metric registration.
    #[error("registering metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// The alert manager.
pub struct AlertManager {
    state: Mutex<State>,
    clock: SharedClock,
    data_dir: PathBuf,
    external_url: String,
    pub(crate) metrics: Metrics,
    opts: Options,
    started: DateTime<Utc>,
    wake_dispatch: Notify,
    wake_deliver: Notify,
    stopping: std::sync::atomic::AtomicBool,
    stop_notify: Notify,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    peer_sink: Mutex<Option<PeerSink>>,
    peer_position: std::sync::atomic::AtomicU32,
    claims: Mutex<peers::Claims>,
    cluster: Mutex<Option<ClusterStatus>>,
    /// False while a replica has not yet heard from its peers: nothing is sent, so that
    /// a restarted replica does not repeat what a peer delivered meanwhile.
    settled: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for AlertManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertManager")
            .field("data_dir", &self.data_dir)
            .field("external_url", &self.external_url)
            .finish()
    }
}

impl AlertManager {
    /// Creates the manager with default [`Options`], restoring state from `data_dir`.
    pub fn new(
        config: Config,
        data_dir: &Path,
        external_url: &str,
        registry: &prometheus::Registry,
        clock: SharedClock,
    ) -> Result<Arc<AlertManager>, Error> {
        Self::with_options(
            config,
            data_dir,
            external_url,
            registry,
            clock,
            Options::default(),
        )
    }

    /// Creates the manager, restoring silences, notification log, outbox, alerts and group
    /// timers from `data_dir` (created if missing).
    pub fn with_options(
        config: Config,
        data_dir: &Path,
        external_url: &str,
        registry: &prometheus::Registry,
        clock: SharedClock,
        opts: Options,
    ) -> Result<Arc<AlertManager>, Error> {
        std::fs::create_dir_all(data_dir).map_err(|source| Error::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        for w in &config.warnings {
            tracing::warn!(warning = %w, "Alertmanager config: feature not supported.");
        }
        let metrics = Metrics::new(registry)?;
        let c = Compiled::new(config).map_err(Error::Config)?;
        let loaded = state::load(data_dir)?;
        for p in &loaded.problems {
            tracing::error!(error = %p, "Alert manager state file was corrupt; starting without it.");
        }
        let now = clock.now();
        let mut silences = Silences::new(opts.silence_retention);
        silences.merge(
            loaded
                .silences
                .into_iter()
                .filter_map(|s| Silence::try_from(s).ok()),
        );
        let mut nflog = NotificationLog::default();
        nflog.merge(loaded.notify.nflog);
        let mut alerts = AlertStore::default();
        alerts.restore(loaded.alerts.alerts.into_iter().map(Into::into).collect());
        let mut st = State {
            c,
            alerts,
            dispatcher: Default::default(),
            silences,
            nflog,
            outbox: Outbox::restore(loaded.notify.outbox),
            history: History::restore(loaded.notify.history),
            alerts_dirty: false,
            last_gc: now,
        };
        st.rebuild_groups(&loaded.alerts.groups, now);
        tracing::info!(
            alerts = st.alerts.len(),
            groups = st.dispatcher.len(),
            silences = st.silences.snapshot().len(),
            pending_notifications = st.outbox.len(),
            "Alert manager state restored."
        );
        let position = opts.peer_position;
        let am = AlertManager {
            state: Mutex::new(st),
            clock,
            data_dir: data_dir.to_owned(),
            external_url: external_url.trim_end_matches('/').to_owned(),
            metrics,
            opts,
            started: now,
            wake_dispatch: Notify::new(),
            wake_deliver: Notify::new(),
            stopping: Default::default(),
            stop_notify: Notify::new(),
            tasks: Mutex::new(Vec::new()),
            peer_sink: Mutex::new(None),
            peer_position: std::sync::atomic::AtomicU32::new(position),
            claims: Mutex::new(Default::default()),
            cluster: Mutex::new(None),
            settled: std::sync::atomic::AtomicBool::new(true),
        };
        am.config_loaded(true);
        am.update_gauges();
        Ok(Arc::new(am))
    }

    fn config_loaded(&self, ok: bool) {
        self.metrics
            .config_last_reload_successful
            .set(i64::from(ok));
        if ok {
            let st = self.state.lock();
            let h = xxhash_rust::xxh64::xxh64(st.c.config.source.as_bytes(), 0);
            // The gauge is a float; keep the hash within the exactly representable range.
            self.metrics.config_hash.set((h >> 11) as f64);
            self.metrics
                .config_last_reload_success_timestamp
                .set(self.clock.now().timestamp() as f64);
        }
    }

    /// Replaces the configuration. Groups whose key is unchanged keep their timers and
    /// alerts, so a reload causes no early and no partial notification.
    pub fn reload(&self, config: Config) -> Result<(), Error> {
        let c = match Compiled::new(config) {
            Ok(c) => c,
            Err(e) => {
                self.config_loaded(false);
                return Err(Error::Config(e));
            }
        };
        for w in &c.config.warnings {
            tracing::warn!(warning = %w, "Alertmanager config: feature not supported.");
        }
        {
            let mut st = self.state.lock();
            let timers = st.dispatcher.timers();
            st.c = c;
            let now = self.clock.now();
            st.rebuild_groups(&timers, now);
            st.alerts_dirty = true;
        }
        self.config_loaded(true);
        self.wake_dispatch.notify_one();
        tracing::info!("Completed loading of configuration file.");
        Ok(())
    }

    /// The current configuration.
    pub fn config(&self) -> Arc<Config> {
        self.state.lock().c.config.clone()
    }

    /// The external URL (links in notifications).
    pub fn external_url(&self) -> &str {
        &self.external_url
    }

    /// When the manager started.
    pub fn started(&self) -> DateTime<Utc> {
        self.started
    }

    /// The clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Creates or updates a silence; persisted before returning.
    pub fn set_silence(&self, s: Silence) -> Result<String, SilenceError> {
        let mut st = self.state.lock();
        let now = self.clock.now();
        let old_id = s.id.clone();
        let id = st.silences.set(s, now)?;
        self.persist_silences(&st);
        // Replacing a silence expires the old one: peers need both versions.
        let changed: Vec<Silence> = [old_id.as_str(), id.as_str()]
            .iter()
            .filter(|i| !i.is_empty())
            .filter_map(|i| st.silences.get(i).cloned())
            .collect();
        drop(st);
        for c in changed {
            self.emit_silence(Some(c));
        }
        self.update_gauges();
        Ok(id)
    }

    /// Expires a silence; persisted before returning.
    pub fn expire_silence(&self, id: &str) -> Result<(), SilenceError> {
        let mut st = self.state.lock();
        st.silences.expire(id, self.clock.now())?;
        self.persist_silences(&st);
        let s = st.silences.get(id).cloned();
        drop(st);
        self.emit_silence(s);
        self.update_gauges();
        Ok(())
    }

    /// All silences.
    pub fn silences(&self) -> Vec<Silence> {
        self.state.lock().silences.snapshot()
    }

    /// One silence.
    pub fn silence(&self, id: &str) -> Option<Silence> {
        self.state.lock().silences.get(id).cloned()
    }

    /// HA seam: the state a peer needs (silences and notification log).
    pub fn peer_state(&self) -> (Vec<StoredSilence>, Vec<NflogEntry>) {
        let st = self.state.lock();
        (
            st.silences.snapshot().iter().map(Into::into).collect(),
            st.nflog.snapshot(),
        )
    }

    /// HA seam: merges a peer's silences and notification log (latest wins per key) and
    /// persists the result. Returns how many entries changed.
    pub fn merge_peer_state(&self, silences: Vec<StoredSilence>, nflog: Vec<NflogEntry>) -> usize {
        let mut st = self.state.lock();
        let a = st.silences.merge(
            silences
                .into_iter()
                .filter_map(|s| Silence::try_from(s).ok()),
        );
        let b = st.nflog.merge(nflog);
        if a > 0 {
            self.persist_silences(&st);
        }
        if b > 0 {
            self.persist_notify(&st);
        }
        a + b
    }

    fn persist_silences(&self, st: &State) {
        if let Err(e) = st.write_silences(&self.data_dir) {
            self.metrics.state_write_failures.inc();
            tracing::error!(error = %e, "Writing silences failed.");
        }
    }

    fn persist_notify(&self, st: &State) {
        if let Err(e) = st.write_notify(&self.data_dir) {
            self.metrics.state_write_failures.inc();
            tracing::error!(error = %e, "Writing notification state failed.");
        }
    }

    fn persist_alerts(&self, st: &mut State) {
        match st.write_alerts(&self.data_dir) {
            Ok(_) => st.alerts_dirty = false,
            Err(e) => {
                self.metrics.state_write_failures.inc();
                tracing::error!(error = %e, "Writing alerts failed.");
            }
        }
    }

    /// Runs one dispatch round and delivers everything due, waiting for the deliveries
    /// to finish. Deterministic with a manual clock (tests, benchmarks).
    pub async fn tick(self: &Arc<Self>) {
        self.flush_due();
        let handles = self.deliver_due();
        for h in handles {
            let _ = h.await;
        }
    }

    /// Starts the background dispatch and delivery loops on the current tokio runtime.
    pub fn start(self: &Arc<Self>) {
        let d = self.clone();
        let dispatch = tokio::spawn(async move { d.dispatch_loop().await });
        let s = self.clone();
        let deliver = tokio::spawn(async move { s.deliver_loop().await });
        self.tasks.lock().extend([dispatch, deliver]);
    }

    /// Stops the loops and writes all state. Deliveries in flight are left to finish or
    /// are retried after the next start (they are still in the outbox).
    pub async fn stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.stop_notify.notify_waiters();
        self.wake_dispatch.notify_one();
        self.wake_deliver.notify_one();
        let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *self.tasks.lock());
        for t in tasks {
            let _ = t.await;
        }
        let mut st = self.state.lock();
        self.persist_alerts(&mut st);
        self.persist_notify(&st);
        self.persist_silences(&st);
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Sleeps until `deadline` on the manager's clock (capped by the poll interval),
    /// an explicit wake-up, or shutdown.
    async fn sleep_until(&self, deadline: Option<DateTime<Utc>>, wake: &Notify) {
        let mut d = self.opts.poll_interval;
        if let Some(t) = deadline {
            let left = (t - self.clock.now()).to_std().unwrap_or(Duration::ZERO);
            d = d.min(left);
        }
        if d.is_zero() {
            tokio::task::yield_now().await;
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = wake.notified() => {}
            _ = self.stop_notify.notified() => {}
        }
    }

    async fn dispatch_loop(self: Arc<Self>) {
        while !self.is_stopping() {
            self.flush_due();
            let next = self.state.lock().dispatcher.next_deadline();
            self.sleep_until(next, &self.wake_dispatch).await;
        }
    }

    async fn deliver_loop(self: Arc<Self>) {
        while !self.is_stopping() {
            let _ = self.deliver_due();
            let next = self.state.lock().outbox.next_due();
            self.sleep_until(next, &self.wake_deliver).await;
        }
    }

    /// Refreshes the state gauges.
    pub(crate) fn update_gauges(&self) {
        let st = self.state.lock();
        let now = self.clock.now();
        for (state, n) in st.silences.count_by_state(now) {
            self.metrics
                .silences
                .with_label_values(&[state.as_str()])
                .set(n as f64);
        }
        self.metrics
            .aggregation_groups
            .set(st.dispatcher.len() as i64);
        self.metrics.nflog_entries.set(st.nflog.len() as i64);
        self.metrics.outbox_pending.set(st.outbox.len() as i64);
        let (mut active, mut suppressed) = (0.0, 0.0);
        for a in st.alerts.iter().filter(|a| !a.resolved_at(now)) {
            let muted = st.c.inhibitor.mutes(&a.labels, now).is_some()
                || !st.silences.mutes(&a.labels, now).is_empty();
            if muted {
                suppressed += 1.0;
            } else {
                active += 1.0;
            }
        }
        self.metrics
            .alerts
            .with_label_values(&["active"])
            .set(active);
        self.metrics
            .alerts
            .with_label_values(&["suppressed"])
            .set(suppressed);
    }
}
