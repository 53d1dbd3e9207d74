//! The experimental `anchored` and `smoothed` range modifiers.
//!
//! Their windows reach one lookback delta beyond the range so that the values *at* the range
//! boundaries can be taken from the last sample before them (anchored) or interpolated
//! between the samples around them (smoothed). `rate`, `increase` and `delta` then use those
//! boundary values instead of extrapolating.

use argus_model::Sample;

use super::RangeInput;

/// Functions allowed with `anchored`, as listed in error messages.
pub(crate) const ANCHORED_SAFE: &[&str] = &["changes", "delta", "increase", "rate", "resets"];
/// Functions allowed with `smoothed`.
pub(crate) const SMOOTHED_SAFE: &[&str] = &["delta", "increase", "rate"];

/// Linear interpolation at `t`; for counters a reset between the points restarts from 0.
fn interpolate(p1: Sample, p2: Sample, t: i64, is_counter: bool) -> f64 {
    let y1 = if is_counter && p2.v < p1.v { 0.0 } else { p1.v };
    y1 + (p2.v - y1) * (t - p1.t) as f64 / (p2.t - p1.t) as f64
}

/// Go's `sort.Search(n, pred)`.
fn search(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

fn pick_left(f: &[Sample], first: usize, start: i64, smoothed: bool, counter: bool) -> Option<f64> {
    let p = f.get(first)?;
    if smoothed && p.t < start {
        return Some(interpolate(*p, *f.get(first + 1)?, start, counter));
    }
    Some(p.v)
}

fn pick_right(f: &[Sample], last: usize, end: i64, smoothed: bool, counter: bool) -> Option<f64> {
    let p = f.get(last)?;
    if smoothed && last > 0 && p.t > end {
        return Some(interpolate(*f.get(last - 1)?, *p, end, counter));
    }
    Some(p.v)
}

/// Indices of the boundary samples: (last sample at or before `start`, last sample in the
/// window — for smoothed the first at or after `end`).
fn bounds(f: &[Sample], start: i64, end: i64, smoothed: bool) -> Option<(usize, usize)> {
    let mut last = f.len().checked_sub(1)?;
    let first = search(last, |i| f.get(i).is_some_and(|p| p.t > start)).saturating_sub(1);
    if smoothed {
        last = search(last, |i| f.get(i).is_some_and(|p| p.t >= end));
    }
    if f.get(last)?.t <= start {
        return None;
    }
    Some((first, last))
}

/// The raw samples of an anchored/smoothed range selector as a range vector: the boundary
/// values at `mint` and `maxt` plus the samples strictly inside (Prometheus' `extendFloats`).
pub(crate) fn extend_points(f: &[Sample], mint: i64, maxt: i64, smoothed: bool) -> Vec<Sample> {
    let Some((mut first, mut last)) = bounds(f, mint, maxt, smoothed) else {
        return Vec::new();
    };
    let (Some(left), Some(right)) = (
        pick_left(f, first, mint, smoothed, false),
        pick_right(f, last, maxt, smoothed, false),
    ) else {
        return Vec::new();
    };
    if f.get(first).is_some_and(|p| p.t <= mint) {
        first += 1;
    }
    if f.get(last).is_some_and(|p| p.t >= maxt) {
        last = last.wrapping_sub(1);
    }
    let mut out = Vec::with_capacity(last.wrapping_sub(first).wrapping_add(3).min(f.len() + 2));
    out.push(Sample::new(mint, left));
    if last != usize::MAX && first <= last {
        out.extend_from_slice(f.get(first..=last).unwrap_or(&[]));
    }
    out.push(Sample::new(maxt, right));
    out
}

/// `rate`/`increase`/`delta` with `anchored` or `smoothed` (Prometheus' `extendedRate`).
pub(crate) fn extended_rate(inp: &RangeInput<'_>, is_counter: bool, is_rate: bool) -> Option<f64> {
    let f = inp.points;
    let (start, end) = (inp.range_start, inp.range_end);
    if inp.smoothed && f.first()?.t > end {
        // Only data after the range: nothing to interpolate from.
        return None;
    }
    let (mut first, mut last) = bounds(f, start, end, inp.smoothed)?;
    let left = pick_left(f, first, start, inp.smoothed, is_counter)?;
    let right = pick_right(f, last, end, inp.smoothed, is_counter)?;
    let mut result = right - left;
    if is_counter {
        // Resets strictly inside the range; the boundary picks handle the edges.
        if f.get(first).is_some_and(|p| p.t <= start) {
            first += 1;
        }
        if f.get(last).is_some_and(|p| p.t >= end) {
            last = last.wrapping_sub(1);
        }
        let inner: &[Sample] = if last != usize::MAX && first <= last {
            f.get(first..=last).unwrap_or(&[])
        } else {
            &[]
        };
        let mut prev = left;
        let mut correction = 0.0;
        for p in inner {
            if p.v < prev {
                correction += prev;
            }
            prev = p.v;
        }
        if right < prev {
            correction += prev;
        }
        result += correction;
    }
    if is_rate {
        result /= inp.range as f64 / 1000.0;
    }
    Some(result)
}

/// For `changes`/`resets` with `anchored`: the index of the last sample at or before the
/// range start (0 otherwise); None when the window holds nothing inside the range.
pub(crate) fn first_sample_index(inp: &RangeInput<'_>) -> Option<usize> {
    if !inp.anchored {
        return Some(0);
    }
    let f = inp.points;
    let last = f.last()?;
    if last.t <= inp.range_start {
        return None;
    }
    let n = f.len() - 1;
    Some(search(n, |i| f.get(i).is_some_and(|p| p.t > inp.range_start)).saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(points: &[(i64, f64)]) -> Vec<Sample> {
        points.iter().map(|&(t, v)| Sample::new(t, v)).collect()
    }

    #[test]
    fn anchored_increase_uses_sample_before_range() {
        let f = s(&[
            (0, 0.0),
            (15_000, 1.0),
            (30_000, 2.0),
            (45_000, 3.0),
            (60_000, 4.0),
        ]);
        let inp = RangeInput {
            points: &f,
            ts: 65_000,
            range_start: 5_000,
            range_end: 65_000,
            range: 60_000,
            args: &[],
            anchored: true,
            smoothed: false,
        };
        assert_eq!(extended_rate(&inp, true, false), Some(4.0));
    }

    #[test]
    fn smoothed_interpolates_boundaries() {
        let f = s(&[(0, 0.0), (10_000, 10.0), (20_000, 20.0)]);
        let out = extend_points(&f, 5_000, 15_000, true);
        assert_eq!(out.first().unwrap().v, 5.0);
        assert_eq!(out.last().unwrap().v, 15.0);
        assert_eq!(out.len(), 3);
    }
}
