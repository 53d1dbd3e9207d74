//! Sample iterators: over a list of chunks of one source, and a merge of several sources.
//!
//! A series' data can come from several places at once (blocks that overlap after
//! out-of-order ingestion, the head's in-order chunks and its out-of-order buffer), so
//! queries iterate one [`ChunksIterator`] per source and combine them with [`MergeIterator`],
//! which yields timestamps in order and drops duplicates (the first source wins, as in
//! Prometheus' vertical merge).

use std::sync::Arc;

use argus_model::{Sample, SampleIterator, StorageError};

use super::columnar::{decode_times, decode_values};
use super::xor::XorDecoder;
use super::{ChunkData, ChunkMeta};
use crate::tombstones::{is_deleted, Interval};

/// Where the iterator is inside the current chunk.
enum Decoder {
    /// Sample by sample through an XOR chunk.
    Xor(XorDecoder),
    /// Position in the decoded columns of a columnar chunk.
    Columns(usize),
}

/// Iterates the samples of chunks sorted by time and not overlapping, clipped to
/// `[mint, maxt]` and skipping deleted intervals.
pub struct ChunksIterator {
    chunks: Vec<ChunkMeta>,
    idx: usize,
    dec: Option<Decoder>,
    /// Decoded columns of the current columnar chunk (reused across chunks).
    ts: Vec<i64>,
    vs: Vec<f64>,
    scratch: Vec<i64>,
    read_in_chunk: u16,
    mint: i64,
    maxt: i64,
    deleted: Arc<[Interval]>,
    cur: Sample,
    started: bool,
    done: bool,
    err: Option<StorageError>,
}

impl ChunksIterator {
    /// Iterates `chunks` within `[mint, maxt]`, skipping `deleted` (sorted, disjoint).
    pub fn new(chunks: Vec<ChunkMeta>, mint: i64, maxt: i64, deleted: Arc<[Interval]>) -> Self {
        ChunksIterator {
            chunks,
            idx: 0,
            dec: None,
            ts: Vec::new(),
            vs: Vec::new(),
            scratch: Vec::new(),
            read_in_chunk: 0,
            mint,
            maxt,
            deleted,
            cur: Sample::new(i64::MIN, f64::NAN),
            started: false,
            done: false,
            err: None,
        }
    }

    /// Opens chunk `idx` (verifying its checksum); false when exhausted or failed.
    fn open_chunk(&mut self) -> bool {
        loop {
            let Some(c) = self.chunks.get(self.idx) else {
                self.done = true;
                return false;
            };
            if c.mint > self.maxt {
                self.done = true;
                return false;
            }
            if c.maxt < self.mint || c.limit == 0 {
                self.idx += 1;
                continue;
            }
            if let Err((file, reason)) = c.data.verify() {
                self.err = Some(StorageError::Corruption { file, reason });
                self.done = true;
                return false;
            }
            self.read_in_chunk = 0;
            if let ChunkData::Columnar(col) = &c.data {
                // Decoded whole: bulk unpacking beats sample-by-sample bit reading even when
                // a lookback query needs only the tail.
                let ok = decode_times(col.times.bytes(), &mut self.ts).is_some()
                    && decode_values(col.values.bytes(), &mut self.vs, &mut self.scratch).is_some()
                    && self.ts.len() == self.vs.len();
                if !ok {
                    self.err = Some(StorageError::Corruption {
                        file: c.data.path(),
                        reason: format!(
                            "malformed columnar chunk {} ({}..{})",
                            self.idx, c.mint, c.maxt
                        ),
                    });
                    self.done = true;
                    return false;
                }
                let start = if self.mint > c.mint {
                    self.ts.partition_point(|&t| t < self.mint)
                } else {
                    0
                };
                self.read_in_chunk = u16::try_from(start).unwrap_or(u16::MAX);
                self.dec = Some(Decoder::Columns(start));
            } else {
                self.dec = Some(Decoder::Xor(XorDecoder::new(c.data.bytes())));
            }
            return true;
        }
    }

