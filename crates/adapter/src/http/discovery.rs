//! Discovery documents. Served from memory and never failing: an aggregated API whose
//! discovery fails makes the aggregator mark it unavailable, which blocks namespace
//! deletion cluster-wide.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::{ok_json, CUSTOM_GROUP, EXTERNAL_GROUP, METRICS_GROUP};
use crate::error::AdapterError;
use crate::k8s::discovery::{ApiGroup, ApiGroupList, ApiResource, ApiResourceList, GroupVersion};
use crate::state::AdapterState;

fn versions(group: &str) -> &'static [&'static str] {
    match group {
        CUSTOM_GROUP => &["v1beta2", "v1beta1"],
        EXTERNAL_GROUP | METRICS_GROUP => &["v1beta1"],
        _ => &[],
    }
}

fn groups(state: &AdapterState) -> Vec<&'static str> {
    let mut g = vec![CUSTOM_GROUP, EXTERNAL_GROUP];
    if state.config().resource_rules.is_some() {
        g.push(METRICS_GROUP);
    }
    g
}

fn api_group(group: &str, standalone: bool) -> ApiGroup {
    let vs: Vec<GroupVersion> = versions(group)
        .iter()
        .map(|v| GroupVersion::new(group, v))
        .collect();
    ApiGroup {
        kind: standalone.then_some("APIGroup"),
        api_version: standalone.then_some("v1"),
        name: group.to_owned(),
        preferred_version: vs
            .first()
            .cloned()
            .unwrap_or_else(|| GroupVersion::new(group, "v1beta1")),
        versions: vs,
    }
}

/// `GET /apis`.
pub(super) async fn group_list(State(state): State<AdapterState>) -> Response {
    ok_json(&ApiGroupList {
        kind: "APIGroupList",
        api_version: "v1",
        groups: groups(&state)
            .into_iter()
            .map(|g| api_group(g, false))
            .collect(),
    })
}

/// `GET /apis/{group}`.
pub(super) async fn group(
    State(state): State<AdapterState>,
    Path(group): Path<String>,
) -> Response {
    if !groups(&state).contains(&group.as_str()) {
        return AdapterError::not_found("the server could not find the requested resource")
            .into_response();
    }
    ok_json(&api_group(&group, true))
}

/// `GET /apis/{group}/{version}`: the resources (for custom metrics, each metric).
pub(super) async fn resources(
    State(state): State<AdapterState>,
    Path((group, version)): Path<(String, String)>,
) -> Response {
    if !groups(&state).contains(&group.as_str()) || !versions(&group).contains(&version.as_str()) {
        return AdapterError::not_found("the server could not find the requested resource")
            .into_response();
    }
    let gv = format!("{group}/{version}");
    let snap = state.snapshot();
    let resources = match group.as_str() {
        CUSTOM_GROUP => snap
            .custom
            .iter()
            .map(|((res, metric), m)| ApiResource {
                name: format!("{}/{metric}", res.qualified()),
                singular_name: String::new(),
                namespaced: m.namespaced,
                kind: "MetricValueList".to_owned(),
                verbs: vec!["get"],
            })
            .collect(),
        EXTERNAL_GROUP => snap
            .external
            .keys()
            .map(|metric| ApiResource {
                name: metric.clone(),
                singular_name: String::new(),
                namespaced: true,
                kind: "ExternalMetricValueList".to_owned(),
                verbs: vec!["get"],
            })
            .collect(),
        _ => vec![
            ApiResource {
                name: "nodes".to_owned(),
                singular_name: String::new(),
                namespaced: false,
                kind: "NodeMetrics".to_owned(),
                verbs: vec!["get", "list"],
            },
            ApiResource {
                name: "pods".to_owned(),
                singular_name: String::new(),
                namespaced: true,
                kind: "PodMetrics".to_owned(),
                verbs: vec!["get", "list"],
            },
        ],
    };
    ok_json(&ApiResourceList::new(gv, resources))
}

/// `GET /openapi/v2`: an empty but valid Swagger document, so the aggregator's OpenAPI
/// merge finds something to merge.
pub(super) async fn openapi_v2() -> Response {
    ok_json(&serde_json::json!({
        "swagger": "2.0",
        "info": {"title": "Argus Kubernetes metrics APIs", "version": env!("CARGO_PKG_VERSION")},
        "paths": {},
        "definitions": {},
    }))
}

/// `GET /openapi/v3`: no per-group documents.
pub(super) async fn openapi_v3() -> Response {
    ok_json(&serde_json::json!({"paths": {}}))
}
