//! PromQL functions.
//!
//! Functions over a range vector (`rate`, `*_over_time`, ...) are evaluated one series at a
//! time: a sliding window over the series' samples moves forward step by step and the
//! function sees only the window (see [`RangeInput`]). Instant-vector functions run once
//! per step on the argument vectors gathered by the evaluator.

pub(crate) mod extended;
pub(crate) mod histogram;
pub(crate) mod info;
pub(crate) mod labels;
pub(crate) mod math;
pub(crate) mod over_time;
pub(crate) mod rate;
pub(crate) mod time;

use std::sync::Arc;

use argus_model::storage::VecIterator;
use argus_model::{Sample, SampleIterator};

use crate::engine::eval::{
    contains_same_labelset_matrix, dup_labelset, merge_same_labelset, Evaluator,
};
use crate::engine::plan::{CallNode, Node};
use crate::engine::selectors::Window;
use crate::engine::value::{drop_metadata, metric_name, Elem, Matrix, Series, Vector};
use crate::engine::QueryError;
use crate::parser::{go_max, go_min, PosRange};

/// What a range-vector function sees at one evaluation step.
pub(crate) struct RangeInput<'a> {
    /// Samples in the window, oldest first (for `anchored`/`smoothed`, one lookback wider).
    pub points: &'a [Sample],
    /// The evaluation time.
    pub ts: i64,
    /// Window start (exclusive): evaluation time minus offset minus range.
    pub range_start: i64,
    /// Window end (inclusive).
    pub range_end: i64,
    /// Range, ms.
    pub range: i64,
    /// The function's other (scalar) arguments at this step, in order.
    pub args: &'a [f64],
    pub anchored: bool,
    pub smoothed: bool,
}

/// Neumaier-improved Kahan summation step: returns the new sum and compensation.
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// Go's `strconv.Quote` of bytes that may not be UTF-8.
pub(crate) fn quote_bytes(b: &[u8]) -> String {
    crate::parser::go_quote_bytes(b)
}

