//! Aggregation operators (Prometheus' `rangeEvalAgg`, `aggregation`, `aggregationK` and
//! `aggregationCountValues`): series are mapped to groups once, then every step folds the
//! values present at that step into per-group accumulators.

use std::cmp::Ordering;
use std::collections::HashMap;

use argus_model::{Labels, LabelsBuilder, Sample, METRIC_NAME};

use super::eval::Evaluator;
use super::plan::{AggNode, Node};
use super::value::{go_g, Elem, Matrix, Series};
use super::QueryError;
use crate::functions::kahan_inc;
use crate::parser::AggOp;

/// Float ranges that convert to int64 (Prometheus' maxInt64/minInt64 guards).
const MAX_INT64: f64 = 9_223_372_036_854_774_784.0;
const MIN_INT64: f64 = -9_223_372_036_854_775_808.0;

/// Per-step values of an aggregation parameter.
struct Params {
    values: Vec<f64>,
    constant: Option<f64>,
    min: f64,
    max: f64,
    any_nan: bool,
}

impl Params {
    fn at(&self, step: usize) -> f64 {
        if let Some(c) = self.constant {
            return c;
        }
        self.values
            .get(step)
            .or(self.values.last())
            .copied()
            .unwrap_or(0.0)
    }
}

/// Prometheus' `quantile`: linear interpolation between the closest ranks; sorts `values`.
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    // NaN sorts first, as Go's vectorByValueHeap orders it.
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    let lv = values.get(lower as usize).copied().unwrap_or(f64::NAN);
    let uv = values.get(upper as usize).copied().unwrap_or(f64::NAN);
    lv * (1.0 - weight) + uv * weight
}

/// The output labels of a group: `by` keeps the listed labels, `without` drops them and
/// the metric name.
pub(crate) fn grouping_labels(metric: &Labels, grouping: &[String], without: bool) -> Labels {
    if without {
        metric.filter(|l| l.name != METRIC_NAME && !grouping.iter().any(|g| g == l.name))
    } else if grouping.is_empty() {
        Labels::empty()
    } else {
        metric.filter(|l| grouping.iter().any(|g| g == l.name))
    }
}

#[derive(Default, Clone)]
struct Group {
    seen: bool,
    value: f64,
    mean: f64,
    kahan: f64,
    count: f64,
    incremental_mean: bool,
    drop_name: bool,
    values: Vec<f64>,
    /// topk/bottomk/limitk/limit_ratio members: (series index, value).
    heap: Vec<(usize, f64)>,
}

impl Evaluator<'_, '_> {
    fn eval_params(&mut self, p: &Option<Node>) -> Result<Option<Params>, QueryError> {
        let Some(node) = p else {
            return Ok(None);
        };
        let constant = match node {
            Node::Number(v) => Some(*v),
            _ => None,
        };
        let m = self.eval_matrix(node)?;
        let Some(s) = m.into_iter().next() else {
            return Ok(None);
        };
        let values: Vec<f64> = s.points.iter().map(|p| p.v).collect();
        let (mut min, mut max, mut any_nan) = (f64::MAX, -f64::MAX, false);
        for &v in &values {
            if v.is_nan() {
                any_nan = true;
                min = f64::NAN;
                max = f64::NAN;
            } else if !min.is_nan() {
                min = min.min(v);
                max = max.max(v);
            }
        }
        if let Some(c) = constant {
            (min, max, any_nan) = (c, c, c.is_nan());
        }
        Ok(Some(Params {
            values,
            constant,
            min,
            max,
            any_nan,
        }))
    }

