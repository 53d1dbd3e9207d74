//! The seams between storage and its users.
//!
//! `tsdb` implements these traits; `scrape`, `query`, `alert` and `adapter` consume them and
//! never name `tsdb` types. The contracts follow Prometheus' `storage/interface.go`, with
//! Rust ownership doing what Go can only state in comments (an appender cannot be used after
//! `commit`, because `commit` takes it by value).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::labels::Labels;
use crate::matcher::Matcher;
use crate::sample::Sample;

/// Opaque reference to a series inside one storage instance. A cache hint only: storage may
/// reject it later (for example after the series was garbage-collected), and callers then
/// append by labels again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(pub u64);

/// Non-fatal notes attached to a result (Prometheus' `annotations`).
pub type Warnings = Vec<String>;

/// Errors of the storage layer as seen by its users.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error (shared so the error stays `Clone`).
        #[source]
        source: Arc<std::io::Error>,
    },
    /// Data read from disk failed its checksum or structure checks.
    #[error("corruption in {file}: {reason}", file = file.display())]
    Corruption {
        /// The file that is damaged.
        file: PathBuf,
        /// What is wrong and where.
        reason: String,
    },
    /// The storage was closed.
    #[error("storage closed")]
    Closed,
    /// The disk is full or a size limit was reached; retry later.
    #[error("out of space: {0}")]
    OutOfSpace(String),
    /// The operation was given invalid arguments.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The query was canceled or timed out while reading.
    #[error("canceled")]
    Canceled,
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl StorageError {
    /// Wraps an I/O error with context (what and which path).
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        StorageError::Io {
            context: context.into(),
            source: Arc::new(source),
        }
    }
}

/// Why a sample was not appended. The first four mirror Prometheus' sentinel errors, with the
/// same messages, because remote-write clients and users grep for them.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppendError {
    /// Older than the newest sample of its series (and outside any out-of-order window).
    #[error("out of order sample")]
    OutOfOrder,
    /// Older than the range the head accepts (already persisted in a block).
    #[error("out of bounds")]
    OutOfBounds,
    /// Same timestamp as the newest sample of its series, different value.
    #[error("duplicate sample for timestamp")]
    DuplicateSample,
    /// Too old for the out-of-order window.
    #[error("too old sample")]
    TooOld,
    /// The label set is not acceptable (empty, duplicate names, invalid UTF-8, ...).
    #[error("invalid labels {labels}: {reason}")]
    InvalidLabels {
        /// The offending label set, printed.
        labels: String,
        /// Why it was refused.
        reason: String,
    },
    /// A per-series or per-tenant limit was exceeded.
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// The storage itself failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl AppendError {
    /// True for the per-sample rejections that leave the rest of a batch appendable
    /// (remote-write and scrape count these instead of failing the whole request).
    pub fn is_sample_rejection(&self) -> bool {
        matches!(
            self,
            AppendError::OutOfOrder
                | AppendError::OutOfBounds
                | AppendError::DuplicateSample
                | AppendError::TooOld
                | AppendError::InvalidLabels { .. }
        )
    }
}

/// A batch of appends that becomes visible atomically on [`Appender::commit`].
///
/// Contract: `commit` returns only after the batch is durable per the storage's WAL policy
/// (at least written to the WAL, so it survives `kill -9`). An appender is not shared between
/// threads; create one per batch.
pub trait Appender: Send {
    /// Adds a sample. `r` is a reference from an earlier append of the same series (a hint;
    /// it is verified). Returns the series' reference for the next append.
    fn append(
        &mut self,
        r: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef, AppendError>;

    /// Makes every sample appended so far durable and visible.
    fn commit(self: Box<Self>) -> Result<(), StorageError>;

    /// Discards every sample appended so far.
    fn rollback(self: Box<Self>) -> Result<(), StorageError>;
}

/// Something that can be written to.
pub trait Appendable: Send + Sync {
    /// A new, empty batch.
    fn appender(&self) -> Box<dyn Appender + '_>;
}

/// What the query layer knows about a select call; storage may use it to skip work.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelectHints {
    /// Start of the evaluation, ms (includes lookback, range and offset).
    pub start: i64,
    /// End of the evaluation, ms.
    pub end: i64,
    /// Step of a range query, ms (0 for instant).
    pub step: i64,
    /// Range of a range selector, ms (0 for a plain vector selector).
    pub range: i64,
    /// The surrounding function (`rate`, ...), or `"series"` when only labels are needed.
    pub func: Option<String>,
    /// Labels of the surrounding aggregation.
    pub grouping: Vec<String>,
    /// True for `by`, false for `without`.
    pub by: bool,
}

