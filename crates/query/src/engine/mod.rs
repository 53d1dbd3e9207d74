//! The PromQL engine.
//!
//! A query is parsed, planned ([`plan`]: `@` and duration expressions resolved, selector time
//! ranges and hints computed, step-invariant parts marked), then evaluated by the step loop
//! in [`eval`] against one querier opened over the union of the selectors' ranges. An
//! instant query is a range evaluation with one step. Semantics follow Prometheus 3:
//! 5-minute default lookback, stale markers end series, left-open range windows, rate
//! extrapolation, and (optionally, like Prometheus' feature flag) delayed `__name__` removal.
//!
//! Limits: `max_samples` bounds the samples held at once, `timeout` and
//! [`QueryOptions::cancel`] stop a running query, and at most `max_concurrency` queries run
//! at a time (others wait, within their timeout).

pub(crate) mod aggregations;
pub(crate) mod binary_ops;
pub(crate) mod eval;
pub(crate) mod kheap;
pub(crate) mod plan;
pub(crate) mod selectors;
pub(crate) mod value;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use argus_model::api::ErrorType;
use argus_model::{Labels, Queryable, Sample, StorageError};

use self::eval::{cleanup_metric_labels, Evaluator, Shared};
use self::value::Val;
use crate::parser::{Expr, ParseError, ValueType};

/// Engine-wide limits and defaults (Prometheus' `--query.*` flags).
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// `--query.max-samples`: samples a single query may hold in memory.
    pub max_samples: usize,
    /// `--query.timeout`.
    pub timeout: Duration,
    /// `--query.lookback-delta`, ms.
    pub lookback_delta_ms: i64,
    /// `--query.max-concurrency`: queries evaluated at once; others wait.
    pub max_concurrency: usize,
    /// Remove `__name__` only at the end of evaluation (Prometheus'
    /// `promql-delayed-name-removal` feature flag). Off by default, as in Prometheus.
    pub delayed_name_removal: bool,
    /// Step of subqueries written without one (`x[1h:]`), ms: Prometheus uses the global
    /// evaluation interval, 1 minute by default.
    pub default_subquery_step_ms: i64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            lookback_delta_ms: 300_000,
            max_concurrency: 20,
            delayed_name_removal: false,
            default_subquery_step_ms: 60_000,
        }
    }
}

/// Per-query options.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    /// Overrides the engine's lookback delta (the API's `lookback_delta` parameter).
    pub lookback_delta_ms: Option<i64>,
    /// Overrides the engine's timeout (the API's `timeout` parameter), capped by it.
    pub timeout: Option<Duration>,
    /// Set to true to cancel the running query (client went away).
    pub cancel: Option<Arc<AtomicBool>>,
    /// Collect per-step statistics (`stats=all`).
    pub per_step_stats: bool,
}

/// One sample of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    /// Series labels (metric name dropped where PromQL drops it).
    pub labels: Labels,
    /// Timestamp, ms.
    pub t: i64,
    /// Value.
    pub v: f64,
}

/// One series of a range vector / range-query result.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSeries {
    /// Series labels.
    pub labels: Labels,
    /// Points sorted by timestamp.
    pub samples: Vec<Sample>,
}

/// A query result value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `scalar`: (t ms, v).
    Scalar(i64, f64),
    /// `string`: (t ms, s).
    String(i64, String),
    /// `vector`.
    Vector(Vec<VectorSample>),
    /// `matrix`.
    Matrix(Vec<MatrixSeries>),
}

/// Query statistics (the API's `stats` field).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryStats {
    /// Samples loaded from storage over the whole query.
    pub total_queryable_samples: u64,
    /// Peak samples held at once.
    pub peak_samples: u64,
}

/// A query's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The value.
    pub value: Value,
    /// Warnings (e.g. storage warnings, PromQL annotations).
    pub warnings: Vec<String>,
    /// Informational annotations.
    pub infos: Vec<String>,
    /// Statistics.
    pub stats: QueryStats,
}

