//! JSON shapes of the API v2, field names and formats as Alertmanager's OpenAPI models.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `receiver`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiverModel {
    /// Name.
    pub name: String,
}

/// `alertStatus`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertStatusModel {
    /// Fingerprints of inhibiting alerts.
    pub inhibited_by: Vec<String>,
    /// IDs of muting silences.
    pub silenced_by: Vec<String>,
    /// `unprocessed`, `active`, `suppressed`.
    pub state: String,
}

/// `gettableAlert`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableAlert {
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// End.
    pub ends_at: String,
    /// Fingerprint.
    pub fingerprint: String,
    /// Receivers.
    pub receivers: Vec<ReceiverModel>,
    /// Start.
    pub starts_at: String,
    /// Status.
    pub status: AlertStatusModel,
    /// Last update.
    pub updated_at: String,
    /// Source.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

/// `postableAlert`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlertModel {
    /// Labels (required).
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Start.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// End.
    #[serde(default)]
    pub ends_at: Option<String>,
    /// Source.
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
}

/// `alertGroup`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertGroupModel {
    /// Alerts.
    pub alerts: Vec<GettableAlert>,
    /// Group labels.
    pub labels: BTreeMap<String, String>,
    /// Receiver.
    pub receiver: ReceiverModel,
}

/// `matcher`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatcherModel {
    /// `=`/`=~` when true (default true).
    #[serde(default = "yes")]
    pub is_equal: bool,
    /// Regex.
    pub is_regex: bool,
    /// Label name.
    pub name: String,
    /// Value or regex.
    pub value: String,
}

fn yes() -> bool {
    true
}

/// `silenceStatus`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceStatusModel {
    /// `expired`, `active`, `pending`.
    pub state: String,
}

/// `gettableSilence`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GettableSilence {
    /// ID.
    pub id: String,
    /// Status.
    pub status: SilenceStatusModel,
    /// Last change.
    pub updated_at: String,
    /// Comment.
    pub comment: String,
    /// Author.
    pub created_by: String,
    /// End.
    pub ends_at: String,
    /// Matchers.
    pub matchers: Vec<MatcherModel>,
    /// Start.
    pub starts_at: String,
}

/// `postableSilence`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableSilence {
    /// ID to update, if any.
    #[serde(default)]
    pub id: Option<String>,
    /// Comment.
    pub comment: String,
    /// Author.
    pub created_by: String,
    /// End.
    pub ends_at: String,
    /// Matchers.
    pub matchers: Vec<MatcherModel>,
    /// Start.
    pub starts_at: String,
}

/// `alertmanagerStatus`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusModel {
    /// Cluster.
    pub cluster: ClusterStatusModel,
    /// Config.
    pub config: ConfigModel,
    /// Start time.
    pub uptime: String,
    /// Version.
    pub version_info: VersionInfoModel,
}

/// `clusterStatus`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterStatusModel {
    /// Peer name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Peers.
    pub peers: Vec<serde_json::Value>,
    /// `ready`, `settling`, `disabled`.
    pub status: String,
}

/// `alertmanagerConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigModel {
    /// The config as YAML (secrets masked).
    pub original: String,
}

/// `versionInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionInfoModel {
    /// Branch.
    pub branch: String,
    /// Build date.
    pub build_date: String,
    /// Build user.
    pub build_user: String,
    /// Runtime.
    pub go_version: String,
    /// Revision.
    pub revision: String,
    /// Alertmanager API version implemented.
    pub version: String,
}
