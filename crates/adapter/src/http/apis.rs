//! `GET /apis/{group}/{version}/…`: the metrics APIs themselves.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};

use super::{ok_json, query_params, CUSTOM_GROUP, EXTERNAL_GROUP, METRICS_GROUP};
use crate::config::GroupResource;
use crate::error::AdapterError;
use crate::k8s::metrics::{
    ContainerMetrics, ExternalMetricValue, ExternalMetricValueList, MetricIdentifier,
    MetricValueListV1Beta1, MetricValueListV1Beta2, MetricValueV1Beta1, MetricValueV1Beta2,
    NodeMetrics, NodeMetricsList, PodMetrics, PodMetricsList,
};
use crate::k8s::{format_go_duration, format_time, ListMeta, ObjectMeta};
use crate::provider::custom::{CustomRequest, ObjectName};
use crate::provider::resource::{NODE_FIELDS, POD_FIELDS};
use crate::provider::{custom, external, resource};
use crate::selector::{FieldSelector, LabelSelector};
use crate::state::AdapterState;

pub(super) async fn dispatch(
    State(state): State<AdapterState>,
    Path((group, version, rest)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let params = query_params(query.as_deref());
    let result = match (group.as_str(), version.as_str()) {
        (CUSTOM_GROUP, "v1beta1" | "v1beta2") => {
            custom_metrics(&state, version == "v1beta2", &segs, &params).await
        }
        (EXTERNAL_GROUP, "v1beta1") => external_metrics(&state, &segs, &params).await,
        (METRICS_GROUP, "v1beta1") => resource_metrics(&state, &segs, &params).await,
        _ => Err(AdapterError::not_found(
            "the server could not find the requested resource",
        )),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

fn selector(
    params: &std::collections::HashMap<String, String>,
    key: &str,
) -> Result<LabelSelector, AdapterError> {
    let raw = params.get(key).map_or("", String::as_str);
    LabelSelector::parse(raw).map_err(|e| AdapterError::BadRequest(format!("{key}: {}", e.0)))
}

async fn custom_metrics(
    state: &AdapterState,
    v1beta2: bool,
    segs: &[&str],
    params: &std::collections::HashMap<String, String>,
) -> Result<Response, AdapterError> {
    let (resource, namespace, name, metric) = match segs {
        ["namespaces", ns, "metrics", metric] => (
            GroupResource::core("namespaces"),
            None,
            ObjectName::One((*ns).to_owned()),
            *metric,
        ),
        ["namespaces", ns, res, name, metric] => (
            GroupResource::from_path(res),
            Some((*ns).to_owned()),
            object_name(name),
            *metric,
        ),
        [res, name, metric] => (
            GroupResource::from_path(res),
            None,
            object_name(name),
            *metric,
        ),
        _ => {
            return Err(AdapterError::not_found(
                "the server could not find the requested resource",
            ))
        }
    };
    let req = CustomRequest {
        resource,
        namespace,
        name,
        metric: metric.to_owned(),
        label_selector: selector(params, "labelSelector")?,
        metric_selector: selector(params, "metricLabelSelector")?,
    };
    let (values, _) = custom::get(state, &req).await?;
    let sel = req.metric_selector.to_json();
    if v1beta2 {
        Ok(ok_json(&MetricValueListV1Beta2 {
            kind: "MetricValueList",
            api_version: "custom.metrics.k8s.io/v1beta2",
            metadata: ListMeta {},
            items: values
                .into_iter()
                .map(|v| MetricValueV1Beta2 {
                    described_object: v.object,
                    metric: MetricIdentifier {
                        name: req.metric.clone(),
                        selector: sel.clone(),
                    },
                    timestamp: format_time(v.t_ms),
                    window_seconds: v.window_seconds,
                    value: v.value,
                })
                .collect(),
        }))
    } else {
        Ok(ok_json(&MetricValueListV1Beta1 {
            kind: "MetricValueList",
            api_version: "custom.metrics.k8s.io/v1beta1",
            metadata: ListMeta {},
            items: values
                .into_iter()
                .map(|v| MetricValueV1Beta1 {
                    described_object: v.object,
                    metric_name: req.metric.clone(),
                    timestamp: format_time(v.t_ms),
                    window_seconds: v.window_seconds,
                    value: v.value,
                    selector: sel.clone(),
                })
                .collect(),
        }))
    }
}

fn object_name(s: &str) -> ObjectName {
    if s == "*" {
        ObjectName::All
    } else {
        ObjectName::One(s.to_owned())
    }
}

async fn external_metrics(
    state: &AdapterState,
    segs: &[&str],
    params: &std::collections::HashMap<String, String>,
) -> Result<Response, AdapterError> {
    let ["namespaces", ns, metric] = segs else {
        return Err(AdapterError::not_found(
            "the server could not find the requested resource",
        ));
    };
    let sel = selector(params, "labelSelector")?;
    let (values, _) = external::get(state, ns, metric, &sel).await?;
    Ok(ok_json(&ExternalMetricValueList {
        kind: "ExternalMetricValueList",
        api_version: "external.metrics.k8s.io/v1beta1",
        metadata: ListMeta {},
        items: values
            .into_iter()
            .map(|v| ExternalMetricValue {
                metric_name: (*metric).to_owned(),
                metric_labels: v.labels,
                timestamp: format_time(v.t_ms),
                window_seconds: v.window_seconds,
                value: v.value,
            })
            .collect(),
    }))
}

async fn resource_metrics(
    state: &AdapterState,
    segs: &[&str],
    params: &std::collections::HashMap<String, String>,
) -> Result<Response, AdapterError> {
    let labels = selector(params, "labelSelector")?;
    let field = |supported: &[&str]| {
        FieldSelector::parse(
            params.get("fieldSelector").map_or("", String::as_str),
            supported,
        )
        .map_err(|e| AdapterError::BadRequest(format!("fieldSelector: {}", e.0)))
    };
    let now = state.now_ms();
    match segs {
        ["nodes"] | ["nodes", _] => {
            let name = segs.get(1).copied();
            let (nodes, window) =
                resource::nodes(state, name, &labels, &field(NODE_FIELDS)?).await?;
            let items: Vec<NodeMetrics> = nodes
                .into_iter()
                .map(|n| NodeMetrics {
                    kind: None,
                    api_version: None,
                    metadata: ObjectMeta {
                        name: n.name,
                        creation_timestamp: format_time(now),
                        ..ObjectMeta::default()
                    },
                    timestamp: format_time(n.t_ms),
                    window: format_go_duration(window),
                    usage: [("cpu", n.cpu), ("memory", n.memory)].into_iter().collect(),
                })
                .collect();
            if name.is_some() {
                let mut one = items
                    .into_iter()
                    .next()
                    .ok_or_else(|| resource::object_not_found("nodes", name.unwrap_or_default()))?;
                one.kind = Some("NodeMetrics");
                one.api_version = Some("metrics.k8s.io/v1beta1");
                return Ok(ok_json(&one));
            }
            Ok(ok_json(&NodeMetricsList {
                kind: "NodeMetricsList",
                api_version: "metrics.k8s.io/v1beta1",
                metadata: ListMeta {},
                items,
            }))
        }
        ["pods"] | ["namespaces", _, "pods"] | ["namespaces", _, "pods", _] => {
            let namespace = if segs.len() > 1 {
                segs.get(1).copied()
            } else {
                None
            };
            let name = segs.get(3).copied();
            let (pods, window) =
                resource::pods(state, namespace, name, &labels, &field(POD_FIELDS)?).await?;
            let items: Vec<PodMetrics> = pods
                .into_iter()
                .map(|p| PodMetrics {
                    kind: None,
                    api_version: None,
                    metadata: ObjectMeta {
                        name: p.name,
                        namespace: p.namespace,
                        creation_timestamp: format_time(now),
                        ..ObjectMeta::default()
                    },
                    timestamp: format_time(p.t_ms),
                    window: format_go_duration(window),
                    containers: p
                        .containers
                        .into_iter()
                        .map(|c| ContainerMetrics {
                            name: c.name,
                            usage: [("cpu", c.cpu), ("memory", c.memory)].into_iter().collect(),
                        })
                        .collect(),
                })
                .collect();
            if let (Some(n), Some(ns)) = (name, namespace) {
                let mut one = items
                    .into_iter()
                    .next()
                    .ok_or_else(|| resource::object_not_found("pods", &format!("{ns}/{n}")))?;
                one.kind = Some("PodMetrics");
                one.api_version = Some("metrics.k8s.io/v1beta1");
                return Ok(ok_json(&one));
            }
            Ok(ok_json(&PodMetricsList {
                kind: "PodMetricsList",
                api_version: "metrics.k8s.io/v1beta1",
                metadata: ListMeta {},
                items,
            }))
        }
        _ => Err(AdapterError::not_found(
            "the server could not find the requested resource",
        )),
    }
}
