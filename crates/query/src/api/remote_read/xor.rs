//! The Gorilla XOR float chunk (`tsdb/chunkenc/xor.go`), bit-compatible with Prometheus,
//! for streamed remote-read responses. `query` must not depend on `tsdb`, and remote read
//! re-encodes from samples anyway, so the codec lives here too.
//!
//! ```text
//! u16 BE sample count
//! sample 0: t varint (zig-zag)          v  64 raw bits
//! sample 1: Δt uvarint                  v  XOR-encoded
//! sample n: ΔΔt in '0' | '10'+14b | '110'+17b | '1110'+20b | '1111'+64b
//!           v  '0' (same) | '10' + bits in the previous window
//!                         | '11' + 5b leading zeros + 6b length + significant bits
//! ```

/// Samples per chunk, as the TSDB cuts them.
pub const SAMPLES_PER_CHUNK: usize = 120;

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    /// Bits still free in the last byte.
    free: u8,
}

impl BitWriter {
    fn bit(&mut self, b: bool) {
        if self.free == 0 {
            self.bytes.push(0);
            self.free = 8;
        }
        if b {
            if let Some(last) = self.bytes.last_mut() {
                *last |= 1 << (self.free - 1);
            }
        }
        self.free -= 1;
    }

    /// Writes the low `n` bits of `v`, most significant first.
    fn bits(&mut self, v: u64, n: u32) {
        for i in (0..n).rev() {
            self.bit((v >> i) & 1 == 1);
        }
    }

    fn byte_aligned(&mut self, b: &[u8]) {
        for &x in b {
            self.bits(u64::from(x), 8);
        }
    }
}

fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Whether `x` fits the signed `n`-bit bucket of the delta-of-delta encoding.
fn bit_range(x: i64, n: u32) -> bool {
    let half = 1i64 << (n - 1);
    -(half - 1) <= x && x <= half
}

/// Encodes `(t, v)` samples (sorted by time, at most `u16::MAX`) into one XOR chunk.
pub fn encode_xor_chunk(samples: &[(i64, f64)]) -> Vec<u8> {
    let mut w = BitWriter::default();
    let n = u16::try_from(samples.len()).unwrap_or(u16::MAX);
    w.byte_aligned(&n.to_be_bytes());
    let (mut prev_t, mut prev_v, mut prev_delta) = (0i64, 0u64, 0i64);
    let (mut leading, mut trailing) = (0xffu8, 0u8);
    for (i, &(t, v)) in samples.iter().take(usize::from(n)).enumerate() {
        let vb = v.to_bits();
        match i {
            0 => {
                let mut buf = Vec::with_capacity(10);
                put_varint(&mut buf, t);
                w.byte_aligned(&buf);
                w.bits(vb, 64);
            }
            1 => {
                let delta = t.wrapping_sub(prev_t);
                let mut buf = Vec::with_capacity(10);
                put_uvarint(&mut buf, delta as u64);
                w.byte_aligned(&buf);
                write_value(&mut w, vb, prev_v, &mut leading, &mut trailing);
                prev_delta = delta;
            }
            _ => {
                let delta = t.wrapping_sub(prev_t);
                let dod = delta.wrapping_sub(prev_delta);
                if dod == 0 {
                    w.bit(false);
                } else if bit_range(dod, 14) {
                    w.bits(0b10, 2);
                    w.bits(dod as u64, 14);
                } else if bit_range(dod, 17) {
                    w.bits(0b110, 3);
                    w.bits(dod as u64, 17);
                } else if bit_range(dod, 20) {
                    w.bits(0b1110, 4);
                    w.bits(dod as u64, 20);
                } else {
                    w.bits(0b1111, 4);
                    w.bits(dod as u64, 64);
                }
                write_value(&mut w, vb, prev_v, &mut leading, &mut trailing);
                prev_delta = delta;
            }
        }
        prev_t = t;
        prev_v = vb;
    }
    w.bytes
}

fn write_value(w: &mut BitWriter, v: u64, prev: u64, leading: &mut u8, trailing: &mut u8) {
    let delta = v ^ prev;
    if delta == 0 {
        w.bit(false);
        return;
    }
    w.bit(true);
    // Both counts are at most 64, so the casts are lossless; leading is clamped to 31 to
    // fit the 5-bit field.
    let new_leading = (delta.leading_zeros() as u8).min(31);
    let new_trailing = delta.trailing_zeros() as u8;
    if *leading != 0xff && new_leading >= *leading && new_trailing >= *trailing {
        w.bit(false);
        let sig = 64 - u32::from(*leading) - u32::from(*trailing);
        w.bits(delta >> *trailing, sig);
        return;
    }
    *leading = new_leading;
    *trailing = new_trailing;
    w.bit(true);
    w.bits(u64::from(new_leading), 5);
    let sig = 64 - u32::from(new_leading) - u32::from(new_trailing);
    // 64 significant bits do not fit in 6 bits; Prometheus writes 0 and reads it back as 64.
    w.bits(u64::from(sig), 6);
    w.bits(delta >> new_trailing, sig);
}

