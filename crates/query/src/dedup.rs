//! Query-time deduplication of replicas: a [`Queryable`] wrapper that drops replica
//! labels and merges the series that then look alike, for data of several HA replicas
//! written into one place (remote write to a shared store).
//!
//! Merging sticks to one replica and switches only across its gaps, so a query never
//! interleaves two replicas' samples (their timestamps differ by the scrape phase, and
//! interleaving would double `count_over_time` and jitter `rate`). The exact rule:
//!
//! 1. Start with the replica whose first sample is earliest (ties: the one whose labels
//!    sort first).
//! 2. Emit the current replica's samples in order. Let `last` be the last emitted
//!    timestamp and `d` the spacing of the current replica's last two emitted samples
//!    (half the initial penalty until two samples are known); the penalty is `2 × d`,
//!    i.e. twice the scrape interval.
//! 3. When the current replica's next sample is more than the penalty after `last` (or it
//!    has none left), and another replica has a sample after `last + d / 2` that comes
//!    before it, switch to the replica with the earliest such sample and continue there.
//!    Samples of other replicas at or before `last + d / 2` are never emitted: they are the
//!    same scrapes seen by the other replica.

use std::collections::BTreeMap;
use std::sync::Arc;

use argus_model::storage::{VecSeries, VecSeriesSet};
use argus_model::{
    LabelHints, Labels, Matcher, Querier, Queryable, Sample, SelectHints, Series, SeriesSet,
    StorageError, Warnings,
};

/// Penalty used before a replica's scrape interval is known (Thanos' initial 5 s).
pub const DEFAULT_PENALTY_MS: i64 = 5_000;

/// Deduplicates replicas of `inner` by the given replica labels.
pub struct DedupQueryable {
    inner: Arc<dyn Queryable>,
    labels: Arc<Vec<String>>,
    initial_penalty_ms: i64,
}

impl DedupQueryable {
    /// Wraps `inner`; `labels` are the replica label names.
    pub fn new(inner: Arc<dyn Queryable>, labels: Vec<String>, initial_penalty_ms: i64) -> Self {
        DedupQueryable {
            inner,
            labels: Arc::new(labels),
            initial_penalty_ms: initial_penalty_ms.max(1),
        }
    }
}

impl Queryable for DedupQueryable {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(DedupQuerier {
            inner: self.inner.querier(mint, maxt)?,
            labels: self.labels.clone(),
            initial_penalty_ms: self.initial_penalty_ms,
        }))
    }
}

struct DedupQuerier {
    inner: Box<dyn Querier>,
    labels: Arc<Vec<String>>,
    initial_penalty_ms: i64,
}

impl DedupQuerier {
    fn strip(&self, l: &Labels) -> Labels {
        if !self.labels.iter().any(|n| l.has(n)) {
            return l.clone();
        }
        let mut b = l.builder();
        for n in self.labels.iter() {
            b.del(n);
        }
        b.build()
    }
}

