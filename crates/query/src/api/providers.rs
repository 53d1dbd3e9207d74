//! The seams through which components outside `query` feed the API: scrape targets and their
//! metadata (scrape), rules and alerts (alert), Alertmanager discovery (notifier) and server
//! status (server). Each has an empty default so the API works before they exist.

use std::collections::BTreeMap;

use argus_model::now_ms;

use super::types::{
    Alert, AlertmanagerDiscovery, BuildInfo, Rule, RuleGroup, RuntimeInfo, TargetMetadata,
    TargetsSnapshot, WalReplayStatus,
};

/// Scrape targets (`/api/v1/targets`, `/api/v1/scrape_pools`).
pub trait TargetsProvider: Send + Sync {
    /// Current active and dropped targets.
    fn targets(&self) -> TargetsSnapshot;

    /// Configured scrape pool names, in configuration order.
    fn scrape_pools(&self) -> Vec<String>;
}

/// Per-target metric metadata (`/api/v1/metadata`, `/api/v1/targets/metadata`).
pub trait MetadataProvider: Send + Sync {
    /// Metadata of every metric of every active target, grouped by target in target order.
    fn target_metadata(&self) -> Vec<TargetMetadata>;
}

/// Rule groups and their alerts (`/api/v1/rules`, `/api/v1/alerts`).
pub trait RulesProvider: Send + Sync {
    /// Every rule group with its rules' state, in file and group order. Alerting rules carry
    /// their active alerts in `alerts: Some(..)`.
    fn rule_groups(&self) -> Vec<RuleGroup>;

    /// Active alerts of every alerting rule (Prometheus' `/api/v1/alerts`).
    fn alerts(&self) -> Vec<Alert> {
        self.rule_groups()
            .into_iter()
            .flat_map(|g| g.rules)
            .filter_map(|r| match r {
                Rule::Alerting(a) => a.alerts,
                Rule::Recording(_) => None,
            })
            .flatten()
            .collect()
    }
}

/// Alertmanagers alerts are sent to (`/api/v1/alertmanagers`).
pub trait AlertmanagersProvider: Send + Sync {
    /// Active and dropped Alertmanager URLs.
    fn alertmanagers(&self) -> AlertmanagerDiscovery;
}

/// Server status (`/api/v1/status/*`).
pub trait StatusProvider: Send + Sync {
    /// The loaded configuration as YAML.
    fn config_yaml(&self) -> String;

    /// Command-line flags, name (without dashes) → value.
    fn flags(&self) -> BTreeMap<String, String>;

    /// Runtime information.
    fn runtime_info(&self) -> RuntimeInfo;

    /// Build information.
    fn build_info(&self) -> BuildInfo;

    /// WAL replay progress.
    fn wal_replay(&self) -> WalReplayStatus;
}

/// No scrape targets.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTargets;

impl TargetsProvider for NoTargets {
    fn targets(&self) -> TargetsSnapshot {
        TargetsSnapshot::default()
    }
    fn scrape_pools(&self) -> Vec<String> {
        Vec::new()
    }
}

impl MetadataProvider for NoTargets {
    fn target_metadata(&self) -> Vec<TargetMetadata> {
        Vec::new()
    }
}

/// No rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRules;

impl RulesProvider for NoRules {
    fn rule_groups(&self) -> Vec<RuleGroup> {
        Vec::new()
    }
}

/// No Alertmanagers.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAlertmanagers;

impl AlertmanagersProvider for NoAlertmanagers {
    fn alertmanagers(&self) -> AlertmanagerDiscovery {
        AlertmanagerDiscovery::default()
    }
}

/// Status from the process itself: version from Cargo, runtime facts from the OS, empty
/// configuration and flags.
#[derive(Debug, Clone)]
pub struct ProcessStatus {
    start_ms: i64,
}

impl Default for ProcessStatus {
    fn default() -> Self {
        ProcessStatus { start_ms: now_ms() }
    }
}

impl ProcessStatus {
    /// Status of a process that started at `start_ms`.
    pub fn new(start_ms: i64) -> Self {
        ProcessStatus { start_ms }
    }
}

/// Live threads of this process, from `/proc/self/status` (0 where unavailable).
fn thread_count() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The host name, from the kernel (empty where unavailable).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

impl StatusProvider for ProcessStatus {
    fn config_yaml(&self) -> String {
        String::new()
    }

    fn flags(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    fn runtime_info(&self) -> RuntimeInfo {
        RuntimeInfo {
            start_time: super::types::ApiTime::from_ms(self.start_ms),
            cwd: std::env::current_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            hostname: hostname(),
            server_time: super::types::ApiTime::from_ms(now_ms()),
            reload_config_success: true,
            last_config_time: super::types::ApiTime::from_ms(self.start_ms),
            corruption_count: 0,
            goroutine_count: thread_count(),
            gomaxprocs: std::thread::available_parallelism()
                .map(|n| i64::try_from(n.get()).unwrap_or(1))
                .unwrap_or(1),
            gomemlimit: i64::MAX,
            gogc: String::new(),
            godebug: String::new(),
            storage_retention: String::new(),
        }
    }

    fn build_info(&self) -> BuildInfo {
        BuildInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            revision: String::new(),
            branch: String::new(),
            build_user: String::new(),
            build_date: String::new(),
            go_version: String::new(),
        }
    }

    fn wal_replay(&self) -> WalReplayStatus {
        WalReplayStatus::default()
    }
}
