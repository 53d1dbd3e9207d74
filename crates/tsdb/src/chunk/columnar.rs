//! Columnar block chunks: timestamps and values stored apart, each as an integer column
//! ([`super::intcol`]).
//!
//! ```text
//! time column (encoding 0x11):  n uvarint │ t0 varint │ step varint │ intcol(tᵢ − t0 − i·step)
//! value chunk (encoding 0x10):  n uvarint │ time column ref uvarint │ values
//! values:  0xff │ intcol(bit patterns)                                        (any float)
//!        | k (0..=15) │ nexc uvarint │ nexc × (index gap uvarint, bits u64 LE) │ intcol(mᵢ)
//!                                                          (vᵢ = mᵢ / 10^k, bit-exact)
//! ```
//!
//! All series of one scrape target share their timestamps, so a block writes each distinct
//! time column once and value chunks refer to it by chunk reference. The step is the median
//! interval, so jittered scrapes leave residuals of a few bits and a missed scrape widens only
//! its own group. Values that are short decimals (what exporters print: integers, 0.01 s CPU
//! ticks) are stored as integer mantissas; whatever does not reconstruct bit-exactly (NaNs,
//! stale markers, −0.0, stray long floats) is an exception stored verbatim. A chunk where
//! that does not pay stores raw bit patterns instead, so every float round-trips.

use super::intcol;
use crate::encoding::{put_uvarint, put_varint, Decbuf};

/// Chunk encoding byte of a columnar value chunk.
pub const ENCODING_VALUES: u8 = 0x10;
/// Chunk encoding byte of a shared time column.
pub const ENCODING_TIMES: u8 = 0x11;
/// Most samples in one columnar chunk (the sample counters of iterators are u16).
pub const MAX_SAMPLES: usize = u16::MAX as usize;

const KIND_BITS: u8 = 0xff;
/// Exact powers of ten (every one up to 1e22 is an exact f64).
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];
/// Mantissas stay below 2^53 so `m as f64` is exact and the division is correctly rounded.
const MANTISSA_LIMIT: f64 = 9_007_199_254_740_992.0;

/// Encodes a time column (strictly increasing timestamps are not required).
pub fn encode_times(ts: &[i64], out: &mut Vec<u8>) {
    put_uvarint(out, ts.len() as u64);
    let t0 = ts.first().copied().unwrap_or(0);
    let step = median_step(ts);
    put_varint(out, t0);
    put_varint(out, step);
    let res: Vec<i64> = ts
        .iter()
        .enumerate()
        .map(|(i, &t)| t.wrapping_sub(t0).wrapping_sub(step.wrapping_mul(i as i64)))
        .collect();
    intcol::encode(&res, out);
}

fn median_step(ts: &[i64]) -> i64 {
    let mut d: Vec<i64> = ts
        .iter()
        .zip(ts.iter().skip(1))
        .map(|(a, b)| b.wrapping_sub(*a))
        .collect();
    if d.is_empty() {
        return 0;
    }
    let mid = d.len() / 2;
    let (_, m, _) = d.select_nth_unstable(mid);
    *m
}

/// Decodes a time column into `out`; `None` when malformed.
pub fn decode_times(data: &[u8], out: &mut Vec<i64>) -> Option<()> {
    let mut d = Decbuf::new(data);
    let n = count(&mut d)?;
    let t0 = d.varint()?;
    let step = d.varint()?;
    intcol::decode(&mut d, n, out)?;
    let mut grid = t0;
    for r in out.iter_mut() {
        *r = grid.wrapping_add(*r);
        grid = grid.wrapping_add(step);
    }
    Some(())
}

fn count(d: &mut Decbuf<'_>) -> Option<usize> {
    let n = usize::try_from(d.uvarint()?).ok()?;
    (n <= MAX_SAMPLES).then_some(n)
}

/// Encodes a value chunk referring to time column `times_ref`.
pub fn encode_values(vs: &[f64], times_ref: u64, out: &mut Vec<u8>) {
    put_uvarint(out, vs.len() as u64);
    put_uvarint(out, times_ref);
    let mut bits = Vec::with_capacity(vs.len() + 16);
    bits.push(KIND_BITS);
    let raw: Vec<i64> = vs.iter().map(|v| v.to_bits() as i64).collect();
    intcol::encode(&raw, &mut bits);
    if let Some(dec) = encode_decimal(vs) {
        if dec.len() < bits.len() {
            out.extend_from_slice(&dec);
            return;
        }
    }
    out.extend_from_slice(&bits);
}