/// Why a query failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    /// Syntax or type error (HTTP 400 `bad_data`).
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Timeout (503 `timeout`).
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    /// Canceled (499 `canceled`).
    #[error("query was canceled in {0}")]
    Canceled(&'static str),
    /// Too many samples (422 `execution`).
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
    /// Storage failure (500 / 422 as Prometheus).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Any other evaluation error (422 `execution`).
    #[error("{0}")]
    Execution(String),
}

impl QueryError {
    /// The API `errorType` this error maps to.
    pub fn error_type(&self) -> ErrorType {
        match self {
            QueryError::Parse(_) => ErrorType::BadData,
            QueryError::Timeout(_) => ErrorType::Timeout,
            QueryError::Canceled(_) => ErrorType::Canceled,
            QueryError::TooManySamples(_) | QueryError::Execution(_) => ErrorType::Execution,
            QueryError::Storage(_) => ErrorType::Internal,
        }
    }
}

/// Counts running queries for `max_concurrency`.
#[derive(Debug, Default)]
struct Gate {
    running: Mutex<usize>,
    freed: Condvar,
}

/// Releases a concurrency slot when dropped.
struct Slot<'a>(&'a Gate);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Ok(mut n) = self.0.running.lock() {
            *n = n.saturating_sub(1);
        }
        self.0.freed.notify_one();
    }
}

/// The PromQL engine. Cheap to clone and share between threads.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
    gate: Arc<Gate>,
}

impl Engine {
    /// A new engine.
    pub fn new(opts: EngineOptions) -> Self {
        Self {
            opts,
            gate: Arc::new(Gate::default()),
        }
    }

    /// The engine's options.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `query` at `ts_ms`. CPU-bound: async callers use `spawn_blocking`.
    pub fn instant_query(
        &self,
        storage: &dyn Queryable,
        query: &str,
        ts_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        let expr = crate::parser::parse(query)?;
        self.exec(storage, &expr, query, ts_ms, ts_ms, 0, opts)
    }

    /// Evaluates an already parsed expression at `ts_ms` (rule evaluation).
    pub fn instant_query_expr(
        &self,
        storage: &dyn Queryable,
        expr: &Expr,
        ts_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        let text = expr.to_string();
        self.exec(storage, expr, &text, ts_ms, ts_ms, 0, opts)
    }

    /// Evaluates `query` over `[start_ms, end_ms]` every `step_ms`.
    pub fn range_query(
        &self,
        storage: &dyn Queryable,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        let expr = crate::parser::parse(query)?;
        self.range_query_expr_text(storage, &expr, query, start_ms, end_ms, step_ms, opts)
    }

    /// Evaluates an already parsed expression over `[start_ms, end_ms]` every `step_ms`.
    pub fn range_query_expr(
        &self,
        storage: &dyn Queryable,
        expr: &Expr,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        let text = expr.to_string();
        self.range_query_expr_text(storage, expr, &text, start_ms, end_ms, step_ms, opts)
    }

