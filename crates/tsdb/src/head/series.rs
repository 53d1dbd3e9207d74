//! One series in the head: its labels, closed and open XOR chunks, out-of-order buffer,
//! deletions, and the commit bookkeeping that isolation needs.
//!
//! ```text
//!  closed chunks (immutable, Arc)            open chunk (appending)
//!  [c0: 0..119] [c1: 120..239] ... [cN]      [XorAppender: next_index − first_index samples]
//!   ^ sample indexes count every in-order sample ever appended, so a reader can be told
//!     "read samples below index k" no matter how chunks were cut or truncated since.
//!  tx: (append_id, first sample index) of recent commits, oldest first.
//!  ooo: sorted (t, v, append_id) of samples older than the series' newest in-order sample.
//! ```

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32};
use std::sync::Arc;

use argus_model::Labels;
use parking_lot::Mutex;

use crate::chunk::xor::XorAppender;
use crate::chunk::{ChunkData, ChunkMeta};
use crate::tombstones::Interval;

/// Chunks are hard-capped at this many bytes (Prometheus' `maxBytesPerXORChunk`).
pub const MAX_CHUNK_BYTES: usize = 1024;

/// An immutable head chunk.
#[derive(Debug, Clone)]
pub struct HeadChunk {
    /// First timestamp.
    pub mint: i64,
    /// Last timestamp.
    pub maxt: i64,
    /// Index of its first sample among all in-order samples of the series.
    pub first_index: u64,
    /// Sample count.
    pub num: u16,
    /// Encoded XOR chunk.
    pub data: Arc<[u8]>,
}

/// The chunk being appended to.
#[derive(Debug, Clone)]
pub struct OpenChunk {
    /// The encoder.
    pub app: XorAppender,
    /// First timestamp.
    pub mint: i64,
    /// Index of its first sample.
    pub first_index: u64,
    /// Cut a new chunk at or after this timestamp.
    pub next_at: i64,
    /// Never extend past this timestamp (end of the chunk range containing `mint`).
    pub range_end: i64,
}

/// An out-of-order sample.
#[derive(Debug, Clone, Copy)]
pub struct OooSample {
    /// Timestamp.
    pub t: i64,
    /// Value.
    pub v: f64,
    /// Commit that added it (isolation).
    pub append_id: u64,
}

/// The commit records of one series, oldest first. Without a long-running reader there is
/// at most one, so it lives inline: a heap buffer per series (64 bytes × every series) only
/// appears while readers hold older commits visible.
#[derive(Debug, Default)]
pub struct TxLog {
    first: Option<(u64, u64)>,
    rest: VecDeque<(u64, u64)>,
}

impl TxLog {
    /// The newest record.
    pub fn back(&self) -> Option<&(u64, u64)> {
        self.rest.back().or(self.first.as_ref())
    }

    /// The oldest record.
    pub fn front(&self) -> Option<&(u64, u64)> {
        self.first.as_ref()
    }

    /// Adds a newer record.
    pub fn push_back(&mut self, x: (u64, u64)) {
        if self.first.is_none() {
            self.first = Some(x);
        } else {
            self.rest.push_back(x);
        }
    }

    /// Drops the oldest record.
    pub fn pop_front(&mut self) -> Option<(u64, u64)> {
        let old = self.first.take();
        self.first = self.rest.pop_front();
        if self.rest.is_empty() && self.rest.capacity() > 0 {
            self.rest = VecDeque::new();
        }
        old
    }

    /// Records, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &(u64, u64)> {
        self.first.iter().chain(self.rest.iter())
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }
}

/// Mutable state of a series.
#[derive(Debug, Default)]
pub struct SeriesData {
    /// Closed in-order chunks, by time.
    pub closed: Vec<HeadChunk>,
    /// The open chunk.
    pub open: Option<OpenChunk>,
    /// Index the next in-order sample will get.
    pub next_index: u64,
    /// Newest in-order timestamp (`i64::MIN` when none).
    pub last_t: i64,
    /// Value at `last_t`.
    pub last_v: f64,
    /// Out-of-order samples, sorted by timestamp.
    pub ooo: Vec<OooSample>,
    /// Recent commits: (append ID, index of the first sample it added), oldest first.
    pub tx: TxLog,
    /// Deleted intervals (head tombstones).
    pub deleted: Vec<Interval>,
}

/// A head series.
#[derive(Debug)]
pub struct MemSeries {
    /// Head reference (also the WAL's series reference).
    pub r: u64,
    /// Labels.
    pub labels: Labels,
    /// True once a Series record for it is in the WAL.
    pub logged: AtomicBool,
    /// Open appenders holding samples for it; garbage collection skips it while non-zero.
    pub pending: AtomicU32,
    /// Everything that changes.
    pub data: Mutex<SeriesData>,
}

