//! Running PromQL test scripts against the engine and any storage.
//!
//! Each script gets fresh storage (again after every `clear`); `load` blocks are appended in
//! one commit each; every `eval` is run and compared as Prometheus' own runner does
//! (`FORMAT.md` §5–6): floats within a relative 1e-6, exact label sets, ordering only for
//! `expect ordered`, range results sorted by labels, and warning/info annotations checked
//! only when the eval says something about them.

use std::collections::{HashMap, HashSet};

use argus_model::{is_stale_nan, Appendable, Labels, Queryable, Sample};
use regex::Regex;

use super::script::{parse_script, Command, Eval, EvalTime, MsgMatch, SeqValue, SeriesLine};
use crate::engine::{Engine, QueryOptions, QueryResult, Value};
use crate::functions::histogram::almost_equal;

/// Storage a script can write to and query.
pub trait TestStorage: Queryable + Appendable {}
impl<T: Queryable + Appendable> TestStorage for T {}

/// How one eval went.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Matched the expectations.
    Pass,
    /// Did not; the reason.
    Fail(String),
    /// Not run; the reason.
    Skip(String),
}

/// The result of one eval.
#[derive(Debug, Clone)]
pub struct EvalReport {
    /// 1-based line of the eval header.
    pub line: usize,
    /// The query.
    pub query: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Uses an experimental PromQL feature (per the inventory).
    pub experimental: bool,
    /// Part of the core set: no native histograms, no experimental feature.
    pub core: bool,
}

/// The results of one script.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    /// File name.
    pub file: String,
    /// One entry per eval, in script order.
    pub evals: Vec<EvalReport>,
}

impl FileReport {
    /// (passed, failed, skipped).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for e in &self.evals {
            match e.outcome {
                Outcome::Pass => c.0 += 1,
                Outcome::Fail(_) => c.1 += 1,
                Outcome::Skip(_) => c.2 += 1,
            }
        }
        c
    }
}

/// Per-eval facts from `inventory.tsv`.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    rows: HashMap<(String, usize), (bool, bool)>,
}

impl Inventory {
    /// Parses the TSV (`file line kind time needs_native_histograms experimental_features ...`).
    pub fn parse(tsv: &str) -> Self {
        let mut rows = HashMap::new();
        for l in tsv.lines().skip(1) {
            let cols: Vec<&str> = l.split('\t').collect();
            if let (Some(f), Some(line), Some(nh), Some(exp)) =
                (cols.first(), cols.get(1), cols.get(4), cols.get(5))
            {
                if let Ok(line) = line.parse() {
                    rows.insert(((*f).to_owned(), line), (*nh == "yes", *exp != "-"));
                }
            }
        }
        Inventory { rows }
    }

    /// (needs native histograms, uses an experimental feature).
    pub fn get(&self, file: &str, line: usize) -> (bool, bool) {
        self.rows
            .get(&(file.to_owned(), line))
            .copied()
            .unwrap_or((false, false))
    }
}

/// Runs one script. `known` maps eval lines to a reason they are known to be unsupported:
/// those are run, and reported as skipped when they fail (and as failures if they pass, so
/// the list is kept minimal).
pub fn run_script(
    file: &str,
    text: &str,
    inventory: &Inventory,
    known: &HashMap<usize, &str>,
    engine: &Engine,
    make_storage: &dyn Fn() -> Box<dyn TestStorage>,
) -> FileReport {
    let mut report = FileReport {
        file: file.to_owned(),
        evals: Vec::new(),
    };
    let cmds = match parse_script(text) {
        Ok(c) => c,
        Err(e) => {
            report.evals.push(EvalReport {
                line: e.line,
                query: String::new(),
                outcome: Outcome::Fail(format!("script does not parse: {e}")),
                experimental: false,
                core: false,
            });
            return report;
        }
    };
    let mut storage = make_storage();
    let mut start_timestamps = false;
    let mut load_errors: Vec<String> = Vec::new();
    for cmd in cmds {
        match cmd {
            Command::Clear => {
                storage = make_storage();
                start_timestamps = false;
                load_errors.clear();
            }
            Command::Load {
                line,
                interval_ms,
                series,
                start_timestamps: st,
                ..
            } => {
                start_timestamps |= st;
                if let Err(e) = load(storage.as_ref(), interval_ms, &series) {
                    load_errors.push(format!("load at line {line}: {e}"));
                }
            }
            Command::Eval(ev) => {
                let (needs_nh, experimental) = inventory.get(file, ev.line);
                let skip = if needs_nh {
                    Some("needs native histograms".to_owned())
                } else if ev.series.iter().any(SeriesLine::has_histogram) {
                    Some("expects native histograms".to_owned())
                } else if start_timestamps {
                    Some("needs per-sample start timestamps".to_owned())
                } else {
                    None
                };
                let outcome = match skip {
                    Some(r) => Outcome::Skip(r),
                    None if !load_errors.is_empty() => Outcome::Fail(load_errors.join("; ")),
                    None => run_eval(engine, storage.as_ref(), &ev),
                };
                let outcome = match (known.get(&ev.line), outcome) {
                    (Some(reason), Outcome::Fail(_)) => {
                        Outcome::Skip(format!("known unsupported: {reason}"))
                    }
                    (Some(_), Outcome::Pass) => Outcome::Fail(
                        "listed as known unsupported but passes: remove it from the list".into(),
                    ),
                    (_, o) => o,
                };
                report.evals.push(EvalReport {
                    line: ev.line,
                    query: ev.query.clone(),
                    outcome,
                    experimental,
                    core: !needs_nh && !experimental,
                });
            }
        }
    }
    report
}

