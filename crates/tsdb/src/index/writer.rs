//! Writing a block index (layout in the module documentation of [`crate::index`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use argus_model::Labels;
use roaring::RoaringBitmap;

use super::{ChunkEntry, MAGIC, SECTIONS, VERSION};
use crate::encoding::{put_bytes, put_uvarint, put_varint};
use crate::error::{Result, TsdbError};

/// Writes the index of `series` (sorted by labels, unique) to `path` and fsyncs it. Returns
/// the file size.
pub fn write_index(path: &Path, series: &[(Labels, Vec<ChunkEntry>)]) -> Result<u64> {
    debug_assert!(
        series
            .iter()
            .zip(series.iter().skip(1))
            .all(|(a, b)| a.0 < b.0),
        "BUG: index series not sorted"
    );
    let too_big = |what: &str| TsdbError::InvalidArgument(format!("index {what} exceeds 4 GiB"));

    // Symbols: every label name and value, sorted; IDs are positions.
    let mut set: BTreeSet<&str> = BTreeSet::new();
    for (l, _) in series {
        for lb in l.iter() {
            set.insert(lb.name);
            set.insert(lb.value);
        }
    }
    let symbols: Vec<&str> = set.into_iter().collect();
    let ids: HashMap<&str, u32> = symbols
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, i as u32))
        .collect();
    let id = |s: &str| ids.get(s).copied().unwrap_or(0);

    let mut sections: Vec<Vec<u8>> = Vec::with_capacity(SECTIONS);
    let mut sym = Vec::new();
    put_uvarint(&mut sym, symbols.len() as u64);
    for s in &symbols {
        put_bytes(&mut sym, s.as_bytes());
    }
    sections.push(sym);

    // Series and postings.
    let mut ser = Vec::new();
    let mut offsets = Vec::with_capacity(series.len() * 4);
    let mut postings: BTreeMap<(u32, u32), RoaringBitmap> = BTreeMap::new();
    for (ord, (l, chunks)) in series.iter().enumerate() {
        let ord = u32::try_from(ord).map_err(|_| too_big("series count"))?;
        let off = u32::try_from(ser.len()).map_err(|_| too_big("series section"))?;
        offsets.extend_from_slice(&off.to_le_bytes());
        put_uvarint(&mut ser, l.len() as u64);
        for lb in l.iter() {
            let (n, v) = (id(lb.name), id(lb.value));
            put_uvarint(&mut ser, u64::from(n));
            put_uvarint(&mut ser, u64::from(v));
            postings.entry((n, v)).or_default().insert(ord);
        }
        put_uvarint(&mut ser, chunks.len() as u64);
        let mut prev_ref = 0u64;
        for (i, c) in chunks.iter().enumerate() {
            put_varint(&mut ser, c.mint);
            put_uvarint(&mut ser, c.maxt.wrapping_sub(c.mint) as u64);
            if i == 0 {
                put_uvarint(&mut ser, c.r);
            } else {
                put_uvarint(&mut ser, c.r.wrapping_sub(prev_ref));
            }
            prev_ref = c.r;
        }
    }
    sections.push(ser);
    sections.push(offsets);

    let mut post = Vec::new();
    let mut table: BTreeMap<u32, Vec<(u32, u64, u64)>> = BTreeMap::new();
    for ((n, v), bm) in &postings {
        let start = post.len() as u64;
        bm.serialize_into(&mut post)
            .map_err(|e| TsdbError::io("serialize postings", path, e))?;
        table
            .entry(*n)
            .or_default()
            .push((*v, start, post.len() as u64 - start));
    }
    sections.push(post);
    let mut tab = Vec::new();
    put_uvarint(&mut tab, table.len() as u64);
    for (n, vals) in &table {
        put_uvarint(&mut tab, u64::from(*n));
        put_uvarint(&mut tab, vals.len() as u64);
        for (v, off, len) in vals {
            put_uvarint(&mut tab, u64::from(*v));
            put_uvarint(&mut tab, *off);
            put_uvarint(&mut tab, *len);
        }
    }
    sections.push(tab);

    let f = File::create(path).map_err(|e| TsdbError::io("create", path, e))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let io = |e| TsdbError::io("write", path, e);
    let mut pos = 8u64;
    w.write_all(MAGIC).map_err(io)?;
    w.write_all(&[VERSION, 0, 0, 0]).map_err(io)?;
    let mut toc = Vec::with_capacity(super::TOC_LEN);
    for s in &sections {
        w.write_all(s).map_err(io)?;
        w.write_all(&crc32c::crc32c(s).to_be_bytes()).map_err(io)?;
        toc.extend_from_slice(&pos.to_be_bytes());
        toc.extend_from_slice(&(s.len() as u64).to_be_bytes());
        pos += s.len() as u64 + 4;
    }
    let crc = crc32c::crc32c(&toc);
    toc.extend_from_slice(&crc.to_be_bytes());
    w.write_all(&toc).map_err(io)?;
    let f = w
        .into_inner()
        .map_err(|e| TsdbError::io("flush", path, e.into_error()))?;
    f.sync_all().map_err(|e| TsdbError::io("fsync", path, e))?;
    Ok(pos + toc.len() as u64)
}
