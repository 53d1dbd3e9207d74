//! `/api/v1/query`, `/query_range`, `/format_query` and `/query_exemplars`.

use axum::extract::State;
use serde::Serialize;

use super::envelope::{bad_data, invalid_param, success, ApiResult, Fail};
use super::exec::{run_query, Ran};
use super::json_codec;
use super::params::{
    ns_to_ms, parse_duration_ns, parse_limit, parse_time_param, Params, MAX_TIME_MS, MIN_TIME_MS,
};
use super::query_time::parse_query_time;
use super::state::ApiState;
use crate::engine::{QueryOptions, Value};
use crate::parser::parse;

/// Points per series a range query may produce (`web/api/v1/api.go`).
pub const MAX_POINTS_PER_SERIES: i128 = 11_000;

/// Options common to both query endpoints: `timeout`, `lookback_delta`, `stats`.
fn query_options(p: &Params) -> Result<QueryOptions, Fail> {
    let mut opts = QueryOptions {
        per_step_stats: p.get("stats") == "all",
        ..QueryOptions::default()
    };
    let to = p.get("timeout");
    if !to.is_empty() {
        let ns = parse_duration_ns(to).map_err(|e| invalid_param("timeout", e))?;
        // A zero or negative timeout expires at once, as a past context deadline does.
        opts.timeout = Some(std::time::Duration::from_nanos(
            u64::try_from(ns).unwrap_or(0),
        ));
    }
    let lb = p.get("lookback_delta");
    if !lb.is_empty() {
        let ns = parse_duration_ns(lb)
            .map_err(|e| bad_data(format!("error parsing lookback delta duration: {e}")))?;
        opts.lookback_delta_ms = Some(ns_to_ms(ns));
    }
    Ok(opts)
}

/// `GET|POST /api/v1/query`.
pub async fn instant(State(st): State<ApiState>, p: Params) -> ApiResult {
    let limit = parse_limit(p.get("limit"))?;
    // Empty means now; otherwise the time Prometheus' engine would evaluate at.
    let ts = match p.get("time") {
        "" => (st.now)(),
        t => parse_query_time(t)
            .map_err(|e| invalid_param("time", format!("Invalid time value for 'time': {e}")))?,
    };
    let opts = query_options(&p)?;
    let query = p.get("query").to_owned();
    let ran = run_query(&st, opts, move |engine, storage, opts| {
        engine.instant_query(storage, &query, ts, opts)
    })
    .await?;
    Ok(respond(ran, limit, p.get("stats")))
}

/// `GET|POST /api/v1/query_range`.
pub async fn range(State(st): State<ApiState>, p: Params) -> ApiResult {
    let limit = parse_limit(p.get("limit"))?;
    let start = parse_query_time(p.get("start")).map_err(|e| invalid_param("start", e))?;
    let end = parse_query_time(p.get("end")).map_err(|e| invalid_param("end", e))?;
    if end < start {
        return Err(invalid_param("end", "end timestamp must not be before start time").into());
    }
    let step_ns = parse_duration_ns(p.get("step")).map_err(|e| invalid_param("step", e))?;
    let step_ms = ns_to_ms(step_ns);
    // A sub-millisecond step passes Prometheus' check but truncates to a zero interval in the
    // engine; refuse it with the same message instead.
    if step_ns <= 0 || step_ms == 0 {
        return Err(invalid_param(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        )
        .into());
    }
    // Go: end.Sub(start)/step, in nanoseconds, with Sub saturating at the largest Duration.
    let span_ns = (i128::from(end) - i128::from(start)) * 1_000_000;
    if span_ns.min(i128::from(i64::MAX)) / i128::from(step_ns) > MAX_POINTS_PER_SERIES {
        return Err(bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        )
        .into());
    }
    let opts = query_options(&p)?;
    let query = p.get("query").to_owned();
    let ran = run_query(&st, opts, move |engine, storage, opts| {
        engine.range_query(storage, &query, start, end, step_ms, opts)
    })
    .await?;
    Ok(respond(ran, limit, p.get("stats")))
}

/// Truncates a vector or matrix to `limit` series; true if anything was dropped.
fn truncate(v: &mut Value, limit: usize) -> bool {
    match v {
        Value::Vector(s) if s.len() > limit => {
            s.truncate(limit);
            true
        }
        Value::Matrix(s) if s.len() > limit => {
            s.truncate(limit);
            true
        }
        _ => false,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Timings {
    eval_total_time: f64,
    result_sort_time: f64,
    query_preparation_time: f64,
    inner_eval_time: f64,
    exec_queue_time: f64,
    exec_total_time: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Samples {
    total_queryable_samples: u64,
    peak_samples: u64,
}

#[derive(Serialize)]
struct Stats {
    timings: Timings,
    samples: Samples,
}

/// The `stats` object of Prometheus' `stats.NewQueryStats`.
fn stats_json(ran: &Ran) -> Vec<u8> {
    let eval = ran.eval_time.as_secs_f64();
    let queue = ran.queue_time.as_secs_f64();
    let stats = Stats {
        timings: Timings {
            eval_total_time: eval,
            result_sort_time: 0.0,
            query_preparation_time: 0.0,
            inner_eval_time: eval,
            exec_queue_time: queue,
            exec_total_time: eval + queue,
        },
        samples: Samples {
            total_queryable_samples: ran.result.stats.total_queryable_samples,
            peak_samples: ran.result.stats.peak_samples,
        },
    };
    json_codec::to_vec(&stats).unwrap_or_else(|_| b"{}".to_vec())
}

fn respond(ran: Ran, limit: usize, stats: &str) -> axum::response::Response {
    let stats = (!stats.is_empty()).then(|| stats_json(&ran));
    let Ran { result, .. } = ran;
    let mut value = result.value;
    let mut warnings = result.warnings;
    if limit > 0 && truncate(&mut value, limit) {
        warnings.push("results truncated due to limit".to_owned());
    }
    let mut out = Vec::new();
    json_codec::begin_success(&mut out);
    json_codec::write_query_data(&mut out, &value, stats.as_deref());
    json_codec::finish_success(&mut out, &warnings, &result.infos);
    let mut r = axum::response::IntoResponse::into_response(out);
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    r
}

/// `GET|POST /api/v1/format_query`: the pretty-printed expression as a JSON string.
pub async fn format_query(p: Params) -> ApiResult {
    let expr = parse(p.get("query")).map_err(|e| invalid_param("query", &e.message))?;
    success(&expr.pretty())
}

/// `GET|POST /api/v1/query_exemplars`. Argus stores no exemplars, so a valid request gets an
/// empty list, as Prometheus answers when its exemplar storage is empty.
pub async fn exemplars(p: Params) -> ApiResult {
    let start = parse_time_param(&p, "start", MIN_TIME_MS)?;
    let end = parse_time_param(&p, "end", MAX_TIME_MS)?;
    if end < start {
        return Err(bad_data("end timestamp must not be before start timestamp").into());
    }
    parse(p.get("query")).map_err(|e| bad_data(e.message))?;
    success::<[(); 0]>(&[])
}
