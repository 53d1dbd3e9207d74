//! The experimental `info(v [, {data label selector}])` function: adds the data labels of
//! info metrics (`target_info` by default) that share the identifying labels `instance` and
//! `job` with each series of `v` (Prometheus' `promql/info.go`).

use std::collections::{BTreeMap, HashMap, HashSet};

use argus_model::{Labels, LabelsBuilder, MatchOp, Matcher, SelectHints, METRIC_NAME};

use crate::engine::eval::{dup_labelset, Evaluator};
use crate::engine::plan::{CallNode, Node};
use crate::engine::selectors::Cursor;
use crate::engine::value::{metric_name, Matrix, Series};
use crate::engine::QueryError;

const TARGET_INFO: &str = "target_info";
const IDENTIFYING: [&str; 2] = ["instance", "job"];

fn regex_quote(s: &str) -> String {
    regex::escape(s)
}

/// Signature of a series for one info metric: the name plus the identifying labels.
fn signature(name: &str, l: &Labels) -> String {
    let mut s = format!("{name}\u{ff}");
    for id in IDENTIFYING {
        if let Some(v) = l.get(id) {
            s.push_str(id);
            s.push('\u{ff}');
            s.push_str(v);
            s.push('\u{ff}');
        }
    }
    s
}

/// The time at which the first selector of `n` reads when `n` is evaluated at `t`, following
/// the `@` and offset modifiers of the subqueries on the way. Info series are looked up as
/// of that time, so `@` and offset pin which info series enriches.
fn reference_time(n: &Node, t: i64) -> i64 {
    match n {
        Node::Vector(vs) => vs.at.unwrap_or(t) - vs.offset,
        Node::Matrix(m) => m.vs.at.unwrap_or(t) - m.vs.offset,
        Node::Subquery(s) => reference_time(&s.expr, s.at.unwrap_or(t) - s.offset),
        Node::Call(c) => c
            .args
            .iter()
            .find(|a| has_selector(a))
            .map_or(t, |a| reference_time(a, t)),
        Node::Aggregate(a) => reference_time(&a.expr, t),
        Node::Binary(b) => {
            if has_selector(&b.lhs) {
                reference_time(&b.lhs, t)
            } else {
                reference_time(&b.rhs, t)
            }
        }
        Node::Neg(x) | Node::StepInvariant(x) => reference_time(x, t),
        Node::Number(_) | Node::Str(_) => t,
    }
}

fn has_selector(n: &Node) -> bool {
    match n {
        Node::Vector(_) | Node::Matrix(_) => true,
        Node::Subquery(s) => has_selector(&s.expr),
        Node::Call(c) => c.args.iter().any(has_selector),
        Node::Aggregate(a) => has_selector(&a.expr),
        Node::Binary(b) => has_selector(&b.lhs) || has_selector(&b.rhs),
        Node::Neg(x) | Node::StepInvariant(x) => has_selector(x),
        Node::Number(_) | Node::Str(_) => false,
    }
}

pub(crate) fn eval_info(ev: &mut Evaluator<'_, '_>, c: &CallNode) -> Result<Matrix, QueryError> {
    let base_node = c
        .args
        .first()
        .ok_or_else(|| QueryError::Execution("BUG: info without argument".into()))?;
    let mat = ev.eval_matrix(base_node)?;
    // Matchers of the label selector argument, by label name.
    let selector: Vec<Matcher> = match c.args.get(1).map(Node::unwrap_invariant) {
        Some(Node::Vector(vs)) => ev
            .sh
            .selectors
            .get(vs.id)
            .map(|s| s.matchers.clone())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    // The info metrics to use: target_info unless the selector names some; a selector with
    // only negative name matchers picks among all `*_info` metrics.
    let mut name_matchers: Vec<Matcher> = selector
        .iter()
        .filter(|m| m.name == METRIC_NAME)
        .cloned()
        .collect();
    if name_matchers.is_empty() {
        name_matchers.push(Matcher::equal(METRIC_NAME, TARGET_INFO));
    } else if !name_matchers
        .iter()
        .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::Regex))
    {
        name_matchers.push(
            Matcher::new(MatchOp::Regex, METRIC_NAME, ".+_info")
                .map_err(|e| QueryError::Execution(e.to_string()))?,
        );
    }
    let mut data: BTreeMap<String, Vec<Matcher>> = BTreeMap::new();
    for m in selector.iter().filter(|m| m.name != METRIC_NAME) {
        data.entry(m.name.clone()).or_default().push(m.clone());
    }
    // Info series themselves are not enriched.
    let ignored: HashSet<usize> = mat
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            let n = metric_name(&s.metric);
            name_matchers.iter().all(|m| m.matches(n))
        })
        .map(|(i, _)| i)
        .collect();
    let data_selector: Vec<Matcher> = selector
        .iter()
        .filter(|m| m.name != METRIC_NAME)
        .cloned()
        .collect();
    let info = fetch_info_series(
        ev,
        base_node,
        &mat,
        &ignored,
        &name_matchers,
        &data_selector,
    )?;
    combine(ev, &mat, &info, &ignored, &data)
}

