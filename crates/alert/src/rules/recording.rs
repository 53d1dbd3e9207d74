//! Recording rules (`rules/recording.go`): evaluate, rename to the record name, add labels.

use std::collections::{BTreeMap, HashSet};

use argus_model::{LabelsBuilder, METRIC_NAME};
use argus_query::ParseError;

use super::{query_vector, EvalContext, OutputSample, RuleStatus};

/// A recording rule.
#[derive(Debug)]
pub struct RecordingRule {
    /// The recorded metric name.
    pub name: String,
    /// The expression as written.
    pub expr: String,
    /// The expression as printed by the parser.
    pub query: String,
    /// Labels set on every output series.
    pub labels: BTreeMap<String, String>,
    /// Last evaluation.
    pub status: RuleStatus,
}

impl RecordingRule {
    /// A recording rule; the expression must parse.
    pub fn new(
        name: &str,
        expr: &str,
        labels: BTreeMap<String, String>,
    ) -> Result<Self, ParseError> {
        let query = argus_query::parse(expr)?.to_string();
        Ok(RecordingRule {
            name: name.into(),
            expr: expr.into(),
            query,
            labels,
            status: RuleStatus::default(),
        })
    }

    /// Evaluates at `ts_ms` (querying at `ts_ms - query_offset_ms`); `limit` > 0 caps the
    /// number of output series.
    pub fn eval(
        &mut self,
        ctx: &EvalContext,
        ts_ms: i64,
        query_offset_ms: i64,
        limit: u64,
    ) -> Result<Vec<OutputSample>, String> {
        let mut vector =
            query_vector(ctx, &self.expr, ts_ms - query_offset_ms).map_err(|e| e.to_string())?;
        let mut seen = HashSet::with_capacity(vector.len());
        for s in &mut vector {
            let mut b = LabelsBuilder::from(&s.labels);
            b.set(METRIC_NAME, &self.name);
            for (k, v) in &self.labels {
                b.set(k, v);
            }
            s.labels = b.build();
            if !seen.insert(s.labels.clone()) {
                return Err(
                    "vector contains metrics with the same labelset after applying rule labels"
                        .into(),
                );
            }
        }
        if limit > 0 && vector.len() as u64 > limit {
            return Err(format!(
                "exceeded limit of {limit} with {} series",
                vector.len()
            ));
        }
        Ok(vector)
    }
}
