//! The API's views of the server's components: scrape targets and their metadata, and
//! the server's own status (configuration, flags, runtime, build, WAL replay).
//!
//! The scrape crate keeps its own target types (it does not depend on the query crate);
//! this is where the two meet.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use argus_model::{now_ms, Labels, MetricMetadata};
use argus_query::api::providers::{
    MetadataProvider, ProcessStatus, StatusProvider, TargetsProvider,
};
use argus_query::api::{
    ActiveTarget, ApiTime, BuildInfo, DroppedTarget, RuntimeInfo, TargetHealth, TargetMetadata,
    TargetsSnapshot, WalReplayStatus,
};
use argus_scrape::ScrapeManager;
use parking_lot::RwLock;

fn labels_of(m: &BTreeMap<String, String>) -> Labels {
    let pairs: Vec<(&str, &str)> = m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Labels::from_pairs(&pairs)
}

fn health_of(s: &str) -> TargetHealth {
    match s {
        "up" => TargetHealth::Up,
        "down" => TargetHealth::Down,
        _ => TargetHealth::Unknown,
    }
}

/// `/api/v1/targets`, `/api/v1/scrape_pools`, `/api/v1/targets/metadata` and
/// `/api/v1/metadata` from the scrape manager.
#[derive(Clone)]
pub struct ScrapeTargets {
    pub manager: ScrapeManager,
    /// Pool names in configuration order (the manager keeps them sorted).
    pub pool_order: Arc<RwLock<Vec<String>>>,
}

impl TargetsProvider for ScrapeTargets {
    fn targets(&self) -> TargetsSnapshot {
        let active = self
            .manager
            .active_targets()
            .into_iter()
            .map(|t| ActiveTarget {
                discovered_labels: labels_of(&t.discovered_labels),
                labels: labels_of(&t.labels),
                scrape_pool: t.scrape_pool,
                scrape_url: t.scrape_url,
                global_url: t.global_url,
                last_error: t.last_error,
                last_scrape: ApiTime(t.last_scrape_ms),
                last_scrape_duration: t.last_scrape_duration,
                health: health_of(&t.health),
                scrape_interval: t.scrape_interval,
                scrape_timeout: t.scrape_timeout,
            })
            .collect();
        let mut dropped_counts: BTreeMap<String, u64> = BTreeMap::new();
        let dropped = self
            .manager
            .dropped_targets()
            .into_iter()
            .map(|d| {
                *dropped_counts.entry(d.scrape_pool.clone()).or_default() += 1;
                DroppedTarget {
                    discovered_labels: labels_of(&d.discovered_labels),
                    scrape_pool: d.scrape_pool,
                }
            })
            .collect();
        for p in self.pool_order.read().iter() {
            dropped_counts.entry(p.clone()).or_default();
        }
        TargetsSnapshot {
            active,
            dropped,
            dropped_counts,
        }
    }

    fn scrape_pools(&self) -> Vec<String> {
        self.pool_order.read().clone()
    }
}

impl MetadataProvider for ScrapeTargets {
    fn target_metadata(&self) -> Vec<TargetMetadata> {
        self.manager
            .targets_metadata()
            .into_iter()
            .map(|m| TargetMetadata {
                target: labels_of(&m.target),
                metric: m.metric,
                metadata: MetricMetadata {
                    metric_type: m.metric_type,
                    help: m.help,
                    unit: m.unit,
                },
            })
            .collect()
    }
}

/// The server's status: what the process reports, plus the loaded configuration, the
/// flags, reload outcome, retention and WAL replay.
pub struct ServerStatus {
    process: ProcessStatus,
    flags: BTreeMap<String, String>,
    retention: String,
    config_yaml: RwLock<String>,
    reload_ok: AtomicBool,
    last_config_ms: AtomicI64,
    replay: RwLock<WalReplayStatus>,
    corruptions: AtomicI64,
}

impl ServerStatus {
    /// Status of a server started at `start_ms` with these flags.
    pub fn new(start_ms: i64, flags: BTreeMap<String, String>, retention: String) -> Self {
        ServerStatus {
            process: ProcessStatus::new(start_ms),
            flags,
            retention,
            config_yaml: RwLock::new(String::new()),
            reload_ok: AtomicBool::new(true),
            last_config_ms: AtomicI64::new(start_ms),
            replay: RwLock::new(WalReplayStatus::default()),
            corruptions: AtomicI64::new(0),
        }
    }

    /// Records a configuration (re)load.
    pub fn config_loaded(&self, yaml: Option<String>) {
        match yaml {
            Some(y) => {
                *self.config_yaml.write() = y;
                self.reload_ok.store(true, Ordering::SeqCst);
                self.last_config_ms.store(now_ms(), Ordering::SeqCst);
            }
            None => self.reload_ok.store(false, Ordering::SeqCst),
        }
    }

    /// Records the WAL replay (segments `min..=max`, all replayed) and repairs.
    pub fn replayed(&self, segments: u64, corruptions: i64) {
        let max = i64::try_from(segments)
            .unwrap_or(i64::MAX)
            .saturating_sub(1)
            .max(0);
        *self.replay.write() = WalReplayStatus {
            min: 0,
            max,
            current: max,
        };
        self.corruptions.store(corruptions, Ordering::SeqCst);
    }
}

impl StatusProvider for ServerStatus {
    fn config_yaml(&self) -> String {
        self.config_yaml.read().clone()
    }

    fn flags(&self) -> BTreeMap<String, String> {
        self.flags.clone()
    }

    fn runtime_info(&self) -> RuntimeInfo {
        let mut r = self.process.runtime_info();
        r.reload_config_success = self.reload_ok.load(Ordering::SeqCst);
        r.last_config_time = ApiTime::from_ms(self.last_config_ms.load(Ordering::SeqCst));
        r.corruption_count = self.corruptions.load(Ordering::SeqCst);
        r.storage_retention = self.retention.clone();
        r
    }

    fn build_info(&self) -> BuildInfo {
        let mut b = self.process.build_info();
        b.revision = option_env!("ARGUS_GIT_REVISION").unwrap_or("").to_owned();
        b.go_version = option_env!("ARGUS_RUSTC_VERSION")
            .unwrap_or("rust")
            .to_owned();
        b
    }

    fn wal_replay(&self) -> WalReplayStatus {
        *self.replay.read()
    }
}