    pub(crate) fn eval_aggregate(&mut self, a: &AggNode) -> Result<Matrix, QueryError> {
        if a.op == AggOp::CountValues {
            return self.eval_count_values(a);
        }
        let params = self.eval_params(&a.param)?;
        let input = self.eval_matrix(&a.expr)?;
        let held = super::eval::total_points(&input);
        let query = self.sh.query;
        let k_op = matches!(
            a.op,
            AggOp::Topk | AggOp::Bottomk | AggOp::Limitk | AggOp::LimitRatio
        );
        let p = params.as_ref();
        let (pmin, pmax, pnan) = p.map_or((0.0, 0.0, false), |p| (p.min, p.max, p.any_nan));
        match a.op {
            AggOp::Topk | AggOp::Bottomk | AggOp::Limitk => {
                if pmax < 1.0 {
                    self.sh.sub_samples(held);
                    return Ok(Matrix::new());
                }
                if pnan {
                    return Err(QueryError::Execution("Parameter value is NaN".into()));
                }
                if pmin <= MIN_INT64 {
                    return Err(QueryError::Execution(format!(
                        "Scalar value {} underflows int64",
                        go_g(pmin)
                    )));
                }
                if pmax >= MAX_INT64 {
                    return Err(QueryError::Execution(format!(
                        "Scalar value {} overflows int64",
                        go_g(pmax)
                    )));
                }
            }
            AggOp::LimitRatio => {
                if pmax == 0.0 && pmin == 0.0 {
                    self.sh.sub_samples(held);
                    return Ok(Matrix::new());
                }
                if pnan {
                    return Err(QueryError::Execution("Ratio value is NaN".into()));
                }
                if pmax > 1.0 {
                    self.sh.annos.warn(
                        query,
                        a.param_pos,
                        format!(
                            "ratio value should be between -1 and 1, got {}, capping to 1",
                            go_g(pmax)
                        ),
                    );
                }
                if pmin < -1.0 {
                    self.sh.annos.warn(
                        query,
                        a.param_pos,
                        format!(
                            "ratio value should be between -1 and 1, got {}, capping to -1",
                            go_g(pmin)
                        ),
                    );
                }
            }
            AggOp::Quantile => {
                if pnan {
                    self.sh.annos.warn(
                        query,
                        a.param_pos,
                        "quantile value should be between 0 and 1, got NaN",
                    );
                }
                if pmax > 1.0 {
                    self.sh.annos.warn(
                        query,
                        a.param_pos,
                        format!(
                            "quantile value should be between 0 and 1, got {}",
                            go_g(pmax)
                        ),
                    );
                }
                if pmin < 0.0 {
                    self.sh.annos.warn(
                        query,
                        a.param_pos,
                        format!(
                            "quantile value should be between 0 and 1, got {}",
                            go_g(pmin)
                        ),
                    );
                }
            }
            _ => {}
        }

        // Map series to groups once.
        let mut group_of: Vec<usize> = Vec::with_capacity(input.len());
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut out: Matrix = Vec::new();
        for s in &input {
            let key = grouping_labels(&s.metric, &a.grouping, a.without);
            let n = index.len();
            let g = *index.entry(key.clone()).or_insert(n);
            if g == n && !k_op {
                out.push(Series::new(key, false));
            }
            group_of.push(g);
        }
        let mut groups = vec![Group::default(); index.len()];
        let mut cursors = vec![0usize; input.len()];
        let instant = self.start == self.end;
        let mut k_out: Matrix = Vec::new();
        let mut k_index: HashMap<Labels, usize> = HashMap::new();
        for (step, ts) in self.steps().enumerate() {
            self.sh.check_deadline()?;
            let param = p.map_or(0.0, |p| p.at(step));
            for g in &mut groups {
                g.seen = false;
            }
            // Values present at this step, in input order.
            let mut present: Vec<(usize, f64)> = Vec::with_capacity(input.len());
            for (si, s) in input.iter().enumerate() {
                if let Some(c) = cursors.get_mut(si) {
                    if let Some(pt) = s.points.get(*c) {
                        if pt.t == ts {
                            present.push((si, pt.v));
                            *c += 1;
                        }
                    }
                }
            }
            if k_op {
                let res = aggregate_k(a.op, param, &input, &present, &group_of, &mut groups);
                for (si, v) in res {
                    let Some(s) = input.get(si) else { continue };
                    if instant {
                        k_out.push(Series {
                            metric: s.metric.clone(),
                            points: vec![Sample::new(ts, v)],
                            drop_name: s.drop_name,
                        });
                        continue;
                    }
                    let n = k_out.len();
                    let i = *k_index.entry(s.metric.clone()).or_insert(n);
                    if i == n {
                        k_out.push(Series::new(s.metric.clone(), s.drop_name));
                    }
                    if let Some(o) = k_out.get_mut(i) {
                        o.points.push(Sample::new(ts, v));
                    }
                }
                self.sh.add_samples(k_out.len())?;
                continue;
            }
            for &(si, f) in &present {
                let (Some(&gi), Some(s)) = (group_of.get(si), input.get(si)) else {
                    continue;
                };
                let Some(g) = groups.get_mut(gi) else {
                    continue;
                };
                accumulate(a.op, g, f, s.drop_name);
            }
            for (gi, g) in groups.iter_mut().enumerate() {
                if !g.seen {
                    continue;
                }
                let v = finish(a.op, g, param);
                if let Some(o) = out.get_mut(gi) {
                    o.points.push(Sample::new(ts, v));
                    o.drop_name = g.drop_name;
                }
            }
            self.sh.add_samples(index.len())?;
        }
        self.sh.sub_samples(held);
        if k_op {
            return Ok(k_out);
        }
        out.retain(|s| !s.points.is_empty());
        Ok(out)
    }

