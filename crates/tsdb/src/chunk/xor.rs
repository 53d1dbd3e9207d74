//! Gorilla XOR chunk, bit-compatible with Prometheus' `chunkenc.XORChunk`.
//!
//! ```text
//! ┌──────────────┬───────────┬──────────┬───────────────┬──────────────────────────────┐
//! │ count u16 BE │ t0 varint │ v0 64bit │ Δt1 uvarint   │ v1 xor │ (Δ²t, xor v) × n-2   │
//! └──────────────┴───────────┴──────────┴───────────────┴──────────────────────────────┘
//! Δ²t: '0' | '10'+14 bits | '110'+17 bits | '1110'+20 bits | '1111'+64 bits
//! xor v: '0' (same) | '10' + meaningful bits in the previous window
//!                   | '11' + 5 bits leading zeros + 6 bits length + meaningful bits
//! ```
//!
//! Timestamps within a chunk are strictly increasing. Values are stored by bit pattern, so
//! the stale-marker NaN survives exactly.

use super::bitstream::{BitReader, BitWriter};

/// Chunk encoding byte of XOR chunks (Prometheus' `EncXOR`).
pub const ENCODING_XOR: u8 = 1;

/// Appends samples to a new XOR chunk.
#[derive(Debug, Clone)]
pub struct XorAppender {
    w: BitWriter,
    num: u16,
    t: i64,
    v: u64,
    t_delta: i64,
    leading: u8,
    trailing: u8,
}

impl Default for XorAppender {
    fn default() -> Self {
        Self::new()
    }
}

impl XorAppender {
    /// An empty chunk.
    pub fn new() -> Self {
        let mut bytes = Vec::with_capacity(128);
        bytes.extend_from_slice(&[0, 0]);
        XorAppender {
            w: BitWriter::from_bytes(bytes),
            num: 0,
            t: 0,
            v: 0,
            t_delta: 0,
            leading: 0xff,
            trailing: 0,
        }
    }

    /// Continues appending to an existing chunk: decodes it once for the encoder state
    /// instead of re-encoding every sample (head snapshot load). `None` for malformed
    /// chunks, chunks with non-increasing timestamps and empty chunks.
    pub fn resume(data: &[u8]) -> Option<Self> {
        let mut dec = XorDecoder::new(data);
        let mut prev = None;
        while dec.next(data) {
            if prev.is_some_and(|p| dec.t <= p) {
                return None;
            }
            prev = Some(dec.t);
        }
        if dec.failed || dec.read == 0 || dec.read != dec.total {
            return None;
        }
        Some(XorAppender {
            w: BitWriter::resume(data.to_vec(), dec.r.bit_pos())?,
            num: dec.read,
            t: dec.t,
            v: dec.v,
            t_delta: dec.t_delta,
            leading: dec.leading,
            trailing: dec.trailing,
        })
    }

    /// Number of samples appended.
    pub fn num_samples(&self) -> u16 {
        self.num
    }

    /// Encoded size so far, bytes.
    pub fn size(&self) -> usize {
        self.w.bytes().len()
    }

