//! Deletion intervals ("tombstones") and their on-disk file.
//!
//! A delete does not rewrite data: it records, per series, the time intervals whose samples
//! must no longer be returned. Queries skip them; compaction and `clean_tombstones` drop
//! them for good. In a block the series is identified by its ordinal in the block's index.
//!
//! ```text
//! tombstones file:
//! ┌────────────┬────────────┬─────────────────┬──────────────────────────────────────────┬──────────┐
//! │ "ARGT" (4) │ version u8 │ series uvarint  │ (ordinal uvarint, n uvarint,             │ crc32c   │
//! │            │ = 1        │                 │   (mint varint, maxt varint) × n) × ...  │ u32 BE   │
//! └────────────┴────────────┴─────────────────┴──────────────────────────────────────────┴──────────┘
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use crate::encoding::{put_uvarint, put_varint, Decbuf};
use crate::error::{Result, TsdbError};

/// A closed time interval `[mint, maxt]`, ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    /// First deleted timestamp.
    pub mint: i64,
    /// Last deleted timestamp.
    pub maxt: i64,
}

/// Adds `iv` to a sorted, disjoint list, merging overlapping and adjacent intervals.
pub fn add_interval(list: &mut Vec<Interval>, iv: Interval) {
    if iv.mint > iv.maxt {
        return;
    }
    list.push(iv);
    list.sort();
    let mut out: Vec<Interval> = Vec::with_capacity(list.len());
    for x in list.drain(..) {
        match out.last_mut() {
            Some(last) if x.mint <= last.maxt.saturating_add(1) => {
                last.maxt = last.maxt.max(x.maxt);
            }
            _ => out.push(x),
        }
    }
    *list = out;
}

/// True when `t` lies in one of the sorted, disjoint intervals.
#[inline]
pub fn is_deleted(list: &[Interval], t: i64) -> bool {
    let i = list.partition_point(|iv| iv.maxt < t);
    list.get(i).is_some_and(|iv| iv.mint <= t)
}

/// True when the intervals cover all of `[mint, maxt]`.
pub fn covers(list: &[Interval], mint: i64, maxt: i64) -> bool {
    let i = list.partition_point(|iv| iv.maxt < mint);
    list.get(i)
        .is_some_and(|iv| iv.mint <= mint && iv.maxt >= maxt)
}

/// Tombstones of one block: series ordinal → deleted intervals.
pub type Tombstones = BTreeMap<u32, Vec<Interval>>;

const MAGIC: &[u8; 4] = b"ARGT";
const VERSION: u8 = 1;

/// Serializes tombstones into the file format above.
pub fn encode(t: &Tombstones) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + t.len() * 8);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    put_uvarint(&mut out, t.len() as u64);
    for (ord, ivs) in t {
        put_uvarint(&mut out, u64::from(*ord));
        put_uvarint(&mut out, ivs.len() as u64);
        for iv in ivs {
            put_varint(&mut out, iv.mint);
            put_varint(&mut out, iv.maxt);
        }
    }
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// Parses a tombstones file, checking magic, version and checksum.
pub fn decode(data: &[u8], path: &Path) -> Result<Tombstones> {
    let bad = |off: usize, why: &str| TsdbError::corruption(path, off as u64, why);
    if data.len() < MAGIC.len() + 1 + 4 {
        return Err(bad(0, "tombstones file too short"));
    }
    let (body, crc) = data.split_at(data.len() - 4);
    let stored = crate::encoding::be_u32(crc).unwrap_or(0);
    if crc32c::crc32c(body) != stored {
        return Err(bad(body.len(), "tombstones checksum mismatch"));
    }
    if body.get(0..4) != Some(MAGIC.as_slice()) {
        return Err(bad(0, "bad tombstones magic"));
    }
    if body.get(4) != Some(&VERSION) {
        return Err(bad(4, "unsupported tombstones version"));
    }
    let mut d = Decbuf::new(body.get(5..).unwrap_or(&[]));
    let n = d
        .uvarint()
        .ok_or_else(|| bad(5, "truncated series count"))?;
    let mut out = Tombstones::new();
    for _ in 0..n {
        let ord = d
            .uvarint()
            .and_then(|x| u32::try_from(x).ok())
            .ok_or_else(|| bad(5 + d.offset(), "bad series ordinal"))?;
        let k = d
            .uvarint()
            .ok_or_else(|| bad(5 + d.offset(), "bad interval count"))?;
        let mut ivs = Vec::new();
        for _ in 0..k {
            let (Some(mint), Some(maxt)) = (d.varint(), d.varint()) else {
                return Err(bad(5 + d.offset(), "truncated interval"));
            };
            add_interval(&mut ivs, Interval { mint, maxt });
        }
        out.insert(ord, ivs);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_merge() {
        let mut l = Vec::new();
        add_interval(&mut l, Interval { mint: 10, maxt: 20 });
        add_interval(&mut l, Interval { mint: 1, maxt: 3 });
        add_interval(&mut l, Interval { mint: 21, maxt: 25 });
        add_interval(&mut l, Interval { mint: 2, maxt: 5 });
        assert_eq!(
            l,
            vec![
                Interval { mint: 1, maxt: 5 },
                Interval { mint: 10, maxt: 25 }
            ]
        );
        assert!(is_deleted(&l, 4));
        assert!(!is_deleted(&l, 6));
        assert!(is_deleted(&l, 25));
        assert!(covers(&l, 11, 24));
        assert!(!covers(&l, 4, 11));
    }

    #[test]
    fn file_round_trip_and_corruption() {
        let mut t = Tombstones::new();
        t.insert(3, vec![Interval { mint: -5, maxt: 7 }]);
        t.insert(
            9,
            vec![Interval { mint: 1, maxt: 2 }, Interval { mint: 4, maxt: 9 }],
        );
        let b = encode(&t);
        let p = Path::new("tombstones");
        assert_eq!(decode(&b, p).unwrap(), t);
        for i in 0..b.len() {
            let mut c = b.clone();
            c[i] ^= 0x40;
            assert!(decode(&c, p).is_err(), "flip at {i} detected");
        }
        assert!(decode(&b[..3], p).is_err());
    }
}
