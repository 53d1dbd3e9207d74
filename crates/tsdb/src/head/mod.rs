//! The head: the in-memory, still-filling part of the database.
//!
//! It owns the series (striped map + postings), the WAL writer, the head's time bounds and the
//! isolation state. Appends go through [`appender::HeadAppender`]; reads through
//! [`read`]; WAL replay through [`replay`]; truncation after persistence through
//! [`truncate`].
//!
//! Isolation: commits are serialized by the commit lock (WAL write and in-memory apply happen
//! under it, so the WAL order is the apply order and replay reproduces memory exactly). Each
//! commit gets an increasing append ID; a reader records the newest completed ID when it is
//! created and ignores samples of later commits (see [`series::SeriesData::visible_limit`]).

pub mod appender;
pub mod postings;
pub mod read;
pub mod replay;
pub mod series;
pub mod series_map;
pub mod snapshot;
pub mod truncate;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use argus_model::{AppendError, Labels, Matcher};
use parking_lot::{Mutex, RwLock};

use crate::error::Result;
use crate::metrics::Metrics;
use crate::querier::postings::postings_for_matchers;
use crate::tombstones::{add_interval, Interval};
use crate::wal::record::{encode_tombstones, RefTombstone};
use crate::wal::writer::WalWriter;
use postings::MemPostings;
use series::MemSeries;
use series_map::SeriesMap;

/// Head tunables (derived from [`crate::Options`]).
#[derive(Debug, Clone, Copy)]
pub struct HeadOptions {
    /// Chunk range = smallest block range, ms.
    pub chunk_range: i64,
    /// Target samples per chunk.
    pub samples_per_chunk: u16,
    /// Out-of-order window, ms (0 = disabled).
    pub ooo_window: i64,
}

/// State guarded by the commit lock.
pub struct CommitState {
    /// The WAL (None for a read-only head).
    pub wal: Option<WalWriter>,
    /// The ID the next commit gets.
    pub next_append_id: u64,
}

/// The in-memory head.
pub struct Head {
    pub(crate) opts: HeadOptions,
    pub(crate) series: SeriesMap,
    pub(crate) postings: RwLock<MemPostings>,
    min_time: AtomicI64,
    max_time: AtomicI64,
    min_valid_time: AtomicI64,
    next_ref: AtomicU64,
    pub(crate) commit: Mutex<CommitState>,
    max_visible: AtomicU64,
    readers: Mutex<BTreeMap<u64, usize>>,
    pub(crate) metrics: Metrics,
    /// Set by `Db::close`: commits fail from then on.
    pub(crate) closed: std::sync::atomic::AtomicBool,
}

/// How a sample fits the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Append to the in-order chunk.
    InOrder,
    /// Same timestamp and value as the newest sample: accepted, nothing to store.
    Duplicate,
    /// Goes to the out-of-order buffer.
    OutOfOrder,
}