    fn eval_count_values(&mut self, a: &AggNode) -> Result<Matrix, QueryError> {
        let (label, raw) = a
            .count_values_label
            .clone()
            .ok_or_else(|| QueryError::Execution("BUG: count_values without label".into()))?;
        if label.is_empty() || raw.is_some() {
            let quoted = match &raw {
                Some(b) => crate::functions::quote_bytes(b),
                None => crate::parser::go_quote_str(&label),
            };
            return Err(QueryError::Execution(format!(
                "invalid label name {quoted}"
            )));
        }
        let mut grouping = a.grouping.clone();
        if !a.without {
            grouping.push(label.clone());
            grouping.sort();
        }
        let without = a.without;
        self.range_eval(&[&a.expr], None, |_, v, _, _| {
            let mut counts: Vec<(Labels, f64)> = Vec::new();
            let mut index: HashMap<Labels, usize> = HashMap::new();
            for e in v.first().map(Vec::as_slice).unwrap_or(&[]) {
                let mut b = LabelsBuilder::from(&e.metric);
                // Go's FormatFloat(f, 'f', -1, 64): never an exponent, unlike the API's
                // sample values (`1e+21` there, `1000000000000000000000` here).
                let mut text = String::new();
                argus_model::gofloat::write_f(e.f, &mut text);
                b.set(&label, &text);
                let m = grouping_labels(&b.build(), &grouping, without);
                let n = counts.len();
                let i = *index.entry(m.clone()).or_insert(n);
                if i == n {
                    counts.push((m, 0.0));
                }
                if let Some(c) = counts.get_mut(i) {
                    c.1 += 1.0;
                }
            }
            Ok(counts
                .into_iter()
                .map(|(metric, f)| Elem {
                    metric,
                    t: 0,
                    f,
                    drop_name: false,
                })
                .collect())
        })
    }
}

fn accumulate(op: AggOp, g: &mut Group, f: f64, drop_name: bool) {
    if !g.seen {
        *g = Group {
            seen: true,
            value: f,
            mean: f,
            count: 1.0,
            drop_name,
            values: std::mem::take(&mut g.values),
            heap: std::mem::take(&mut g.heap),
            ..Group::default()
        };
        match op {
            AggOp::Stddev | AggOp::Stdvar => {
                g.value = if f.is_nan() || f.is_infinite() {
                    f64::NAN
                } else {
                    0.0
                };
            }
            AggOp::Quantile => {
                g.values.clear();
                g.values.push(f);
            }
            AggOp::Group => g.value = 1.0,
            _ => {}
        }
        return;
    }
    if drop_name {
        g.drop_name = true;
    }
    match op {
        AggOp::Sum => (g.value, g.kahan) = kahan_inc(f, g.value, g.kahan),
        AggOp::Avg => {
            g.count += 1.0;
            if !g.incremental_mean {
                let (nv, nc) = kahan_inc(f, g.value, g.kahan);
                if !nv.is_infinite() {
                    (g.value, g.kahan) = (nv, nc);
                    return;
                }
                // The running sum would overflow: switch to an incremental mean.
                g.incremental_mean = true;
                g.mean = g.value / (g.count - 1.0);
                g.kahan /= g.count - 1.0;
            }
            let q = (g.count - 1.0) / g.count;
            (g.mean, g.kahan) = kahan_inc(f / g.count, q * g.mean, q * g.kahan);
        }
        AggOp::Max if g.value < f || g.value.is_nan() => g.value = f,
        AggOp::Min if g.value > f || g.value.is_nan() => g.value = f,
        AggOp::Count => g.count += 1.0,
        AggOp::Stddev | AggOp::Stdvar => {
            g.count += 1.0;
            let delta = f - g.mean;
            g.mean += delta / g.count;
            g.value += delta * (f - g.mean);
        }
        AggOp::Quantile => g.values.push(f),
        _ => {}
    }
}

