//! Data for `/api/v1/targets`, `/api/v1/targets/metadata` and `/api/v1/metadata`, with
//! Prometheus' field names.

use std::collections::BTreeMap;
use std::time::SystemTime;

use argus_model::{Labels, MetricType};
use serde::Serialize;

/// An active target (`data.activeTargets[]` of `/api/v1/targets`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveTarget {
    /// Labels before relabeling.
    pub discovered_labels: BTreeMap<String, String>,
    /// Labels after relabeling, without internal `__` labels.
    pub labels: BTreeMap<String, String>,
    /// The job.
    pub scrape_pool: String,
    /// The URL scraped.
    pub scrape_url: String,
    /// The URL with `localhost` replaced by this host's name.
    pub global_url: String,
    /// Error of the last scrape, empty if it succeeded.
    pub last_error: String,
    /// Start of the last scrape, RFC 3339 (`0001-01-01T00:00:00Z` if never).
    pub last_scrape: String,
    /// Start of the last scrape, ms since the epoch (`None` if never).
    #[serde(skip)]
    pub last_scrape_ms: Option<i64>,
    /// Duration of the last scrape, seconds.
    pub last_scrape_duration: f64,
    /// `up`, `down` or `unknown`.
    pub health: String,
    /// Scrape interval (`15s`).
    pub scrape_interval: String,
    /// Scrape timeout (`10s`).
    pub scrape_timeout: String,
}

/// A dropped target (`data.droppedTargets[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DroppedTarget {
    /// Labels before relabeling.
    pub discovered_labels: BTreeMap<String, String>,
    /// The job (Prometheus 3 adds it to dropped targets).
    pub scrape_pool: String,
}

/// One entry of `/api/v1/targets/metadata`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetMetadata {
    /// The target's labels.
    pub target: BTreeMap<String, String>,
    /// Metric family name.
    pub metric: String,
    /// Type.
    #[serde(rename = "type")]
    pub metric_type: MetricType,
    /// HELP.
    pub help: String,
    /// UNIT.
    pub unit: String,
}

pub(crate) fn label_map(l: &Labels, public_only: bool) -> BTreeMap<String, String> {
    l.iter()
        .filter(|x| !public_only || !x.name.starts_with("__"))
        .map(|x| (x.name.to_owned(), x.value.to_owned()))
        .collect()
}

/// RFC 3339 with nanoseconds, UTC, as Go's `time.Time` JSON; the zero time when `None`.
pub(crate) fn rfc3339(t: Option<SystemTime>) -> String {
    match t {
        None => "0001-01-01T00:00:00Z".into(),
        Some(t) => {
            let dt: chrono::DateTime<chrono::Utc> = t.into();
            dt.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        }
    }
}