/// Why a chunk could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid XOR chunk: {0}")]
pub struct XorError(pub &'static str);

struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn bit(&mut self) -> Result<bool, XorError> {
        let byte = self
            .bytes
            .get(self.pos / 8)
            .ok_or(XorError("unexpected end of chunk"))?;
        let b = (byte >> (7 - (self.pos % 8))) & 1 == 1;
        self.pos += 1;
        Ok(b)
    }

    fn bits(&mut self, n: u32) -> Result<u64, XorError> {
        let mut v = 0u64;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.bit()?);
        }
        Ok(v)
    }

    fn uvarint(&mut self) -> Result<u64, XorError> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.bits(8)?;
            if shift == 63 && b > 1 {
                return Err(XorError("varint overflows u64"));
            }
            v |= (b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(XorError("varint too long"))
    }
}

/// Sign-extends the low `n` bits of `v`.
fn sign_extend(v: u64, n: u32) -> i64 {
    let shift = 64 - n;
    ((v << shift) as i64) >> shift
}

/// Decodes an XOR chunk into `(t, v)` samples. Any input yields samples or an error, never
/// a panic.
pub fn decode_xor_chunk(bytes: &[u8]) -> Result<Vec<(i64, f64)>, XorError> {
    let mut r = BitReader { bytes, pos: 0 };
    let n = r.bits(16)? as usize;
    let mut out = Vec::with_capacity(n.min(bytes.len() * 8));
    let (mut t, mut v, mut delta) = (0i64, 0u64, 0i64);
    let (mut leading, mut trailing) = (0u32, 0u32);
    for i in 0..n {
        match i {
            0 => {
                let z = r.uvarint()?;
                t = ((z >> 1) as i64) ^ -((z & 1) as i64);
                v = r.bits(64)?;
            }
            _ => {
                if i == 1 {
                    delta = r.uvarint()? as i64;
                } else {
                    let mut prefix = 0;
                    while prefix < 4 && r.bit()? {
                        prefix += 1;
                    }
                    let dod = match prefix {
                        0 => 0,
                        1 => sign_extend(r.bits(14)?, 14),
                        2 => sign_extend(r.bits(17)?, 17),
                        3 => sign_extend(r.bits(20)?, 20),
                        _ => r.bits(64)? as i64,
                    };
                    delta = delta.wrapping_add(dod);
                }
                t = t.wrapping_add(delta);
                if r.bit()? {
                    if r.bit()? {
                        leading = r.bits(5)? as u32;
                        let mut sig = r.bits(6)? as u32;
                        if sig == 0 {
                            sig = 64;
                        }
                        trailing = 64u32
                            .checked_sub(leading + sig)
                            .ok_or(XorError("bad significant-bit count"))?;
                    }
                    let sig = 64 - leading - trailing;
                    let bits = r.bits(sig)?;
                    v ^= bits.checked_shl(trailing).unwrap_or(0);
                }
            }
        }
        out.push((t, f64::from_bits(v)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_sample_layout() {
        // count=1, t=1000 as zig-zag varint (2000 = 0xd0 0x0f), then the raw f64 bits.
        let c = encode_xor_chunk(&[(1000, 1.5)]);
        let mut want = vec![0, 1, 0xd0, 0x0f];
        want.extend_from_slice(&1.5f64.to_bits().to_be_bytes());
        assert_eq!(c, want);
    }

    #[test]
    fn round_trips() {
        let cases: Vec<Vec<(i64, f64)>> = vec![
            vec![],
            vec![(-5, f64::NAN)],
            (0..120).map(|i| (1_000 + i * 15_000, i as f64)).collect(),
            (0..120)
                .map(|i| (i * i * 1_000 - 7, (i as f64).sin() * 1e9))
                .collect(),
            vec![
                (0, 0.0),
                (1, f64::INFINITY),
                (1 << 40, -0.0),
                ((1 << 40) + 3, f64::from_bits(0x7ff0_0000_0000_0002)),
                (i64::MAX / 2, 1e-300),
            ],
        ];
        for s in cases {
            let d = decode_xor_chunk(&encode_xor_chunk(&s)).unwrap();
            assert_eq!(d.len(), s.len());
            for (a, b) in d.iter().zip(&s) {
                assert_eq!(a.0, b.0);
                assert_eq!(a.1.to_bits(), b.1.to_bits());
            }
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let _ = decode_xor_chunk(&bytes);
        }
    }
}
