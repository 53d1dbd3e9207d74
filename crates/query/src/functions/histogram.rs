//! `histogram_quantile` and `histogram_fraction` over classic histograms: series with an
//! `le` label are grouped by their other labels into cumulative buckets.
//!
//! Follows Prometheus' `BucketQuantile`/`BucketFraction`: buckets are sorted and merged by
//! upper bound, counts that differ by floating-point noise are treated as equal, and any
//! remaining decrease is removed (with an info annotation), because the binary search for
//! the quantile's bucket needs monotonic counts. Native histograms are not stored by Argus,
//! so the native-histogram paths of these functions never apply.

use std::collections::HashMap;

use argus_model::Labels;

use crate::engine::value::{metric_name, Annotations, Elem, Vector};
use crate::parser::{parse_go_float, PosRange};

/// Relative tolerance below which neighbouring bucket counts are considered equal.
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;
const MIN_NORMAL: f64 = 2.225_073_858_507_201_4e-308;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    pub upper: f64,
    pub count: f64,
}

/// Prometheus' `almost.Equal`.
pub(crate) fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < epsilon * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

fn sort_and_coalesce(b: &mut Vec<Bucket>) {
    b.sort_by(|x, y| {
        x.upper
            .partial_cmp(&y.upper)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut out: Vec<Bucket> = Vec::with_capacity(b.len());
    for x in b.iter() {
        match out.last_mut() {
            Some(l) if l.upper == x.upper => l.count += x.count,
            _ => out.push(*x),
        }
    }
    *b = out;
}

/// Makes counts monotonic; returns true when a real decrease had to be removed.
fn ensure_monotonic(b: &mut [Bucket]) -> bool {
    let mut forced = false;
    let Some(first) = b.first() else {
        return false;
    };
    let mut prev = first.count;
    for x in b.iter_mut().skip(1) {
        let curr = x.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, SMALL_DELTA_TOLERANCE) {
            x.count = prev;
            continue;
        }
        if curr < prev {
            x.count = prev;
            forced = true;
            continue;
        }
        prev = curr;
    }
    forced
}

/// The `q` quantile of cumulative buckets, and whether monotonicity had to be forced.
pub(crate) fn bucket_quantile(q: f64, mut b: Vec<Bucket>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    sort_and_coalesce(&mut b);
    if b.last().is_none_or(|l| l.upper != f64::INFINITY) {
        return (f64::NAN, false);
    }
    let forced = ensure_monotonic(&mut b);
    if b.len() < 2 {
        return (f64::NAN, forced);
    }
    let observations = b.last().map_or(0.0, |l| l.count);
    if observations == 0.0 {
        return (f64::NAN, forced);
    }
    let mut rank = q * observations;
    let n = b.len() - 1;
    let idx = b
        .get(..n)
        .map_or(n, |s| s.partition_point(|x| x.count < rank));
    let at = |i: usize| {
        b.get(i).copied().unwrap_or(Bucket {
            upper: f64::NAN,
            count: f64::NAN,
        })
    };
    if idx == n {
        return (at(n - 1).upper, forced);
    }
    if idx == 0 && at(0).upper <= 0.0 {
        return (at(0).upper, forced);
    }
    let mut start = 0.0;
    let end = at(idx).upper;
    let mut count = at(idx).count;
    if idx > 0 {
        start = at(idx - 1).upper;
        count -= at(idx - 1).count;
        rank -= at(idx - 1).count;
    }
    (start + (end - start) * (rank / count), forced)
}

/// The fraction of observations between `lower` and `upper` (Prometheus' `BucketFraction`).
pub(crate) fn bucket_fraction(lower: f64, upper: f64, mut b: Vec<Bucket>) -> f64 {
    sort_and_coalesce(&mut b);
    if b.last().is_none_or(|l| l.upper != f64::INFINITY) {
        return f64::NAN;
    }
    let count = b.last().map_or(0.0, |l| l.count);
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    // Positive-only buckets start at 0, others at -Inf.
    let mut lb = if b.first().is_some_and(|x| x.upper <= 0.0) {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            lb = b.get(i - 1).map_or(lb, |p| p.upper);
        }
        let ub = x.upper;
        let interp = |v: f64| {
            if lb == f64::NEG_INFINITY {
                x.count
            } else {
                rank + (x.count - rank) * (v - lb) / (ub - lb)
            }
        };
        if !lower_set && lb >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lb >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lb < lower && ub > lower {
            lower_rank = interp(lower);
            lower_set = true;
        }
        if !upper_set && lb < upper && ub > upper {
            upper_rank = interp(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = x.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

/// Groups a vector's bucket series (by all labels but `le`), warning about bad `le` values.
fn group_buckets(
    v: &Vector,
    query: &str,
    pos: PosRange,
    annos: &mut Annotations,
) -> Vec<(Labels, Vec<Bucket>)> {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<(Labels, Vec<Bucket>)> = Vec::new();
    for e in v {
        let le = e.metric.get("le").unwrap_or("");
        let Some(upper) = parse_go_float(le) else {
            let mut msg = format!(
                "bucket label \"le\" is missing or has a malformed value of {}",
                crate::parser::go_quote_str(le)
            );
            let name = metric_name(&e.metric);
            if !name.is_empty() {
                msg.push_str(&format!(
                    " for metric name {}",
                    crate::parser::go_quote_str(name)
                ));
            }
            annos.warn(query, pos, msg);
            continue;
        };
        let key = e.metric.filter(|l| l.name != "le");
        let i = match index.get(&key) {
            Some(&i) => i,
            None => {
                let metric = key.filter(|l| l.name != "__name__");
                index.insert(key, out.len());
                out.push((metric, Vec::new()));
                out.len() - 1
            }
        };
        if let Some(g) = out.get_mut(i) {
            g.1.push(Bucket { upper, count: e.f });
        }
    }
    out
}

/// `histogram_quantile(q, buckets)` at one step.
pub(crate) fn histogram_quantile(
    q: f64,
    v: &Vector,
    query: &str,
    q_pos: PosRange,
    v_pos: PosRange,
    annos: &mut Annotations,
) -> Vector {
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        annos.warn(
            query,
            q_pos,
            format!(
                "quantile value should be between 0 and 1, got {}",
                crate::engine::value::go_g(q)
            ),
        );
    }
    let names: HashMap<Labels, String> = v
        .iter()
        .map(|e| {
            (
                e.metric.filter(|l| l.name != "le" && l.name != "__name__"),
                metric_name(&e.metric).to_owned(),
            )
        })
        .collect();
    group_buckets(v, query, v_pos, annos)
        .into_iter()
        .filter(|(_, b)| !b.is_empty())
        .map(|(metric, b)| {
            let (f, forced) = bucket_quantile(q, b);
            if forced {
                let name = names.get(&metric).map_or("", String::as_str);
                let mut msg = MONOTONICITY_INFO.to_owned();
                if !name.is_empty() {
                    msg.push_str(&format!(
                        " for metric name {}",
                        crate::parser::go_quote_str(name)
                    ));
                }
                annos.info(query, v_pos, msg);
            }
            Elem {
                metric,
                t: 0,
                f,
                drop_name: true,
            }
        })
        .collect()
}

/// OpenMetrics float text for label values (`1.0`, `0.25`, `+Inf`).
fn openmetrics_float(f: f64) -> String {
    let mut s = argus_model::api::format_value(f);
    if f.is_finite() && !s.contains(['.', 'e', 'E']) {
        s.push_str(".0");
    }
    s
}

/// `histogram_quantiles(buckets, "label", q...)` at one step: one output series per group
/// and quantile, the quantile in `label`.
pub(crate) fn histogram_quantiles(
    v: &Vector,
    label: &str,
    qs: &[(f64, PosRange)],
    query: &str,
    v_pos: PosRange,
    annos: &mut Annotations,
) -> Vector {
    for &(q, pos) in qs {
        if q.is_nan() || !(0.0..=1.0).contains(&q) {
            annos.warn(
                query,
                pos,
                format!(
                    "quantile value should be between 0 and 1, got {}",
                    crate::engine::value::go_g(q)
                ),
            );
        }
    }
    let groups = group_buckets(v, query, v_pos, annos);
    let mut out = Vector::new();
    for &(q, _) in qs {
        for (metric, b) in groups.iter().filter(|(_, b)| !b.is_empty()) {
            let (f, forced) = bucket_quantile(q, b.clone());
            if forced {
                annos.info(query, v_pos, MONOTONICITY_INFO);
            }
            let mut lb = argus_model::LabelsBuilder::from(metric);
            lb.set(label, &openmetrics_float(q));
            out.push(Elem {
                metric: lb.build(),
                t: 0,
                f,
                drop_name: true,
            });
        }
    }
    out
}

const MONOTONICITY_INFO: &str = "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)";

/// `histogram_fraction(lower, upper, buckets)` at one step.
pub(crate) fn histogram_fraction(
    lower: f64,
    upper: f64,
    v: &Vector,
    query: &str,
    v_pos: PosRange,
    annos: &mut Annotations,
) -> Vector {
    group_buckets(v, query, v_pos, annos)
        .into_iter()
        .filter(|(_, b)| !b.is_empty())
        .map(|(metric, b)| Elem {
            metric,
            t: 0,
            f: bucket_fraction(lower, upper, b),
            drop_name: true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(pairs: &[(f64, f64)]) -> Vec<Bucket> {
        pairs
            .iter()
            .map(|&(upper, count)| Bucket { upper, count })
            .collect()
    }

    #[test]
    fn quantile_interpolates_within_bucket() {
        let buckets = b(&[
            (0.1, 10.0),
            (0.5, 50.0),
            (1.0, 90.0),
            (f64::INFINITY, 100.0),
        ]);
        let (q, forced) = bucket_quantile(0.5, buckets.clone());
        assert!((q - 0.5).abs() < 1e-12);
        assert!(!forced);
        assert_eq!(
            bucket_quantile(0.99, buckets.clone()).0,
            1.0,
            "highest bucket"
        );
        assert!(
            bucket_quantile(0.5, b(&[(1.0, 1.0)])).0.is_nan(),
            "no +Inf bucket"
        );
        assert_eq!(bucket_quantile(-1.0, buckets).0, f64::NEG_INFINITY);
    }

    #[test]
    fn monotonicity_is_forced() {
        let (q, forced) =
            bucket_quantile(0.5, b(&[(1.0, 10.0), (2.0, 5.0), (f64::INFINITY, 20.0)]));
        assert!(forced);
        assert!(q.is_finite());
        let (_, forced) = bucket_quantile(
            0.5,
            b(&[(1.0, 10.0), (2.0, 10.0 - 1e-14), (f64::INFINITY, 20.0)]),
        );
        assert!(!forced, "floating point noise is not a violation");
    }

    #[test]
    fn fraction() {
        let buckets = b(&[(1.0, 10.0), (2.0, 20.0), (f64::INFINITY, 20.0)]);
        assert!((bucket_fraction(f64::NEG_INFINITY, 1.0, buckets.clone()) - 0.5).abs() < 1e-12);
        assert!((bucket_fraction(0.5, 1.5, buckets.clone()) - 0.5).abs() < 1e-12);
        assert_eq!(bucket_fraction(2.0, 1.0, buckets), 0.0);
    }
}
