//! Bit-level writer and reader, most significant bit first, as Prometheus' `bstream`.
//!
//! The writer appends straight into a `Vec<u8>` (the last byte may be partially filled;
//! `free` counts its unused low bits), so a head chunk that is still being appended to can be
//! copied for a reader at any moment. The reader keeps up to 64 bits in a register, filled
//! eight bytes at a time, which is what makes decoding cheap.

/// Appends bits to a byte vector.
#[derive(Debug, Clone, Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    /// Unused low bits of the last byte (0 when the last byte is full or there is none).
    free: u8,
}

impl BitWriter {
    /// A writer over `bytes` (which must hold only whole, already-written bytes).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        BitWriter { bytes, free: 0 }
    }

    /// A writer continuing after the first `bits` bits of `bytes`; `None` unless `bytes` is
    /// exactly that long and the padding after `bits` is zero (later writes OR into it).
    pub fn resume(bytes: Vec<u8>, bits: usize) -> Option<Self> {
        if bits.div_ceil(8) != bytes.len() {
            return None;
        }
        let free = u8::try_from(bytes.len() * 8 - bits).ok()?;
        if free > 0 && bytes.last().is_some_and(|&b| b & ((1u8 << free) - 1) != 0) {
            return None;
        }
        Some(BitWriter { bytes, free })
    }

    /// The bytes written so far (the last one possibly padded with zero bits).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Mutable access to the underlying bytes (for headers written in place).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    /// Consumes the writer.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Number of bits written.
    pub fn bit_len(&self) -> usize {
        self.bytes.len() * 8 - self.free as usize
    }

    /// Writes one bit.
    #[inline]
    pub fn write_bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.bytes.push(0);
            self.free = 8;
        }
        if bit {
            if let Some(last) = self.bytes.last_mut() {
                *last |= 1 << (self.free - 1);
            }
        }
        self.free -= 1;
    }

    /// Writes the low `n` bits of `v` (n ≤ 64), most significant first.
    #[inline]
    pub fn write_bits(&mut self, v: u64, n: u8) {
        debug_assert!(n <= 64, "BUG: write_bits of {n} bits");
        let mut n = n.min(64);
        // Left-align the bits to write so the top `n` bits of `v` are the payload.
        let mut v = if n == 64 { v } else { v << (64 - n) };
        while n > 0 {
            if self.free == 0 {
                self.bytes.push(0);
                self.free = 8;
            }
            let take = n.min(self.free);
            // Top `take` bits of v, positioned just below the already-used bits.
            let chunk = (v >> (64 - u32::from(take))) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= chunk << (self.free - take);
            }
            self.free -= take;
            n -= take;
            v = v.checked_shl(u32::from(take)).unwrap_or(0);
        }
    }

    /// Writes a byte (not necessarily byte-aligned).
    #[inline]
    pub fn write_byte(&mut self, b: u8) {
        self.write_bits(u64::from(b), 8);
    }

    /// Writes `v` as an unsigned LEB128 varint through the bit stream (Go's `PutUvarint`).
    pub fn write_uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.write_byte((v as u8) | 0x80);
            v >>= 7;
        }
        self.write_byte(v as u8);
    }

    /// Writes `v` zig-zag encoded as a varint (Go's `PutVarint`).
    pub fn write_varint(&mut self, v: i64) {
        self.write_uvarint(((v << 1) ^ (v >> 63)) as u64);
    }
}

/// Reads bits from a byte slice that is passed to each call, so the reader can live next to
/// the bytes' owner without borrowing it.
#[derive(Debug, Clone, Default)]
pub struct BitReader {
    /// Next byte of the slice to load into `buf`.
    pos: usize,
    /// Buffered bits, left-aligned; bits below the `valid` top bits are zero.
    buf: u64,
    /// Number of valid bits in `buf`.
    valid: u32,
}

impl BitReader {
    /// A reader starting at byte `pos`.
    pub fn new(pos: usize) -> Self {
        BitReader {
            pos,
            buf: 0,
            valid: 0,
        }
    }

    /// Bits consumed so far, counted from the start of the slice.
    pub fn bit_pos(&self) -> usize {
        self.pos * 8 - self.valid as usize
    }