    /// The encoded chunk (valid at any moment; the header count is kept current).
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    /// Consumes the appender, returning the encoded chunk.
    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_bytes()
    }

    /// Timestamp of the last sample (meaningless when empty).
    pub fn last_t(&self) -> i64 {
        self.t
    }

    /// Appends a sample. The caller guarantees `t` is greater than the previous timestamp;
    /// the chunk is capped at `u16::MAX` samples (callers cut far earlier).
    pub fn append(&mut self, t: i64, v: f64) {
        let vb = v.to_bits();
        match self.num {
            0 => {
                self.w.write_varint(t);
                self.w.write_bits(vb, 64);
            }
            1 => {
                let delta = t.wrapping_sub(self.t);
                self.w.write_uvarint(delta as u64);
                self.write_value(vb);
                self.t_delta = delta;
            }
            _ => {
                let delta = t.wrapping_sub(self.t);
                let dod = delta.wrapping_sub(self.t_delta);
                if dod == 0 {
                    self.w.write_bit(false);
                } else if bit_range(dod, 14) {
                    self.w.write_bits(0b10, 2);
                    self.w.write_bits(dod as u64, 14);
                } else if bit_range(dod, 17) {
                    self.w.write_bits(0b110, 3);
                    self.w.write_bits(dod as u64, 17);
                } else if bit_range(dod, 20) {
                    self.w.write_bits(0b1110, 4);
                    self.w.write_bits(dod as u64, 20);
                } else {
                    self.w.write_bits(0b1111, 4);
                    self.w.write_bits(dod as u64, 64);
                }
                self.write_value(vb);
                self.t_delta = delta;
            }
        }
        self.t = t;
        self.v = vb;
        self.num = self.num.saturating_add(1);
        let n = self.num.to_be_bytes();
        if let Some(h) = self.w.bytes_mut().get_mut(0..2) {
            h.copy_from_slice(&n);
        }
    }

    fn write_value(&mut self, vb: u64) {
        let delta = vb ^ self.v;
        if delta == 0 {
            self.w.write_bit(false);
            return;
        }
        self.w.write_bit(true);
        let mut lead = delta.leading_zeros() as u8;
        let trail = delta.trailing_zeros() as u8;
        // 5 bits hold at most 31 leading zeros.
        if lead >= 32 {
            lead = 31;
        }
        if self.leading != 0xff && lead >= self.leading && trail >= self.trailing {
            self.w.write_bit(false);
            let sig = 64 - self.leading - self.trailing;
            self.w.write_bits(delta >> self.trailing, sig);
            return;
        }
        self.leading = lead;
        self.trailing = trail;
        self.w.write_bit(true);
        self.w.write_bits(u64::from(lead), 5);
        let sig = 64 - lead - trail;
        // 64 significant bits do not fit in 6 bits; 0 stands for 64 (0 never occurs, since
        // an unchanged value takes the branch above).
        self.w.write_bits(u64::from(sig) & 0x3f, 6);
        self.w.write_bits(delta >> trail, sig);
    }
}

/// True when `x` fits the `nbits` bucket as Prometheus defines it (asymmetric range).
fn bit_range(x: i64, nbits: u8) -> bool {
    let half = 1i64 << (nbits - 1);
    -(half - 1) <= x && x <= half
}