    /// Reads the next raw sample of the current chunk position, moving across chunks.
    #[inline]
    fn step(&mut self) -> bool {
        loop {
            if self.done {
                return false;
            }
            if self.dec.is_none() && !self.open_chunk() {
                return false;
            }
            let Some(c) = self.chunks.get(self.idx) else {
                self.done = true;
                return false;
            };
            let Some(dec) = self.dec.as_mut() else {
                return false;
            };
            match dec {
                Decoder::Columns(pos) => {
                    if self.read_in_chunk < c.limit {
                        if let (Some(&t), Some(&v)) = (self.ts.get(*pos), self.vs.get(*pos)) {
                            *pos += 1;
                            self.read_in_chunk += 1;
                            self.cur = Sample::new(t, v);
                            return true;
                        }
                    }
                }
                Decoder::Xor(dec) => {
                    if self.read_in_chunk < c.limit && dec.next(c.data.bytes()) {
                        self.read_in_chunk += 1;
                        let (t, v) = dec.at();
                        self.cur = Sample::new(t, v);
                        return true;
                    }
                    if dec.failed() {
                        self.err = Some(StorageError::Corruption {
                            file: c.data.path(),
                            reason: format!(
                                "malformed chunk {} ({}..{}) after {} samples",
                                self.idx, c.mint, c.maxt, self.read_in_chunk
                            ),
                        });
                        self.done = true;
                        return false;
                    }
                }
            }
            self.dec = None;
            self.idx += 1;
        }
    }
}

impl SampleIterator for ChunksIterator {
    fn next(&mut self) -> bool {
        self.started = true;
        while self.step() {
            let t = self.cur.t;
            if t < self.mint {
                continue;
            }
            if t > self.maxt {
                self.done = true;
                return false;
            }
            if !self.deleted.is_empty() && is_deleted(&self.deleted, t) {
                continue;
            }
            return true;
        }
        false
    }

    fn seek(&mut self, t: i64) -> bool {
        if self.started && !self.done && self.cur.t >= t {
            return true;
        }
        if self.done {
            return false;
        }
        // Skip whole chunks that end before `t` without decoding them.
        let skip_to = self.mint.max(t);
        while let Some(c) = self.chunks.get(self.idx) {
            if c.maxt >= skip_to {
                break;
            }
            self.idx += 1;
            self.dec = None;
        }
        loop {
            if !self.next() {
                return false;
            }
            if self.cur.t >= t {
                return true;
            }
        }
    }

    fn at(&self) -> Sample {
        self.cur
    }

    fn err(&self) -> Option<&StorageError> {
        self.err.as_ref()
    }
}

/// Merges sources in timestamp order; on equal timestamps the earliest source wins.
pub struct MergeIterator {
    its: Vec<Box<dyn SampleIterator>>,
    /// Whether each source currently holds an unconsumed sample.
    live: Vec<bool>,
    primed: bool,
    has_cur: bool,
    cur: Sample,
    err: Option<StorageError>,
}

impl MergeIterator {
    /// Merges `its`; with one source it just forwards (callers may skip the wrapper).
    pub fn new(its: Vec<Box<dyn SampleIterator>>) -> Self {
        let n = its.len();
        MergeIterator {
            its,
            live: vec![false; n],
            primed: false,
            has_cur: false,
            cur: Sample::new(i64::MIN, f64::NAN),
            err: None,
        }
    }

    fn check_err(&mut self, i: usize) {
        if self.err.is_none() {
            if let Some(e) = self.its.get(i).and_then(|it| it.err()) {
                self.err = Some(e.clone());
            }
        }
    }

    /// Picks the smallest current sample and advances every source sitting on that timestamp.
    fn emit(&mut self) -> bool {
        let mut best: Option<(usize, i64)> = None;
        for (i, it) in self.its.iter().enumerate() {
            if !self.live.get(i).copied().unwrap_or(false) {
                continue;
            }
            let t = it.at().t;
            if best.is_none_or(|(_, bt)| t < bt) {
                best = Some((i, t));
            }
        }
        let Some((bi, bt)) = best else {
            self.has_cur = false;
            return false;
        };
        self.has_cur = true;
        if let Some(it) = self.its.get(bi) {
            self.cur = it.at();
        }
        for i in 0..self.its.len() {
            let on_best = self.live.get(i).copied().unwrap_or(false)
                && self.its.get(i).is_some_and(|it| it.at().t == bt);
            if on_best {
                let more = self.its.get_mut(i).is_some_and(|it| it.next());
                if let Some(l) = self.live.get_mut(i) {
                    *l = more;
                }
                if !more {
                    self.check_err(i);
                }
            }
        }
        true
    }
}

impl SampleIterator for MergeIterator {
    fn next(&mut self) -> bool {
        if self.err.is_some() {
            return false;
        }
        if !self.primed {
            self.primed = true;
            for i in 0..self.its.len() {
                let more = self.its.get_mut(i).is_some_and(|it| it.next());
                if let Some(l) = self.live.get_mut(i) {
                    *l = more;
                }
                if !more {
                    self.check_err(i);
                }
            }
        }
        if self.err.is_some() {
            return false;
        }
        self.emit()
    }

