//! A scrape pool: the targets of one scrape config, kept in sync with its discoverers,
//! one loop per target.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use argus_model::Labels;
use parking_lot::{Mutex, RwLock};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::ScrapeConfig;
use crate::discovery::{self, TargetGroup};
use crate::metrics::ScrapeMetrics;
use crate::scrape_cache::ScrapeSettings;
use crate::scrape_loop::{spawn_loop, LoopCtx, LoopHandle};
use crate::scraper::HttpScraper;
use crate::target::{new_target, populate_labels, Populated, Target};

/// What every pool of a manager shares.
pub(crate) struct Shared {
    pub appendable: Arc<dyn argus_model::Appendable>,
    pub metrics: ScrapeMetrics,
    pub offset_seed: u64,
    pub shutdown: CancellationToken,
}

struct PoolState {
    cfg: Arc<ScrapeConfig>,
    ctx: Arc<LoopCtx>,
    groups: BTreeMap<String, TargetGroup>,
    loops: HashMap<u64, LoopHandle>,
    dropped: Vec<Labels>,
    running: bool,
}

/// The targets and loops of one scrape config.
pub(crate) struct ScrapePool {
    pub name: String,
    state: Arc<Mutex<PoolState>>,
    shared: Arc<Shared>,
    discovery: CancellationToken,
}

fn loop_ctx(
    shared: &Shared,
    cfg: &ScrapeConfig,
    forced: Arc<RwLock<Option<String>>>,
) -> Result<Arc<LoopCtx>, String> {
    Ok(Arc::new(LoopCtx {
        appendable: shared.appendable.clone(),
        scraper: Arc::new(HttpScraper::new(cfg)?),
        metrics: shared.metrics.clone(),
        forced_error: forced,
        offset_seed: shared.offset_seed,
        shutdown: shared.shutdown.clone(),
        job: cfg.job_name.clone(),
    }))
}

/// Whether a loop's series cache stays valid under a new config: it holds labels after
/// target labels and metric relabeling, so those settings must not have changed.
fn cache_compatible(a: &ScrapeConfig, b: &ScrapeConfig) -> bool {
    a.honor_labels == b.honor_labels
        && a.honor_timestamps == b.honor_timestamps
        && a.metric_relabel_configs == b.metric_relabel_configs
        && a.label_limit == b.label_limit
        && a.label_name_length_limit == b.label_name_length_limit
        && a.label_value_length_limit == b.label_value_length_limit
}

impl ScrapePool {
    pub fn new(shared: Arc<Shared>, cfg: ScrapeConfig) -> Result<Self, String> {
        shared.metrics.pools_total.inc();
        let ctx = loop_ctx(&shared, &cfg, Arc::new(RwLock::new(None)))?;
        Ok(ScrapePool {
            name: cfg.job_name.clone(),
            state: Arc::new(Mutex::new(PoolState {
                cfg: Arc::new(cfg),
                ctx,
                groups: BTreeMap::new(),
                loops: HashMap::new(),
                dropped: Vec::new(),
                running: false,
            })),
            shared,
            discovery: CancellationToken::new(),
        })
    }

    pub fn config(&self) -> Arc<ScrapeConfig> {
        self.state.lock().cfg.clone()
    }

    /// Starts discovery and the loops of discovered targets.
    pub fn start(&self) {
        {
            let mut st = self.state.lock();
            if st.running {
                return;
            }
            st.running = true;
        }
        self.start_discovery();
        let mut st = self.state.lock();
        sync(&mut st, &self.shared, false);
    }