/// Reads the info series matching the base series' identifying labels; each point's value
/// is the timestamp of the info sample it came from.
fn fetch_info_series(
    ev: &mut Evaluator<'_, '_>,
    base_node: &Node,
    mat: &Matrix,
    ignored: &HashSet<usize>,
    name_matchers: &[Matcher],
    data_selector: &[Matcher],
) -> Result<Matrix, QueryError> {
    let mut values: BTreeMap<&str, HashSet<&str>> = BTreeMap::new();
    for (i, s) in mat.iter().enumerate() {
        if ignored.contains(&i) {
            continue;
        }
        for id in IDENTIFYING {
            if let Some(v) = s.metric.get(id) {
                values.entry(id).or_default().insert(v);
            }
        }
    }
    if values.is_empty() {
        return Ok(Matrix::new());
    }
    let mut matchers = Vec::new();
    for (name, vals) in &values {
        let mut vals: Vec<&&str> = vals.iter().collect();
        vals.sort();
        let re = vals
            .iter()
            .map(|v| regex_quote(v))
            .collect::<Vec<_>>()
            .join("|");
        matchers.push(
            Matcher::new(MatchOp::Regex, *name, re)
                .map_err(|e| QueryError::Execution(e.to_string()))?,
        );
    }
    matchers.extend(name_matchers.iter().cloned());
    matchers.extend(data_selector.iter().cloned());
    let lookback = ev.sh.lookback;
    let refs: Vec<i64> = ev.steps().map(|t| reference_time(base_node, t)).collect();
    let (lo, hi) = (
        refs.iter().copied().min().unwrap_or(ev.start),
        refs.iter().copied().max().unwrap_or(ev.end),
    );
    let hints = SelectHints {
        start: lo - lookback + 1,
        end: hi,
        step: ev.interval,
        func: Some("info".into()),
        ..SelectHints::default()
    };
    let mut set = ev.sh.querier.select(false, Some(&hints), &matchers);
    let mut out = Matrix::new();
    let steps: Vec<(i64, i64)> = ev.steps().zip(refs.iter().copied()).collect();
    while let Some(s) = set.next() {
        ev.sh.check_deadline()?;
        let s = s.map_err(QueryError::Storage)?;
        let mut cursor = Cursor::new(s.iterator());
        let mut series = Series::new(s.labels().clone(), false);
        // Reference times may go backwards (they are computed per step), so use a fresh
        // cursor when they do.
        let mut last_ref = i64::MIN;
        for &(ts, r) in &steps {
            if r < last_ref {
                cursor = Cursor::new(s.iterator());
            }
            last_ref = r;
            if let Some(p) = cursor.value_at(r, lookback) {
                series.points.push(argus_model::Sample::new(ts, p.t as f64));
            }
        }
        if let Some(e) = cursor.error() {
            return Err(e);
        }
        if !series.points.is_empty() {
            out.push(series);
        }
    }
    for w in set.warnings() {
        ev.sh.annos.raw_warning(w);
    }
    Ok(out)
}

