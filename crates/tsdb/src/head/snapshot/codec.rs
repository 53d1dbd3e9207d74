//! Encoding of one series in a head snapshot, and its strict decoding.
//!
//! ```text
//! series:  ref uvarint, logged byte, nlabels uvarint, (name bytes, value bytes)×n,
//!          next_index uvarint, last_t varint, last_v u64 LE,
//!          nclosed uvarint, (mint varint, maxt varint, first_index uvarint, data bytes)×n,
//!          open byte (0|1) [mint varint, first_index uvarint, next_at varint,
//!                           range_end varint, data bytes],
//!          nooo uvarint, (t varint, v u64 LE)×n,
//!          ndeleted uvarint, (mint varint, maxt varint)×n
//! bytes = uvarint length + raw bytes
//! ```
//! Chunk sample counts are not stored: the XOR header holds them. The open chunk is stored
//! as its bytes; at load the appender resumes from them (one decode pass for its state,
//! which costs half of decoding and re-encoding every sample).

use std::sync::Arc;

use argus_model::Labels;

use crate::chunk::xor::{num_samples, XorAppender};
use crate::encoding::{put_bytes, put_uvarint, put_varint, Decbuf};
use crate::head::series::{HeadChunk, MemSeries, OooSample, OpenChunk, SeriesData};
use crate::tombstones::Interval;

/// A series decoded from a snapshot, not yet in the head.
pub struct LoadedSeries {
    /// Head reference.
    pub r: u64,
    /// Whether its Series record is in the WAL.
    pub logged: bool,
    /// Labels.
    pub labels: Labels,
    /// Chunks, out-of-order buffer, deletions.
    pub data: SeriesData,
}

/// Appends `s` (with its locked `d`) to `out`.
pub fn encode_series(s: &MemSeries, logged: bool, d: &SeriesData, out: &mut Vec<u8>) {
    put_uvarint(out, s.r);
    out.push(u8::from(logged));
    put_uvarint(out, s.labels.len() as u64);
    for l in s.labels.iter() {
        put_bytes(out, l.name.as_bytes());
        put_bytes(out, l.value.as_bytes());
    }
    put_uvarint(out, d.next_index);
    put_varint(out, d.last_t);
    out.extend_from_slice(&d.last_v.to_bits().to_le_bytes());
    put_uvarint(out, d.closed.len() as u64);
    for c in &d.closed {
        put_varint(out, c.mint);
        put_varint(out, c.maxt);
        put_uvarint(out, c.first_index);
        put_bytes(out, &c.data);
    }
    match d.open.as_ref().filter(|o| o.app.num_samples() > 0) {
        Some(o) => {
            out.push(1);
            put_varint(out, o.mint);
            put_uvarint(out, o.first_index);
            put_varint(out, o.next_at);
            put_varint(out, o.range_end);
            put_bytes(out, o.app.bytes());
        }
        None => out.push(0),
    }
    put_uvarint(out, d.ooo.len() as u64);
    for o in &d.ooo {
        put_varint(out, o.t);
        out.extend_from_slice(&o.v.to_bits().to_le_bytes());
    }
    put_uvarint(out, d.deleted.len() as u64);
    for iv in &d.deleted {
        put_varint(out, iv.mint);
        put_varint(out, iv.maxt);
    }
}

/// A count read from disk, bounded by the bytes left so it cannot drive a huge allocation.
fn count(d: &mut Decbuf<'_>, what: &str) -> Result<usize, String> {
    let n = d
        .uvarint()
        .ok_or_else(|| format!("truncated {what} count"))?;
    usize::try_from(n)
        .ok()
        .filter(|&n| n <= d.remaining())
        .ok_or_else(|| format!("{what} count {n} exceeds the bytes left"))
}

fn f64_bits(d: &mut Decbuf<'_>, what: &str) -> Result<f64, String> {
    d.u64_le()
        .map(f64::from_bits)
        .ok_or_else(|| format!("truncated {what}"))
}

