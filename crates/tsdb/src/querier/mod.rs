//! Reading the database: a querier pins the blocks and head state at creation (isolation) and
//! answers selects by merging per-block and head series streams.

pub mod postings;
pub mod source;

use std::collections::BTreeSet;
use std::sync::Arc;

use argus_model::{LabelHints, Matcher, Querier, SelectHints, SeriesSet, StorageError, Warnings};

use crate::block::Block;
use crate::db::DbInner;
use crate::head::read::HeadSeriesSource;
use crate::head::{Head, ReaderGuard};
use source::{MergedSeriesSet, SeriesSource};

/// A consistent read view over `[mint, maxt]`.
pub struct DbQuerier {
    mint: i64,
    maxt: i64,
    blocks: Vec<Arc<Block>>,
    head: Arc<Head>,
    pin: Arc<Pin>,
}

/// What a querier (and every series it returned) keeps alive.
struct Pin {
    _blocks: Vec<Arc<Block>>,
    _generation: Arc<()>,
    reader: ReaderGuard,
}

impl DbQuerier {
    pub(crate) fn new(db: &DbInner, mint: i64, maxt: i64) -> Self {
        let st = db.state.read();
        let blocks: Vec<Arc<Block>> = st
            .blocks
            .iter()
            .filter(|b| b.overlaps(mint, maxt))
            .cloned()
            .collect();
        let generation = st.generation.clone();
        let reader = db.head.register_reader();
        drop(st);
        DbQuerier {
            mint,
            maxt,
            head: db.head.clone(),
            pin: Arc::new(Pin {
                _blocks: blocks.clone(),
                _generation: generation,
                reader,
            }),
            blocks,
        }
    }

    fn sources(&self, ms: &[Matcher]) -> crate::error::Result<Vec<Box<dyn SeriesSource>>> {
        let mut out: Vec<Box<dyn SeriesSource>> = Vec::with_capacity(self.blocks.len() + 1);
        for b in &self.blocks {
            out.push(Box::new(b.source(ms, self.mint, self.maxt)?));
        }
        let series = self.head.select_series(ms)?;
        out.push(Box::new(HeadSeriesSource::new(
            series,
            self.mint,
            self.maxt,
            self.pin.reader.max_id,
        )));
        Ok(out)
    }

    /// The series set of a select (also used by compaction and tools).
    pub fn select_merged(
        &self,
        ms: &[Matcher],
        labels_only: bool,
    ) -> crate::error::Result<MergedSeriesSet> {
        let pin: Arc<dyn Send + Sync> = self.pin.clone();
        Ok(MergedSeriesSet::new(
            self.sources(ms)?,
            self.mint,
            self.maxt,
            !labels_only,
            pin,
        ))
    }

    /// Whether the head's samples overlap the querier's range (Prometheus' head index reader
    /// answers nothing otherwise).
    fn head_overlaps(&self) -> bool {
        self.head.min_time() <= self.maxt && self.mint <= self.head.max_time()
    }

    /// The label sets the label-name and label-value endpoints look at, chosen as
    /// Prometheus' index readers choose them: every matching series of each block that
    /// overlaps the range and, when the head overlaps it, every matching head series, whether
    /// or not that series has samples inside the range (`labelValuesWithMatchers` reads
    /// postings, not chunks).
    fn collect_index_labels(
        &self,
        ms: &[Matcher],
        mut f: impl FnMut(&argus_model::Labels),
    ) -> Result<(), StorageError> {
        let mut chunks = Vec::new();
        for b in &self.blocks {
            for ord in b.matching(ms)? {
                f(&b.index().series(ord, &mut chunks)?);
            }
        }
        if self.head_overlaps() {
            for s in self.head.select_series(ms)? {
                f(&s.labels);
            }
        }
        Ok(())
    }
}

fn limit(mut v: Vec<String>, hints: &LabelHints) -> Vec<String> {
    if hints.limit > 0 {
        v.truncate(hints.limit);
    }
    v
}

impl Querier for DbQuerier {
    fn select(
        &self,
        _sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Box<dyn SeriesSet> {
        // Results are always sorted: blocks list series in label order and the head sorts.
        let labels_only = hints.is_some_and(SelectHints::labels_only);
        match self.select_merged(matchers, labels_only) {
            Ok(s) => Box::new(s),
            Err(e) => Box::new(argus_model::storage::ErrorSeriesSet(Some(e.into()))),
        }
    }

    fn label_values(
        &self,
        name: &str,
        hints: &LabelHints,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings), StorageError> {
        let mut out: BTreeSet<String> = BTreeSet::new();
        if matchers.is_empty() {
            for b in &self.blocks {
                out.extend(b.index().label_values(name));
            }
            if self.head_overlaps() {
                out.extend(self.head.postings.read().label_values(name));
            }
        } else {
            self.collect_index_labels(matchers, |l| {
                if let Some(v) = l.get(name) {
                    if !out.contains(v) {
                        out.insert(v.to_owned());
                    }
                }
            })?;
        }
        Ok((limit(out.into_iter().collect(), hints), Vec::new()))
    }

    fn label_names(
        &self,
        hints: &LabelHints,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings), StorageError> {
        let mut out: BTreeSet<String> = BTreeSet::new();
        if matchers.is_empty() {
            for b in &self.blocks {
                out.extend(b.index().label_names());
            }
            if self.head_overlaps() {
                out.extend(self.head.postings.read().label_names());
            }
        } else {
            self.collect_index_labels(matchers, |l| {
                for lb in l.iter() {
                    if !out.contains(lb.name) {
                        out.insert(lb.name.to_owned());
                    }
                }
            })?;
        }
        Ok((limit(out.into_iter().collect(), hints), Vec::new()))
    }
}
