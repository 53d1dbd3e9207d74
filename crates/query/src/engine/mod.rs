//! PromQL engine. INTERFACE STUB: the engine helper replaces the internals; the public
//! signatures below are the contract the HTTP API, rules and adapter code against.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use argus_model::api::ErrorType;
use argus_model::{Labels, Queryable, Sample, StorageError};

use crate::parser::ParseError;

/// Engine-wide limits and defaults (Prometheus' `--query.*` flags).
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// `--query.max-samples`: samples a single query may hold in memory.
    pub max_samples: usize,
    /// `--query.timeout`.
    pub timeout: Duration,
    /// `--query.lookback-delta`, ms.
    pub lookback_delta_ms: i64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            lookback_delta_ms: 300_000,
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

/// The PromQL engine. Cheap to clone and share between threads.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    /// A new engine.
    pub fn new(opts: EngineOptions) -> Self {
        Self { opts }
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
        let _ = (storage, ts_ms, opts);
        Err(crate::parser::parse(query).err().map_or_else(
            || QueryError::Execution("engine not implemented".into()),
            QueryError::Parse,
        ))
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
        let _ = (start_ms, end_ms, step_ms);
        self.instant_query(storage, query, start_ms, opts)
    }
}
