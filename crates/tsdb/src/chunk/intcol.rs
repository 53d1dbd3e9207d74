//! A column of i64 (timestamps residuals, decimal mantissas, float bit patterns) in a few
//! bits per value.
//!
//! ```text
//! order u8 (0, 1, 2) │ first `order` values varint │ gcd uvarint │ [base varint if gcd > 1]
//! │ per group of 64: min varint │ width u8 │ ⌈len·width/8⌉ bytes of (x − min) LSB-first
//! ```
//!
//! `order` is how many times the column was delta-encoded (raw, delta, delta-of-delta); the
//! encoder tries all three and keeps the smallest, since a gauge packs best raw, a counter as
//! deltas and a steady-rate counter as delta-of-delta. A common factor of the packed values
//! (memory gauges move in 4 KiB pages) is divided out once per column. All arithmetic wraps,
//! so every i64 sequence, extremes included, round-trips.

use super::bitpack::{pack, packed_len, unpack_offsets};
use crate::encoding::{put_uvarint, put_varint, Decbuf};

/// Values per frame-of-reference group: small enough that a burst widens few values, large
/// enough that the 2–10 byte group header is amortized.
pub const GROUP: usize = 64;

/// Appends the smallest encoding of `xs` to `out`.
pub fn encode(xs: &[i64], out: &mut Vec<u8>) {
    let mut best: Option<Vec<u8>> = None;
    let mut scratch = Vec::with_capacity(xs.len());
    for order in 0..=2u8 {
        if usize::from(order) >= xs.len().max(1) && order > 0 {
            break;
        }
        let mut buf = Vec::with_capacity(xs.len() + 16);
        encode_order(xs, order, &mut scratch, &mut buf);
        if best.as_ref().is_none_or(|b| buf.len() < b.len()) {
            best = Some(buf);
        }
    }
    if let Some(b) = best {
        out.extend_from_slice(&b);
    }
}

fn encode_order(xs: &[i64], order: u8, seq: &mut Vec<i64>, out: &mut Vec<u8>) {
    seq.clear();
    seq.extend_from_slice(xs);
    let order = usize::from(order);
    for o in 0..order {
        for i in (o + 1..seq.len()).rev() {
            let prev = seq.get(i - 1).copied().unwrap_or(0);
            if let Some(x) = seq.get_mut(i) {
                *x = x.wrapping_sub(prev);
            }
        }
    }
    out.push(order as u8);
    let split = order.min(seq.len());
    let (heads, body) = seq.split_at_mut(split);
    for h in heads.iter() {
        put_varint(out, *h);
    }
    let g = common_factor(body);
    put_uvarint(out, g);
    if g > 1 {
        let base = body.first().copied().unwrap_or(0);
        put_varint(out, base);
        for x in body.iter_mut() {
            // |x − base| < 2^64 and g ≥ 2, so the quotient fits an i64.
            *x = ((i128::from(*x) - i128::from(base)) / i128::from(g)) as i64;
        }
    }
    let mut offs = Vec::with_capacity(GROUP);
    for group in body.chunks(GROUP) {
        let min = group.iter().copied().min().unwrap_or(0);
        offs.clear();
        offs.extend(group.iter().map(|x| x.wrapping_sub(min) as u64));
        let max = offs.iter().copied().max().unwrap_or(0);
        let width = 64 - max.leading_zeros();
        put_varint(out, min);
        out.push(width as u8);
        pack(&offs, width, out);
    }
}

/// GCD of the distances of `body` from its first value (0 or 1: no common factor).
fn common_factor(body: &[i64]) -> u64 {
    let Some(&base) = body.first() else {
        return 0;
    };
    let mut g: u64 = 0;
    for &x in body {
        let d = (i128::from(x) - i128::from(base)).unsigned_abs() as u64;
        g = gcd(g, d);
        if g == 1 {
            return 1;
        }
    }
    g
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Decodes a column of `n` values from `d` into `out` (cleared first). `None` on malformed
/// input.
pub fn decode(d: &mut Decbuf<'_>, n: usize, out: &mut Vec<i64>) -> Option<()> {
    out.clear();
    let order = usize::from(d.byte()?);
    if order > 2 {
        return None;
    }
    let split = order.min(n);
    for _ in 0..split {
        out.push(d.varint()?);
    }
    let g = d.uvarint()?;
    let base = if g > 1 { d.varint()? } else { 0 };
    let mut left = n - split;
    while left > 0 {
        let len = left.min(GROUP);
        let min = d.varint()?;
        let width = u32::from(d.byte()?);
        // Unpacking may load past the group (into the next one, masked off): cheaper than
        // a bounds-checked slow path for the last values of every group.
        unpack_offsets(d.rest(), len, width, min, out)?;
        d.bytes(packed_len(len, width))?;
        left -= len;
    }
    if g > 1 {
        let g = g as i64;
        for x in out.iter_mut().skip(split) {
            *x = base.wrapping_add(x.wrapping_mul(g));
        }
    }
    for o in (0..order).rev() {
        let mut prev = match out.get(o) {
            Some(&p) => p,
            None => continue,
        };
        for x in out.iter_mut().skip(o + 1) {
            *x = x.wrapping_add(prev);
            prev = *x;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(xs: &[i64]) -> usize {
        let mut out = Vec::new();
        encode(xs, &mut out);
        let mut got = Vec::new();
        let mut d = Decbuf::new(&out);
        decode(&mut d, xs.len(), &mut got).unwrap();
        assert_eq!(got, xs);
        assert!(d.is_empty());
        out.len()
    }

    #[test]
    fn round_trips_shapes() {
        rt(&[]);
        rt(&[5]);
        rt(&[i64::MIN, i64::MAX]);
        rt(&[i64::MAX, i64::MIN, 0, -1, i64::MAX]);
        assert!(rt(&vec![42; 500]) < 20, "constant column is a few bytes");
        let pages: Vec<i64> = (0..500)
            .map(|i| 1_000_000 * 4096 + (i % 7) * 4096)
            .collect();
        assert!(rt(&pages) < 250, "4 KiB factor divided out");
        let counter: Vec<i64> = (0..500).map(|i| 10_000 + 15 * i).collect();
        assert!(
            rt(&counter) < 30,
            "steady counter is constant delta-of-delta"
        );
    }
}