/// `v` as `m / 10^k` when that reconstructs bit-exactly.
#[inline]
fn mantissa(v: f64, k: usize) -> Option<i64> {
    let p = *POW10.get(k)?;
    let m = (v * p).round();
    if m.is_nan() || m.abs() >= MANTISSA_LIMIT {
        return None;
    }
    let mi = m as i64;
    (to_float(mi, p).to_bits() == v.to_bits()).then_some(mi)
}

#[inline]
fn to_float(m: i64, p: f64) -> f64 {
    m as f64 / p
}

/// The decimal encoding, or `None` when too many values are not short decimals.
fn encode_decimal(vs: &[f64]) -> Option<Vec<u8>> {
    // Exceptions cost 9+ bytes each; beyond an eighth of the chunk raw bits win anyway.
    let budget = vs.len() / 8;
    let mut hist = [0usize; POW10.len()];
    for &v in vs {
        if let Some(k) = (0..POW10.len()).find(|&k| mantissa(v, k).is_some()) {
            if let Some(h) = hist.get_mut(k) {
                *h += 1;
            }
        }
    }
    let mut cum = 0;
    let k = hist.iter().position(|&h| {
        cum += h;
        cum + budget >= vs.len()
    })?;
    let p = *POW10.get(k)?;
    let mut ms = Vec::with_capacity(vs.len());
    let mut exc: Vec<(usize, u64)> = Vec::new();
    let mut last: Option<i64> = None;
    let mut step = 0i64;
    for (i, &v) in vs.iter().enumerate() {
        match mantissa(v, k) {
            Some(m) => {
                // Leading exceptions borrow the first mantissa so they cost no bits.
                if last.is_none() {
                    ms.iter_mut().for_each(|x| *x = m);
                }
                step = last.map_or(0, |l| m.wrapping_sub(l));
                last = Some(m);
                ms.push(m);
            }
            None => {
                // A placeholder continuing the trend keeps a counter's deltas steady across
                // a stale marker, so the group stays narrow.
                exc.push((i, v.to_bits()));
                let fill = ms.last().map_or(0, |&l| l.wrapping_add(step));
                ms.push(fill);
            }
        }
    }
    if exc.len() > budget || last.is_none() {
        return None;
    }
    debug_assert!(ms.iter().all(|&m| (to_float(m, p)).is_finite()));
    let mut out = Vec::with_capacity(vs.len() + 16);
    out.push(k as u8);
    put_uvarint(&mut out, exc.len() as u64);
    let mut prev = 0;
    for (i, b) in &exc {
        put_uvarint(&mut out, (i - prev) as u64);
        out.extend_from_slice(&b.to_le_bytes());
        prev = *i;
    }
    intcol::encode(&ms, &mut out);
    Some(out)
}

/// Sample count and time column reference of a value chunk.
pub fn values_header(data: &[u8]) -> Option<(usize, u64)> {
    let mut d = Decbuf::new(data);
    Some((count(&mut d)?, d.uvarint()?))
}