fn load(storage: &dyn TestStorage, interval: i64, series: &[SeriesLine]) -> Result<(), String> {
    // A later value for the same series and timestamp replaces an earlier one, as in
    // Prometheus' test storage.
    let mut merged: std::collections::BTreeMap<&Labels, std::collections::BTreeMap<i64, f64>> =
        std::collections::BTreeMap::new();
    for s in series.iter().filter(|s| !s.has_histogram()) {
        let m = merged.entry(&s.labels).or_default();
        for (i, v) in s.values.iter().enumerate() {
            if let SeqValue::Float(f) = v {
                m.insert(i as i64 * interval, *f);
            }
        }
    }
    let mut app = storage.appender();
    for (labels, samples) in merged {
        let mut r = None;
        for (t, f) in samples {
            match app.append(r, labels, t, f) {
                Ok(sr) => r = Some(sr),
                Err(e) if e.is_sample_rejection() => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }
    app.commit().map_err(|e| e.to_string())
}

/// Float equality as Prometheus' test runner: stale markers by bits, NaN equals NaN,
/// otherwise a relative tolerance of 1e-6.
pub fn float_eq(a: f64, b: f64) -> bool {
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    almost_equal(a, b, 1e-6)
}

fn msg_matches(m: &MsgMatch, text: &str) -> bool {
    match m {
        MsgMatch::Any => true,
        MsgMatch::Exact(s) => s == text,
        MsgMatch::Regex(r) => Regex::new(r).is_ok_and(|re| re.is_match(text)),
    }
}

fn check_annotations(
    kind: &str,
    expected: &[MsgMatch],
    none: bool,
    got: &[String],
) -> Result<(), String> {
    if none && !got.is_empty() {
        return Err(format!("expected no {kind} annotations, got {got:?}"));
    }
    if expected.is_empty() {
        return Ok(());
    }
    if got.is_empty() {
        return Err(format!(
            "expected {kind} annotations {expected:?}, got none"
        ));
    }
    for m in expected {
        if !got.iter().any(|g| msg_matches(m, g)) {
            return Err(format!("no {kind} annotation matches {m:?}; got {got:?}"));
        }
    }
    for g in got {
        if !expected.iter().any(|m| msg_matches(m, g)) {
            return Err(format!("unexpected {kind} annotation {g:?}"));
        }
    }
    Ok(())
}

/// Runs one eval and compares.
pub fn run_eval(engine: &Engine, storage: &dyn TestStorage, ev: &Eval) -> Outcome {
    let opts = QueryOptions::default();
    let res = match ev.time {
        EvalTime::Instant(t) => engine.instant_query(storage, &ev.query, t, &opts),
        EvalTime::Range { start, end, step } => {
            engine.range_query(storage, &ev.query, start, end, step, &opts)
        }
    };
    if let Some(m) = &ev.expect.fail {
        return match res {
            Ok(r) => Outcome::Fail(format!("expected an error, got {:?}", r.value)),
            Err(e) if msg_matches(m, &e.to_string()) => Outcome::Pass,
            Err(e) => Outcome::Fail(format!("error {:?} does not match {m:?}", e.to_string())),
        };
    }
    let r = match res {
        Ok(r) => r,
        Err(e) => return Outcome::Fail(format!("query failed: {e}")),
    };
    if let Err(e) = compare(ev, &r) {
        return Outcome::Fail(e);
    }
    if let EvalTime::Instant(t) = ev.time {
        let expected = |v: &Value| compare_value(ev, v);
        if let Err(e) = super::checks::extra_instant_checks(engine, storage, ev, t, &expected) {
            return Outcome::Fail(e);
        }
    }
    Outcome::Pass
}

fn compare(ev: &Eval, r: &QueryResult) -> Result<(), String> {
    check_annotations("warn", &ev.expect.warn, ev.expect.no_warn, &r.warnings)?;
    check_annotations("info", &ev.expect.info, ev.expect.no_info, &r.infos)?;
    compare_value(ev, &r.value)
}

/// The point at `t` of a range query's result, compared with an instant eval's
/// expectations.
pub(crate) fn compare_range_point(ev: &Eval, v: &Value, t: i64) -> Result<(), String> {
    let Value::Matrix(m) = v else {
        return Err(format!("range query returned {v:?}"));
    };
    if m.windows(2)
        .any(|w| matches!(w, [a, b] if a.labels > b.labels))
    {
        return Err("range result is not sorted by labels".into());
    }
    let at_t: Vec<crate::engine::VectorSample> = m
        .iter()
        .filter_map(|s| {
            s.samples
                .iter()
                .find(|p| p.t == t)
                .map(|p| crate::engine::VectorSample {
                    labels: s.labels.clone(),
                    t,
                    v: p.v,
                })
        })
        .collect();
    if let Some(want) = ev.scalar {
        return match at_t.as_slice() {
            [s] if s.labels.is_empty() && float_eq(s.v, want) => Ok(()),
            _ => Err(format!(
                "expected scalar {want}, got {}",
                describe_vector(&at_t)
            )),
        };
    }
    compare_vector(ev, &at_t)
}

/// Compares a result value with the eval's expected series, scalar or string.
pub(crate) fn compare_value(ev: &Eval, value: &Value) -> Result<(), String> {
    if let Some(want) = &ev.expect.string {
        return match value {
            Value::String(_, s) if s == want => Ok(()),
            v => Err(format!("expected string {want:?}, got {v:?}")),
        };
    }
    if let Some(want) = ev.scalar {
        return match *value {
            Value::Scalar(_, v) if float_eq(v, want) => Ok(()),
            ref v => Err(format!("expected scalar {want}, got {v:?}")),
        };
    }
    match (value, ev.time) {
        (Value::Scalar(_, v), _) => Err(format!("unexpected scalar result {v}")),
        (Value::String(_, s), _) => Err(format!("unexpected string result {s:?}")),
        (Value::Vector(v), _) => compare_vector(ev, v),
        (Value::Matrix(m), EvalTime::Range { start, step, .. }) => {
            compare_matrix(&ev.series, m, start, step, true)
        }
        (Value::Matrix(m), EvalTime::Instant(_)) => match ev.expect.range_vector {
            Some((t1, _, s)) => compare_matrix(&ev.series, m, t1, s, false),
            None if m.is_empty() && ev.series.is_empty() => Ok(()),
            None => Err(format!("unexpected range vector result {m:?}")),
        },
    }
}

fn expected_single(s: &SeriesLine) -> Result<f64, String> {
    match s.values.as_slice() {
        [SeqValue::Float(f)] => Ok(*f),
        _ => Err(format!(
            "expected series {} must have exactly one value",
            s.labels
        )),
    }
}

fn compare_vector(ev: &Eval, got: &[crate::engine::VectorSample]) -> Result<(), String> {
    if got.len() != ev.series.len() {
        return Err(format!(
            "expected {} series, got {}: {}",
            ev.series.len(),
            got.len(),
            describe_vector(got)
        ));
    }
    let mut seen = HashSet::new();
    for (i, want) in ev.series.iter().enumerate() {
        let wv = expected_single(want)?;
        let found = if ev.expect.ordered {
            got.get(i).filter(|g| g.labels == want.labels)
        } else {
            got.iter().find(|g| g.labels == want.labels)
        };
        let Some(g) = found else {
            return Err(format!(
                "expected series {} {}not found in {}",
                want.labels,
                if ev.expect.ordered {
                    "at this position "
                } else {
                    ""
                },
                describe_vector(got)
            ));
        };
        if !seen.insert(&g.labels) {
            return Err(format!("series {} expected twice", want.labels));
        }
        if !float_eq(g.v, wv) {
            return Err(format!(
                "series {}: expected {wv}, got {}",
                want.labels, g.v
            ));
        }
    }
    Ok(())
}

fn describe_vector(v: &[crate::engine::VectorSample]) -> String {
    let parts: Vec<String> = v.iter().map(|s| format!("{} {}", s.labels, s.v)).collect();
    format!("[{}]", parts.join(", "))
}

fn compare_matrix(
    want: &[SeriesLine],
    got: &[crate::engine::MatrixSeries],
    start: i64,
    step: i64,
    check_sorted: bool,
) -> Result<(), String> {
    if check_sorted
        && got
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.labels > b.labels))
    {
        return Err("range result is not sorted by labels".into());
    }
    if got.len() != want.len() {
        let names: Vec<String> = got.iter().map(|s| s.labels.to_string()).collect();
        return Err(format!(
            "expected {} series, got {}: {names:?}",
            want.len(),
            got.len()
        ));
    }
    let by_labels: HashMap<&Labels, &crate::engine::MatrixSeries> =
        got.iter().map(|s| (&s.labels, s)).collect();
    for w in want {
        let Some(g) = by_labels.get(&w.labels) else {
            return Err(format!("expected series {} not found", w.labels));
        };
        let expected: Vec<Sample> = w
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                SeqValue::Float(f) => Some(Sample::new(start + i as i64 * step, *f)),
                _ => None,
            })
            .collect();
        if expected.len() != g.samples.len()
            || expected
                .iter()
                .zip(&g.samples)
                .any(|(e, s)| e.t != s.t || !float_eq(e.v, s.v))
        {
            return Err(format!(
                "series {}: expected {:?}, got {:?}",
                w.labels, expected, g.samples
            ));
        }
    }
    Ok(())
}