fn finish(op: AggOp, g: &mut Group, param: f64) -> f64 {
    match op {
        AggOp::Avg => {
            if g.incremental_mean {
                g.mean + g.kahan
            } else {
                g.value / g.count + g.kahan / g.count
            }
        }
        AggOp::Count => g.count,
        AggOp::Stdvar => g.value / g.count,
        AggOp::Stddev => (g.value / g.count).sqrt(),
        AggOp::Quantile => quantile(param, &mut g.values),
        AggOp::Sum => g.value + g.kahan,
        _ => g.value,
    }
}

/// topk/bottomk/limitk/limit_ratio at one step: the selected (series index, value) pairs,
/// group by group, each group in result order.
fn aggregate_k(
    op: AggOp,
    param: f64,
    input: &Matrix,
    present: &[(usize, f64)],
    group_of: &[usize],
    groups: &mut [Group],
) -> Vec<(usize, f64)> {
    for g in groups.iter_mut() {
        g.seen = false;
        g.heap.clear();
    }
    let k = if matches!(op, AggOp::LimitRatio) {
        0
    } else {
        (param as i64).min(input.len() as i64)
    };
    if op != AggOp::LimitRatio && k < 1 {
        return Vec::new();
    }
    if op == AggOp::LimitRatio && param == 0.0 {
        return Vec::new();
    }
    let ratio = param.clamp(-1.0, 1.0);
    let k = k as usize;
    let mut order: Vec<usize> = Vec::new();
    for &(si, f) in present {
        let Some(&gi) = group_of.get(si) else {
            continue;
        };
        let Some(g) = groups.get_mut(gi) else {
            continue;
        };
        if !g.seen {
            g.seen = true;
            order.push(gi);
        }
        match op {
            AggOp::Topk | AggOp::Bottomk => {
                super::kheap::offer(&mut g.heap, k, (si, f), op == AggOp::Topk);
            }
            AggOp::Limitk => {
                if g.heap.len() < k {
                    g.heap.push((si, f));
                }
            }
            _ => {
                let metric = input.get(si).map(|s| &s.metric);
                if metric.is_some_and(|m| ratio_sample(ratio, m)) {
                    g.heap.push((si, f));
                }
            }
        }
    }
    let mut out = Vec::new();
    for gi in order {
        let Some(g) = groups.get_mut(gi) else {
            continue;
        };
        match op {
            AggOp::Topk | AggOp::Bottomk => super::kheap::finish(&mut g.heap, op == AggOp::Topk),
            _ => {}
        }
        out.extend(g.heap.iter().copied());
    }
    out
}

/// Whether `limit_ratio` keeps a series: its label hash as a fraction of `u64::MAX` is
/// compared with the ratio (Prometheus' `HashRatioSampler`).
fn ratio_sample(ratio: f64, metric: &Labels) -> bool {
    let offset = prometheus_label_hash(metric) as f64 / u64::MAX as f64;
    (ratio >= 0.0 && offset < ratio) || (ratio < 0.0 && offset >= 1.0 + ratio)
}

/// Prometheus' `labels.Hash()`: xxHash64 of `name 0xff value 0xff ...`.
pub(crate) fn prometheus_label_hash(l: &Labels) -> u64 {
    let mut b = Vec::with_capacity(l.text_len() + 2 * l.len());
    for x in l.iter() {
        b.extend_from_slice(x.name.as_bytes());
        b.push(0xff);
        b.extend_from_slice(x.value.as_bytes());
        b.push(0xff);
    }
    xxhash_rust::xxh64::xxh64(&b, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates() {
        assert_eq!(quantile(0.5, &mut [1.0, 2.0, 3.0, 4.0]), 2.5);
        assert_eq!(quantile(0.0, &mut [3.0, 1.0]), 1.0);
        assert!(quantile(f64::NAN, &mut [1.0]).is_nan());
        assert_eq!(quantile(2.0, &mut [1.0]), f64::INFINITY);
    }
}