/// Decodes a value chunk into `out`; `scratch` is reused integer space. `None` when
/// malformed.
pub fn decode_values(data: &[u8], out: &mut Vec<f64>, scratch: &mut Vec<i64>) -> Option<()> {
    let mut d = Decbuf::new(data);
    let n = count(&mut d)?;
    d.uvarint()?;
    out.clear();
    let kind = d.byte()?;
    if kind == KIND_BITS {
        intcol::decode(&mut d, n, scratch)?;
        out.extend(scratch.iter().map(|&x| f64::from_bits(x as u64)));
        return Some(());
    }
    let p = *POW10.get(usize::from(kind))?;
    let nexc = usize::try_from(d.uvarint()?).ok()?;
    if nexc > n {
        return None;
    }
    let mut exc = Vec::with_capacity(nexc);
    let mut at = 0usize;
    for _ in 0..nexc {
        at = at.checked_add(usize::try_from(d.uvarint()?).ok()?)?;
        exc.push((at, d.u64_le()?));
    }
    intcol::decode(&mut d, n, scratch)?;
    out.extend(scratch.iter().map(|&m| to_float(m, p)));
    for (i, b) in exc {
        *out.get_mut(i)? = f64::from_bits(b);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt_values(vs: &[f64]) -> usize {
        let mut out = Vec::new();
        encode_values(vs, 77, &mut out);
        assert_eq!(values_header(&out), Some((vs.len(), 77)));
        let (mut got, mut s) = (Vec::new(), Vec::new());
        decode_values(&out, &mut got, &mut s).unwrap();
        let a: Vec<u64> = vs.iter().map(|v| v.to_bits()).collect();
        let b: Vec<u64> = got.iter().map(|v| v.to_bits()).collect();
        assert_eq!(a, b);
        out.len()
    }

    #[test]
    fn values_round_trip_and_shrink() {
        rt_values(&[]);
        rt_values(&[
            f64::NAN,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
        ]);
        let ticks: Vec<f64> = (0..480)
            .map(|i| (1_234_567 + i * 37) as f64 / 100.0)
            .collect();
        assert!(rt_values(&ticks) < 40, "0.01 s CPU ticks at a steady rate");
        let mut stale = ticks.clone();
        stale[100] = f64::from_bits(argus_model::STALE_NAN_BITS);
        stale[0] = -0.0;
        assert!(rt_values(&stale) < 70);
        let floats: Vec<f64> = (0..480).map(|i| (i as f64 * 0.731).sin() * 1e3).collect();
        rt_values(&floats);
    }

    #[test]
    fn times_round_trip_and_shrink() {
        let mut ts: Vec<i64> = (0..480)
            .map(|i| 1_700_000_000_123 + i * 15_000 + (i * 7 % 7) - 3)
            .collect();
        ts.remove(200);
        let mut out = Vec::new();
        encode_times(&ts, &mut out);
        assert!(out.len() < 250, "{}", out.len());
        let mut got = Vec::new();
        decode_times(&out, &mut got).unwrap();
        assert_eq!(got, ts);
        for ts in [vec![], vec![i64::MIN], vec![i64::MIN, 0, i64::MAX]] {
            out.clear();
            encode_times(&ts, &mut out);
            decode_times(&out, &mut got).unwrap();
            assert_eq!(got, ts);
        }
    }

    use proptest::prelude::*;

    /// Floats as exporters emit them and as nothing does: arbitrary bit patterns, NaNs
    /// (quiet, signalling, stale), ±Inf, −0.0, short decimals, counters.
    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<u64>().prop_map(f64::from_bits),
            Just(f64::NAN),
            Just(f64::from_bits(argus_model::STALE_NAN_BITS)),
            Just(f64::from_bits(0x7ff0_0000_0000_0001)),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0),
            Just(0.0),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
            (-1_000_000i64..1_000_000, 0u32..6).prop_map(|(m, k)| m as f64 / 10f64.powi(k as i32)),
            any::<i64>().prop_map(|m| m as f64),
        ]
    }

    fn counter() -> impl Strategy<Value = Vec<f64>> {
        (
            0u64..1 << 40,
            proptest::collection::vec(0u64..1000, 0..600),
            0u32..4,
        )
            .prop_map(|(start, incs, k)| {
                let mut c = start;
                incs.into_iter()
                    .map(|i| {
                        c += i;
                        c as f64 / 10f64.powi(k as i32)
                    })
                    .collect()
            })
    }

    fn times() -> impl Strategy<Value = Vec<i64>> {
        prop_oneof![
            proptest::collection::vec(any::<i64>(), 0..300),
            (
                any::<i64>(),
                proptest::collection::vec(-5i64..5, 0..600),
                1i64..60_000
            )
                .prop_map(|(start, jit, step)| {
                    let start = start / 2;
                    jit.iter()
                        .enumerate()
                        .map(|(i, j)| start.wrapping_add(i as i64 * step + j))
                        .collect()
                }),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_values_round_trip(vs in proptest::collection::vec(value(), 0..400)) {
            rt_values(&vs);
        }

        #[test]
        fn counters_with_stale_markers_round_trip(mut vs in counter(), at in any::<usize>()) {
            if !vs.is_empty() {
                let i = at % vs.len();
                vs[i] = f64::from_bits(argus_model::STALE_NAN_BITS);
            }
            rt_values(&vs);
        }

        #[test]
        fn times_round_trip(ts in times()) {
            let mut out = Vec::new();
            encode_times(&ts, &mut out);
            let mut got = Vec::new();
            decode_times(&out, &mut got).unwrap();
            prop_assert_eq!(got, ts);
        }

        #[test]
        fn garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let (mut t, mut v, mut s) = (Vec::new(), Vec::new(), Vec::new());
            let _ = decode_times(&b, &mut t);
            let _ = decode_values(&b, &mut v, &mut s);
            let _ = values_header(&b);
        }

        #[test]
        fn truncation_is_detected(vs in proptest::collection::vec(value(), 1..100), cut in any::<usize>()) {
            let mut out = Vec::new();
            encode_values(&vs, 1, &mut out);
            let cut = cut % out.len();
            let (mut v, mut s) = (Vec::new(), Vec::new());
            prop_assert!(decode_values(&out[..cut], &mut v, &mut s).is_none());
        }
    }
}
