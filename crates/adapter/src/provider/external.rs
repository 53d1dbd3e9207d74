//! external.metrics.k8s.io: a metric's series selected by `labelSelector`, optionally
//! scoped to the request's namespace (`resources.namespaced`, default true as in
//! prometheus-adapter).

use std::collections::BTreeMap;

use crate::config::{GroupResource, OnAbsent};
use crate::error::AdapterError;
use crate::provider::custom::{matcher, prom_label, QueryTrace};
use crate::provider::objects::ObjectSource;
use crate::provider::{rows, window_seconds};
use crate::quantity::Quantity;
use crate::selector::LabelSelector;
use crate::state::AdapterState;

/// One value of an external metric.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalValue {
    /// The series' labels (without `__name__`).
    pub labels: BTreeMap<String, String>,
    /// Evaluation time, ms.
    pub t_ms: i64,
    /// Rate window, seconds.
    pub window_seconds: Option<i64>,
    /// Value.
    pub value: Quantity,
}

/// Answers `GET /apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}`.
pub async fn get(
    state: &AdapterState,
    namespace: &str,
    metric: &str,
    selector: &LabelSelector,
) -> Result<(Vec<ExternalValue>, QueryTrace), AdapterError> {
    let mut snap = state.snapshot();
    if !snap.external.contains_key(metric) {
        snap = state.refresh_if_stale().await?;
    }
    let not_found = || {
        AdapterError::not_found(format!(
            "the server could not find the metric {metric} for namespaces"
        ))
    };
    let entry = snap.external.get(metric).cloned().ok_or_else(not_found)?;
    let config = state.config();
    let rule = config
        .external_rules
        .get(entry.rule)
        .ok_or_else(not_found)?;
    let mut matchers = selector.to_promql_matchers(prom_label)?;
    let mut group_by = String::new();
    if rule.namespaced {
        let ns_label = rule
            .resources
            .label_for_resource(&GroupResource::core("namespaces"))
            .unwrap_or_else(|| "namespace".to_owned());
        matchers.push(matcher(&ns_label, "=", namespace));
        group_by = ns_label;
    }
    let label_matchers = matchers.join(",");
    let query = rule.metrics_query.render(|f| match f {
        "Series" => &entry.series,
        "LabelMatchers" => &label_matchers,
        _ => &group_by,
    });
    let now = state.now_ms();
    let result = state.instant_query(query.clone(), now).await?;
    let window = window_seconds(&query);
    let mut items = Vec::new();
    let mut raw = Vec::new();
    for (labels, t, v) in rows(result.value) {
        let map: BTreeMap<String, String> = labels
            .iter()
            .filter(|l| l.name != argus_model::METRIC_NAME)
            .map(|l| (l.name.to_owned(), l.value.to_owned()))
            .collect();
        raw.push((map.clone(), t, v));
        if !v.is_finite() {
            continue;
        }
        items.push(ExternalValue {
            labels: map,
            t_ms: t,
            window_seconds: window,
            value: Quantity::from_metric_value(v)
                .map_err(|e| AdapterError::Internal(e.to_string()))?,
        });
    }
    if items.is_empty() && rule.on_absent == OnAbsent::Zero {
        items.push(ExternalValue {
            labels: BTreeMap::new(),
            t_ms: now,
            window_seconds: window,
            value: Quantity::new(0, crate::quantity::Format::DecimalSI),
        });
    }
    let trace = QueryTrace {
        rule: format!("externalRules[{}]", rule.index),
        series: entry.series.clone(),
        query,
        object_source: ObjectSource::SeriesLabels,
        raw,
    };
    Ok((items, trace))
}