impl MemSeries {
    /// A new, empty series.
    pub fn new(r: u64, labels: Labels) -> Self {
        MemSeries {
            r,
            labels,
            logged: AtomicBool::new(false),
            pending: AtomicU32::new(0),
            data: Mutex::new(SeriesData {
                last_t: i64::MIN,
                ..SeriesData::default()
            }),
        }
    }
}

/// End of the chunk range (block range) containing `t`.
pub fn range_end(t: i64, range: i64) -> i64 {
    t.div_euclid(range)
        .saturating_mul(range)
        .saturating_add(range)
}

/// Prometheus' `computeChunkEndTime`: spread the samples of the rest of the range evenly over
/// whole chunks, given that the current chunk reached 1/`ratio` of its target size.
fn chunk_end_time(start: i64, cur: i64, max: i64, ratio: f64) -> i64 {
    let n = (max - start) as f64 / ((cur - start + 1) as f64 * ratio);
    if n <= 1.0 {
        return max;
    }
    start + ((max - start) as f64 / n.floor()) as i64
}

impl SeriesData {
    /// Appends an in-order sample (the caller checked `t > last_t`). Returns true when a new
    /// chunk was cut.
    pub fn append(&mut self, t: i64, v: f64, append_id: u64, chunk_range: i64, spc: u16) -> bool {
        let mut cut = false;
        let needs_cut = match &self.open {
            None => true,
            Some(o) => {
                let n = o.app.num_samples();
                t >= o.next_at
                    || t >= o.range_end
                    || n >= spc.saturating_mul(2)
                    || o.app.size() >= MAX_CHUNK_BYTES
            }
        };
        if needs_cut {
            self.close_open();
            let end = range_end(t, chunk_range);
            self.open = Some(OpenChunk {
                app: XorAppender::new(),
                mint: t,
                first_index: self.next_index,
                next_at: end,
                range_end: end,
            });
            cut = true;
        }
        if let Some(o) = self.open.as_mut() {
            o.app.append(t, v);
            if o.app.num_samples() == (spc / 4).max(1) {
                o.next_at = chunk_end_time(o.mint, t, o.next_at, 4.0);
            }
        }
        if self.tx.back().is_none_or(|&(id, _)| id != append_id) && append_id != 0 {
            self.tx.push_back((append_id, self.next_index));
        }
        self.next_index += 1;
        self.last_t = t;
        self.last_v = v;
        cut
    }

    /// Moves the open chunk to the closed list.
    pub fn close_open(&mut self) {
        if let Some(o) = self.open.take() {
            let num = o.app.num_samples();
            if num == 0 {
                return;
            }
            let maxt = o.app.last_t();
            // A series gains a chunk every ~30 min: exact growth costs a rare small copy,
            // doubling would leave up to half of every series' chunk list unused.
            self.closed.reserve_exact(1);
            self.closed.push(HeadChunk {
                mint: o.mint,
                maxt,
                first_index: o.first_index,
                num,
                data: o.app.into_bytes().into(),
            });
        }
    }

    /// Inserts an out-of-order sample. Returns false (and changes nothing) when a sample
    /// with the same timestamp is already buffered.
    pub fn insert_ooo(&mut self, t: i64, v: f64, append_id: u64) -> bool {
        let i = self.ooo.partition_point(|s| s.t < t);
        if self.ooo.get(i).is_some_and(|s| s.t == t) {
            return false;
        }
        self.ooo.insert(i, OooSample { t, v, append_id });
        true
    }

    /// The value of the buffered out-of-order sample at `t`, if any.
    pub fn ooo_at(&self, t: i64) -> Option<f64> {
        let i = self.ooo.partition_point(|s| s.t < t);
        self.ooo.get(i).filter(|s| s.t == t).map(|s| s.v)
    }

    /// Number of in-order samples visible to a reader that sees commits up to `max_id`.
    pub fn visible_limit(&self, max_id: u64) -> u64 {
        self.tx
            .iter()
            .find(|&&(id, _)| id > max_id)
            .map(|&(_, first)| first)
            .unwrap_or(self.next_index)
    }

    /// Drops commit records every current and future reader can already see.
    pub fn clean_tx(&mut self, low_watermark: u64) {
        while self.tx.front().is_some_and(|&(id, _)| id <= low_watermark) {
            self.tx.pop_front();
        }
    }

    /// Number of chunks (closed + open).
    pub fn num_chunks(&self) -> usize {
        self.closed.len() + usize::from(self.open.as_ref().is_some_and(|o| o.app.num_samples() > 0))
    }

