//! The JSON documents of the non-query endpoints, field for field as Prometheus serves them
//! (`web/api/v1/api.go` structs). Components in other crates (scrape, rules, notifier, server)
//! fill these through the provider traits in [`super::providers`].

use std::collections::BTreeMap;

use argus_model::api::format_rfc3339;
use argus_model::{Labels, MetricMetadata};
use serde::{Serialize, Serializer};

/// A wall-clock instant serialized like Go's `time.Time` in JSON (RFC 3339, UTC);
/// `None` is Go's zero time `0001-01-01T00:00:00Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApiTime(pub Option<i64>);

impl ApiTime {
    /// An instant in ms since the epoch.
    pub fn from_ms(ms: i64) -> Self {
        ApiTime(Some(ms))
    }
}

impl Serialize for ApiTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(ms) => s.serialize_str(&format_rfc3339(ms)),
            None => s.serialize_str("0001-01-01T00:00:00Z"),
        }
    }
}

/// Scrape target health (`up`, `down`, `unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TargetHealth {
    /// Last scrape succeeded.
    Up,
    /// Last scrape failed.
    Down,
    /// Not scraped yet.
    #[default]
    Unknown,
}

/// An active scrape target (`/api/v1/targets` `activeTargets[]`).
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ActiveTarget {
    /// Labels before relabelling.
    pub discovered_labels: Labels,
    /// Labels after relabelling (attached to scraped series).
    pub labels: Labels,
    /// The scrape pool (job) name.
    pub scrape_pool: String,
    /// The URL scraped.
    pub scrape_url: String,
    /// The URL as seen from outside (`--web.external-url` host).
    pub global_url: String,
    /// Last scrape error, "" if none.
    pub last_error: String,
    /// Start of the last scrape.
    pub last_scrape: ApiTime,
    /// Duration of the last scrape, seconds.
    pub last_scrape_duration: f64,
    /// Health.
    pub health: TargetHealth,
    /// Scrape interval as a Prometheus duration (`15s`).
    pub scrape_interval: String,
    /// Scrape timeout as a Prometheus duration (`10s`).
    pub scrape_timeout: String,
}

/// A target dropped by relabelling (`droppedTargets[]`).
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DroppedTarget {
    /// Labels before relabelling.
    pub discovered_labels: Labels,
    /// The scrape pool it was discovered for.
    pub scrape_pool: String,
}

/// Everything `/api/v1/targets` reports, before filtering by `state` and `scrapePool`.
#[derive(Debug, Clone, Default)]
pub struct TargetsSnapshot {
    /// Active targets, in the order to show them (the API sorts by pool, stably).
    pub active: Vec<ActiveTarget>,
    /// Dropped targets (possibly capped by `keep_dropped_targets`).
    pub dropped: Vec<DroppedTarget>,
    /// Dropped targets per pool, including those not kept in `dropped`.
    pub dropped_counts: BTreeMap<String, u64>,
}

/// The body of `/api/v1/targets`.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TargetDiscovery {
    /// Active targets.
    pub active_targets: Vec<ActiveTarget>,
    /// Dropped targets.
    pub dropped_targets: Vec<DroppedTarget>,
    /// Dropped targets per pool.
    pub dropped_target_counts: BTreeMap<String, u64>,
}

/// Metadata of one metric of one target (`/api/v1/targets/metadata` element).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetMetadata {
    /// The target's labels (Prometheus shows them all; clients read `instance`/`job`).
    pub target: Labels,
    /// Metric family name.
    pub metric: String,
    /// Type, help and unit.
    #[serde(flatten)]
    pub metadata: MetricMetadata,
}

/// An alert as shown in `/api/v1/alerts` and in alerting rules.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// Alert labels.
    pub labels: Labels,
    /// Annotations (templated).
    pub annotations: Labels,
    /// `pending` or `firing`.
    pub state: String,
    /// When the alert became active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_at: Option<ApiTime>,
    /// Since when it keeps firing after the condition cleared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_firing_since: Option<ApiTime>,
    /// The value, formatted with [`format_alert_value`] (`1e+00`).
    pub value: String,
}