impl SelectHints {
    /// True when the caller needs only the label sets (`/api/v1/series`): storage can skip
    /// chunk data entirely.
    pub fn labels_only(&self) -> bool {
        self.func.as_deref() == Some("series")
    }
}

/// Options of label name/value lookups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabelHints {
    /// Maximum number of results; 0 means unlimited.
    pub limit: usize,
}

/// Iterates the samples of one series in timestamp order.
///
/// Mirrors Prometheus' `chunkenc.Iterator`: call [`next`](Self::next) or
/// [`seek`](Self::seek), and read the current sample with [`at`](Self::at) while they
/// return true. Iteration stops early on an error, reported by [`err`](Self::err).
pub trait SampleIterator: Send {
    /// Moves to the next sample; false when exhausted or on error.
    fn next(&mut self) -> bool;

    /// Moves to the first sample with timestamp `>= t`. If the current sample already
    /// qualifies it stays; it never moves backwards. False when there is none.
    fn seek(&mut self, t: i64) -> bool;

    /// The current sample. Only meaningful after `next`/`seek` returned true.
    fn at(&self) -> Sample;

    /// The error that ended iteration, if any.
    fn err(&self) -> Option<&StorageError>;
}

/// An iterator over nothing.
#[derive(Debug, Default)]
pub struct EmptyIterator;

impl SampleIterator for EmptyIterator {
    fn next(&mut self) -> bool {
        false
    }
    fn seek(&mut self, _t: i64) -> bool {
        false
    }
    fn at(&self) -> Sample {
        Sample::new(i64::MIN, f64::NAN)
    }
    fn err(&self) -> Option<&StorageError> {
        None
    }
}

/// An iterator over samples held in memory (tests, remote read, rule results).
#[derive(Debug, Clone)]
pub struct VecIterator {
    samples: Arc<[Sample]>,
    /// Index of the current sample plus one (0 = before the first).
    pos: usize,
}

impl VecIterator {
    /// Iterates `samples`, which must be sorted by timestamp.
    pub fn new(samples: impl Into<Arc<[Sample]>>) -> Self {
        VecIterator {
            samples: samples.into(),
            pos: 0,
        }
    }
}

impl SampleIterator for VecIterator {
    fn next(&mut self) -> bool {
        if self.pos < self.samples.len() {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn seek(&mut self, t: i64) -> bool {
        if self.pos > 0 && self.samples.get(self.pos - 1).is_some_and(|s| s.t >= t) {
            return true;
        }
        let start = self.pos.saturating_sub(1);
        let rest = self.samples.get(start..).unwrap_or(&[]);
        let i = start + rest.partition_point(|s| s.t < t);
        if i < self.samples.len() {
            self.pos = i + 1;
            true
        } else {
            self.pos = self.samples.len();
            false
        }
    }

    fn at(&self) -> Sample {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.samples.get(i))
            .copied()
            .unwrap_or(Sample::new(i64::MIN, f64::NAN))
    }

    fn err(&self) -> Option<&StorageError> {
        None
    }
}

/// One series of a select result.
pub trait Series: Send {
    /// The series' labels.
    fn labels(&self) -> &Labels;

    /// A fresh iterator over the series' samples within the querier's time range.
    fn iterator(&self) -> Box<dyn SampleIterator>;
}

/// A series whose samples are held in memory.
#[derive(Debug, Clone)]
pub struct VecSeries {
    /// Labels.
    pub labels: Labels,
    /// Samples sorted by timestamp.
    pub samples: Arc<[Sample]>,
}

impl Series for VecSeries {
    fn labels(&self) -> &Labels {
        &self.labels
    }
    fn iterator(&self) -> Box<dyn SampleIterator> {
        Box::new(VecIterator::new(self.samples.clone()))
    }
}

/// A stream of series, sorted by labels when requested.
pub trait SeriesSet: Send {
    /// The next series, or the error that ended the stream.
    fn next(&mut self) -> Option<Result<Box<dyn Series>, StorageError>>;

    /// Warnings gathered while producing the set.
    fn warnings(&self) -> Warnings {
        Vec::new()
    }
}

/// A series set over boxed series already in memory.
pub struct VecSeriesSet {
    items: std::vec::IntoIter<Box<dyn Series>>,
    warnings: Warnings,
}

impl VecSeriesSet {
    /// A set yielding `series` in the given order.
    pub fn new(series: Vec<Box<dyn Series>>, warnings: Warnings) -> Self {
        VecSeriesSet {
            items: series.into_iter(),
            warnings,
        }
    }

