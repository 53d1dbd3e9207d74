//! The Prometheus HTTP API (`/api/v1/*`, `/federate`), byte-compatible with Prometheus.
//!
//! The server builds an [`ApiState`] (storage, engine, and providers for the parts that live
//! in other crates: targets, metadata, rules, Alertmanagers, status, TSDB admin) and mounts
//! [`router`]. Handlers parse parameters as Prometheus does ([`params`]), run blocking work
//! off the async runtime with cancellation on disconnect (`exec`), and write JSON with
//! Prometheus' escaping and number formats ([`json_codec`]).
//!
//! Error messages, error types and status codes follow `web/api/v1/api.go`: `bad_data` 400,
//! `execution` 422, `canceled` 499, `timeout` 503, `internal` and `unavailable` 500,
//! `not_found` 404.

mod admin;
pub mod envelope;
mod exec;
pub mod federate;
pub mod json_codec;
mod metadata;
pub mod params;
pub mod parse_query;
pub mod providers;
mod query;
pub mod query_time;
pub mod remote_read;
mod router;
mod rules;
mod series;
pub mod state;
mod status;
mod targets;
pub mod types;

pub use exec::CancelOnDrop;
pub use providers::{
    AlertmanagersProvider, MetadataProvider, NoAlertmanagers, NoRules, NoTargets, ProcessStatus,
    RulesProvider, StatusProvider, TargetsProvider,
};
pub use query::MAX_POINTS_PER_SERIES;
pub use router::router;
pub use series::unescape_name;
pub use state::{anchored_regex, ApiState, RemoteReadOptions, DEFAULT_MAX_CONCURRENCY};
pub use status::status_from_storage;
pub use types::{
    format_alert_value, ActiveTarget, Alert, AlertingRule, AlertmanagerDiscovery,
    AlertmanagerTarget, ApiTime, BuildInfo, DroppedTarget, RecordingRule, Rule, RuleGroup,
    RuleHealth, RuntimeInfo, TargetDiscovery, TargetHealth, TargetMetadata, TargetsSnapshot,
    WalReplayStatus,
};