/// Formats an alert value as Prometheus does (`strconv.FormatFloat(v, 'e', -1, 64)`).
pub fn format_alert_value(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let mut s = String::new();
    argus_model::api::write_go_exponent(v, &mut s);
    s
}

/// Rule health (`ok`, `err`, `unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RuleHealth {
    /// Last evaluation succeeded.
    Ok,
    /// Last evaluation failed.
    Err,
    /// Not evaluated yet.
    #[default]
    Unknown,
}

/// An alerting rule in `/api/v1/rules`.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AlertingRule {
    /// `inactive`, `pending` or `firing`.
    pub state: String,
    /// Alert name.
    pub name: String,
    /// The PromQL expression, printed.
    pub query: String,
    /// `for`, seconds.
    pub duration: f64,
    /// `keep_firing_for`, seconds.
    pub keep_firing_for: f64,
    /// Rule labels.
    pub labels: Labels,
    /// Rule annotations (untemplated).
    pub annotations: Labels,
    /// Active alerts; `None` when the request asked `exclude_alerts` (serialized `null`).
    pub alerts: Option<Vec<Alert>>,
    /// Health.
    pub health: RuleHealth,
    /// Last error, omitted when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_error: String,
    /// Duration of the last evaluation, seconds.
    pub evaluation_time: f64,
    /// Start of the last evaluation.
    pub last_evaluation: ApiTime,
    /// Always `alerting`.
    #[serde(rename = "type")]
    pub rule_type: AlertingType,
}

/// The constant `"alerting"`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlertingType;

impl Serialize for AlertingType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("alerting")
    }
}

/// A recording rule in `/api/v1/rules`.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RecordingRule {
    /// The recorded series name.
    pub name: String,
    /// The PromQL expression, printed.
    pub query: String,
    /// Extra labels, omitted when empty.
    #[serde(skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    /// Health.
    pub health: RuleHealth,
    /// Last error, omitted when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_error: String,
    /// Duration of the last evaluation, seconds.
    pub evaluation_time: f64,
    /// Start of the last evaluation.
    pub last_evaluation: ApiTime,
    /// Always `recording`.
    #[serde(rename = "type")]
    pub rule_type: RecordingType,
}

/// The constant `"recording"`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordingType;

impl Serialize for RecordingType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("recording")
    }
}

/// Either kind of rule.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Rule {
    /// An alerting rule.
    Alerting(AlertingRule),
    /// A recording rule.
    Recording(RecordingRule),
}

impl Rule {
    /// The rule's name (alert name or recorded metric).
    pub fn name(&self) -> &str {
        match self {
            Rule::Alerting(r) => &r.name,
            Rule::Recording(r) => &r.name,
        }
    }

    /// The rule's labels.
    pub fn labels(&self) -> &Labels {
        match self {
            Rule::Alerting(r) => &r.labels,
            Rule::Recording(r) => &r.labels,
        }
    }
}

/// A rule group in `/api/v1/rules`.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RuleGroup {
    /// Group name.
    pub name: String,
    /// The rule file it came from.
    pub file: String,
    /// Its rules, in file order.
    pub rules: Vec<Rule>,
    /// Evaluation interval, seconds.
    pub interval: f64,
    /// Series/alert limit, 0 = none.
    pub limit: u64,
    /// Duration of the last evaluation, seconds.
    pub evaluation_time: f64,
    /// Start of the last evaluation.
    pub last_evaluation: ApiTime,
}

/// One Alertmanager URL (`/api/v1/alertmanagers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertmanagerTarget {
    /// The API URL alerts are posted to.
    pub url: String,
}

/// The body of `/api/v1/alertmanagers`.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerDiscovery {
    /// Alertmanagers alerts are sent to.
    pub active_alertmanagers: Vec<AlertmanagerTarget>,
    /// Alertmanagers dropped by relabelling.
    pub dropped_alertmanagers: Vec<AlertmanagerTarget>,
}

