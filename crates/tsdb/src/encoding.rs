//! Byte-level codecs shared by the WAL, index and tombstone formats: varints (Go's
//! `binary.PutUvarint`/`PutVarint` layout), fixed-width big-endian integers, and a bounds-checked
//! decoding cursor that returns `None` instead of panicking on short or malformed input.

/// Appends `v` as an unsigned LEB128 varint.
#[inline]
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zig-zag encoded as a varint.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends a length-prefixed byte string.
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uvarint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// The first four bytes of `b` as a big-endian u32.
#[inline]
pub fn be_u32(b: &[u8]) -> Option<u32> {
    let a: [u8; 4] = b.get(0..4)?.try_into().ok()?;
    Some(u32::from_be_bytes(a))
}

/// The first four bytes of `b` as a little-endian u32.
#[inline]
pub fn le_u32(b: &[u8]) -> Option<u32> {
    let a: [u8; 4] = b.get(0..4)?.try_into().ok()?;
    Some(u32::from_le_bytes(a))
}

/// A decoding cursor over a byte slice.
#[derive(Debug, Clone)]
pub struct Decbuf<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Decbuf<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Decbuf { data, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// The bytes not consumed yet (without consuming them).
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// True when everything was consumed.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Reads an unsigned varint.
    #[inline]
    pub fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let b = *self.data.get(self.pos)?;
            self.pos += 1;
            if shift >= 64 {
                return None;
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
            shift += 7;
        }
    }

    /// Reads a zig-zag varint.
    #[inline]
    pub fn varint(&mut self) -> Option<i64> {
        let u = self.uvarint()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// Reads a big-endian u32.
    pub fn u32_be(&mut self) -> Option<u32> {
        be_u32(self.bytes(4)?)
    }

    /// Reads a big-endian u64.
    pub fn u64_be(&mut self) -> Option<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(u64::from_be_bytes(a))
    }

    /// Reads a little-endian u64 (raw float bits in WAL records).
    #[inline]
    pub fn u64_le(&mut self) -> Option<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(u64::from_le_bytes(a))
    }

    /// Reads one byte.
    pub fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// Reads `n` raw bytes.
    #[inline]
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    /// Reads a length-prefixed byte string.
    pub fn len_bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.uvarint()?).ok()?;
        self.bytes(n)
    }

    /// Reads a length-prefixed UTF-8 string.
    pub fn len_str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.len_bytes()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varints_round_trip(u in any::<u64>(), i in any::<i64>(), s in ".{0,20}") {
            let mut b = Vec::new();
            put_uvarint(&mut b, u);
            put_varint(&mut b, i);
            put_bytes(&mut b, s.as_bytes());
            let mut d = Decbuf::new(&b);
            prop_assert_eq!(d.uvarint(), Some(u));
            prop_assert_eq!(d.varint(), Some(i));
            prop_assert_eq!(d.len_str(), Some(s.as_str()));
            prop_assert!(d.is_empty());
        }

        #[test]
        fn garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut d = Decbuf::new(&b);
            let _ = d.uvarint();
            let _ = d.len_str();
            let _ = d.u64_be();
            let _ = d.varint();
        }
    }
}
