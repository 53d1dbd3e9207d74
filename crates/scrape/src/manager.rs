//! The scrape manager: one scrape pool per `scrape_configs` entry, reloaded in place.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use argus_model::{Appendable, MetricMetadata, PromDuration};
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::api::{label_map, rfc3339, ActiveTarget, DroppedTarget, TargetMetadata};
use crate::config::Config;
use crate::metrics::ScrapeMetrics;
use crate::scrape_pool::{ScrapePool, Shared};

/// Errors of [`ScrapeManager::apply_config`]. Pools that could be applied are running
/// with the new configuration; the failing ones keep their previous one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("applying scrape configuration failed: {}", .0.iter().map(|(j, e)| format!("job {j:?}: {e}")).collect::<Vec<_>>().join("; "))]
pub struct ApplyConfigError(pub Vec<(String, String)>);

struct Inner {
    shared: Arc<Shared>,
    pools: Mutex<BTreeMap<String, ScrapePool>>,
    running: AtomicBool,
    hostname: String,
}

/// Scrapes the targets of a configuration into an [`Appendable`].
///
/// Lifecycle: [`new`](Self::new), [`apply_config`](Self::apply_config) (validated pools
/// are built but not started), then [`run`](Self::run) (starts scraping, returns after
/// [`shutdown`](Self::shutdown)). `apply_config` may be called again at any time to reload.
#[derive(Clone)]
pub struct ScrapeManager {
    inner: Arc<Inner>,
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

impl ScrapeManager {
    /// A manager writing to `appendable`, registering its metrics in `registry`.
    pub fn new(appendable: Arc<dyn Appendable>, registry: &prometheus::Registry) -> ScrapeManager {
        let hostname = hostname();
        // Prometheus seeds target offsets with the host name (and external labels), so
        // HA pairs scrape at different moments.
        let offset_seed = xxhash_rust::xxh3::xxh3_64(hostname.as_bytes());
        ScrapeManager {
            inner: Arc::new(Inner {
                shared: Arc::new(Shared {
                    appendable,
                    metrics: ScrapeMetrics::new(registry),
                    offset_seed,
                    shutdown: CancellationToken::new(),
                }),
                pools: Mutex::new(BTreeMap::new()),
                running: AtomicBool::new(false),
                hostname,
            }),
        }
    }

    /// Applies a (re)loaded configuration: new pools are created, changed pools reloaded
    /// (their targets keep their series state), removed pools stopped with stale markers
    /// for their series, unchanged pools left alone.
    pub async fn apply_config(&self, cfg: &Config) -> Result<(), ApplyConfigError> {
        for u in cfg.unsupported() {
            warn!(setting = %u, "Configuration setting not supported; ignored.");
        }
        let running = self.inner.running.load(Ordering::SeqCst);
        let mut errors = Vec::new();
        let mut pools = self.inner.pools.lock();
        let wanted: Vec<&str> = cfg
            .scrape_configs
            .iter()
            .map(|s| s.job_name.as_str())
            .collect();
        let removed: Vec<String> = pools
            .keys()
            .filter(|k| !wanted.contains(&k.as_str()))
            .cloned()
            .collect();
        for name in removed {
            if let Some(p) = pools.remove(&name) {
                info!(scrape_pool = %name, "Stopping scrape pool.");
                p.stop(true);
            }
        }
        for sc in &cfg.scrape_configs {
            match pools.get_mut(&sc.job_name) {
                Some(p) if *p.config() == *sc => {}
                Some(p) => {
                    info!(scrape_pool = %sc.job_name, "Reloading scrape pool.");
                    if let Err(e) = p.reload(sc.clone()) {
                        errors.push((sc.job_name.clone(), e));
                    }
                }
                None => match ScrapePool::new(self.inner.shared.clone(), sc.clone()) {
                    Ok(p) => {
                        if running {
                            p.start();
                        }
                        pools.insert(sc.job_name.clone(), p);
                    }
                    Err(e) => errors.push((sc.job_name.clone(), e)),
                },
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApplyConfigError(errors))
        }
    }

