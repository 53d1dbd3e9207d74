//! Values flowing between evaluation steps, and query annotations.
//!
//! As in Prometheus, every instant-vector or scalar sub-expression evaluates to a [`Matrix`]
//! holding one point per evaluation step at which the series has a value; an instant query
//! is a range evaluation with a single step. `drop_name` marks series whose `__name__` must
//! be removed at the end of evaluation (delayed name removal).

use argus_model::{Labels, Sample};

use crate::parser::{line_col, PosRange};

/// One series of an intermediate result: points at evaluation step timestamps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    /// Labels (the metric name may still be present when `drop_name` is set).
    pub metric: Labels,
    /// Points sorted by timestamp.
    pub points: Vec<Sample>,
    /// The metric name is to be dropped at the end of evaluation.
    pub drop_name: bool,
}

impl Series {
    pub fn new(metric: Labels, drop_name: bool) -> Self {
        Series {
            metric,
            points: Vec::new(),
            drop_name,
        }
    }
}

/// Intermediate matrix.
pub(crate) type Matrix = Vec<Series>;

/// One element of an instant vector at an evaluation step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Elem {
    pub metric: Labels,
    /// Sample timestamp (the evaluation time, except for raw selector samples).
    pub t: i64,
    pub f: f64,
    pub drop_name: bool,
}

/// An instant vector at one step.
pub(crate) type Vector = Vec<Elem>;

/// The result of evaluating a node.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// Instant vectors and scalars (scalar: one series with empty labels), or a range vector
    /// for a top-level matrix selector / subquery in an instant query.
    Matrix(Matrix),
    /// A string literal.
    Str(String),
}

/// Warnings and infos collected while evaluating, deduplicated, in order of first
/// occurrence. Each carries the `(line:col)` of the sub-expression it is about.
#[derive(Debug, Default, Clone)]
pub(crate) struct Annotations {
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

impl Annotations {
    fn push(list: &mut Vec<String>, msg: String) {
        if !list.contains(&msg) {
            list.push(msg);
        }
    }

    /// Adds `PromQL warning: <msg> (<pos>)`.
    pub fn warn(&mut self, query: &str, pos: PosRange, msg: impl AsRef<str>) {
        let m = format!(
            "PromQL warning: {} ({})",
            msg.as_ref(),
            line_col(query, pos.start)
        );
        Self::push(&mut self.warnings, m);
    }

    /// Adds `PromQL info: <msg> (<pos>)`.
    pub fn info(&mut self, query: &str, pos: PosRange, msg: impl AsRef<str>) {
        let m = format!(
            "PromQL info: {} ({})",
            msg.as_ref(),
            line_col(query, pos.start)
        );
        Self::push(&mut self.infos, m);
    }

    /// Adds a plain warning (storage warnings carry no position).
    pub fn raw_warning(&mut self, msg: String) {
        Self::push(&mut self.warnings, msg);
    }
}

/// Go's `%g` for annotation texts (`-1.1`, `NaN`, `1e+06`).
pub(crate) fn go_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let mut s = String::new();
    if (-4..21).contains(&argus_model::gofloat::decimal_exponent(v)) {
        argus_model::gofloat::write_f(v, &mut s);
    } else {
        argus_model::gofloat::write_e(v, &mut s);
    }
    s
}

/// The series' metric name, or "".
pub(crate) fn metric_name(l: &Labels) -> &str {
    l.get(argus_model::METRIC_NAME).unwrap_or("")
}

/// Labels without `__name__`, `__type__` and `__unit__` (Prometheus'
/// `DropReserved(schema.IsMetadataLabel)`).
pub(crate) fn drop_metadata(l: &Labels) -> Labels {
    if !l.iter().any(|x| is_metadata_label(x.name)) {
        return l.clone();
    }
    l.filter(|x| !is_metadata_label(x.name))
}

/// `__name__`, `__type__`, `__unit__`.
pub(crate) fn is_metadata_label(name: &str) -> bool {
    matches!(name, "__name__" | "__type__" | "__unit__")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_g_format() {
        assert_eq!(go_g(-1.1), "-1.1");
        assert_eq!(go_g(1.0), "1");
        assert_eq!(go_g(f64::NAN), "NaN");
        assert_eq!(go_g(1e21), "1e+21");
        assert_eq!(go_g(0.00001), "1e-05");
        assert_eq!(go_g(0.0001), "0.0001");
    }

    #[test]
    fn annotations_dedup_and_format() {
        let mut a = Annotations::default();
        a.warn("foo + bar", PosRange::new(6, 9), "x");
        a.warn("foo + bar", PosRange::new(6, 9), "x");
        assert_eq!(a.warnings, vec!["PromQL warning: x (1:7)".to_owned()]);
    }
}