/// Number of samples recorded in a chunk's header (0 for a truncated header).
pub fn num_samples(data: &[u8]) -> u16 {
    match (data.first(), data.get(1)) {
        (Some(&a), Some(&b)) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

/// Decoding state over an XOR chunk; the bytes are passed to each call so the state can be
/// stored beside any owner of the bytes (an `Arc<[u8]>` or an mmap).
#[derive(Debug, Clone)]
pub struct XorDecoder {
    r: BitReader,
    total: u16,
    read: u16,
    t: i64,
    v: u64,
    t_delta: i64,
    leading: u8,
    trailing: u8,
    failed: bool,
}

impl XorDecoder {
    /// A decoder positioned before the first sample of `data`.
    pub fn new(data: &[u8]) -> Self {
        XorDecoder {
            r: BitReader::new(2),
            total: num_samples(data),
            read: 0,
            t: i64::MIN,
            v: 0,
            t_delta: 0,
            // No XOR window yet, as in the appender: a chunk that reuses a window before
            // setting one is malformed (and `resume` hands the state on unchanged).
            leading: 0xff,
            trailing: 0,
            failed: data.len() < 2,
        }
    }

    /// True when decoding stopped because the bytes were malformed.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Number of samples the header announces.
    pub fn total(&self) -> u16 {
        self.total
    }

    /// The current sample.
    #[inline]
    pub fn at(&self) -> (i64, f64) {
        (self.t, f64::from_bits(self.v))
    }

    /// Advances; false at the end or on malformed data (then [`failed`](Self::failed)).
    #[inline]
    pub fn next(&mut self, data: &[u8]) -> bool {
        if self.failed || self.read >= self.total {
            return false;
        }
        let ok = match self.read {
            0 => self.read_first(data),
            1 => self.read_second(data),
            _ => self.read_rest(data),
        };
        if ok.is_none() {
            self.failed = true;
            return false;
        }
        self.read += 1;
        true
    }

    fn read_first(&mut self, data: &[u8]) -> Option<()> {
        self.t = self.r.read_varint(data)?;
        self.v = self.r.read_bits(data, 64)?;
        Some(())
    }

    fn read_second(&mut self, data: &[u8]) -> Option<()> {
        let delta = self.r.read_uvarint(data)? as i64;
        self.t_delta = delta;
        self.t = self.t.wrapping_add(delta);
        self.read_value(data)
    }

    #[inline]
    fn read_rest(&mut self, data: &[u8]) -> Option<()> {
        // Count leading 1 bits of the delta-of-delta prefix, at most 4.
        let mut prefix = 0u8;
        while prefix < 4 {
            if !self.r.read_bit(data)? {
                break;
            }
            prefix += 1;
        }
        let dod = match prefix {
            0 => 0,
            1 => read_signed(&mut self.r, data, 14)?,
            2 => read_signed(&mut self.r, data, 17)?,
            3 => read_signed(&mut self.r, data, 20)?,
            _ => self.r.read_bits(data, 64)? as i64,
        };
        self.t_delta = self.t_delta.wrapping_add(dod);
        self.t = self.t.wrapping_add(self.t_delta);
        self.read_value(data)
    }

    #[inline]
    fn read_value(&mut self, data: &[u8]) -> Option<()> {
        if !self.r.read_bit(data)? {
            return Some(());
        }
        let (lead, sig) = if !self.r.read_bit(data)? {
            let used = self.leading.checked_add(self.trailing)?;
            (self.leading, 64u8.checked_sub(used)?)
        } else {
            let lead = self.r.read_bits(data, 5)? as u8;
            let mut sig = self.r.read_bits(data, 6)? as u8;
            if sig == 0 {
                sig = 64;
            }
            let trail = 64u8.checked_sub(lead)?.checked_sub(sig)?;
            self.leading = lead;
            self.trailing = trail;
            (lead, sig)
        };
        if sig == 0 || u32::from(lead) + u32::from(sig) > 64 {
            return None;
        }
        let bits = self.r.read_bits(data, sig)?;
        let trail = 64 - lead - sig;
        self.v ^= bits.checked_shl(u32::from(trail)).unwrap_or(0);
        Some(())
    }
}

#[inline]
fn read_signed(r: &mut BitReader, data: &[u8], n: u8) -> Option<i64> {
    let mut bits = r.read_bits(data, n)? as i64;
    if bits > (1i64 << (n - 1)) {
        bits -= 1i64 << n;
    }
    Some(bits)
}

/// Decodes every sample of a chunk (tests, compaction of small chunks).
pub fn decode_all(data: &[u8]) -> Result<Vec<(i64, f64)>, String> {
    let mut d = XorDecoder::new(data);
    let mut out = Vec::with_capacity(d.total() as usize);
    while d.next(data) {
        out.push(d.at());
    }
    if d.failed() {
        return Err(format!(
            "malformed XOR chunk: decoded {} of {} samples from {} bytes",
            out.len(),
            d.total(),
            data.len()
        ));
    }
    Ok(out)
}

/// Encodes samples (strictly increasing timestamps) into one chunk.
pub fn encode(samples: &[(i64, f64)]) -> Vec<u8> {
    let mut a = XorAppender::new();
    for &(t, v) in samples {
        a.append(t, v);
    }
    a.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::stale_nan;
    use proptest::prelude::*;

    fn bits(s: &[(i64, f64)]) -> Vec<(i64, u64)> {
        s.iter().map(|&(t, v)| (t, v.to_bits())).collect()
    }

    #[test]
    fn known_prometheus_vector() {
        // Bytes produced by Prometheus' chunkenc.XORChunk for (1000,1.0),(2000,2.0),(3000,3.0)
        // worked out by hand from xor.go: count=3, t0=varint(1000)=0xd0 0x0f, v0=0x3ff0...,
        // Δt=uvarint(1000)=0xe8 0x07, then value and dod bits.
        let c = encode(&[(1000, 1.0), (2000, 2.0), (3000, 3.0)]);
        assert_eq!(&c[0..2], &[0, 3]);
        assert_eq!(&c[2..4], &[0xd0, 0x0f]);
        assert_eq!(&c[4..12], &1.0f64.to_bits().to_be_bytes());
        assert_eq!(&c[12..14], &[0xe8, 0x07]);
        assert_eq!(
            decode_all(&c).unwrap(),
            vec![(1000, 1.0), (2000, 2.0), (3000, 3.0)]
        );
    }

    #[test]
    fn special_values_are_bit_exact() {
        let s = vec![
            (1, f64::NAN),
            (2, stale_nan()),
            (3, f64::INFINITY),
            (4, f64::NEG_INFINITY),
            (5, -0.0),
            (6, 0.0),
            (7, f64::MIN_POSITIVE),
            (i64::MAX / 2, f64::MAX),
        ];
        let got = decode_all(&encode(&s)).unwrap();
        assert_eq!(bits(&got), bits(&s));
    }

    #[test]
    fn truncated_chunk_is_an_error_not_a_panic() {
        let c = encode(&[(1, 1.0), (20, 2.5), (31, 3.25), (47, 1e9)]);
        for len in 0..c.len() {
            let r = decode_all(&c[..len]);
            assert!(r.is_err() || r.unwrap().len() < 4);
        }
    }

    fn series() -> impl Strategy<Value = Vec<(i64, f64)>> {
        let value = prop_oneof![
            any::<f64>(),
            (-1000i64..1000).prop_map(|x| x as f64),
            Just(f64::NAN),
            Just(stale_nan()),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(42.0),
        ];
        let gap = prop_oneof![
            Just(15_000i64),
            1i64..100,
            14_000i64..16_000,
            1i64..(1 << 40),
        ];
        (
            -(1i64 << 50)..(1i64 << 50),
            proptest::collection::vec((gap, value), 0..300),
        )
            .prop_map(|(start, items)| {
                let mut t = start;
                items
                    .into_iter()
                    .map(|(g, v)| {
                        t += g;
                        (t, v)
                    })
                    .collect()
            })
    }

    proptest! {
        #[test]
        fn round_trip(s in series()) {
            let c = encode(&s);
            let got = decode_all(&c).unwrap();
            prop_assert_eq!(bits(&got), bits(&s));
        }

        #[test]
        fn long_constant_runs(v in any::<f64>(), n in 1usize..2000) {
            let s: Vec<(i64, f64)> = (0..n as i64).map(|i| (i * 15_000, v)).collect();
            let c = encode(&s);
            prop_assert_eq!(bits(&decode_all(&c).unwrap()), bits(&s));
            // A constant series at a fixed interval costs 2 bits per sample after the start.
            prop_assert!(c.len() <= 20 + n / 4 + 1);
        }

        #[test]
        fn resumed_appender_writes_the_same_bytes(s in series(), cut in 1usize..300) {
            let cut = cut.min(s.len());
            prop_assume!(cut > 0);
            let (head, tail) = s.split_at(cut);
            let mut app = XorAppender::resume(&encode(head)).unwrap();
            for &(t, v) in tail {
                app.append(t, v);
            }
            prop_assert_eq!(app.bytes(), &encode(&s)[..]);
            prop_assert_eq!(app.num_samples() as usize, s.len());
            prop_assert_eq!(app.last_t(), s.last().map_or(0, |x| x.0));
        }

        #[test]
        fn resume_of_any_bytes_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = XorAppender::resume(&data);
        }

        #[test]
        fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_all(&data);
        }
    }
}