fn combine(
    ev: &mut Evaluator<'_, '_>,
    mat: &Matrix,
    info: &Matrix,
    ignored: &HashSet<usize>,
    data: &BTreeMap<String, Vec<Matcher>>,
) -> Result<Matrix, QueryError> {
    let mut info_names: Vec<&str> = info.iter().map(|s| metric_name(&s.metric)).collect();
    info_names.sort();
    info_names.dedup();
    let info_sigs: Vec<String> = info
        .iter()
        .map(|s| signature(metric_name(&s.metric), &s.metric))
        .collect();
    let base_sigs: Vec<Vec<(&str, String)>> = mat
        .iter()
        .map(|s| {
            info_names
                .iter()
                .map(|n| (*n, signature(n, &s.metric)))
                .collect()
        })
        .collect();
    let all_match_empty = data.values().flatten().all(Matcher::matches_empty);
    let mut base_pos = vec![0usize; mat.len()];
    let mut info_pos = vec![0usize; info.len()];
    let mut out: Matrix = Vec::new();
    let mut index: HashMap<Labels, (usize, i64)> = HashMap::new();
    for ts in ev.steps() {
        ev.sh.check_deadline()?;
        // The newest info sample per signature at this step.
        let mut by_sig: HashMap<&str, (usize, i64)> = HashMap::new();
        for (j, s) in info.iter().enumerate() {
            let Some(p) = info_pos.get_mut(j) else {
                continue;
            };
            let Some(pt) = s.points.get(*p).filter(|pt| pt.t == ts) else {
                continue;
            };
            *p += 1;
            let orig = pt.v as i64;
            let sig = info_sigs.get(j).map_or("", String::as_str);
            match by_sig.get(sig) {
                Some(&(k, t)) if t == orig => {
                    let existing = info
                        .get(k)
                        .map(|x| x.metric.to_string())
                        .unwrap_or_default();
                    return Err(QueryError::Execution(format!(
                        "found duplicate series for info metric: existing {existing} @ {t}, new {} @ {orig}",
                        s.metric
                    )));
                }
                Some(&(_, t)) if t > orig => {}
                _ => {
                    by_sig.insert(sig, (j, orig));
                }
            }
        }
        for (i, s) in mat.iter().enumerate() {
            let Some(p) = base_pos.get_mut(i) else {
                continue;
            };
            let Some(pt) = s.points.get(*p).filter(|pt| pt.t == ts) else {
                continue;
            };
            *p += 1;
            let metric = if ignored.contains(&i) {
                s.metric.clone()
            } else {
                let mut add = LabelsBuilder::new();
                let mut seen = 0;
                for (_, sig) in base_sigs.get(i).map(Vec::as_slice).unwrap_or(&[]) {
                    let Some(&(k, _)) = by_sig.get(sig.as_str()) else {
                        continue;
                    };
                    let Some(is) = info.get(k) else { continue };
                    seen += 1;
                    for l in is.metric.iter() {
                        if l.name == METRIC_NAME || (!data.is_empty() && !data.contains_key(l.name))
                        {
                            continue;
                        }
                        if add.get(l.name).is_some_and(|v| v != l.value) {
                            return Err(QueryError::Execution(format!(
                                "conflicting label: {}",
                                l.name
                            )));
                        }
                        if s.metric.has(l.name) {
                            continue;
                        }
                        add.set(l.name, l.value);
                    }
                }
                if seen == 0 && !all_match_empty {
                    continue;
                }
                let mut b = LabelsBuilder::from(&s.metric);
                for l in add.iter() {
                    b.set(l.name, l.value);
                }
                b.build()
            };
            match index.get_mut(&metric) {
                Some((k, last)) => {
                    if *last == ts {
                        return Err(dup_labelset());
                    }
                    *last = ts;
                    if let Some(o) = out.get_mut(*k) {
                        o.points.push(argus_model::Sample::new(ts, pt.v));
                    }
                }
                None => {
                    index.insert(metric.clone(), (out.len(), ts));
                    out.push(Series {
                        metric,
                        points: vec![argus_model::Sample::new(ts, pt.v)],
                        drop_name: s.drop_name,
                    });
                }
            }
        }
    }
    Ok(out)
}
