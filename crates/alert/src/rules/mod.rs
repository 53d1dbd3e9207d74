//! Rules and their evaluation: recording rules, alerting rules with their state machine,
//! groups evaluated on aligned intervals, and the manager that loads rule files.

pub mod alerting;
pub mod group;
pub mod manager;
pub mod recording;
mod restore;
mod template_expand;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use argus_model::{Labels, Queryable};
use argus_query::engine::{QueryOptions, Value as QValue};
use argus_query::{Engine, QueryError};

pub use alerting::{Alert, AlertState, AlertingRule};
pub use recording::RecordingRule;

/// Rule health, as `/api/v1/rules` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Health {
    /// Not evaluated yet.
    #[default]
    Unknown,
    /// Last evaluation succeeded.
    Good,
    /// Last evaluation failed.
    Bad,
}

/// Outcome of a rule's last evaluation.
#[derive(Debug, Clone, Default)]
pub struct RuleStatus {
    /// Health.
    pub health: Health,
    /// Last error text, empty when healthy.
    pub last_error: String,
    /// Timestamp (ms) of the last evaluation.
    pub last_evaluation_ms: Option<i64>,
    /// How long the last evaluation took.
    pub evaluation_time: Duration,
}

/// A source of the current time, so that evaluation can run on simulated time in tests.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        argus_model::now_ms()
    }
}

/// A clock that only moves when told to (tests, `argus test rules`).
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    /// A clock at `ms`.
    pub fn new(ms: i64) -> Self {
        ManualClock(std::sync::atomic::AtomicI64::new(ms))
    }

    /// Sets the time.
    pub fn set(&self, ms: i64) {
        self.0.store(ms, std::sync::atomic::Ordering::SeqCst);
    }

    /// Moves the time forward.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// What a rule needs to evaluate: the engine and storage to query, and the values alert
/// templates see. Cheap to clone (everything shared).
#[derive(Clone)]
pub struct EvalContext {
    /// The PromQL engine.
    pub engine: Engine,
    /// Storage to query.
    pub queryable: Arc<dyn Queryable>,
    /// Per-query options (timeout, lookback).
    pub query_options: QueryOptions,
    /// `$externalLabels`.
    pub external_labels: Arc<BTreeMap<String, String>>,
    /// `$externalURL`.
    pub external_url: Arc<str>,
    /// Counters of template expansions and failures.
    pub template_metrics: Option<Arc<crate::metrics::TemplateMetrics>>,
}

/// One output sample of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSample {
    /// Series labels.
    pub labels: Labels,
    /// Timestamp, ms.
    pub t: i64,
    /// Value.
    pub v: f64,
}

/// Runs `query` at `ts_ms` as Prometheus' `EngineQueryFunc`: a scalar becomes a one-sample
/// vector without labels; strings and matrices are errors.
pub fn query_vector(
    ctx: &EvalContext,
    query: &str,
    ts_ms: i64,
) -> Result<Vec<OutputSample>, QueryError> {
    let res = ctx
        .engine
        .instant_query(ctx.queryable.as_ref(), query, ts_ms, &ctx.query_options)?;
    match res.value {
        QValue::Vector(v) => Ok(v
            .into_iter()
            .map(|s| OutputSample {
                labels: s.labels,
                t: s.t,
                v: s.v,
            })
            .collect()),
        QValue::Scalar(t, v) => Ok(vec![OutputSample {
            labels: Labels::empty(),
            t,
            v,
        }]),
        _ => Err(QueryError::Execution(
            "rule result is not a vector or scalar".into(),
        )),
    }
}

/// Either kind of rule.
#[derive(Debug)]
pub enum Rule {
    /// A recording rule.
    Recording(RecordingRule),
    /// An alerting rule.
    Alerting(AlertingRule),
}

impl Rule {
    /// Record or alert name.
    pub fn name(&self) -> &str {
        match self {
            Rule::Recording(r) => &r.name,
            Rule::Alerting(r) => &r.name,
        }
    }

    /// The rule's labels (templates for alerting rules).
    pub fn labels(&self) -> &BTreeMap<String, String> {
        match self {
            Rule::Recording(r) => &r.labels,
            Rule::Alerting(r) => &r.labels,
        }
    }

    /// Status of the last evaluation.
    pub fn status(&self) -> &RuleStatus {
        match self {
            Rule::Recording(r) => &r.status,
            Rule::Alerting(r) => &r.status,
        }
    }

    pub(crate) fn status_mut(&mut self) -> &mut RuleStatus {
        match self {
            Rule::Recording(r) => &mut r.status,
            Rule::Alerting(r) => &mut r.status,
        }
    }

    /// The expression as printed by the parser (what the API shows as `query`).
    pub fn query(&self) -> &str {
        match self {
            Rule::Recording(r) => &r.query,
            Rule::Alerting(r) => &r.query,
        }
    }

    /// Key identifying "the same rule" across reloads: name and labels.
    pub(crate) fn name_and_labels(&self) -> String {
        let mut s = self.name().to_string();
        for (k, v) in self.labels() {
            s.push('\u{ff}');
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        }
        s
    }

    /// Whether two rules are defined identically (for reloads).
    pub(crate) fn same_definition(&self, other: &Rule) -> bool {
        match (self, other) {
            (Rule::Recording(a), Rule::Recording(b)) => {
                a.name == b.name && a.expr == b.expr && a.labels == b.labels
            }
            (Rule::Alerting(a), Rule::Alerting(b)) => {
                a.name == b.name
                    && a.expr == b.expr
                    && a.hold_ms == b.hold_ms
                    && a.keep_firing_for_ms == b.keep_firing_for_ms
                    && a.labels == b.labels
                    && a.annotations == b.annotations
            }
            _ => false,
        }
    }
}

/// Shared handle to a rule (each is locked separately so the API can read one while
/// another evaluates).
pub type RuleRef = Arc<parking_lot::Mutex<Rule>>;