/// Decodes one series; every field is checked, nothing panics on bad bytes.
pub fn decode_series(d: &mut Decbuf<'_>) -> Result<LoadedSeries, String> {
    let r = d.uvarint().ok_or("truncated series ref")?;
    let logged = match d.byte() {
        Some(0) => false,
        Some(1) => true,
        _ => return Err("bad logged flag".into()),
    };
    let n = count(d, "label")?;
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        let name = d.len_str().ok_or("bad label name")?;
        let value = d.len_str().ok_or("bad label value")?;
        pairs.push((name, value));
    }
    let labels = Labels::from_sorted_iter(pairs);
    if labels.is_empty() {
        return Err(format!("series {r} has no labels"));
    }
    let mut data = SeriesData {
        next_index: d.uvarint().ok_or("truncated next index")?,
        last_t: d.varint().ok_or("truncated last timestamp")?,
        last_v: f64_bits(d, "last value")?,
        ..SeriesData::default()
    };
    let n = count(d, "chunk")?;
    data.closed.reserve_exact(n);
    for _ in 0..n {
        let mint = d.varint().ok_or("truncated chunk mint")?;
        let maxt = d.varint().ok_or("truncated chunk maxt")?;
        let first_index = d.uvarint().ok_or("truncated chunk index")?;
        let bytes = d.len_bytes().ok_or("truncated chunk data")?;
        let num = num_samples(bytes);
        if num == 0 || mint > maxt {
            return Err(format!("series {r}: malformed chunk [{mint}, {maxt}]"));
        }
        data.closed.push(HeadChunk {
            mint,
            maxt,
            first_index,
            num,
            data: Arc::from(bytes),
        });
    }
    data.open = match d.byte() {
        Some(0) => None,
        Some(1) => Some(decode_open(d, r)?),
        _ => return Err("bad open-chunk flag".into()),
    };
    let n = count(d, "out-of-order sample")?;
    data.ooo.reserve_exact(n);
    for _ in 0..n {
        let t = d.varint().ok_or("truncated out-of-order timestamp")?;
        let v = f64_bits(d, "out-of-order value")?;
        if data.ooo.last().is_some_and(|p| p.t >= t) {
            return Err(format!("series {r}: out-of-order samples not sorted"));
        }
        data.ooo.push(OooSample { t, v, append_id: 0 });
    }
    let n = count(d, "deletion")?;
    for _ in 0..n {
        let mint = d.varint().ok_or("truncated deletion")?;
        let maxt = d.varint().ok_or("truncated deletion")?;
        data.deleted.push(Interval { mint, maxt });
    }
    Ok(LoadedSeries {
        r,
        logged,
        labels,
        data,
    })
}

fn decode_open(d: &mut Decbuf<'_>, r: u64) -> Result<OpenChunk, String> {
    let mint = d.varint().ok_or("truncated open chunk mint")?;
    let first_index = d.uvarint().ok_or("truncated open chunk index")?;
    let next_at = d.varint().ok_or("truncated open chunk cut time")?;
    let range_end = d.varint().ok_or("truncated open chunk range end")?;
    let bytes = d.len_bytes().ok_or("truncated open chunk data")?;
    let app =
        XorAppender::resume(bytes).ok_or_else(|| format!("series {r}: malformed open chunk"))?;
    Ok(OpenChunk {
        app,
        mint,
        first_index,
        next_at,
        range_end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::labels;

    #[test]
    fn series_round_trip_and_truncation_is_an_error() {
        let s = MemSeries::new(42, labels!("__name__" => "up", "job" => "a"));
        {
            let mut d = s.data.lock();
            for i in 0..300 {
                d.append(i * 15_000, i as f64, 0, 7_200_000, 120);
            }
            d.insert_ooo(-5, 1.5, 3);
            d.deleted.push(Interval { mint: 1, maxt: 2 });
        }
        let mut buf = Vec::new();
        encode_series(&s, true, &s.data.lock(), &mut buf);
        let got = decode_series(&mut Decbuf::new(&buf)).unwrap();
        let want = s.data.lock();
        assert_eq!(got.r, 42);
        assert!(got.logged);
        assert_eq!(got.labels, s.labels);
        assert_eq!(got.data.closed.len(), want.closed.len());
        assert_eq!(got.data.next_index, 300);
        let (a, b) = (got.data.open.as_ref().unwrap(), want.open.as_ref().unwrap());
        assert_eq!(a.app.bytes(), b.app.bytes());
        assert_eq!(
            (a.mint, a.next_at, a.range_end),
            (b.mint, b.next_at, b.range_end)
        );
        assert_eq!(got.data.ooo.len(), 1);
        assert_eq!(got.data.deleted, want.deleted);
        for cut in 0..buf.len() {
            assert!(
                decode_series(&mut Decbuf::new(&buf[..cut])).is_err(),
                "cut at {cut}"
            );
        }
    }
}