    /// A set that yields nothing.
    pub fn empty() -> Self {
        Self::new(Vec::new(), Vec::new())
    }
}

impl SeriesSet for VecSeriesSet {
    fn next(&mut self) -> Option<Result<Box<dyn Series>, StorageError>> {
        self.items.next().map(Ok)
    }
    fn warnings(&self) -> Warnings {
        self.warnings.clone()
    }
}

/// A series set that fails with one error.
pub struct ErrorSeriesSet(pub Option<StorageError>);

impl SeriesSet for ErrorSeriesSet {
    fn next(&mut self) -> Option<Result<Box<dyn Series>, StorageError>> {
        self.0.take().map(Err)
    }
}

/// A consistent read view over `[mint, maxt]` (inclusive, ms). It sees exactly the appends
/// committed before it was created, and keeps the blocks it reads alive until dropped.
pub trait Querier: Send + Sync {
    /// Series matching all `matchers` (at least one must not match the empty string), sorted
    /// by labels when `sorted` is true.
    fn select(
        &self,
        sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Box<dyn SeriesSet>;

    /// Sorted, unique values of label `name` among series matching `matchers` (all series
    /// when empty).
    fn label_values(
        &self,
        name: &str,
        hints: &LabelHints,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings), StorageError>;

    /// Sorted, unique label names among series matching `matchers` (all series when empty).
    fn label_names(
        &self,
        hints: &LabelHints,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings), StorageError>;
}

/// Something that can be read.
pub trait Queryable: Send + Sync {
    /// A querier over `[mint, maxt]`.
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>, StorageError>;
}

/// `name`/`value` count pair of the TSDB status API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameCount {
    /// Metric name, label name or `name=value` pair.
    pub name: String,
    /// Series count (or bytes, for memory stats).
    pub value: u64,
}

/// Head statistics of `/api/v1/status/tsdb`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadStats {
    /// Series in the head.
    pub num_series: u64,
    /// Distinct label pairs in the head.
    pub num_label_pairs: u64,
    /// Chunks in the head.
    pub chunk_count: u64,
    /// Lowest timestamp in the head, ms.
    pub min_time: i64,
    /// Highest timestamp in the head, ms.
    pub max_time: i64,
}

/// The body of `/api/v1/status/tsdb`, field names as Prometheus serves them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TsdbStatus {
    /// Head statistics.
    pub head_stats: HeadStats,
    /// Top metric names by series count.
    pub series_count_by_metric_name: Vec<NameCount>,
    /// Top label names by number of distinct values.
    pub label_value_count_by_label_name: Vec<NameCount>,
    /// Top label names by bytes of values.
    pub memory_in_bytes_by_label_name: Vec<NameCount>,
    /// Top `name=value` pairs by series count.
    pub series_count_by_label_value_pair: Vec<NameCount>,
}

/// Administrative operations (the `/api/v1/admin/tsdb/*` endpoints and `/status/tsdb`).
pub trait TsdbAdmin: Send + Sync {
    /// Marks samples of matching series in `[mint, maxt]` deleted (tombstones).
    fn delete_series(&self, mint: i64, maxt: i64, matchers: &[Matcher])
        -> Result<(), StorageError>;

    /// Rewrites blocks with tombstones so deleted data leaves the disk.
    fn clean_tombstones(&self) -> Result<(), StorageError>;

    /// Writes a snapshot into a new directory under `dir` (blocks hard-linked; the head
    /// written as a block unless `skip_head`). Returns the snapshot's directory name.
    fn snapshot(&self, dir: &Path, skip_head: bool) -> Result<String, StorageError>;

    /// Cardinality statistics of the head, top `limit` of each list.
    fn status(&self, limit: usize) -> Result<TsdbStatus, StorageError>;
}

/// Reads everything a series set yields into memory (tests and small results).
pub fn collect_series(set: &mut dyn SeriesSet) -> Result<Vec<(Labels, Vec<Sample>)>, StorageError> {
    let mut out = Vec::new();
    while let Some(s) = set.next() {
        let s = s?;
        let mut it = s.iterator();
        let mut samples = Vec::new();
        while it.next() {
            samples.push(it.at());
        }
        if let Some(e) = it.err() {
            return Err(e.clone());
        }
        out.push((s.labels().clone(), samples));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vec_iterator_seek_semantics() {
        let s: Vec<Sample> = [10, 20, 30]
            .iter()
            .map(|&t| Sample::new(t, t as f64))
            .collect();
        let mut it = VecIterator::new(s);
        assert!(it.seek(15));
        assert_eq!(it.at().t, 20);
        assert!(
            it.seek(5),
            "seek never moves backwards and keeps a qualifying sample"
        );
        assert_eq!(it.at().t, 20);
        assert!(it.next());
        assert_eq!(it.at().t, 30);
        assert!(!it.seek(31));
        assert!(!it.next());
    }
}