impl Querier for DedupQuerier {
    fn select(
        &self,
        _sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Box<dyn SeriesSet> {
        let mut set = self.inner.select(true, hints, matchers);
        let mut groups: BTreeMap<Labels, Vec<(Labels, Vec<Sample>)>> = BTreeMap::new();
        while let Some(s) = set.next() {
            let s = match s {
                Ok(s) => s,
                Err(e) => return Box::new(argus_model::storage::ErrorSeriesSet(Some(e))),
            };
            let mut it = s.iterator();
            let mut samples = Vec::new();
            while it.next() {
                samples.push(it.at());
            }
            if let Some(e) = it.err() {
                return Box::new(argus_model::storage::ErrorSeriesSet(Some(e.clone())));
            }
            groups
                .entry(self.strip(s.labels()))
                .or_default()
                .push((s.labels().clone(), samples));
        }
        let warnings = set.warnings();
        let series: Vec<Box<dyn Series>> = groups
            .into_iter()
            .map(|(labels, mut replicas)| {
                let samples = if replicas.len() == 1 {
                    replicas.pop().map(|r| r.1).unwrap_or_default()
                } else {
                    replicas.sort_by(|a, b| a.0.cmp(&b.0));
                    let v: Vec<Vec<Sample>> = replicas.into_iter().map(|r| r.1).collect();
                    merge(&v, self.initial_penalty_ms)
                };
                Box::new(VecSeries {
                    labels,
                    samples: samples.into(),
                }) as Box<dyn Series>
            })
            .collect();
        Box::new(VecSeriesSet::new(series, warnings))
    }

    fn label_values(
        &self,
        name: &str,
        hints: &LabelHints,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings), StorageError> {
        if self.labels.iter().any(|n| n == name) {
            return Ok((Vec::new(), Vec::new()));
        }
        self.inner.label_values(name, hints, matchers)
    }

    fn label_names(
        &self,
        hints: &LabelHints,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings), StorageError> {
        let (mut names, w) = self.inner.label_names(hints, matchers)?;
        names.retain(|n| !self.labels.iter().any(|r| r == n));
        Ok((names, w))
    }
}

/// Merges replicas' samples (each sorted by time, replicas in preference order for ties)
/// by the rule in the module documentation.
pub fn merge(replicas: &[Vec<Sample>], initial_penalty_ms: i64) -> Vec<Sample> {
    let mut pos = vec![0usize; replicas.len()];
    let at =
        |r: usize, pos: &[usize]| -> Option<Sample> { replicas.get(r)?.get(*pos.get(r)?).copied() };
    let Some(mut cur) = (0..replicas.len())
        .filter_map(|r| at(r, &pos).map(|s| (s.t, r)))
        .min()
        .map(|(_, r)| r)
    else {
        return Vec::new();
    };
    let total: usize = replicas.iter().map(Vec::len).sum();
    let mut out: Vec<Sample> = Vec::with_capacity(total / replicas.len().max(1) + 16);
    let mut spacing = (initial_penalty_ms / 2).max(1);
    let mut prev_same: Option<i64> = None;
    loop {
        let next = at(cur, &pos);
        let Some(last) = out.last().map(|s| s.t) else {
            // First sample.
            let Some(s) = next else { return out };
            out.push(s);
            prev_same = Some(s.t);
            if let Some(p) = pos.get_mut(cur) {
                *p += 1;
            }
            continue;
        };
        let gap = next.is_none_or(|s| s.t - last > 2 * spacing);
        if gap {
            // The earliest sample of another replica inside the gap.
            let floor = last + spacing / 2;
            let mut best: Option<(i64, usize)> = None;
            for r in (0..replicas.len()).filter(|&r| r != cur) {
                let Some(v) = replicas.get(r) else { continue };
                let start = pos.get(r).copied().unwrap_or(0);
                let i = start
                    + v.get(start..)
                        .map_or(0, |s| s.partition_point(|x| x.t <= floor));
                if let Some(p) = pos.get_mut(r) {
                    *p = i;
                }
                if let Some(s) = v.get(i) {
                    if next.is_none_or(|n| s.t < n.t) && best.is_none_or(|(bt, _)| s.t < bt) {
                        best = Some((s.t, r));
                    }
                }
            }
            if let Some((_, r)) = best {
                cur = r;
                prev_same = None;
            }
        }
        let Some(s) = at(cur, &pos) else {
            return out;
        };
        if let Some(p) = prev_same {
            if s.t > p {
                spacing = s.t - p;
            }
        }
        out.push(s);
        prev_same = Some(s.t);
        if let Some(p) = pos.get_mut(cur) {
            *p += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use argus_model::memstore::MemStorage;
    use argus_model::MatchOp;

    fn s(ts: &[i64], v: f64) -> Vec<Sample> {
        ts.iter().map(|&t| Sample { t, v }).collect()
    }

    fn times(v: &[Sample]) -> Vec<i64> {
        v.iter().map(|s| s.t).collect()
    }

    #[test]
    fn sticks_to_one_replica_without_gaps() {
        let a = s(&[0, 1000, 2000, 3000, 4000], 1.0);
        let b = s(&[300, 1300, 2300, 3300, 4300], 2.0);
        let m = merge(&[a.clone(), b], DEFAULT_PENALTY_MS);
        assert_eq!(m, a);
    }

    #[test]
    fn switches_across_a_gap_and_stays() {
        // a is down from 3000 to 9000.
        let a = s(&[0, 1000, 2000, 3000, 9000, 10_000, 11_000], 1.0);
        let b = s(
            &[
                300, 1300, 2300, 3300, 4300, 5300, 6300, 7300, 8300, 9300, 10_300,
            ],
            2.0,
        );
        let m = merge(&[a, b], DEFAULT_PENALTY_MS);
        // 3300 is within half a spacing of 3000: the same scrape on the other replica.
        // After b ends, a's later samples continue.
        assert_eq!(
            times(&m),
            vec![0, 1000, 2000, 3000, 4300, 5300, 6300, 7300, 8300, 9300, 10_300, 11_000]
        );
        assert!(m[4..11].iter().all(|x| x.v == 2.0));
    }

    #[test]
    fn starts_with_the_earliest_and_continues_after_the_end() {
        let a = s(&[5000, 6000, 7000], 1.0);
        let b = s(&[0, 1000, 2000, 3000], 2.0);
        let m = merge(&[a, b], DEFAULT_PENALTY_MS);
        assert_eq!(times(&m), vec![0, 1000, 2000, 3000, 5000, 6000, 7000]);
    }

    #[test]
    fn a_single_missed_scrape_is_not_filled_by_an_interleaved_point() {
        // One missed scrape at 3000: 2000 -> 4000 is exactly 2 × spacing, not a gap.
        let a = s(&[0, 1000, 2000, 4000, 5000], 1.0);
        let b = s(&[500, 1500, 2500, 3500, 4500], 2.0);
        assert_eq!(
            times(&merge(&[a, b], DEFAULT_PENALTY_MS)),
            vec![0, 1000, 2000, 4000, 5000]
        );
    }

    #[test]
    fn queryable_drops_replica_labels_and_merges() {
        let m = MemStorage::new();
        let la = Labels::from_pairs(&[("__name__", "up"), ("job", "n"), ("replica", "a")]);
        let lb = Labels::from_pairs(&[("__name__", "up"), ("job", "n"), ("replica", "b")]);
        let other = Labels::from_pairs(&[("__name__", "up"), ("job", "m"), ("replica", "a")]);
        m.add(&la, &[(0, 1.0), (1000, 1.0), (2000, 1.0), (8000, 1.0)])
            .unwrap();
        let b: Vec<(i64, f64)> = (0..9).map(|i| (100 + i * 1000, 2.0)).collect();
        m.add(&lb, &b).unwrap();
        m.add(&other, &[(0, 3.0)]).unwrap();
        let d = DedupQueryable::new(Arc::new(m), vec!["replica".into()], DEFAULT_PENALTY_MS);
        let q = d.querier(0, 10_000).unwrap();
        let ms = [Matcher::new(MatchOp::Equal, "__name__", "up").unwrap()];
        let got = argus_model::storage::collect_series(&mut *q.select(true, None, &ms)).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].0,
            Labels::from_pairs(&[("__name__", "up"), ("job", "m")])
        );
        assert_eq!(
            got[1].0,
            Labels::from_pairs(&[("__name__", "up"), ("job", "n")])
        );
        assert_eq!(
            times(&got[1].1),
            vec![0, 1000, 2000, 3100, 4100, 5100, 6100, 7100, 8100]
        );
        let (names, _) = q.label_names(&LabelHints::default(), &[]).unwrap();
        assert!(!names.contains(&"replica".to_owned()));
        let (vals, _) = q
            .label_values("replica", &LabelHints::default(), &[])
            .unwrap();
        assert!(vals.is_empty());
    }
}
