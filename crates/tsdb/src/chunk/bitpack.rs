//! Fixed-width bit packing, least significant bit first.
//!
//! Block chunks store integer columns as groups of equal-width unsigned offsets; packing them
//! LSB-first lets the decoder pull each value out of one unaligned little-endian load instead
//! of walking bit by bit, which is what keeps the columnar block chunks cheaper to decode than
//! Gorilla XOR.

/// Bytes taken by `n` values of `width` bits.
#[inline]
pub fn packed_len(n: usize, width: u32) -> usize {
    (n * width as usize).div_ceil(8)
}

/// Appends the low `width` bits (≤ 64) of every value, back to back, LSB first.
pub fn pack(vals: &[u64], width: u32, out: &mut Vec<u8>) {
    if width == 0 {
        return;
    }
    let mask = mask(width);
    // Fewer than 8 pending bits remain after each flush, so 8 + 64 bits always fit.
    let mut acc: u128 = 0;
    let mut nbits = 0u32;
    for &v in vals {
        acc |= u128::from(v & mask) << nbits;
        nbits += width;
        while nbits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            nbits -= 8;
        }
    }
    if nbits > 0 {
        out.push(acc as u8);
    }
}

#[inline]
fn mask(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// Loads 8 bytes at `at` little-endian, zero-padded past the end of `data`.
#[inline]
fn load8(data: &[u8], at: usize) -> u64 {
    if let Some(b) = data.get(at..at + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        return u64::from_le_bytes(a);
    }
    let mut a = [0u8; 8];
    if let Some(rest) = data.get(at..) {
        for (d, s) in a.iter_mut().zip(rest) {
            *d = *s;
        }
    }
    u64::from_le_bytes(a)
}

/// Unpacks `n` values of `width` bits from the start of `data`, adding each to `base`
/// (wrapping) and appending the result to `out`. `data` may extend past the packed values
/// (loads then read ahead, masked off). `None` when `data` is too short or the width is
/// impossible.
pub fn unpack_offsets(
    data: &[u8],
    n: usize,
    width: u32,
    base: i64,
    out: &mut Vec<i64>,
) -> Option<()> {
    if width > 64 {
        return None;
    }
    if width == 0 {
        out.extend(std::iter::repeat_n(base, n));
        return Some(());
    }
    if data.len() < packed_len(n, width) {
        return None;
    }
    let mask = mask(width);
    let w = width as usize;
    out.reserve(n);
    let mut bit = 0usize;
    if width <= 56 {
        // A value starts within its first byte and ends within 7 more: one 8-byte load.
        for _ in 0..n {
            let x = (load8(data, bit / 8) >> (bit % 8)) & mask;
            out.push(base.wrapping_add(x as i64));
            bit += w;
        }
    } else {
        for _ in 0..n {
            let lo = load8(data, bit / 8) >> (bit % 8);
            // The bits above the first load's reach; shifting by 64 − (bit % 8) ≥ 57.
            let hi = u64::from(data.get(bit / 8 + 8).copied().unwrap_or(0))
                .checked_shl(64 - (bit % 8) as u32)
                .unwrap_or(0);
            out.push(base.wrapping_add(((lo | hi) & mask) as i64));
            bit += w;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_width() {
        for width in 0..=64u32 {
            let vals: Vec<u64> = (0..77u64)
                .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) & mask(width.max(1)))
                .map(|v| if width == 0 { 0 } else { v })
                .collect();
            let mut out = Vec::new();
            pack(&vals, width, &mut out);
            assert_eq!(out.len(), packed_len(vals.len(), width));
            let mut got = Vec::new();
            unpack_offsets(&out, vals.len(), width, 0, &mut got).unwrap();
            let got: Vec<u64> = got.into_iter().map(|v| v as u64).collect();
            assert_eq!(got, vals, "width {width}");
            let short = &out[..out.len().saturating_sub(1)];
            let mut again = Vec::new();
            let res = unpack_offsets(short, vals.len(), width, 0, &mut again);
            assert_eq!(res.is_some(), width == 0, "width {width}");
        }
    }
}