    /// Chunks overlapping `[mint, maxt]` for a reader that sees commits up to `max_id`,
    /// with per-chunk sample limits. The open chunk's bytes are copied, since appends keep
    /// changing them.
    pub fn chunk_metas(&self, mint: i64, maxt: i64, max_id: u64) -> Vec<ChunkMeta> {
        let visible = self.visible_limit(max_id);
        let limit = |first: u64, num: u16| -> u16 {
            let n = visible.saturating_sub(first);
            u16::try_from(n).unwrap_or(u16::MAX).min(num)
        };
        let mut out = Vec::new();
        for c in &self.closed {
            if c.maxt < mint || c.mint > maxt {
                continue;
            }
            let l = limit(c.first_index, c.num);
            if l == 0 {
                continue;
            }
            out.push(ChunkMeta {
                mint: c.mint,
                maxt: c.maxt,
                data: ChunkData::Owned(c.data.clone()),
                limit: l,
            });
        }
        if let Some(o) = &self.open {
            let n = o.app.num_samples();
            let l = limit(o.first_index, n);
            if l > 0 && o.mint <= maxt && o.app.last_t() >= mint {
                out.push(ChunkMeta {
                    mint: o.mint,
                    maxt: o.app.last_t(),
                    data: ChunkData::Owned(Arc::from(o.app.bytes())),
                    limit: l,
                });
            }
        }
        out
    }

    /// Drops in-order chunks entirely before `mint` and out-of-order samples before `mint`
    /// added by commits up to `max_id`. Returns the number of chunks removed.
    pub fn truncate_before(&mut self, mint: i64, max_id: u64) -> usize {
        let before = self.closed.len();
        self.closed.retain(|c| c.maxt >= mint);
        let mut removed = before - self.closed.len();
        if self.open.as_ref().is_some_and(|o| o.app.last_t() < mint) {
            self.open = None;
            removed += 1;
        }
        self.ooo.retain(|s| s.t >= mint || s.append_id > max_id);
        self.deleted.retain(|iv| iv.maxt >= mint);
        removed
    }

    /// True when nothing is left (the series can be garbage-collected).
    pub fn is_empty(&self) -> bool {
        self.closed.is_empty() && self.open.is_none() && self.ooo.is_empty()
    }

    /// Smallest timestamp held.
    pub fn min_time(&self) -> Option<i64> {
        let a = self
            .closed
            .first()
            .map(|c| c.mint)
            .or(self.open.as_ref().map(|o| o.mint));
        let b = self.ooo.first().map(|s| s.t);
        match (a, b) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cut_at_target_and_at_range_boundary() {
        let mut s = SeriesData {
            last_t: i64::MIN,
            ..Default::default()
        };
        let range = 7_200_000;
        // 15 s interval over 3 ranges: 480 samples per range → 4 chunks of 120 per range.
        for i in 0..1440 {
            s.append(i * 15_000, i as f64, 0, range, 120);
        }
        s.close_open();
        assert_eq!(
            s.closed.len(),
            12,
            "{:?}",
            s.closed.iter().map(|c| c.num).collect::<Vec<_>>()
        );
        assert!(s.closed.iter().all(|c| c.num == 120));
        for c in &s.closed {
            assert_eq!(
                range_end(c.mint, range),
                range_end(c.maxt, range),
                "no chunk crosses a range"
            );
        }
    }

    #[test]
    fn visibility_limits_follow_commits() {
        let mut s = SeriesData {
            last_t: i64::MIN,
            ..Default::default()
        };
        s.append(1, 1.0, 1, 1000, 120);
        s.append(2, 2.0, 1, 1000, 120);
        s.append(3, 3.0, 2, 1000, 120);
        assert_eq!(s.visible_limit(0), 0);
        assert_eq!(s.visible_limit(1), 2);
        assert_eq!(s.visible_limit(2), 3);
        let metas = s.chunk_metas(0, 10, 1);
        assert_eq!(metas[0].limit, 2);
        s.clean_tx(1);
        assert_eq!(s.tx.len(), 1);
        assert_eq!(s.visible_limit(1), 2);
    }

    #[test]
    fn ooo_insert_sorted_and_dedup() {
        let mut s = SeriesData::default();
        assert!(s.insert_ooo(5, 5.0, 1));
        assert!(s.insert_ooo(3, 3.0, 1));
        assert!(!s.insert_ooo(5, 6.0, 2));
        assert_eq!(s.ooo.iter().map(|x| x.t).collect::<Vec<_>>(), vec![3, 5]);
        assert_eq!(s.ooo_at(5), Some(5.0));
    }
}
