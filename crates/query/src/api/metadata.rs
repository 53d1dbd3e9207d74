//! `/api/v1/metadata` and `/api/v1/targets/metadata`.

use std::collections::BTreeMap;

use argus_model::{Labels, Matcher, MetricMetadata};
use axum::extract::State;
use serde::Serialize;

use super::envelope::{bad_data, invalid_param, success, ApiResult, Fail};
use super::params::Params;
use super::state::ApiState;
use crate::parser::parse_metric_selector;

/// Parses an optional integer limit where Prometheus uses -1 for "none" and a plain message.
fn number_param(p: &Params, name: &str) -> Result<i64, Fail> {
    let s = p.get(name);
    if s.is_empty() {
        return Ok(-1);
    }
    s.parse()
        .map_err(|_| Fail(bad_data(format!("{name} must be a number"))))
}

/// `GET /api/v1/metadata`: metric name → distinct metadata across all targets.
pub async fn metadata(State(st): State<ApiState>, p: Params) -> ApiResult {
    let limit = number_param(&p, "limit")?;
    let limit_per_metric = number_param(&p, "limit_per_metric")?;
    let metric = p.get("metric");
    let mut by_name: BTreeMap<String, Vec<MetricMetadata>> = BTreeMap::new();
    for tm in st.metadata.target_metadata() {
        if !metric.is_empty() && tm.metric != metric {
            continue;
        }
        let entry = by_name.entry(tm.metric).or_default();
        if limit_per_metric > 0 && entry.len() as i64 >= limit_per_metric {
            continue;
        }
        if !entry.contains(&tm.metadata) {
            entry.push(tm.metadata);
        }
    }
    // Go iterates its map in random order when applying `limit`; take the first names.
    if limit >= 0 {
        let keep = usize::try_from(limit).unwrap_or(usize::MAX);
        by_name = by_name.into_iter().take(keep).collect();
    }
    success(&by_name)
}

#[derive(Serialize)]
struct MetricMetadataJson {
    target: Labels,
    #[serde(skip_serializing_if = "String::is_empty")]
    metric: String,
    #[serde(flatten)]
    metadata: MetricMetadata,
}

fn matches(labels: &Labels, ms: &[Matcher]) -> bool {
    ms.iter().all(|m| m.matches(labels.get_or_empty(&m.name)))
}

/// `GET /api/v1/targets/metadata`: metadata per target, filtered by `match_target` and
/// `metric`; `limit` counts entries but, as in Prometheus, is checked per target.
pub async fn target_metadata(State(st): State<ApiState>, p: Params) -> ApiResult {
    let limit = number_param(&p, "limit")?;
    let match_target = p.get("match_target");
    let matchers = if match_target.is_empty() {
        Vec::new()
    } else {
        parse_metric_selector(match_target).map_err(|e| invalid_param("match_target", e))?
    };
    let metric = p.get("metric");
    let mut out: Vec<MetricMetadataJson> = Vec::new();
    let mut current: Option<Labels> = None;
    let mut skip_target = false;
    for tm in st.metadata.target_metadata() {
        if current.as_ref() != Some(&tm.target) {
            // A new target: the limit is checked once per target.
            if limit >= 0 && out.len() as i64 >= limit {
                break;
            }
            skip_target = !matches(&tm.target, &matchers);
            current = Some(tm.target.clone());
        }
        if skip_target || (!metric.is_empty() && tm.metric != metric) {
            continue;
        }
        out.push(MetricMetadataJson {
            target: tm.target,
            // With a `metric` filter Prometheus leaves the name out of each entry.
            metric: if metric.is_empty() {
                tm.metric
            } else {
                String::new()
            },
            metadata: tm.metadata,
        });
    }
    success(&out)
}