    fn start_discovery(&self) {
        let cfg = self.config();
        // Groups are keyed by discoverer and source: two discovery configs of one job may
        // produce the same source (`pod/ns/name` from two Kubernetes configs).
        let (tx, mut rx) = mpsc::channel::<(usize, Vec<TargetGroup>)>(16);
        for (i, d) in discovery::discoverers(&cfg).into_iter().enumerate() {
            let (dtx, mut drx) = mpsc::channel::<Vec<TargetGroup>>(16);
            tokio::spawn(d.run(self.discovery.clone(), dtx));
            let tx = tx.clone();
            tokio::spawn(async move {
                while let Some(u) = drx.recv().await {
                    if tx.send((i, u)).await.is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let state = self.state.clone();
        let shared = self.shared.clone();
        let cancel = self.discovery.clone();
        tokio::spawn(async move {
            loop {
                let (i, update) = tokio::select! {
                    _ = cancel.cancelled() => return,
                    u = rx.recv() => match u { Some(u) => u, None => return },
                };
                let mut st = state.lock();
                for g in update {
                    let key = format!("{i}/{}", g.source);
                    if g.targets.is_empty() {
                        st.groups.remove(&key);
                    } else {
                        st.groups.insert(key, g);
                    }
                }
                sync(&mut st, &shared, false);
            }
        });
    }

    /// Applies a changed scrape config: new HTTP client, targets recomputed, loops of
    /// surviving targets restarted with the new settings (continuing their series).
    pub fn reload(&mut self, cfg: ScrapeConfig) -> Result<(), String> {
        self.shared.metrics.pool_reloads.inc();
        let discovery_changed = {
            let st = self.state.lock();
            let old = &st.cfg;
            old.static_configs != cfg.static_configs
                || old.file_sd_configs != cfg.file_sd_configs
                || old.kubernetes_sd_configs != cfg.kubernetes_sd_configs
        };
        {
            let mut st = self.state.lock();
            let ctx = match loop_ctx(&self.shared, &cfg, st.ctx.forced_error.clone()) {
                Ok(c) => c,
                Err(e) => {
                    self.shared.metrics.pool_reloads_failed.inc();
                    return Err(e);
                }
            };
            st.ctx = ctx;
            st.cfg = Arc::new(cfg);
            if discovery_changed {
                st.groups.clear();
            }
            sync(&mut st, &self.shared, true);
        }
        if discovery_changed && self.state.lock().running {
            self.discovery.cancel();
            self.discovery = CancellationToken::new();
            self.start_discovery();
        }
        Ok(())
    }

    /// Stops discovery and every loop; with `staleness` their series get stale markers.
    pub fn stop(
        &self,
        staleness: bool,
    ) -> Vec<tokio::task::JoinHandle<crate::scrape_cache::ScrapeCache>> {
        self.discovery.cancel();
        let mut st = self.state.lock();
        st.running = false;
        self.shared
            .metrics
            .pool_targets
            .with_label_values(&[self.name.as_str()])
            .set(0);
        st.loops
            .drain()
            .map(|(_, l)| {
                l.stop(staleness);
                l.join
            })
            .collect()
    }

    pub fn active_targets(&self) -> Vec<(Arc<Target>, Arc<ScrapeConfig>)> {
        let st = self.state.lock();
        st.loops
            .values()
            .map(|l| (l.target.clone(), st.cfg.clone()))
            .collect()
    }

    pub fn dropped_targets(&self) -> Vec<Labels> {
        self.state.lock().dropped.clone()
    }
}

/// Recomputes targets from the groups and starts/stops loops. With `reload`, loops of
/// targets that survive are replaced by loops with the current config.
fn sync(st: &mut PoolState, shared: &Shared, reload: bool) {
    let cfg = st.cfg.clone();
    let mut targets: HashMap<u64, Target> = HashMap::new();
    let mut dropped = Vec::new();
    for g in st.groups.values() {
        for t in &g.targets {
            match populate_labels(&cfg, t, &g.labels) {
                Ok(Populated::Target(labels, discovered)) => {
                    match new_target(&cfg, labels, discovered) {
                        Ok(t) => {
                            targets.entry(t.hash).or_insert(t);
                        }
                        Err(e) => {
                            warn!(scrape_pool = %cfg.job_name, error = %e, "Creating target failed.")
                        }
                    }
                }
                Ok(Populated::Dropped(d)) => dropped.push(d),
                Err(e) => warn!(scrape_pool = %cfg.job_name, error = %e, "Creating target failed."),
            }
        }
    }
    if cfg.keep_dropped_targets > 0 {
        dropped.truncate(usize::try_from(cfg.keep_dropped_targets).unwrap_or(usize::MAX));
    }
    st.dropped = dropped;
    let limit_err = (cfg.target_limit > 0 && targets.len() as u64 > cfg.target_limit).then(|| {
        format!(
            "target_limit exceeded (number of targets: {}, limit: {})",
            targets.len(),
            cfg.target_limit
        )
    });
    if limit_err.is_some() && st.ctx.forced_error.read().is_none() {
        shared.metrics.exceeded_target_limit.inc();
    }
    *st.ctx.forced_error.write() = limit_err;
    shared
        .metrics
        .pool_targets
        .with_label_values(&[cfg.job_name.as_str()])
        .set(i64::try_from(targets.len()).unwrap_or(i64::MAX));
    if !st.running {
        return;
    }
    let gone: Vec<u64> = st
        .loops
        .keys()
        .filter(|h| !targets.contains_key(h))
        .copied()
        .collect();
    for h in gone {
        if let Some(l) = st.loops.remove(&h) {
            l.stop(true);
        }
    }
    for (h, t) in targets {
        let existing = st.loops.remove(&h);
        match existing {
            Some(old) if !reload => {
                st.loops.insert(h, old);
            }
            Some(old) => {
                // Replace the loop; the new one continues the old one's cache.
                old.stop(false);
                let reuse = cache_compatible(&old.cfg, &cfg);
                let t = Arc::new(t);
                let settings = ScrapeSettings {
                    cfg: cfg.clone(),
                    target_labels: t.public_labels(),
                };
                let l = spawn_loop(st.ctx.clone(), t, settings, Some((old.join, reuse)));
                st.loops.insert(h, l);
            }
            None => {
                let t = Arc::new(t);
                let settings = ScrapeSettings {
                    cfg: cfg.clone(),
                    target_labels: t.public_labels(),
                };
                info!(scrape_pool = %cfg.job_name, target = %t.url, "Starting scrape loop.");
                let l = spawn_loop(st.ctx.clone(), t, settings, None);
                st.loops.insert(h, l);
            }
        }
    }
}