impl Head {
    /// An empty head.
    pub fn new(opts: HeadOptions, metrics: Metrics, wal: Option<WalWriter>) -> Self {
        Head {
            opts,
            series: SeriesMap::default(),
            postings: RwLock::default(),
            min_time: AtomicI64::new(i64::MAX),
            max_time: AtomicI64::new(i64::MIN),
            min_valid_time: AtomicI64::new(i64::MIN),
            next_ref: AtomicU64::new(1),
            commit: Mutex::new(CommitState {
                wal,
                next_append_id: 1,
            }),
            max_visible: AtomicU64::new(0),
            readers: Mutex::default(),
            metrics,
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Lowest in-order timestamp (`i64::MAX` when empty).
    pub fn min_time(&self) -> i64 {
        self.min_time.load(Ordering::Acquire)
    }

    /// Highest timestamp (`i64::MIN` when empty).
    pub fn max_time(&self) -> i64 {
        self.max_time.load(Ordering::Acquire)
    }

    /// In-order appends below this are out of bounds (already persisted).
    pub fn min_valid_time(&self) -> i64 {
        self.min_valid_time.load(Ordering::Acquire)
    }

    pub(crate) fn set_min_valid_time(&self, t: i64) {
        self.min_valid_time.fetch_max(t, Ordering::AcqRel);
    }

    pub(crate) fn set_min_time(&self, t: i64) {
        self.min_time.store(t, Ordering::Release);
        self.metrics.head_min_time.set(t);
    }

    pub(crate) fn observe_time(&self, t: i64) {
        if t < self.min_time.load(Ordering::Relaxed) {
            self.min_time.fetch_min(t, Ordering::AcqRel);
            self.metrics.head_min_time.set(self.min_time());
        }
        if t > self.max_time.load(Ordering::Relaxed) {
            self.max_time.fetch_max(t, Ordering::AcqRel);
            self.metrics.head_max_time.set(self.max_time());
        }
    }

    /// Number of series.
    pub fn num_series(&self) -> usize {
        self.series.len()
    }

    /// The series with these labels, created (and indexed) when absent.
    pub fn get_or_create(&self, labels: &Labels) -> Option<(Arc<MemSeries>, bool)> {
        let hash = labels.stable_hash();
        let (s, created) = self.series.get_or_create(hash, labels, || {
            self.next_ref.fetch_add(1, Ordering::Relaxed)
        })?;
        if created {
            self.postings.write().add(s.r, &s.labels);
            self.metrics.series_created.inc();
            self.metrics.head_series.inc();
        }
        Some((s, created))
    }

    /// Inserts a series with a WAL reference during replay.
    pub(crate) fn create_with_ref(&self, r: u64, labels: Labels) -> Option<Arc<MemSeries>> {
        let (s, created) = self.series.insert_with_ref(r, labels)?;
        if created {
            self.next_ref.fetch_max(r + 1, Ordering::Relaxed);
            self.postings.write().add(s.r, &s.labels);
            self.metrics.series_created.inc();
            self.metrics.head_series.inc();
        }
        Some(s)
    }

    /// Makes sure references handed out from now on are at least `r`.
    pub(crate) fn reserve_refs(&self, r: u64) {
        self.next_ref.fetch_max(r, Ordering::Relaxed);
    }

    /// The reference the next new series gets.
    pub(crate) fn next_ref(&self) -> u64 {
        self.next_ref.load(Ordering::Relaxed)
    }

    /// The lowest timestamp an in-order sample may have (Prometheus'
    /// `appendableMinValidTime`): not below persisted data, and not more than half a chunk
    /// range behind the newest sample.
    pub fn appendable_min_valid_time(&self) -> i64 {
        let max = self.max_time();
        let by_max = if max == i64::MIN {
            i64::MIN
        } else {
            max.saturating_sub(self.opts.chunk_range / 2)
        };
        self.min_valid_time().max(by_max)
    }

    /// Decides where a sample goes, following Prometheus' `memSeries.appendable`. `last_t`
    /// and `last_v` are the newest in-order sample of the series (including earlier samples
    /// of the same batch); `ooo_value` looks up a buffered out-of-order sample.
    ///
    /// `strict` is for validation in `append`: it applies the head-relative bounds (half a
    /// chunk range behind the newest sample; the out-of-order window). Applying an already
    /// acknowledged sample at commit or replay is lenient: only the persisted boundary and
    /// the series' own order still count, so nothing acknowledged is dropped because the
    /// head moved on meanwhile.
    pub fn fit(
        &self,
        last_t: i64,
        last_v: f64,
        t: i64,
        v: f64,
        strict: bool,
        ooo_value: impl Fn(i64) -> Option<f64>,
    ) -> Result<Fit, AppendError> {
        let min_valid = if strict {
            self.appendable_min_valid_time()
        } else {
            self.min_valid_time()
        };
        if t >= min_valid {
            if last_t == i64::MIN || t > last_t {
                return Ok(Fit::InOrder);
            }
            if t == last_t {
                if last_v.to_bits() != v.to_bits() {
                    return Err(AppendError::DuplicateSample);
                }
                return Ok(Fit::Duplicate);
            }
        }
        let window = self.opts.ooo_window;
        let head_max = self.max_time();
        if window > 0 {
            if !strict || head_max == i64::MIN || t >= head_max.saturating_sub(window) {
                return match ooo_value(t) {
                    Some(old) if old.to_bits() == v.to_bits() => Ok(Fit::Duplicate),
                    Some(_) => Err(AppendError::DuplicateSample),
                    None => Ok(Fit::OutOfOrder),
                };
            }
            return Err(AppendError::TooOld);
        }
        if t < min_valid {
            return Err(AppendError::OutOfBounds);
        }
        Err(AppendError::OutOfOrder)
    }

    /// Counts a rejection in the matching metric.
    pub(crate) fn count_rejection(&self, e: &AppendError) {
        match e {
            AppendError::OutOfOrder => self.metrics.out_of_order.inc(),
            AppendError::OutOfBounds => self.metrics.out_of_bounds.inc(),
            AppendError::TooOld => self.metrics.too_old.inc(),
            _ => {}
        }
    }

    /// Registers a reader; it sees every commit completed so far.
    pub fn register_reader(self: &Arc<Self>) -> ReaderGuard {
        let mut r = self.readers.lock();
        let id = self.max_visible.load(Ordering::Acquire);
        *r.entry(id).or_default() += 1;
        ReaderGuard {
            head: self.clone(),
            max_id: id,
        }
    }

    /// Commit IDs at or below this are visible to every current and future reader.
    pub(crate) fn low_watermark(&self) -> u64 {
        let r = self.readers.lock();
        match r.keys().next() {
            Some(&oldest) => oldest,
            None => self.max_visible.load(Ordering::Acquire),
        }
    }

    pub(crate) fn publish(&self, append_id: u64) {
        self.max_visible.store(append_id, Ordering::Release);
    }

    /// The newest completed commit.
    pub fn max_visible(&self) -> u64 {
        self.max_visible.load(Ordering::Acquire)
    }

    /// Head series matching `ms`, sorted by labels.
    pub fn select_series(&self, ms: &[Matcher]) -> Result<Vec<Arc<MemSeries>>> {
        let refs = postings_for_matchers(&*self.postings.read(), ms)?;
        let mut out: Vec<Arc<MemSeries>> = refs
            .iter()
            .filter_map(|r| self.series.get_by_ref(r))
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }

    /// Records deletions of `[mint, maxt]` for the series matching `ms` (WAL first).
    pub fn delete(&self, mint: i64, maxt: i64, ms: &[Matcher]) -> Result<usize> {
        let series = self.select_series(ms)?;
        if series.is_empty() {
            return Ok(0);
        }
        let stones: Vec<RefTombstone> = series
            .iter()
            .map(|s| RefTombstone { r: s.r, mint, maxt })
            .collect();
        let mut c = self.commit.lock();
        if let Some(wal) = c.wal.as_mut() {
            // Series records must precede a tombstone that refers to them.
            let mut recs = Vec::new();
            let unlogged: Vec<&Arc<MemSeries>> = series
                .iter()
                .filter(|s| !s.logged.load(Ordering::Acquire))
                .collect();
            if !unlogged.is_empty() {
                let mut b = Vec::new();
                crate::wal::record::encode_series(
                    unlogged
                        .iter()
                        .map(|s| (s.r, &s.labels))
                        .collect::<Vec<_>>()
                        .into_iter(),
                    &mut b,
                );
                recs.push(b);
            }
            let mut b = Vec::new();
            encode_tombstones(&stones, &mut b);
            recs.push(b);
            let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
            wal.log(&refs)?;
            for s in unlogged {
                s.logged.store(true, Ordering::Release);
            }
        }
        drop(c);
        for s in &series {
            add_interval(&mut s.data.lock().deleted, Interval { mint, maxt });
        }
        Ok(series.len())
    }
}

/// A registered reader; unregisters on drop.
pub struct ReaderGuard {
    head: Arc<Head>,
    /// Newest commit this reader sees.
    pub max_id: u64,
}

impl Drop for ReaderGuard {
    fn drop(&mut self) {
        let mut r = self.head.readers.lock();
        if let Some(n) = r.get_mut(&self.max_id) {
            *n -= 1;
            if *n == 0 {
                r.remove(&self.max_id);
            }
        }
    }
}
