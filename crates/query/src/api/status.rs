//! `/api/v1/status/*` and `/api/v1/notifications`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use argus_model::api::ApiError;
use argus_model::storage::{HeadStats, NameCount, TsdbStatus};
use argus_model::{MatchOp, Matcher, Queryable, SelectHints, METRIC_NAME};
use axum::extract::State;
use serde::Serialize;

use super::envelope::{bad_data, success, ApiResult, Fail};
use super::exec::blocking;
use super::params::Params;
use super::series::storage_error;
use super::state::ApiState;

#[derive(Serialize)]
struct ConfigYaml {
    yaml: String,
}

/// `GET /api/v1/status/config`.
pub async fn config(State(st): State<ApiState>) -> ApiResult {
    success(&ConfigYaml {
        yaml: st.status.config_yaml(),
    })
}

/// `GET /api/v1/status/flags`.
pub async fn flags(State(st): State<ApiState>) -> ApiResult {
    success(&st.status.flags())
}

/// `GET /api/v1/status/runtimeinfo`.
pub async fn runtime_info(State(st): State<ApiState>) -> ApiResult {
    success(&st.status.runtime_info())
}

/// `GET /api/v1/status/buildinfo`.
pub async fn build_info(State(st): State<ApiState>) -> ApiResult {
    success(&st.status.build_info())
}

/// `GET /api/v1/status/walreplay`.
pub async fn wal_replay(State(st): State<ApiState>) -> ApiResult {
    success(&st.status.wal_replay())
}

/// `GET /api/v1/notifications`: Argus raises no server notifications.
pub async fn notifications() -> ApiResult {
    success::<[(); 0]>(&[])
}

/// `GET /api/v1/status/tsdb?limit=N` (default 10): head cardinality statistics.
pub async fn tsdb(State(st): State<ApiState>, p: Params) -> ApiResult {
    let s = p.get("limit");
    let limit = if s.is_empty() {
        10
    } else {
        match s.parse::<i64>() {
            Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => return Err(bad_data("limit must be a positive number").into()),
        }
    };
    let tsdb = st.tsdb.clone();
    let storage = st.storage.clone();
    let status = blocking(move |_| match tsdb {
        Some(db) => db
            .status(limit)
            .map_err(|e| Fail(ApiError::internal(format!("error getting head stats: {e}")))),
        None => status_from_storage(storage.as_ref(), limit),
    })
    .await?;
    success(&status)
}

/// Top `limit` entries by count, ties by name.
fn top(counts: HashMap<String, u64>, limit: usize) -> Vec<NameCount> {
    let mut v: Vec<NameCount> = counts
        .into_iter()
        .map(|(name, value)| NameCount { name, value })
        .collect();
    v.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.name.cmp(&b.name)));
    v.truncate(limit);
    v
}

/// Computes the TSDB status by reading every series through the query seam; used when no
/// TSDB is wired (tests, remote-only setups). Costs a full scan, which the TSDB's own
/// postings-based implementation avoids.
pub fn status_from_storage(storage: &dyn Queryable, limit: usize) -> Result<TsdbStatus, Fail> {
    let q = storage.querier(i64::MIN, i64::MAX).map_err(storage_error)?;
    let any_name = Matcher::new(MatchOp::Regex, METRIC_NAME, ".+")
        .map_err(|e| Fail(ApiError::internal(e.to_string())))?;
    let mut set = q.select(false, Some(&SelectHints::default()), &[any_name]);
    let mut head = HeadStats {
        min_time: i64::MAX,
        max_time: i64::MIN,
        ..HeadStats::default()
    };
    let mut by_metric: HashMap<String, u64> = HashMap::new();
    let mut by_pair: HashMap<String, u64> = HashMap::new();
    let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    while let Some(s) = set.next() {
        let s = s.map_err(storage_error)?;
        head.num_series += 1;
        for l in s.labels().iter() {
            if l.name == METRIC_NAME {
                *by_metric.entry(l.value.to_owned()).or_default() += 1;
            }
            *by_pair
                .entry(format!("{}={}", l.name, l.value))
                .or_default() += 1;
            values
                .entry(l.name.to_owned())
                .or_default()
                .insert(l.value.to_owned());
        }
        let mut it = s.iterator();
        while it.next() {
            let t = it.at().t;
            head.min_time = head.min_time.min(t);
            head.max_time = head.max_time.max(t);
        }
    }
    head.num_label_pairs = by_pair.len() as u64;
    let value_counts = values
        .iter()
        .map(|(k, v)| (k.clone(), v.len() as u64))
        .collect();
    let memory = values
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(|s| s.len() as u64).sum()))
        .collect();
    Ok(TsdbStatus {
        head_stats: head,
        series_count_by_metric_name: top(by_metric, limit),
        label_value_count_by_label_name: top(value_counts, limit),
        memory_in_bytes_by_label_name: top(memory, limit),
        series_count_by_label_value_pair: top(by_pair, limit),
    })
}
