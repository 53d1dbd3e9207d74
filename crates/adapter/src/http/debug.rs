//! `GET /debug/metrics/{metric}`: which rule a metric resolves to, the PromQL it renders
//! for a request, and the raw series that came back, to explain surprising HPA behaviour.
//!
//! Parameters: `resource` (default `pods`), `namespace`, `name` (default `*`),
//! `labelSelector`, `metricLabelSelector`, `external=true` for external metrics.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ok_json, query_params};
use crate::config::GroupResource;
use crate::error::AdapterError;
use crate::provider::custom::{self, CustomRequest, ObjectName};
use crate::provider::external;
use crate::selector::LabelSelector;
use crate::state::AdapterState;

pub(super) async fn metric(
    State(state): State<AdapterState>,
    Path(metric): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    match run(&state, &metric, query.as_deref()).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(
    state: &AdapterState,
    metric: &str,
    query: Option<&str>,
) -> Result<Response, AdapterError> {
    let p = query_params(query);
    let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let sel = |k: &str| {
        LabelSelector::parse(get(k).unwrap_or(""))
            .map_err(|e| AdapterError::BadRequest(format!("{k}: {}", e.0)))
    };
    let (trace, items) = if get("external") == Some("true") {
        let (items, trace) = external::get(
            state,
            get("namespace").unwrap_or("default"),
            metric,
            &sel("labelSelector")?,
        )
        .await?;
        (trace, items.len())
    } else {
        let req = CustomRequest {
            resource: GroupResource::from_path(get("resource").unwrap_or("pods")),
            namespace: get("namespace").map(str::to_owned),
            name: match get("name").unwrap_or("*") {
                "*" => ObjectName::All,
                n => ObjectName::One(n.to_owned()),
            },
            metric: metric.to_owned(),
            label_selector: sel("labelSelector")?,
            metric_selector: sel("metricLabelSelector")?,
        };
        let (items, trace) = custom::get(state, &req).await?;
        (trace, items.len())
    };
    Ok(ok_json(&json!({
        "rule": trace.rule,
        "series": trace.series,
        "query": trace.query,
        "labelSelectorResolvedBy": trace.object_source.as_str(),
        "items": items,
        "raw": trace.raw.iter().map(|(l, t, v)| json!({
            "labels": l,
            "timestamp": *t as f64 / 1000.0,
            "value": argus_model::api::format_value(*v),
        })).collect::<Vec<_>>(),
    })))
}