    #[inline]
    fn refill(&mut self, data: &[u8]) {
        if let Some(w) = data.get(self.pos..self.pos + 8) {
            let mut arr = [0u8; 8];
            arr.copy_from_slice(w);
            let w = u64::from_be_bytes(arr);
            let k = (64 - self.valid) / 8;
            if k == 0 {
                return;
            }
            let take_bits = 8 * k;
            let rem = 64 - self.valid - take_bits;
            let mask = if rem == 0 {
                !0u64
            } else {
                !((1u64 << rem) - 1)
            };
            let part = if self.valid == 0 { w } else { w >> self.valid };
            self.buf |= part & mask;
            self.valid += take_bits;
            self.pos += k as usize;
        } else {
            while self.valid <= 56 {
                let Some(&b) = data.get(self.pos) else { break };
                self.buf |= u64::from(b) << (56 - self.valid);
                self.valid += 8;
                self.pos += 1;
            }
        }
    }

    /// Reads `n` bits (1..=64); `None` when the data ends first.
    #[inline]
    pub fn read_bits(&mut self, data: &[u8], n: u8) -> Option<u64> {
        let n32 = u32::from(n);
        if n32 > self.valid {
            if n32 > 56 {
                // A refill can only guarantee 57 bits; split wide reads.
                let hi = self.read_bits(data, n - 32)?;
                let lo = self.read_bits(data, 32)?;
                return Some((hi << 32) | lo);
            }
            self.refill(data);
            if n32 > self.valid {
                return None;
            }
        }
        if n == 0 {
            return Some(0);
        }
        let v = self.buf >> (64 - n32);
        self.buf = self.buf.checked_shl(n32).unwrap_or(0);
        self.valid -= n32;
        Some(v)
    }

    /// Reads one bit.
    #[inline]
    pub fn read_bit(&mut self, data: &[u8]) -> Option<bool> {
        if self.valid == 0 {
            self.refill(data);
            if self.valid == 0 {
                return None;
            }
        }
        let bit = self.buf >> 63 == 1;
        self.buf <<= 1;
        self.valid -= 1;
        Some(bit)
    }

    /// Reads an unsigned varint written with [`BitWriter::write_uvarint`].
    pub fn read_uvarint(&mut self, data: &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.read_bits(data, 8)?;
            v |= (b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    /// Reads a zig-zag varint written with [`BitWriter::write_varint`].
    pub fn read_varint(&mut self, data: &[u8]) -> Option<i64> {
        let u = self.read_uvarint(data)?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bits_round_trip_across_bytes() {
        let mut w = BitWriter::default();
        w.write_bit(true);
        w.write_bits(0b101, 3);
        w.write_bits(u64::MAX, 64);
        w.write_uvarint(300);
        w.write_varint(-5);
        w.write_bits(0x1234, 13);
        let d = w.bytes().to_vec();
        let mut r = BitReader::new(0);
        assert_eq!(r.read_bit(&d), Some(true));
        assert_eq!(r.read_bits(&d, 3), Some(0b101));
        assert_eq!(r.read_bits(&d, 64), Some(u64::MAX));
        assert_eq!(r.read_uvarint(&d), Some(300));
        assert_eq!(r.read_varint(&d), Some(-5));
        assert_eq!(r.read_bits(&d, 13), Some(0x1234 & 0x1fff));
        // Only padding is left.
        assert_eq!(r.read_bits(&d, 8), None);
    }

    proptest! {
        #[test]
        fn arbitrary_widths_round_trip(items in proptest::collection::vec((any::<u64>(), 1u8..=64), 0..200)) {
            let mut w = BitWriter::default();
            for &(v, n) in &items {
                w.write_bits(v, n);
            }
            let d = w.bytes().to_vec();
            prop_assert_eq!(w.bit_len(), items.iter().map(|&(_, n)| n as usize).sum::<usize>());
            let mut r = BitReader::new(0);
            for &(v, n) in &items {
                let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                prop_assert_eq!(r.read_bits(&d, n), Some(v & mask));
            }
        }

        #[test]
        fn reader_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64), widths in proptest::collection::vec(0u8..=64, 0..64)) {
            let mut r = BitReader::new(0);
            for n in widths {
                let _ = r.read_bits(&data, n);
                let _ = r.read_uvarint(&data);
            }
        }
    }
}
