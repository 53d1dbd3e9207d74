//! `/api/v1/admin/tsdb/*`, behind `--web.enable-admin-api` (off by default, as in
//! Prometheus, because these endpoints delete data).

use std::sync::Arc;

use argus_model::api::{ApiError, ErrorType};
use argus_model::TsdbAdmin;
use axum::extract::State;
use serde::Serialize;

use super::envelope::{bad_data, invalid_param, no_content, success, ApiResult, Fail};
use super::exec::blocking;
use super::params::{parse_time_param, Params, MAX_TIME_MS, MIN_TIME_MS};
use super::state::ApiState;
use crate::parser::parse_metric_selector;

/// The TSDB if admin APIs are on, else Prometheus' errors.
fn admin_db(st: &ApiState) -> Result<Arc<dyn TsdbAdmin>, Fail> {
    if !st.enable_admin {
        return Err(ApiError::new(ErrorType::Unavailable, "admin APIs disabled").into());
    }
    st.tsdb
        .clone()
        .ok_or_else(|| ApiError::new(ErrorType::Unavailable, "TSDB not ready").into())
}

/// `POST|PUT /api/v1/admin/tsdb/delete_series?match[]=…&start=…&end=…`: 204 on success.
pub async fn delete_series(State(st): State<ApiState>, p: Params) -> ApiResult {
    let db = admin_db(&st)?;
    let selectors = p.all("match[]");
    if selectors.is_empty() {
        return Err(bad_data("no match[] parameter provided").into());
    }
    let start = parse_time_param(&p, "start", MIN_TIME_MS)?;
    let end = parse_time_param(&p, "end", MAX_TIME_MS)?;
    let mut sets = Vec::with_capacity(selectors.len());
    for s in selectors {
        sets.push(parse_metric_selector(s).map_err(|e| invalid_param("match[]", e))?);
    }
    blocking(move |_| {
        for ms in &sets {
            db.delete_series(start, end, ms)
                .map_err(|e| Fail(ApiError::internal(e.to_string())))?;
        }
        Ok(())
    })
    .await?;
    Ok(no_content())
}

/// `POST|PUT /api/v1/admin/tsdb/clean_tombstones`: 204 on success.
pub async fn clean_tombstones(State(st): State<ApiState>) -> ApiResult {
    let db = admin_db(&st)?;
    blocking(move |_| {
        db.clean_tombstones()
            .map_err(|e| Fail(ApiError::internal(e.to_string())))
    })
    .await?;
    Ok(no_content())
}

#[derive(Serialize)]
struct SnapshotName {
    name: String,
}

/// `POST|PUT /api/v1/admin/tsdb/snapshot?skip_head=bool`: `{"name":"<dir>"}`.
pub async fn snapshot(State(st): State<ApiState>, p: Params) -> ApiResult {
    let db = admin_db(&st)?;
    let raw = p.get("skip_head");
    let skip_head = match raw {
        "" => false,
        "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
        "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
        other => {
            return Err(invalid_param(
                "skip_head",
                format!(
                    "unable to parse boolean: strconv.ParseBool: parsing {}: invalid syntax",
                    super::params::go_quote(other)
                ),
            )
            .into())
        }
    };
    let dir = st.snapshot_dir.clone();
    let name = blocking(move |_| {
        std::fs::create_dir_all(&dir).map_err(|e| {
            Fail(ApiError::internal(format!(
                "create snapshot directory: {e}"
            )))
        })?;
        db.snapshot(&dir, skip_head)
            .map_err(|e| Fail(ApiError::internal(format!("create snapshot: {e}"))))
    })
    .await?;
    success(&SnapshotName { name })
}
