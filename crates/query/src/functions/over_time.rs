//! The `*_over_time` family and `double_exponential_smoothing`: aggregations of each
//! series' samples within the range window.

use super::{kahan_inc, RangeInput};
use crate::engine::aggregations::quantile;
use crate::engine::QueryError;

/// `avg_over_time`: direct mean with Kahan summation, switching to an incremental mean only
/// when the running sum would overflow (Prometheus' approach for accuracy).
pub(crate) fn avg(inp: &RangeInput<'_>) -> Option<f64> {
    let s = inp.points;
    let mut sum = s.first()?.v;
    let (mut count, mut mean, mut c) = (1.0, 0.0, 0.0);
    let mut incremental = false;
    for (i, p) in s.iter().enumerate().skip(1) {
        count = (i + 1) as f64;
        if !incremental {
            let (ns, nc) = kahan_inc(p.v, sum, c);
            if !ns.is_infinite() {
                (sum, c) = (ns, nc);
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(p.v / count, q * mean, q * c);
    }
    Some(if incremental {
        mean + c
    } else {
        sum / count + c / count
    })
}

pub(crate) fn sum(inp: &RangeInput<'_>) -> Option<f64> {
    inp.points.first()?;
    let (mut sum, mut c) = (0.0, 0.0);
    for p in inp.points {
        (sum, c) = kahan_inc(p.v, sum, c);
    }
    Some(if sum.is_infinite() { sum } else { sum + c })
}

pub(crate) fn count(inp: &RangeInput<'_>) -> Option<f64> {
    inp.points.first()?;
    Some(inp.points.len() as f64)
}

/// min/max (and the timestamps of the extremes): NaN only wins when nothing else is seen.
fn compare(inp: &RangeInput<'_>, better: fn(f64, f64) -> bool, want_ts: bool) -> Option<f64> {
    let first = inp.points.first()?;
    let (mut best, mut best_t) = (first.v, first.t);
    for p in inp.points {
        if better(p.v, best) {
            best = p.v;
            best_t = p.t;
        }
    }
    Some(if want_ts {
        best_t as f64 / 1000.0
    } else {
        best
    })
}

pub(crate) fn max(inp: &RangeInput<'_>) -> Option<f64> {
    compare(inp, |cur, m| cur > m || m.is_nan(), false)
}

pub(crate) fn min(inp: &RangeInput<'_>) -> Option<f64> {
    compare(inp, |cur, m| cur < m || m.is_nan(), false)
}

pub(crate) fn ts_of_max(inp: &RangeInput<'_>) -> Option<f64> {
    compare(inp, |cur, m| cur >= m || m.is_nan(), true)
}

pub(crate) fn ts_of_min(inp: &RangeInput<'_>) -> Option<f64> {
    compare(inp, |cur, m| cur <= m || m.is_nan(), true)
}

pub(crate) fn ts_of_first(inp: &RangeInput<'_>) -> Option<f64> {
    Some(inp.points.first()?.t as f64 / 1000.0)
}

pub(crate) fn ts_of_last(inp: &RangeInput<'_>) -> Option<f64> {
    Some(inp.points.last()?.t as f64 / 1000.0)
}

pub(crate) fn last(inp: &RangeInput<'_>) -> Option<f64> {
    Some(inp.points.last()?.v)
}

pub(crate) fn first(inp: &RangeInput<'_>) -> Option<f64> {
    Some(inp.points.first()?.v)
}

pub(crate) fn present(inp: &RangeInput<'_>) -> Option<f64> {
    inp.points.first().map(|_| 1.0)
}

pub(crate) fn quantile_over_time(inp: &RangeInput<'_>) -> Option<f64> {
    inp.points.first()?;
    let q = *inp.args.first()?;
    let mut values: Vec<f64> = inp.points.iter().map(|p| p.v).collect();
    Some(quantile(q, &mut values))
}

/// Population variance with Kahan-compensated running mean and sum of squares.
pub(crate) fn variance(inp: &RangeInput<'_>) -> Option<f64> {
    inp.points.first()?;
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in inp.points {
        count += 1.0;
        let delta = p.v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (p.v - (mean + c_mean)), aux, c_aux);
    }
    Some((aux + c_aux) / count)
}

pub(crate) fn stddev(inp: &RangeInput<'_>) -> Option<f64> {
    variance(inp).map(f64::sqrt)
}

/// `mad_over_time`: median absolute deviation from the median.
pub(crate) fn mad(inp: &RangeInput<'_>) -> Option<f64> {
    inp.points.first()?;
    if inp.points.iter().any(|p| p.v.is_nan()) {
        return Some(f64::NAN);
    }
    let mut values: Vec<f64> = inp.points.iter().map(|p| p.v).collect();
    let median = quantile(0.5, &mut values);
    let mut dev: Vec<f64> = inp.points.iter().map(|p| (p.v - median).abs()).collect();
    Some(quantile(0.5, &mut dev))
}

/// `double_exponential_smoothing(v[r], sf, tf)` (formerly `holt_winters`).
pub(crate) fn double_exponential_smoothing(
    inp: &RangeInput<'_>,
) -> Result<Option<f64>, QueryError> {
    let (Some(&sf), Some(&tf)) = (inp.args.first(), inp.args.get(1)) else {
        return Ok(None);
    };
    if sf <= 0.0 || sf >= 1.0 || sf.is_nan() {
        return Err(QueryError::Execution(format!(
            "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
        )));
    }
    if tf <= 0.0 || tf >= 1.0 || tf.is_nan() {
        return Err(QueryError::Execution(format!(
            "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
        )));
    }
    let s = inp.points;
    if s.len() < 2 {
        return Ok(None);
    }
    let (Some(p0), Some(p1)) = (s.first(), s.get(1)) else {
        return Ok(None);
    };
    let (mut s0, mut s1, mut b) = (0.0, p0.v, p1.v - p0.v);
    for (i, p) in s.iter().enumerate().skip(1) {
        let x = sf * p.v;
        // The trend at the previous point.
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Ok(Some(s1))
}

#[cfg(test)]
mod tests {
    use argus_model::Sample;

    use super::*;

    fn with<T>(vals: &[f64], args: &[f64], f: impl FnOnce(&RangeInput<'_>) -> T) -> T {
        let s: Vec<Sample> = vals
            .iter()
            .enumerate()
            .map(|(i, &v)| Sample::new(i as i64 * 1000, v))
            .collect();
        f(&RangeInput {
            points: &s,
            ts: 10_000,
            range_start: -1,
            range_end: 10_000,
            range: 10_001,
            args,
            anchored: false,
            smoothed: false,
        })
    }

    #[test]
    fn basic_aggregates() {
        assert_eq!(with(&[1.0, 2.0, 3.0], &[], avg), Some(2.0));
        assert_eq!(with(&[1.0, 2.0, 3.0], &[], sum), Some(6.0));
        assert_eq!(with(&[f64::NAN, 2.0, 1.0], &[], max), Some(2.0));
        assert_eq!(with(&[3.0, 1.0, 1.0], &[], ts_of_min), Some(2.0));
        assert_eq!(
            with(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], &[], stddev),
            Some(2.0)
        );
        assert_eq!(
            with(&[1.0, 2.0, 3.0, 4.0], &[0.5], quantile_over_time),
            Some(2.5)
        );
        assert_eq!(
            with(&[1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0], &[], mad),
            Some(1.0)
        );
        assert_eq!(with(&[], &[], count), None);
    }

    #[test]
    fn smoothing_validates_factors() {
        assert!(with(&[1.0, 2.0], &[1.5, 0.5], double_exponential_smoothing).is_err());
        let v = with(&[1.0, 2.0, 3.0], &[0.5, 0.5], double_exponential_smoothing).unwrap();
        assert!((v.unwrap() - 3.0).abs() < 1e-12);
    }
}
