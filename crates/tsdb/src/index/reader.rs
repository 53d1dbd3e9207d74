//! Reading a block index straight from its memory map.
//!
//! Opening verifies the TOC and every section checksum, then loads two small tables into
//! memory: symbol offsets and the postings table. Series entries and postings bitmaps are
//! decoded from the map on demand.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use argus_model::Labels;
use roaring::RoaringBitmap;

use super::{section, ChunkEntry, MAGIC, SECTIONS, TOC_LEN, VERSION};
use crate::encoding::Decbuf;
use crate::error::{Result, TsdbError};
use crate::fs::mmap::MmapFile;
use crate::querier::postings::PostingsIndex;

/// Where a postings list lives in the postings section.
#[derive(Debug, Clone, Copy)]
struct PostingsRef {
    value: u32,
    offset: usize,
    len: usize,
}

/// A block index.
#[derive(Debug)]
pub struct IndexReader {
    file: Arc<MmapFile>,
    sections: [(usize, usize); SECTIONS],
    /// (start, end) of each symbol in the file.
    symbols: Vec<(u32, u32)>,
    /// Label name → its values' postings, sorted by value.
    table: HashMap<String, Vec<PostingsRef>>,
    num_series: u32,
}

impl IndexReader {
    /// Opens and verifies the index at `path`.
    pub fn open(path: &Path) -> Result<IndexReader> {
        let file = Arc::new(MmapFile::open(path)?);
        let b = file.bytes();
        let bad = |off: usize, why: String| TsdbError::corruption(path, off as u64, why);
        if b.len() < 8 + TOC_LEN {
            return Err(bad(0, format!("index of {} bytes is too short", b.len())));
        }
        if b.get(0..4) != Some(MAGIC.as_slice()) {
            return Err(bad(0, "bad index magic".into()));
        }
        if b.get(4) != Some(&VERSION) {
            return Err(bad(4, format!("unsupported index version {:?}", b.get(4))));
        }
        if b.get(5..8) != Some([0u8, 0, 0].as_slice()) {
            return Err(bad(5, "non-zero reserved header bytes".into()));
        }
        let toc_start = b.len() - TOC_LEN;
        let toc = b.get(toc_start..).unwrap_or(&[]);
        let (toc_body, toc_crc) = toc.split_at(TOC_LEN - 4);
        if crc32c::crc32c(toc_body).to_be_bytes() != toc_crc {
            return Err(bad(toc_start, "index TOC checksum mismatch".into()));
        }
        let mut d = Decbuf::new(toc_body);
        let mut sections = [(0usize, 0usize); SECTIONS];
        for (i, s) in sections.iter_mut().enumerate() {
            let (Some(off), Some(len)) = (d.u64_be(), d.u64_be()) else {
                return Err(bad(toc_start, "truncated TOC".into()));
            };
            let (off, len) = (off as usize, len as usize);
            let end = off
                .checked_add(len)
                .filter(|&e| e.checked_add(4).is_some_and(|x| x <= toc_start))
                .ok_or_else(|| bad(toc_start, format!("section {i} outside the file")))?;
            let body = b.get(off..end).unwrap_or(&[]);
            let crc = b.get(end..end + 4).unwrap_or(&[]);
            if crc32c::crc32c(body).to_be_bytes() != crc {
                return Err(bad(off, format!("index section {i} checksum mismatch")));
            }
            *s = (off, end);
        }

        // Symbols.
        let (s0, s1) = sections[section::SYMBOLS];
        let mut d = Decbuf::new(b.get(s0..s1).unwrap_or(&[]));
        let n = d
            .uvarint()
            .ok_or_else(|| bad(s0, "bad symbol count".into()))?;
        let mut symbols = Vec::with_capacity((n as usize).min(b.len()));
        for _ in 0..n {
            let len = d
                .uvarint()
                .and_then(|l| usize::try_from(l).ok())
                .ok_or_else(|| bad(s0 + d.offset(), "bad symbol length".into()))?;
            let start = s0 + d.offset();
            let sb = d
                .bytes(len)
                .ok_or_else(|| bad(start, "symbol outside section".into()))?;
            if std::str::from_utf8(sb).is_err() {
                return Err(bad(start, "symbol is not UTF-8".into()));
            }
            symbols.push((start as u32, (start + len) as u32));
        }

        let (o0, o1) = sections[section::SERIES_OFFSETS];
        if (o1 - o0) % 4 != 0 {
            return Err(bad(o0, "series offsets not a multiple of 4".into()));
        }
        let num_series =
            u32::try_from((o1 - o0) / 4).map_err(|_| bad(o0, "too many series".into()))?;

        let mut r = IndexReader {
            file: file.clone(),
            sections,
            symbols,
            table: HashMap::new(),
            num_series,
        };
        let (t0, t1) = sections[section::POSTINGS_TABLE];
        let (p0, p1) = sections[section::POSTINGS];
        let mut d = Decbuf::new(b.get(t0..t1).unwrap_or(&[]));
        let names = d
            .uvarint()
            .ok_or_else(|| bad(t0, "bad postings table".into()))?;
        for _ in 0..names {
            let name = d
                .uvarint()
                .and_then(|x| r.symbol(x as u32))
                .ok_or_else(|| bad(t0 + d.offset(), "bad label name id".into()))?
                .to_owned();
            let nv = d
                .uvarint()
                .ok_or_else(|| bad(t0 + d.offset(), "bad value count".into()))?;
            let mut vals = Vec::with_capacity((nv as usize).min(t1 - t0));
            for _ in 0..nv {
                let (Some(v), Some(off), Some(len)) = (d.uvarint(), d.uvarint(), d.uvarint())
                else {
                    return Err(bad(t0 + d.offset(), "truncated postings table".into()));
                };
                let (off, len) = (off as usize, len as usize);
                if v as usize >= r.symbols.len() || off.checked_add(len).is_none_or(|e| p0 + e > p1)
                {
                    return Err(bad(t0 + d.offset(), "postings entry out of range".into()));
                }
                vals.push(PostingsRef {
                    value: v as u32,
                    offset: p0 + off,
                    len,
                });
            }
            r.table.insert(name, vals);
        }
        Ok(r)
    }

