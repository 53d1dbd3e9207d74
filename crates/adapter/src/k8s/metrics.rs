//! Objects of `custom.metrics.k8s.io` (v1beta1, v1beta2), `external.metrics.k8s.io/v1beta1`
//! and `metrics.k8s.io/v1beta1`, as their Go types in `k8s.io/metrics` serialize.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{ListMeta, ObjectMeta, ObjectReference};
use crate::quantity::Quantity;
use crate::selector::LabelSelectorJson;

/// `custom_metrics/v1beta2.MetricValueList`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricValueListV1Beta2 {
    /// `MetricValueList`.
    pub kind: &'static str,
    /// `custom.metrics.k8s.io/v1beta2`.
    pub api_version: &'static str,
    /// Empty list metadata.
    pub metadata: ListMeta,
    /// One value per described object.
    pub items: Vec<MetricValueV1Beta2>,
}

/// `custom_metrics/v1beta2.MetricIdentifier`. `selector` has no `omitempty` upstream, so
/// an absent selector serializes as `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricIdentifier {
    /// Metric name as the API names it.
    pub name: String,
    /// The metric label selector of the request.
    pub selector: Option<LabelSelectorJson>,
}

/// `custom_metrics/v1beta2.MetricValue`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricValueV1Beta2 {
    /// The object the value describes.
    pub described_object: ObjectReference,
    /// Which metric.
    pub metric: MetricIdentifier,
    /// When the value was produced (RFC 3339).
    pub timestamp: String,
    /// Rate window in seconds, for rates of counters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_seconds: Option<i64>,
    /// The value.
    pub value: Quantity,
}

/// `custom_metrics/v1beta1.MetricValueList`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricValueListV1Beta1 {
    /// `MetricValueList`.
    pub kind: &'static str,
    /// `custom.metrics.k8s.io/v1beta1`.
    pub api_version: &'static str,
    /// Empty list metadata.
    pub metadata: ListMeta,
    /// Values.
    pub items: Vec<MetricValueV1Beta1>,
}

/// `custom_metrics/v1beta1.MetricValue`: the window is under the JSON key `window`, and
/// `selector` (no `omitempty`) serializes as `null` when absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricValueV1Beta1 {
    /// The object the value describes.
    pub described_object: ObjectReference,
    /// Metric name.
    pub metric_name: String,
    /// When the value was produced.
    pub timestamp: String,
    /// Rate window in seconds.
    #[serde(rename = "window", skip_serializing_if = "Option::is_none")]
    pub window_seconds: Option<i64>,
    /// The value.
    pub value: Quantity,
    /// The metric label selector of the request.
    pub selector: Option<LabelSelectorJson>,
}

/// `external_metrics/v1beta1.ExternalMetricValueList`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalMetricValueList {
    /// `ExternalMetricValueList`.
    pub kind: &'static str,
    /// `external.metrics.k8s.io/v1beta1`.
    pub api_version: &'static str,
    /// Empty list metadata.
    pub metadata: ListMeta,
    /// One value per series.
    pub items: Vec<ExternalMetricValue>,
}

/// `external_metrics/v1beta1.ExternalMetricValue`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalMetricValue {
    /// Metric name.
    pub metric_name: String,
    /// The series' labels.
    pub metric_labels: BTreeMap<String, String>,
    /// When the value was produced.
    pub timestamp: String,
    /// Rate window in seconds.
    #[serde(rename = "window", skip_serializing_if = "Option::is_none")]
    pub window_seconds: Option<i64>,
    /// The value.
    pub value: Quantity,
}

/// `metrics/v1beta1.NodeMetrics`; `kind`/`apiVersion` only when served alone.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeMetrics {
    /// `NodeMetrics` for a single object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// `metrics.k8s.io/v1beta1` for a single object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<&'static str>,
    /// Node name, labels, creation time.
    pub metadata: ObjectMeta,
    /// End of the measurement window.
    pub timestamp: String,
    /// Window length (Go duration).
    pub window: String,
    /// `cpu` and `memory`.
    pub usage: BTreeMap<&'static str, Quantity>,
}

/// `metrics/v1beta1.NodeMetricsList`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeMetricsList {
    /// `NodeMetricsList`.
    pub kind: &'static str,
    /// `metrics.k8s.io/v1beta1`.
    pub api_version: &'static str,
    /// Empty list metadata.
    pub metadata: ListMeta,
    /// Nodes.
    pub items: Vec<NodeMetrics>,
}

/// `metrics/v1beta1.ContainerMetrics`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerMetrics {
    /// Container name.
    pub name: String,
    /// `cpu` and `memory`.
    pub usage: BTreeMap<&'static str, Quantity>,
}

/// `metrics/v1beta1.PodMetrics`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMetrics {
    /// `PodMetrics` for a single object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// `metrics.k8s.io/v1beta1` for a single object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<&'static str>,
    /// Pod name, namespace, labels, creation time.
    pub metadata: ObjectMeta,
    /// End of the measurement window.
    pub timestamp: String,
    /// Window length (Go duration).
    pub window: String,
    /// Per-container usage, sorted by container name.
    pub containers: Vec<ContainerMetrics>,
}

/// `metrics/v1beta1.PodMetricsList`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMetricsList {
    /// `PodMetricsList`.
    pub kind: &'static str,
    /// `metrics.k8s.io/v1beta1`.
    pub api_version: &'static str,
    /// Empty list metadata.
    pub metadata: ListMeta,
    /// Pods.
    pub items: Vec<PodMetrics>,
}
