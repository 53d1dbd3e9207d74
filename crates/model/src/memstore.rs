//! A small in-memory storage implementing the seam traits.
//!
//! It is the reference model the real TSDB is checked against in property tests, and the
//! storage of unit tests in crates that must not depend on `tsdb` (query, alert, adapter).
//! It is not tuned for size or speed: a copy-on-write map of label sets to sample vectors.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::labels::Labels;
use crate::matcher::Matcher;
use crate::sample::Sample;
use crate::storage::{
    AppendError, Appendable, Appender, LabelHints, Querier, Queryable, SelectHints, SeriesRef,
    SeriesSet, StorageError, VecSeries, VecSeriesSet, Warnings,
};

type Map = BTreeMap<Labels, Arc<Vec<Sample>>>;

/// In-memory storage; cheap to clone (shared).
#[derive(Clone, Default)]
pub struct MemStorage {
    data: Arc<RwLock<Arc<Map>>>,
}

impl MemStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends and commits a batch, for test setup.
    pub fn add(&self, labels: &Labels, samples: &[(i64, f64)]) -> Result<(), AppendError> {
        let mut app = self.appender();
        for &(t, v) in samples {
            app.append(None, labels, t, v)?;
        }
        app.commit()?;
        Ok(())
    }

    /// Number of series.
    pub fn num_series(&self) -> usize {
        self.data.read().len()
    }
}

struct MemAppender<'a> {
    store: &'a MemStorage,
    pending: Vec<(Labels, Sample)>,
}

impl Appender for MemAppender<'_> {
    fn append(
        &mut self,
        _r: Option<SeriesRef>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef, AppendError> {
        if labels.is_empty() {
            return Err(AppendError::InvalidLabels {
                labels: labels.to_string(),
                reason: "empty label set".into(),
            });
        }
        // Validate against committed data and earlier samples of this batch, so a batch is
        // accepted or refused sample by sample exactly as the TSDB does.
        let last_pending = self
            .pending
            .iter()
            .rev()
            .find(|(l, _)| l == labels)
            .map(|(_, s)| *s);
        let last = last_pending.or_else(|| {
            self.store
                .data
                .read()
                .get(labels)
                .and_then(|v| v.last().copied())
        });
        if let Some(last) = last {
            if t < last.t {
                return Err(AppendError::OutOfOrder);
            }
            if t == last.t {
                if last.v.to_bits() != v.to_bits() {
                    return Err(AppendError::DuplicateSample);
                }
                return Ok(SeriesRef(labels.stable_hash()));
            }
        }
        self.pending.push((labels.clone(), Sample::new(t, v)));
        Ok(SeriesRef(labels.stable_hash()))
    }

    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let mut guard = self.store.data.write();
        let map = Arc::make_mut(&mut guard);
        for (l, s) in self.pending {
            let v = map.entry(l).or_default();
            Arc::make_mut(v).push(s);
        }
        Ok(())
    }

    fn rollback(self: Box<Self>) -> Result<(), StorageError> {
        Ok(())
    }
}

impl Appendable for MemStorage {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(MemAppender {
            store: self,
            pending: Vec::new(),
        })
    }
}

struct MemQuerier {
    snapshot: Arc<Map>,
    mint: i64,
    maxt: i64,
}

fn matches_all(l: &Labels, ms: &[Matcher]) -> bool {
    ms.iter().all(|m| m.matches(l.get_or_empty(&m.name)))
}

impl MemQuerier {
    fn matching<'a>(
        &'a self,
        ms: &'a [Matcher],
    ) -> impl Iterator<Item = (&'a Labels, &'a Arc<Vec<Sample>>)> + 'a {
        self.snapshot.iter().filter(move |(l, s)| {
            matches_all(l, ms) && s.iter().any(|x| x.t >= self.mint && x.t <= self.maxt)
        })
    }
}

impl Querier for MemQuerier {
    fn select(
        &self,
        _sorted: bool,
        _hints: Option<&SelectHints>,
        ms: &[Matcher],
    ) -> Box<dyn SeriesSet> {
        // The map is ordered by labels, so results are always sorted.
        let series = self
            .matching(ms)
            .map(|(l, s)| {
                let in_range: Vec<Sample> = s
                    .iter()
                    .filter(|x| x.t >= self.mint && x.t <= self.maxt)
                    .copied()
                    .collect();
                Box::new(VecSeries {
                    labels: l.clone(),
                    samples: in_range.into(),
                }) as Box<dyn crate::storage::Series>
            })
            .collect();
        Box::new(VecSeriesSet::new(series, Vec::new()))
    }

    fn label_values(
        &self,
        name: &str,
        hints: &LabelHints,
        ms: &[Matcher],
    ) -> Result<(Vec<String>, Warnings), StorageError> {
        let mut vals: Vec<String> = self
            .matching(ms)
            .filter_map(|(l, _)| l.get(name).map(str::to_owned))
            .collect();
        vals.sort();
        vals.dedup();
        if hints.limit > 0 {
            vals.truncate(hints.limit);
        }
        Ok((vals, Vec::new()))
    }

    fn label_names(
        &self,
        hints: &LabelHints,
        ms: &[Matcher],
    ) -> Result<(Vec<String>, Warnings), StorageError> {
        let mut names: Vec<String> = self
            .matching(ms)
            .flat_map(|(l, _)| l.iter().map(|x| x.name.to_owned()).collect::<Vec<_>>())
            .collect();
        names.sort();
        names.dedup();
        if hints.limit > 0 {
            names.truncate(hints.limit);
        }
        Ok((names, Vec::new()))
    }
}

impl Queryable for MemStorage {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(MemQuerier {
            snapshot: self.data.read().clone(),
            mint,
            maxt,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels;
    use crate::matcher::MatchOp;
    use crate::storage::collect_series;

    #[test]
    fn append_rules_and_isolation() {
        let s = MemStorage::new();
        let l = labels!("__name__" => "up", "job" => "a");
        s.add(&l, &[(1, 1.0), (2, 2.0)]).unwrap();
        let q = s.querier(0, 10).unwrap();
        let mut app = s.appender();
        assert!(matches!(
            app.append(None, &l, 1, 5.0),
            Err(AppendError::OutOfOrder)
        ));
        assert!(matches!(
            app.append(None, &l, 2, 3.0),
            Err(AppendError::DuplicateSample)
        ));
        app.append(None, &l, 2, 2.0).unwrap();
        app.append(None, &l, 3, 3.0).unwrap();
        app.commit().unwrap();
        let m = Matcher::new(MatchOp::Regex, "job", "a|b").unwrap();
        let old = collect_series(q.select(true, None, std::slice::from_ref(&m)).as_mut()).unwrap();
        assert_eq!(old[0].1.len(), 2, "a querier does not see later commits");
        let q2 = s.querier(0, 10).unwrap();
        let new = collect_series(q2.select(true, None, &[m]).as_mut()).unwrap();
        assert_eq!(new[0].1.len(), 3);
        let (vals, _) = q2.label_values("job", &LabelHints::default(), &[]).unwrap();
        assert_eq!(vals, ["a"]);
    }
}