/// Build information (`/api/v1/status/buildinfo`).
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct BuildInfo {
    /// Version.
    pub version: String,
    /// VCS revision.
    pub revision: String,
    /// VCS branch.
    pub branch: String,
    /// Who built it.
    pub build_user: String,
    /// When it was built.
    pub build_date: String,
    /// Toolchain version (`rustc 1.95`, where Prometheus puts the Go version).
    pub go_version: String,
}

/// Runtime information (`/api/v1/status/runtimeinfo`).
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeInfo {
    /// Process start.
    pub start_time: ApiTime,
    /// Working directory.
    #[serde(rename = "CWD")]
    pub cwd: String,
    /// Host name.
    pub hostname: String,
    /// Now.
    pub server_time: ApiTime,
    /// Whether the last configuration reload succeeded.
    pub reload_config_success: bool,
    /// When the configuration was last loaded successfully.
    pub last_config_time: ApiTime,
    /// WAL corruptions seen.
    pub corruption_count: i64,
    /// Live threads (Prometheus reports goroutines).
    pub goroutine_count: i64,
    /// Worker threads of the runtime.
    #[serde(rename = "GOMAXPROCS")]
    pub gomaxprocs: i64,
    /// Memory limit in bytes (Go's GOMEMLIMIT; `i64::MAX` when unlimited).
    #[serde(rename = "GOMEMLIMIT")]
    pub gomemlimit: i64,
    /// Go's GOGC ("" for Argus).
    #[serde(rename = "GOGC")]
    pub gogc: String,
    /// Go's GODEBUG ("" for Argus).
    #[serde(rename = "GODEBUG")]
    pub godebug: String,
    /// Retention, e.g. `15d`.
    pub storage_retention: String,
}

/// WAL replay progress (`/api/v1/status/walreplay`).
#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq, Eq)]
pub struct WalReplayStatus {
    /// First segment.
    pub min: i64,
    /// Last segment.
    pub max: i64,
    /// Segment being replayed.
    pub current: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::json_codec::to_vec;

    fn json<T: Serialize>(v: &T) -> String {
        String::from_utf8(to_vec(v).unwrap()).unwrap()
    }

    #[test]
    fn rule_shapes() {
        let r = Rule::Recording(RecordingRule {
            name: "job:up:sum".into(),
            query: "sum by (job) (up)".into(),
            health: RuleHealth::Ok,
            evaluation_time: 0.000_5,
            last_evaluation: ApiTime::from_ms(1_700_000_000_123),
            ..Default::default()
        });
        assert_eq!(
            json(&r),
            r#"{"name":"job:up:sum","query":"sum by (job) (up)","health":"ok","evaluationTime":0.0005,"lastEvaluation":"2023-11-14T22:13:20.123Z","type":"recording"}"#
        );
        let a = Rule::Alerting(AlertingRule {
            state: "firing".into(),
            name: "Down".into(),
            query: "up == 0".into(),
            duration: 60.0,
            alerts: None,
            health: RuleHealth::Err,
            last_error: "boom".into(),
            ..Default::default()
        });
        assert_eq!(
            json(&a),
            r#"{"state":"firing","name":"Down","query":"up == 0","duration":60,"keepFiringFor":0,"labels":{},"annotations":{},"alerts":null,"health":"err","lastError":"boom","evaluationTime":0,"lastEvaluation":"0001-01-01T00:00:00Z","type":"alerting"}"#
        );
    }

    #[test]
    fn alert_values() {
        assert_eq!(format_alert_value(1.0), "1e+00");
        assert_eq!(format_alert_value(0.0), "0e+00");
        assert_eq!(format_alert_value(123.5), "1.235e+02");
        assert_eq!(format_alert_value(f64::NAN), "NaN");
    }

    #[test]
    fn target_metadata_flattens() {
        let m = TargetMetadata {
            target: Labels::from_pairs(&[("instance", "a:1"), ("job", "j")]),
            metric: "up".into(),
            metadata: MetricMetadata {
                metric_type: argus_model::MetricType::Gauge,
                help: "h".into(),
                unit: String::new(),
            },
        };
        assert_eq!(
            json(&m),
            r#"{"target":{"instance":"a:1","job":"j"},"metric":"up","type":"gauge","help":"h","unit":""}"#
        );
    }
}