    /// Symbol `id`.
    pub fn symbol(&self, id: u32) -> Option<&str> {
        let &(s, e) = self.symbols.get(id as usize)?;
        std::str::from_utf8(self.file.bytes().get(s as usize..e as usize)?).ok()
    }

    /// Number of series.
    pub fn num_series(&self) -> u32 {
        self.num_series
    }

    /// Number of symbols.
    pub fn num_symbols(&self) -> usize {
        self.symbols.len()
    }

    /// Size of the index file.
    pub fn size(&self) -> usize {
        self.file.len()
    }

    /// The path of the index file.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    fn corrupt(&self, why: String) -> TsdbError {
        TsdbError::corruption(self.file.path(), 0, why)
    }

    /// Labels and chunk entries of series `ord`.
    pub fn series(&self, ord: u32, chunks: &mut Vec<ChunkEntry>) -> Result<Labels> {
        let b = self.file.bytes();
        let (o0, _) = self.sections[section::SERIES_OFFSETS];
        let at = o0 + ord as usize * 4;
        let off = b
            .get(at..at + 4)
            .and_then(crate::encoding::le_u32)
            .map(|x| x as usize)
            .ok_or_else(|| self.corrupt(format!("series {ord} out of range")))?;
        let (s0, s1) = self.sections[section::SERIES];
        let mut d = Decbuf::new(b.get(s0 + off..s1).unwrap_or(&[]));
        let bad = || self.corrupt(format!("malformed series entry {ord}"));
        let n = d.uvarint().ok_or_else(bad)?;
        let mut pairs = Vec::with_capacity((n as usize).min(64));
        for _ in 0..n {
            let name = d
                .uvarint()
                .and_then(|x| self.symbol(x as u32))
                .ok_or_else(bad)?;
            let value = d
                .uvarint()
                .and_then(|x| self.symbol(x as u32))
                .ok_or_else(bad)?;
            pairs.push((name, value));
        }
        let nc = d.uvarint().ok_or_else(bad)?;
        chunks.clear();
        let mut r = 0u64;
        for i in 0..nc {
            let mint = d.varint().ok_or_else(bad)?;
            let span = d.uvarint().ok_or_else(bad)?;
            let x = d.uvarint().ok_or_else(bad)?;
            r = if i == 0 { x } else { r.wrapping_add(x) };
            chunks.push(ChunkEntry {
                mint,
                maxt: mint.wrapping_add(span as i64),
                r,
            });
        }
        Ok(Labels::from_sorted_iter(pairs))
    }

    /// Sorted label names.
    pub fn label_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.table.keys().cloned().collect();
        v.sort();
        v
    }

    /// Sorted values of label `name`.
    pub fn label_values(&self, name: &str) -> Vec<String> {
        self.table
            .get(name)
            .map(|vals| {
                vals.iter()
                    .filter_map(|p| self.symbol(p.value).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn read_postings(&self, p: &PostingsRef) -> Result<RoaringBitmap> {
        let b = self
            .file
            .bytes()
            .get(p.offset..p.offset + p.len)
            .ok_or_else(|| self.corrupt("postings out of range".into()))?;
        RoaringBitmap::deserialize_from(b)
            .map_err(|e| self.corrupt(format!("malformed postings at {}: {e}", p.offset)))
    }

    /// Number of label pairs.
    pub fn num_label_pairs(&self) -> usize {
        self.table.values().map(Vec::len).sum()
    }

    /// Calls `f(name, value, series count)` for every label pair (analysis tools).
    pub fn for_each_pair(&self, mut f: impl FnMut(&str, &str, u64)) -> Result<()> {
        for (name, vals) in &self.table {
            for p in vals {
                let n = self.read_postings(p)?.len();
                f(name, self.symbol(p.value).unwrap_or(""), n);
            }
        }
        Ok(())
    }
}

impl PostingsIndex for IndexReader {
    type Set = RoaringBitmap;

    fn all_postings(&self) -> Result<RoaringBitmap> {
        let mut b = RoaringBitmap::new();
        b.insert_range(0..self.num_series);
        Ok(b)
    }

    fn postings(&self, name: &str, value: &str) -> Result<RoaringBitmap> {
        let Some(vals) = self.table.get(name) else {
            return Ok(RoaringBitmap::new());
        };
        let i = vals.partition_point(|p| self.symbol(p.value).is_some_and(|s| s < value));
        match vals.get(i) {
            Some(p) if self.symbol(p.value) == Some(value) => self.read_postings(p),
            _ => Ok(RoaringBitmap::new()),
        }
    }

    fn postings_where(&self, name: &str, keep: &dyn Fn(&str) -> bool) -> Result<RoaringBitmap> {
        let mut out = RoaringBitmap::new();
        if let Some(vals) = self.table.get(name) {
            for p in vals {
                if self.symbol(p.value).is_some_and(keep) {
                    out |= self.read_postings(p)?;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::writer::write_index;
    use crate::querier::postings::postings_for_matchers;
    use argus_model::{labels, MatchOp, Matcher};

    fn sample_index(dir: &Path) -> std::path::PathBuf {
        let mut series = vec![
            (
                labels!("__name__" => "up", "job" => "a"),
                vec![ChunkEntry {
                    mint: 0,
                    maxt: 10,
                    r: 8,
                }],
            ),
            (
                labels!("__name__" => "up", "job" => "b"),
                vec![
                    ChunkEntry {
                        mint: 0,
                        maxt: 10,
                        r: 40,
                    },
                    ChunkEntry {
                        mint: 11,
                        maxt: 20,
                        r: 90,
                    },
                ],
            ),
            (
                labels!("__name__" => "go", "job" => "a", "x" => "1"),
                vec![],
            ),
        ];
        series.sort_by(|a, b| a.0.cmp(&b.0));
        let p = dir.join("index");
        write_index(&p, &series).unwrap();
        p
    }

    #[test]
    fn write_read_round_trip() {
        let d = tempfile::tempdir().unwrap();
        let p = sample_index(d.path());
        let ix = IndexReader::open(&p).unwrap();
        assert_eq!(ix.num_series(), 3);
        let mut ch = Vec::new();
        let l = ix.series(0, &mut ch).unwrap();
        assert_eq!(l, labels!("__name__" => "go", "job" => "a", "x" => "1"));
        let l = ix.series(2, &mut ch).unwrap();
        assert_eq!(l, labels!("__name__" => "up", "job" => "b"));
        assert_eq!(
            ch,
            vec![
                ChunkEntry {
                    mint: 0,
                    maxt: 10,
                    r: 40
                },
                ChunkEntry {
                    mint: 11,
                    maxt: 20,
                    r: 90
                }
            ]
        );
        assert_eq!(ix.label_names(), vec!["__name__", "job", "x"]);
        assert_eq!(ix.label_values("job"), vec!["a", "b"]);
        let ms = [
            Matcher::equal("__name__", "up"),
            Matcher::new(MatchOp::NotRegex, "job", "b").unwrap(),
        ];
        let got: Vec<u32> = postings_for_matchers(&ix, &ms).unwrap().iter().collect();
        assert_eq!(got, vec![1]);
        assert!(ix.series(3, &mut ch).is_err());
    }

    #[test]
    fn every_flipped_byte_is_detected_at_open() {
        let d = tempfile::tempdir().unwrap();
        let p = sample_index(d.path());
        let good = std::fs::read(&p).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            std::fs::write(&p, &bad).unwrap();
            let r = IndexReader::open(&p);
            assert!(
                r.is_err(),
                "flip at byte {i} of {} not detected",
                good.len()
            );
            let msg = r.unwrap_err().to_string();
            assert!(msg.contains("index"), "{msg}");
        }
        std::fs::write(&p, &good[..good.len() - 1]).unwrap();
        assert!(IndexReader::open(&p).is_err());
    }
}
