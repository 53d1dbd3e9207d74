//! Rates and derivatives over a range: `rate`, `increase`, `delta` (with Prometheus'
//! extrapolation to the window boundaries and counter-reset handling), `irate`, `idelta`,
//! `deriv`, `predict_linear`, `resets` and `changes`.

use argus_model::Sample;

use super::extended::{extended_rate, first_sample_index};
use super::{kahan_inc, RangeInput};

/// `rate` (counter, per second), `increase` (counter) and `delta` (gauge).
pub(crate) fn extrapolated_rate(
    inp: &RangeInput<'_>,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    if inp.anchored || inp.smoothed {
        return extended_rate(inp, is_counter, is_rate);
    }
    let s = inp.points;
    let (first, last) = (s.first()?, s.last()?);
    if s.len() < 2 {
        return None;
    }
    let mut result = last.v - first.v;
    if is_counter {
        for w in s.windows(2) {
            if let [prev, cur] = w {
                if cur.v < prev.v {
                    result += prev.v;
                }
            }
        }
    }
    let mut to_start = (first.t - inp.range_start) as f64 / 1000.0;
    let mut to_end = (inp.range_end - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let avg = sampled / (s.len() - 1) as f64;
    // Extrapolate to a boundary only when a sample there is "close enough" (10% more than
    // the average spacing); otherwise assume the series starts or ends half an interval out.
    let threshold = avg * 1.1;
    if to_start >= threshold {
        to_start = avg / 2.0;
    }
    if is_counter {
        // A counter cannot go below zero: don't extrapolate past its zero point.
        let mut to_zero = to_start;
        if result > 0.0 && first.v >= 0.0 {
            to_zero = sampled * (first.v / result);
        }
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if is_rate {
        factor /= inp.range as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate` (per second, counter) and `idelta`: from the last two samples.
pub(crate) fn instant_value(inp: &RangeInput<'_>, is_rate: bool) -> Option<f64> {
    let s = inp.points;
    if s.len() < 2 {
        return None;
    }
    let (prev, last) = (s.get(s.len() - 2)?, s.last()?);
    let interval = last.t - prev.t;
    if interval == 0 {
        return None;
    }
    let mut v = last.v;
    if !is_rate || last.v >= prev.v || last.v.is_nan() || prev.v.is_nan() {
        v = last.v - prev.v;
    }
    if is_rate {
        v /= interval as f64 / 1000.0;
    }
    Some(v)
}

/// Least-squares fit; returns (slope, intercept at `intercept_time`).
pub(crate) fn linear_regression(s: &[Sample], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut cx, mut sum_y, mut cy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut cxy, mut sum_x2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = s.first().map_or(0.0, |p| p.v);
    let mut const_y = true;
    for (i, p) in s.iter().enumerate() {
        if const_y && i > 0 && p.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - intercept_time) as f64 / 1e3;
        (sum_x, cx) = kahan_inc(x, sum_x, cx);
        (sum_y, cy) = kahan_inc(p.v, sum_y, cy);
        (sum_xy, cxy) = kahan_inc(x * p.v, sum_xy, cxy);
        (sum_x2, cx2) = kahan_inc(x * x, sum_x2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += cx;
    sum_y += cy;
    sum_xy += cxy;
    sum_x2 += cx2;
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// `deriv`: per-second slope of the least-squares fit.
pub(crate) fn deriv(inp: &RangeInput<'_>) -> Option<f64> {
    if inp.points.len() < 2 {
        return None;
    }
    // An intercept time near the samples avoids floating point accuracy issues.
    let t0 = inp.points.first()?.t;
    Some(linear_regression(inp.points, t0).0)
}

/// `predict_linear(v[r], t)`: the fitted value `t` seconds after the evaluation time.
pub(crate) fn predict_linear(inp: &RangeInput<'_>) -> Option<f64> {
    if inp.points.len() < 2 {
        return None;
    }
    let duration = *inp.args.first()?;
    let (slope, intercept) = linear_regression(inp.points, inp.ts);
    Some(slope * duration + intercept)
}

/// `resets`: how often the value decreased.
pub(crate) fn resets(inp: &RangeInput<'_>) -> Option<f64> {
    let first = first_sample_index(inp)?;
    let s = inp.points.get(first..)?;
    if s.is_empty() {
        return None;
    }
    let n = s
        .windows(2)
        .filter(|w| matches!(w, [a, b] if b.v < a.v))
        .count();
    Some(n as f64)
}

/// `changes`: how often the value changed (NaN to NaN is no change).
pub(crate) fn changes(inp: &RangeInput<'_>) -> Option<f64> {
    let first = first_sample_index(inp)?;
    let s = inp.points.get(first..)?;
    if s.is_empty() {
        return None;
    }
    let n = s
        .windows(2)
        .filter(|w| matches!(w, [a, b] if a.v != b.v && !(a.v.is_nan() && b.v.is_nan())))
        .count();
    Some(n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(points: &[(i64, f64)], ts: i64, range: i64) -> (Vec<Sample>, i64, i64) {
        let s = points.iter().map(|&(t, v)| Sample::new(t, v)).collect();
        (s, ts - range, ts)
    }

    fn rin<'a>(s: &'a [Sample], start: i64, end: i64, args: &'a [f64]) -> RangeInput<'a> {
        RangeInput {
            points: s,
            ts: end,
            range_start: start,
            range_end: end,
            range: end - start,
            args,
            anchored: false,
            smoothed: false,
        }
    }

    #[test]
    fn rate_extrapolates_to_window() {
        // 0, 10, ..., 100 every 30s; window (0, 300s]: samples at 30..300s.
        let pts: Vec<(i64, f64)> = (1..=10).map(|i| (i * 30_000, i as f64 * 10.0)).collect();
        let (s, start, end) = input(&pts, 300_000, 300_000);
        let r = extrapolated_rate(&rin(&s, start, end, &[]), true, true).unwrap();
        // 90 over 270s, extrapolated by 30s at the start (zero point at 30s before first).
        assert!((r - 100.0 / 300.0).abs() < 1e-12, "{r}");
        let inc = extrapolated_rate(&rin(&s, start, end, &[]), true, false).unwrap();
        assert!((inc - 100.0).abs() < 1e-9, "{inc}");
    }

    #[test]
    fn counter_resets_are_compensated() {
        let (s, start, end) = input(
            &[(10_000, 5.0), (20_000, 1.0), (30_000, 3.0)],
            30_000,
            30_000,
        );
        let inc = extrapolated_rate(&rin(&s, start, end, &[]), true, false).unwrap();
        // Raw increase: 3 - 5 + 5 = 3 over 20s, window 30s, to_start capped by zero point.
        assert!(inc > 3.0 && inc <= 4.5, "{inc}");
        assert_eq!(resets(&rin(&s, start, end, &[])), Some(1.0));
        assert_eq!(changes(&rin(&s, start, end, &[])), Some(2.0));
    }

    #[test]
    fn irate_and_idelta() {
        let (s, start, end) = input(&[(0, 10.0), (10_000, 20.0), (20_000, 5.0)], 20_000, 60_000);
        assert_eq!(instant_value(&rin(&s, start, end, &[]), true), Some(0.5));
        assert_eq!(instant_value(&rin(&s, start, end, &[]), false), Some(-15.0));
    }

    #[test]
    fn regression() {
        let pts: Vec<(i64, f64)> = (0..5).map(|i| (i * 1000, 2.0 * i as f64 + 1.0)).collect();
        let (s, start, end) = input(&pts, 4000, 10_000);
        assert!((deriv(&rin(&s, start, end, &[])).unwrap() - 2.0).abs() < 1e-12);
        let p = predict_linear(&rin(&s, start, end, &[10.0])).unwrap();
        assert!((p - 29.0).abs() < 1e-9, "{p}");
    }
}