    /// Starts scraping and runs until [`shutdown`](Self::shutdown); then stops every loop
    /// (without stale markers, as Prometheus does on shutdown) and waits for in-flight
    /// appends to finish (at most 10 s).
    pub async fn run(&self) {
        self.inner.running.store(true, Ordering::SeqCst);
        for p in self.inner.pools.lock().values() {
            p.start();
        }
        self.inner.shared.shutdown.cancelled().await;
        let joins: Vec<_> = self
            .inner
            .pools
            .lock()
            .values()
            .flat_map(|p| p.stop(false))
            .collect();
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            for j in joins {
                let _ = j.await;
            }
        })
        .await;
        self.inner.running.store(false, Ordering::SeqCst);
    }

    /// Makes [`run`](Self::run) stop scraping and return.
    pub fn shutdown(&self) {
        self.inner.shared.shutdown.cancel();
    }

    /// Targets being scraped, sorted by pool and URL.
    pub fn active_targets(&self) -> Vec<ActiveTarget> {
        let pools = self.inner.pools.lock();
        let mut out = Vec::new();
        for (name, p) in pools.iter() {
            for (t, _cfg) in p.active_targets() {
                let st = t.status.lock().clone();
                let url = t.url.to_string();
                let global_url = if self.inner.hostname.is_empty() {
                    url.clone()
                } else {
                    url.replacen("://localhost", &format!("://{}", self.inner.hostname), 1)
                        .replacen("://127.0.0.1", &format!("://{}", self.inner.hostname), 1)
                };
                out.push(ActiveTarget {
                    discovered_labels: label_map(&t.discovered, false),
                    labels: label_map(&t.labels, true),
                    scrape_pool: name.clone(),
                    scrape_url: url,
                    global_url,
                    last_error: st.last_error,
                    last_scrape: rfc3339(st.last_scrape),
                    last_scrape_ms: st.last_scrape.and_then(|t| {
                        let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
                        i64::try_from(d.as_millis()).ok()
                    }),
                    last_scrape_duration: st.last_scrape_duration.as_secs_f64(),
                    health: st.health.as_str().to_owned(),
                    scrape_interval: duration_string(t.interval),
                    scrape_timeout: duration_string(t.timeout),
                });
            }
        }
        out.sort_by(|a, b| (&a.scrape_pool, &a.scrape_url).cmp(&(&b.scrape_pool, &b.scrape_url)));
        out
    }

    /// Targets dropped by relabeling (at most `keep_dropped_targets` per pool).
    pub fn dropped_targets(&self) -> Vec<DroppedTarget> {
        let pools = self.inner.pools.lock();
        let mut out = Vec::new();
        for (name, p) in pools.iter() {
            for d in p.dropped_targets() {
                out.push(DroppedTarget {
                    discovered_labels: label_map(&d, false),
                    scrape_pool: name.clone(),
                });
            }
        }
        out
    }

    /// Per-target metric metadata, for `/api/v1/targets/metadata`.
    pub fn targets_metadata(&self) -> Vec<TargetMetadata> {
        let pools = self.inner.pools.lock();
        let mut out = Vec::new();
        for p in pools.values() {
            for (t, _) in p.active_targets() {
                let md = t.metadata.lock().clone();
                let target = label_map(&t.labels, true);
                for (metric, m) in md.iter() {
                    out.push(TargetMetadata {
                        target: target.clone(),
                        metric: metric.clone(),
                        metric_type: m.metric_type,
                        help: m.help.clone(),
                        unit: m.unit.clone(),
                    });
                }
            }
        }
        out
    }

    /// Metadata by metric family name across all targets, each distinct entry once, for
    /// `/api/v1/metadata`.
    pub fn metadata(&self) -> BTreeMap<String, Vec<MetricMetadata>> {
        let mut out: BTreeMap<String, Vec<MetricMetadata>> = BTreeMap::new();
        for m in self.targets_metadata() {
            let e = out.entry(m.metric).or_default();
            let md = MetricMetadata {
                metric_type: m.metric_type,
                help: m.help,
                unit: m.unit,
            };
            if !e.contains(&md) {
                e.push(md);
            }
        }
        out
    }
}

fn duration_string(d: Duration) -> String {
    PromDuration(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)).to_string()
}