    fn seek(&mut self, t: i64) -> bool {
        if self.err.is_some() {
            return false;
        }
        if self.has_cur && self.cur.t >= t {
            return true;
        }
        self.primed = true;
        for i in 0..self.its.len() {
            let more = self.its.get_mut(i).is_some_and(|it| it.seek(t));
            if let Some(l) = self.live.get_mut(i) {
                *l = more;
            }
            if !more {
                self.check_err(i);
            }
        }
        if self.err.is_some() {
            return false;
        }
        self.emit()
    }

    fn at(&self) -> Sample {
        self.cur
    }

    fn err(&self) -> Option<&StorageError> {
        self.err.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::xor::encode;
    use crate::chunk::ChunkData;
    use argus_model::storage::VecIterator;

    fn chunk(s: &[(i64, f64)]) -> ChunkMeta {
        ChunkMeta {
            mint: s[0].0,
            maxt: s[s.len() - 1].0,
            data: ChunkData::Owned(encode(s).into()),
            limit: u16::MAX,
        }
    }

    fn drain(it: &mut dyn SampleIterator) -> Vec<i64> {
        let mut v = Vec::new();
        while it.next() {
            v.push(it.at().t);
        }
        v
    }

    #[test]
    fn chunks_clip_delete_seek() {
        let c1 = chunk(&[(1, 1.0), (2, 2.0), (3, 3.0)]);
        let c2 = chunk(&[(10, 1.0), (11, 2.0), (12, 3.0)]);
        let del: Arc<[Interval]> = vec![Interval { mint: 11, maxt: 11 }].into();
        let mut it = ChunksIterator::new(vec![c1.clone(), c2.clone()], 2, 12, del);
        assert_eq!(drain(&mut it), vec![2, 3, 10, 12]);
        let mut it = ChunksIterator::new(vec![c1, c2], i64::MIN, i64::MAX, Arc::from(vec![]));
        assert!(it.seek(4));
        assert_eq!(it.at().t, 10);
        assert!(it.seek(0), "never moves back");
        assert_eq!(it.at().t, 10);
        assert!(!it.seek(13));
        assert!(!it.next());
    }

    #[test]
    fn limit_hides_uncommitted_tail() {
        let mut c = chunk(&[(1, 1.0), (2, 2.0), (3, 3.0)]);
        c.limit = 2;
        let mut it = ChunksIterator::new(vec![c], i64::MIN, i64::MAX, Arc::from(vec![]));
        assert_eq!(drain(&mut it), vec![1, 2]);
    }

    #[test]
    fn merge_dedups_and_orders() {
        let a = VecIterator::new(vec![Sample::new(1, 1.0), Sample::new(3, 3.0)]);
        let b = VecIterator::new(vec![
            Sample::new(2, 2.0),
            Sample::new(3, 99.0),
            Sample::new(4, 4.0),
        ]);
        let mut m = MergeIterator::new(vec![Box::new(a.clone()), Box::new(b.clone())]);
        let mut got = Vec::new();
        while m.next() {
            got.push((m.at().t, m.at().v));
        }
        assert_eq!(got, vec![(1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0)]);
        let mut m = MergeIterator::new(vec![Box::new(a), Box::new(b)]);
        assert!(m.seek(3));
        assert_eq!(m.at().v, 3.0);
        assert!(m.next());
        assert_eq!(m.at().t, 4);
        assert!(!m.next());
    }

    #[test]
    fn corrupt_mapped_chunk_reports_error() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c");
        let mut bytes = vec![crate::chunk::xor::ENCODING_XOR];
        bytes.extend_from_slice(&encode(&[(1, 1.0), (2, 2.0)]));
        let crc = crc32c::crc32c(&bytes);
        let len = bytes.len();
        bytes[5] ^= 0xff;
        std::fs::write(&p, &bytes).unwrap();
        let file = Arc::new(crate::fs::mmap::MmapFile::open(&p).unwrap());
        let c = ChunkMeta {
            mint: 1,
            maxt: 2,
            data: ChunkData::Mapped {
                file,
                start: 1,
                end: len,
                crc,
            },
            limit: u16::MAX,
        };
        let mut it = ChunksIterator::new(vec![c], 0, 10, Arc::from(vec![]));
        assert!(!it.next());
        assert!(it.err().unwrap().to_string().contains("checksum mismatch"));
    }
}
