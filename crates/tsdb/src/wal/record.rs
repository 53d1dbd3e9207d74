//! WAL record codecs. The first byte of a record is its type.
//!
//! ```text
//! Series (1):     count uvarint, (ref uvarint, nlabels uvarint, (name bytes, value bytes)×n)×count
//! Samples (2):    count uvarint, base_ref uvarint, base_t varint,
//!                 (ref−base_ref varint, t−base_t varint, value u64 LE bits)×count
//! Tombstones (3): count uvarint, (ref uvarint, mint varint, maxt varint)×count
//! ```
//! Values are stored as raw IEEE-754 bits, so NaN payloads and the stale marker survive
//! replay bit for bit. Labels are written sorted, as [`Labels`] keeps them.

use argus_model::Labels;

use crate::encoding::{put_bytes, put_uvarint, put_varint, Decbuf};

/// Record type bytes.
pub const TYPE_SERIES: u8 = 1;
/// Samples record type.
pub const TYPE_SAMPLES: u8 = 2;
/// Tombstones record type.
pub const TYPE_TOMBSTONES: u8 = 3;

/// A sample addressed by head series reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefSample {
    /// Head series reference.
    pub r: u64,
    /// Timestamp, ms.
    pub t: i64,
    /// Value.
    pub v: f64,
}

/// A deletion of `[mint, maxt]` for one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefTombstone {
    /// Head series reference.
    pub r: u64,
    /// First deleted timestamp.
    pub mint: i64,
    /// Last deleted timestamp.
    pub maxt: i64,
}

/// A decoded record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// New series and their references.
    Series(Vec<(u64, Labels)>),
    /// Samples.
    Samples(Vec<RefSample>),
    /// Deletions.
    Tombstones(Vec<RefTombstone>),
}

/// Encodes a series record into `out`.
pub fn encode_series<'a>(
    series: impl ExactSizeIterator<Item = (u64, &'a Labels)>,
    out: &mut Vec<u8>,
) {
    out.push(TYPE_SERIES);
    put_uvarint(out, series.len() as u64);
    for (r, l) in series {
        put_uvarint(out, r);
        put_uvarint(out, l.len() as u64);
        for lb in l.iter() {
            put_bytes(out, lb.name.as_bytes());
            put_bytes(out, lb.value.as_bytes());
        }
    }
}

/// Encodes a samples record into `out`.
pub fn encode_samples(samples: &[RefSample], out: &mut Vec<u8>) {
    out.push(TYPE_SAMPLES);
    put_uvarint(out, samples.len() as u64);
    let Some(first) = samples.first() else { return };
    put_uvarint(out, first.r);
    put_varint(out, first.t);
    out.reserve(samples.len() * 12);
    for s in samples {
        put_varint(out, s.r.wrapping_sub(first.r) as i64);
        put_varint(out, s.t.wrapping_sub(first.t));
        out.extend_from_slice(&s.v.to_bits().to_le_bytes());
    }
}

/// Encodes a tombstones record into `out`.
pub fn encode_tombstones(ts: &[RefTombstone], out: &mut Vec<u8>) {
    out.push(TYPE_TOMBSTONES);
    put_uvarint(out, ts.len() as u64);
    for t in ts {
        put_uvarint(out, t.r);
        put_varint(out, t.mint);
        put_varint(out, t.maxt);
    }
}