    #[allow(clippy::too_many_arguments)]
    fn range_query_expr_text(
        &self,
        storage: &dyn Queryable,
        expr: &Expr,
        text: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        let t = expr.value_type();
        if t != ValueType::Vector && t != ValueType::Scalar {
            return Err(QueryError::Parse(ParseError {
                pos: 0,
                message: format!(
                    "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                    t.documented()
                ),
            }));
        }
        if step_ms <= 0 {
            return Err(QueryError::Parse(ParseError {
                pos: 0,
                message: "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            }));
        }
        if end_ms < start_ms {
            return Err(QueryError::Parse(ParseError {
                pos: 0,
                message: "end timestamp must not be before start time".into(),
            }));
        }
        self.exec(storage, expr, text, start_ms, end_ms, step_ms, opts)
    }

    fn acquire(&self, deadline: Instant, opts: &QueryOptions) -> Result<Slot<'_>, QueryError> {
        let max = self.opts.max_concurrency.max(1);
        let mut n = self
            .gate
            .running
            .lock()
            .map_err(|_| QueryError::Execution("query gate poisoned".into()))?;
        while *n >= max {
            if opts
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
            {
                return Err(QueryError::Canceled("query queue"));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(QueryError::Timeout("query queue"));
            }
            let wait = (deadline - now).min(Duration::from_millis(50));
            n = self
                .gate
                .freed
                .wait_timeout(n, wait)
                .map_err(|_| QueryError::Execution("query gate poisoned".into()))?
                .0;
        }
        *n += 1;
        Ok(Slot(&self.gate))
    }

    #[allow(clippy::too_many_arguments)]
    fn exec(
        &self,
        storage: &dyn Queryable,
        expr: &Expr,
        text: &str,
        start: i64,
        end: i64,
        step: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        let lookback = opts
            .lookback_delta_ms
            .filter(|l| *l > 0)
            .unwrap_or(self.opts.lookback_delta_ms);
        let timeout = opts
            .timeout
            .map_or(self.opts.timeout, |t| t.min(self.opts.timeout));
        let deadline = Instant::now() + timeout;
        let _slot = self.acquire(deadline, opts)?;
        let default_step = self.opts.default_subquery_step_ms.max(1);
        let plan = plan::plan(expr, start, end, step, lookback, &|_| default_step)?;
        let querier = storage.querier(plan.mint, plan.maxt)?;
        let mut shared = Shared::new(
            querier.as_ref(),
            &plan.selectors,
            lookback,
            self.opts.max_samples,
            Some(deadline),
            opts.cancel.clone(),
            text,
            self.opts.delayed_name_removal,
        );
        let instant = step == 0;
        let mut ev = Evaluator {
            sh: &mut shared,
            start,
            end,
            interval: if instant { 1 } else { step },
        };
        let val = ev.eval(&plan.root)?;
        if !instant {
            sort_warnings(expr, text, &mut shared);
        }
        let val = match val {
            Val::Matrix(m) if self.opts.delayed_name_removal => {
                Val::Matrix(cleanup_metric_labels(m)?)
            }
            v => v,
        };
        let value = match val {
            Val::Str(s) => Value::String(start, s),
            Val::Matrix(m) if instant => match expr.value_type() {
                ValueType::Scalar => Value::Scalar(
                    start,
                    m.first()
                        .and_then(|s| s.points.first())
                        .map_or(f64::NAN, |p| p.v),
                ),
                ValueType::Matrix => Value::Matrix(to_matrix(m)),
                _ => Value::Vector(
                    m.into_iter()
                        .filter_map(|s| {
                            s.points.first().map(|p| VectorSample {
                                labels: s.metric,
                                t: start,
                                v: p.v,
                            })
                        })
                        .collect(),
                ),
            },
            Val::Matrix(m) => Value::Matrix(to_matrix(m)),
        };
        Ok(QueryResult {
            value,
            warnings: std::mem::take(&mut shared.annos.warnings),
            infos: std::mem::take(&mut shared.annos.infos),
            stats: QueryStats {
                total_queryable_samples: shared.total_samples,
                peak_samples: shared.peak_samples as u64,
            },
        })
    }
}

/// Range results are sorted by labels.
fn to_matrix(mut m: value::Matrix) -> Vec<MatrixSeries> {
    m.sort_by(|a, b| a.metric.cmp(&b.metric));
    m.into_iter()
        .map(|s| MatrixSeries {
            labels: s.metric,
            samples: s.points,
        })
        .collect()
}

/// `sort*` cannot order a range query's result, which is always sorted by labels.
fn sort_warnings(expr: &Expr, text: &str, sh: &mut Shared<'_>) {
    expr.inspect(&mut |e, _| {
        if let Expr::Call(c) = e {
            if matches!(
                c.func.name,
                "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc"
            ) {
                sh.annos.warn(
                    text,
                    c.pos,
                    "sort is ineffective for range queries since results are always ordered by labels",
                );
            }
        }
    });
}

#[cfg(test)]
mod tests;
