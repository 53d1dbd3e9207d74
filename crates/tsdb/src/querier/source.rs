//! Merging the per-block and head series streams of a select into one sorted series set.
//!
//! Every source (a disk block or the head) yields its matching series sorted by labels, each
//! with the data it holds for them. The merge walks the sources like a k-way merge join: equal
//! label sets become one series whose iterator merges the sources' samples by time.

use std::sync::Arc;

use argus_model::storage::VecIterator;
use argus_model::{Labels, Sample, SampleIterator, Series, SeriesSet, StorageError, Warnings};

use crate::chunk::iterator::{ChunksIterator, MergeIterator};
use crate::chunk::ChunkMeta;
use crate::error::Result;
use crate::tombstones::Interval;

/// Data of one series from one source.
#[derive(Debug, Clone)]
pub enum SourceData {
    /// Time-ordered, non-overlapping chunks, with deleted intervals to skip.
    Chunks {
        /// The chunks.
        chunks: Vec<ChunkMeta>,
        /// Deleted intervals (sorted, disjoint).
        deleted: Arc<[Interval]>,
    },
    /// Samples already in memory (the head's out-of-order buffer), sorted by time.
    Samples(Vec<Sample>),
}

impl SourceData {
    fn iterator(&self, mint: i64, maxt: i64) -> Box<dyn SampleIterator> {
        match self {
            SourceData::Chunks { chunks, deleted } => Box::new(ChunksIterator::new(
                chunks.clone(),
                mint,
                maxt,
                deleted.clone(),
            )),
            SourceData::Samples(s) => Box::new(VecIterator::new(s.clone())),
        }
    }
}

/// A stream of series of one source, sorted by labels.
pub trait SeriesSource: Send {
    /// The next series and its data.
    fn next(&mut self) -> Option<Result<(Labels, Vec<SourceData>)>>;
}

/// A series assembled from one or more sources.
pub struct MergedSeries {
    labels: Labels,
    data: Arc<[SourceData]>,
    mint: i64,
    maxt: i64,
    /// Keeps whatever the querier pins (blocks, head generation) alive with the series.
    _pin: Arc<dyn Send + Sync>,
}

impl MergedSeries {
    /// The raw data (compaction and tools).
    pub fn data(&self) -> &[SourceData] {
        &self.data
    }
}

impl Series for MergedSeries {
    fn labels(&self) -> &Labels {
        &self.labels
    }

    fn iterator(&self) -> Box<dyn SampleIterator> {
        if let [one] = &*self.data {
            return one.iterator(self.mint, self.maxt);
        }
        Box::new(MergeIterator::new(
            self.data
                .iter()
                .map(|d| d.iterator(self.mint, self.maxt))
                .collect(),
        ))
    }
}

/// The merged, label-sorted series set of a select.
pub struct MergedSeriesSet {
    sources: Vec<Box<dyn SeriesSource>>,
    heads: Vec<Option<(Labels, Vec<SourceData>)>>,
    primed: bool,
    mint: i64,
    maxt: i64,
    skip_empty: bool,
    pin: Arc<dyn Send + Sync>,
    failed: bool,
}

impl MergedSeriesSet {
    /// Merges `sources` (ordered oldest block first, head last: on equal timestamps the
    /// earlier source wins). With `skip_empty`, series whose data has no sample in
    /// `[mint, maxt]` (after deletions) are left out, as the reference model does.
    pub fn new(
        sources: Vec<Box<dyn SeriesSource>>,
        mint: i64,
        maxt: i64,
        skip_empty: bool,
        pin: Arc<dyn Send + Sync>,
    ) -> Self {
        let n = sources.len();
        MergedSeriesSet {
            sources,
            heads: (0..n).map(|_| None).collect(),
            primed: false,
            mint,
            maxt,
            skip_empty,
            pin,
            failed: false,
        }
    }

    fn advance(&mut self, i: usize) -> Result<()> {
        let Some(src) = self.sources.get_mut(i) else {
            return Ok(());
        };
        let next = src.next().transpose()?;
        if let Some(h) = self.heads.get_mut(i) {
            *h = next;
        }
        Ok(())
    }

    fn next_merged(&mut self) -> Result<Option<MergedSeries>> {
        if !self.primed {
            self.primed = true;
            for i in 0..self.sources.len() {
                self.advance(i)?;
            }
        }
        let Some(min) = self.heads.iter().flatten().map(|(l, _)| l).min().cloned() else {
            return Ok(None);
        };
        let mut data = Vec::new();
        for i in 0..self.heads.len() {
            let take = matches!(self.heads.get(i), Some(Some((l, _))) if *l == min);
            if take {
                if let Some(Some((_, d))) = self.heads.get_mut(i).map(Option::take) {
                    data.extend(d);
                }
                self.advance(i)?;
            }
        }
        Ok(Some(MergedSeries {
            labels: min,
            data: data.into(),
            mint: self.mint,
            maxt: self.maxt,
            _pin: self.pin.clone(),
        }))
    }
}

impl SeriesSet for MergedSeriesSet {
    fn next(&mut self) -> Option<std::result::Result<Box<dyn Series>, StorageError>> {
        if self.failed {
            return None;
        }
        loop {
            match self.next_merged() {
                Ok(Some(s)) => {
                    if self.skip_empty {
                        let mut it = s.iterator();
                        if !it.next() {
                            if let Some(e) = it.err() {
                                self.failed = true;
                                return Some(Err(e.clone()));
                            }
                            continue;
                        }
                    }
                    return Some(Ok(Box::new(s)));
                }
                Ok(None) => return None,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e.into()));
                }
            }
        }
    }

    fn warnings(&self) -> Warnings {
        Vec::new()
    }
}