type RangeFn = fn(&RangeInput<'_>) -> Result<Option<f64>, QueryError>;

fn range_fn(name: &str) -> Option<RangeFn> {
    Some(match name {
        "rate" => |i| Ok(rate::extrapolated_rate(i, true, true)),
        "increase" => |i| Ok(rate::extrapolated_rate(i, true, false)),
        "delta" => |i| Ok(rate::extrapolated_rate(i, false, false)),
        "irate" => |i| Ok(rate::instant_value(i, true)),
        "idelta" => |i| Ok(rate::instant_value(i, false)),
        "deriv" => |i| Ok(rate::deriv(i)),
        "predict_linear" => |i| Ok(rate::predict_linear(i)),
        "resets" => |i| Ok(rate::resets(i)),
        "changes" => |i| Ok(rate::changes(i)),
        "avg_over_time" => |i| Ok(over_time::avg(i)),
        "sum_over_time" => |i| Ok(over_time::sum(i)),
        "count_over_time" => |i| Ok(over_time::count(i)),
        "min_over_time" => |i| Ok(over_time::min(i)),
        "max_over_time" => |i| Ok(over_time::max(i)),
        "last_over_time" => |i| Ok(over_time::last(i)),
        "first_over_time" => |i| Ok(over_time::first(i)),
        "present_over_time" | "absent_over_time" => |i| Ok(over_time::present(i)),
        "quantile_over_time" => |i| Ok(over_time::quantile_over_time(i)),
        "stddev_over_time" => |i| Ok(over_time::stddev(i)),
        "stdvar_over_time" => |i| Ok(over_time::variance(i)),
        "mad_over_time" => |i| Ok(over_time::mad(i)),
        "ts_of_max_over_time" => |i| Ok(over_time::ts_of_max(i)),
        "ts_of_min_over_time" => |i| Ok(over_time::ts_of_min(i)),
        "ts_of_first_over_time" => |i| Ok(over_time::ts_of_first(i)),
        "ts_of_last_over_time" => |i| Ok(over_time::ts_of_last(i)),
        "double_exponential_smoothing" => over_time::double_exponential_smoothing,
        _ => return None,
    })
}

/// Evaluates a function call over the evaluator's steps.
pub(crate) fn eval_call(ev: &mut Evaluator<'_, '_>, c: &CallNode) -> Result<Matrix, QueryError> {
    match c.func.name {
        "label_replace" => return labels::label_replace(ev, c),
        "label_join" => return labels::label_join(ev, c),
        "info" => return info::eval_info(ev, c),
        "timestamp" => {
            if let Some(Node::Vector(vs)) = c.args.first().map(Node::unwrap_invariant) {
                let mut m = ev.eval_selector_timestamps(vs)?;
                if !ev.sh.delayed_name_removal {
                    for s in &mut m {
                        s.metric = drop_metadata(&s.metric);
                    }
                    m = merge_same_labelset(m)?;
                }
                return Ok(m);
            }
        }
        _ => {}
    }
    if let Some(idx) = c
        .args
        .iter()
        .position(|a| matches!(a, Node::Matrix(_) | Node::Subquery(_)))
    {
        return eval_range_call(ev, c, idx);
    }
    eval_instant_call(ev, c)
}

/// Where a range function's series come from.
enum Source {
    Selector(usize),
    Memory(Matrix),
}

fn eval_range_call(
    ev: &mut Evaluator<'_, '_>,
    c: &CallNode,
    idx: usize,
) -> Result<Matrix, QueryError> {
    let name = c.func.name;
    let f = range_fn(name)
        .ok_or_else(|| QueryError::Execution(format!("unsupported range function {name}")))?;
    // The scalar arguments, one value per step.
    let mut scalars: Vec<Vec<f64>> = Vec::new();
    for (i, a) in c.args.iter().enumerate() {
        if i == idx {
            continue;
        }
        let m = ev.eval_matrix(a)?;
        let mut vals = vec![f64::NAN; ev.num_steps()];
        if let Some(s) = m.first() {
            for p in &s.points {
                let step = ((p.t - ev.start) / ev.interval.max(1)) as usize;
                if let Some(v) = vals.get_mut(step) {
                    *v = p.v;
                }
            }
        }
        scalars.push(vals);
    }
    let arg = c
        .args
        .get(idx)
        .ok_or_else(|| QueryError::Execution("BUG: no range arg".into()))?;
    let (source, offset, at, range, anchored, smoothed) = match arg {
        Node::Matrix(m) => {
            ev.load(m.vs.id)?;
            (
                Source::Selector(m.vs.id),
                m.vs.offset,
                m.vs.at,
                m.range,
                m.vs.anchored,
                m.vs.smoothed,
            )
        }
        Node::Subquery(sq) => (
            Source::Memory(ev.eval_subquery(sq)?),
            sq.offset,
            sq.at,
            sq.range,
            false,
            false,
        ),
        _ => return Err(QueryError::Execution("BUG: not a range argument".into())),
    };
    if anchored && !extended::ANCHORED_SAFE.contains(&name) {
        return Err(QueryError::Execution(format!(
            "anchored modifier can only be used with: {} - not with {name}",
            extended::ANCHORED_SAFE.join(", ")
        )));
    }
    if smoothed && !extended::SMOOTHED_SAFE.contains(&name) {
        return Err(QueryError::Execution(format!(
            "smoothed modifier can only be used with: {} - not with {name}",
            extended::SMOOTHED_SAFE.join(", ")
        )));
    }
    let drop_name = name != "last_over_time" && name != "first_over_time";
    let delayed = ev.sh.delayed_name_removal;
    let lookback = ev.sh.lookback;
    let steps: Vec<i64> = ev.steps().collect();
    let arg_pos = c.arg_pos.get(idx).copied().unwrap_or_default();
    let first_arg_pos = c.arg_pos.first().copied().unwrap_or_default();
    let n = match &source {
        Source::Selector(id) => ev.loaded(*id).len(),
        Source::Memory(m) => m.len(),
    };
    let mut out = Matrix::new();
    let mut args_now = vec![0.0; scalars.len()];
    for i in 0..n {
        ev.sh.check_deadline()?;
        // A subquery's series keep the name-dropping of the expression inside it.
        let (labels, inner_drop, it): (_, bool, Box<dyn SampleIterator>) = match &source {
            Source::Selector(id) => match ev.loaded(*id).get(i) {
                Some(s) => (s.labels.clone(), false, s.series.iterator()),
                None => continue,
            },
            Source::Memory(m) => match m.get(i) {
                Some(s) => (
                    s.metric.clone(),
                    s.drop_name,
                    Box::new(VecIterator::new(Arc::<[Sample]>::from(s.points.as_slice()))),
                ),
                None => continue,
            },
        };
        let drop_name = drop_name || inner_drop;
        let mut win = Window::new(it);
        let mut points = Vec::new();
        for (si, &ts) in steps.iter().enumerate() {
            let ref_t = at.unwrap_or(ts) - offset;
            let (lo, hi) = if anchored {
                (ref_t - range - lookback, ref_t)
            } else if smoothed {
                (ref_t - range - lookback, ref_t + lookback)
            } else {
                (ref_t - range, ref_t)
            };
            let window = win.slide(lo, hi);
            if window.is_empty() {
                continue;
            }
            for (j, s) in scalars.iter().enumerate() {
                if let (Some(dst), Some(v)) = (args_now.get_mut(j), s.get(si)) {
                    *dst = *v;
                }
            }
            ev.sh.total_samples += window.len() as u64;
            let inp = RangeInput {
                points: window,
                ts,
                range_start: ref_t - range,
                range_end: ref_t,
                range,
                args: &args_now,
                anchored,
                smoothed,
            };
            if name == "quantile_over_time" {
                let q = args_now.first().copied().unwrap_or(f64::NAN);
                if q.is_nan() || !(0.0..=1.0).contains(&q) {
                    ev.sh.annos.warn(
                        ev.sh.query,
                        first_arg_pos,
                        format!(
                            "quantile value should be between 0 and 1, got {}",
                            crate::engine::value::go_g(q)
                        ),
                    );
                }
            }
            if let Some(v) = f(&inp)? {
                points.push(Sample::new(ts, v));
            }
        }
        if let Some(e) = win.error() {
            return Err(e);
        }
        if points.is_empty() {
            continue;
        }
        ev.sh.add_samples(points.len())?;
        if matches!(name, "rate" | "increase") {
            non_counter_info(ev, &labels, arg_pos);
        }
        let metric = if !delayed && drop_name {
            drop_metadata(&labels)
        } else {
            labels
        };
        out.push(Series {
            metric,
            points,
            drop_name,
        });
    }
    if name == "absent_over_time" {
        return Ok(absent_over_time(ev, c, &out, &steps));
    }
    if !delayed && contains_same_labelset_matrix(&out) {
        return Err(dup_labelset());
    }
    Ok(out)
}

fn non_counter_info(ev: &mut Evaluator<'_, '_>, labels: &argus_model::Labels, pos: PosRange) {
    let name = metric_name(labels);
    if name.is_empty() {
        return;
    }
    if ["_total", "_sum", "_count", "_bucket"]
        .iter()
        .any(|s| name.ends_with(s))
    {
        return;
    }
    let msg = format!(
        "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {}",
        crate::parser::go_quote_str(name)
    );
    ev.sh.annos.info(ev.sh.query, pos, msg);
}

/// `absent_over_time`: 1 at the steps where no input series had samples.
fn absent_over_time(ev: &Evaluator<'_, '_>, c: &CallNode, found: &Matrix, steps: &[i64]) -> Matrix {
    let mut seen = std::collections::HashSet::new();
    for s in found {
        for p in &s.points {
            seen.insert(p.t);
        }
    }
    let points: Vec<Sample> = steps
        .iter()
        .filter(|t| !seen.contains(*t))
        .map(|&t| Sample::new(t, 1.0))
        .collect();
    let _ = ev;
    if points.is_empty() {
        return Matrix::new();
    }
    vec![Series {
        metric: c.absent_labels.clone(),
        points,
        drop_name: true,
    }]
}

fn first_f(v: &[Vector], i: usize) -> Option<f64> {
    v.get(i).and_then(|x| x.first()).map(|e| e.f)
}

fn eval_instant_call(ev: &mut Evaluator<'_, '_>, c: &CallNode) -> Result<Matrix, QueryError> {
    let name = c.func.name;
    let delayed = ev.sh.delayed_name_removal;
    let args: Vec<&Node> = c.args.iter().collect();
    let empty = Vector::new();
    match name {
        "time" => return ev.scalar_series(|t| t as f64 / 1000.0),
        "pi" => return ev.scalar_series(|_| std::f64::consts::PI),
        _ => {}
    }
    if let Some(f) = math::simple(name) {
        return ev.range_eval(&args, None, |_, v, _, _| {
            Ok(math::map_floats(v.first().unwrap_or(&empty), delayed, f))
        });
    }
    if time::is_date_function(name) {
        return ev.range_eval(&args, None, |_, v, _, ts| {
            Ok(time::eval(name, v.first(), ts, delayed))
        });
    }
    let labels: Vec<String> = c.strings.iter().skip(1).flatten().cloned().collect();
    let pos = c.arg_pos.clone();
    let absent = c.absent_labels.clone();
    let c_label = c.strings.get(1).cloned().flatten();
    ev.range_eval(&args, None, |sh, v, _, ts| {
        let v0 = v.first().unwrap_or(&empty);
        Ok(match name {
            "round" => math::round(v0, first_f(v, 1).unwrap_or(1.0), delayed),
            "clamp" => match (first_f(v, 1), first_f(v, 2)) {
                (Some(lo), Some(hi)) => math::clamp(v0, lo, hi, delayed),
                _ => Vector::new(),
            },
            "clamp_min" => match first_f(v, 1) {
                Some(lo) => math::clamp(v0, lo, f64::INFINITY, delayed),
                None => Vector::new(),
            },
            "clamp_max" => match first_f(v, 1) {
                Some(hi) => math::clamp(v0, f64::NEG_INFINITY, hi, delayed),
                None => Vector::new(),
            },
            "scalar" => math::scalar(v0),
            "vector" => math::scalar_elem(first_f(v, 0).unwrap_or(f64::NAN)),
            "min_of" | "max_of" => {
                let (a, b) = (
                    first_f(v, 0).unwrap_or(f64::NAN),
                    first_f(v, 1).unwrap_or(f64::NAN),
                );
                math::scalar_elem(if name == "min_of" {
                    go_min(a, b)
                } else {
                    go_max(a, b)
                })
            }
            "timestamp" => math::map_floats(v0, delayed, |_| ts as f64 / 1000.0),
            "sort" => labels::sort_by_value(v0.clone(), false),
            "sort_desc" => labels::sort_by_value(v0.clone(), true),
            "sort_by_label" => labels::sort_by_label(v0.clone(), &labels, false),
            "sort_by_label_desc" => labels::sort_by_label(v0.clone(), &labels, true),
            "absent" => {
                if v0.is_empty() {
                    vec![Elem {
                        metric: absent.clone(),
                        t: ts,
                        f: 1.0,
                        drop_name: false,
                    }]
                } else {
                    Vector::new()
                }
            }
            "histogram_quantile" => match first_f(v, 0) {
                Some(q) => histogram::histogram_quantile(
                    q,
                    v.get(1).unwrap_or(&empty),
                    sh.query,
                    pos.first().copied().unwrap_or_default(),
                    pos.get(1).copied().unwrap_or_default(),
                    &mut sh.annos,
                ),
                None => Vector::new(),
            },
            "histogram_quantiles" => {
                let qs: Vec<(f64, PosRange)> = (2..v.len())
                    .filter_map(|i| {
                        first_f(v, i).map(|q| (q, pos.get(i).copied().unwrap_or_default()))
                    })
                    .collect();
                histogram::histogram_quantiles(
                    v0,
                    c_label.as_deref().unwrap_or(""),
                    &qs,
                    sh.query,
                    pos.first().copied().unwrap_or_default(),
                    &mut sh.annos,
                )
            }
            "histogram_fraction" => match (first_f(v, 0), first_f(v, 1)) {
                (Some(lo), Some(hi)) => histogram::histogram_fraction(
                    lo,
                    hi,
                    v.get(2).unwrap_or(&empty),
                    sh.query,
                    pos.get(2).copied().unwrap_or_default(),
                    &mut sh.annos,
                ),
                _ => Vector::new(),
            },
            // Native-histogram functions: float samples are ignored.
            "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
            | "histogram_stdvar" => Vector::new(),
            _ => {
                return Err(QueryError::Execution(format!(
                    "function {name} is not supported"
                )))
            }
        })
    })
}