/// Decodes one record. Errors describe what is malformed (the caller adds file and offset).
pub fn decode(rec: &[u8]) -> Result<Record, String> {
    let mut d = Decbuf::new(rec);
    let typ = d.byte().ok_or("empty record")?;
    let count = d.uvarint().ok_or("truncated record count")?;
    // Every entry takes at least one byte; a count beyond the record size is corruption and
    // must not drive an allocation.
    let count = usize::try_from(count)
        .ok()
        .filter(|&c| c <= rec.len())
        .ok_or_else(|| format!("record count {count} exceeds record size {}", rec.len()))?;
    let rec = match typ {
        TYPE_SERIES => {
            let mut out = Vec::with_capacity(count);
            for _ in 0..count {
                let r = d.uvarint().ok_or("truncated series ref")?;
                let n = d.uvarint().ok_or("truncated label count")?;
                let mut pairs = Vec::new();
                for _ in 0..n {
                    let name = d.len_str().ok_or("bad label name")?;
                    let value = d.len_str().ok_or("bad label value")?;
                    pairs.push((name, value));
                }
                out.push((r, Labels::from_sorted_iter(pairs)));
            }
            Record::Series(out)
        }
        TYPE_SAMPLES => {
            let mut out = Vec::with_capacity(count);
            if count > 0 {
                let base_r = d.uvarint().ok_or("truncated base ref")?;
                let base_t = d.varint().ok_or("truncated base time")?;
                for _ in 0..count {
                    let dr = d.varint().ok_or("truncated ref delta")?;
                    let dt = d.varint().ok_or("truncated time delta")?;
                    let v = d.u64_le().ok_or("truncated value")?;
                    out.push(RefSample {
                        r: base_r.wrapping_add(dr as u64),
                        t: base_t.wrapping_add(dt),
                        v: f64::from_bits(v),
                    });
                }
            }
            Record::Samples(out)
        }
        TYPE_TOMBSTONES => {
            let mut out = Vec::with_capacity(count);
            for _ in 0..count {
                let (Some(r), Some(mint), Some(maxt)) = (d.uvarint(), d.varint(), d.varint())
                else {
                    return Err("truncated tombstone".into());
                };
                out.push(RefTombstone { r, mint, maxt });
            }
            Record::Tombstones(out)
        }
        other => return Err(format!("unknown record type {other}")),
    };
    if !d.is_empty() {
        return Err(format!("{} trailing bytes after record", d.remaining()));
    }
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::{labels, stale_nan};
    use proptest::prelude::*;

    #[test]
    fn records_round_trip() {
        let a = labels!("__name__" => "up", "job" => "x");
        let b = labels!("__name__" => "y");
        let mut buf = Vec::new();
        encode_series([(1u64, &a), (7, &b)].into_iter(), &mut buf);
        assert_eq!(decode(&buf).unwrap(), Record::Series(vec![(1, a), (7, b)]));

        let s = vec![
            RefSample {
                r: 5,
                t: 1000,
                v: 1.5,
            },
            RefSample {
                r: 2,
                t: 900,
                v: stale_nan(),
            },
        ];
        buf.clear();
        encode_samples(&s, &mut buf);
        let Record::Samples(got) = decode(&buf).unwrap() else {
            panic!()
        };
        assert_eq!(got[0], s[0]);
        assert_eq!(got[1].v.to_bits(), stale_nan().to_bits());

        let ts = vec![RefTombstone {
            r: 1,
            mint: -3,
            maxt: 9,
        }];
        buf.clear();
        encode_tombstones(&ts, &mut buf);
        assert_eq!(decode(&buf).unwrap(), Record::Tombstones(ts));
    }

    proptest! {
        #[test]
        fn garbage_is_an_error_not_a_panic(b in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = decode(&b);
        }

        #[test]
        fn samples_round_trip(s in proptest::collection::vec((any::<u64>(), any::<i64>(), any::<u64>()), 0..50)) {
            let s: Vec<RefSample> = s.into_iter().map(|(r, t, v)| RefSample { r, t, v: f64::from_bits(v) }).collect();
            let mut buf = Vec::new();
            encode_samples(&s, &mut buf);
            let Record::Samples(got) = decode(&buf).unwrap() else { panic!() };
            prop_assert_eq!(got.len(), s.len());
            for (a, b) in got.iter().zip(&s) {
                prop_assert_eq!((a.r, a.t, a.v.to_bits()), (b.r, b.t, b.v.to_bits()));
            }
        }
    }
}
