//! Where this replica's own scraping has holes, from its `up` history.
//!
//! Every scrape writes `up` for its target, failed or not, so a missing `up` sample means
//! this replica did not scrape (it was down, restarting or stalled), not that the target
//! was down. For each target (the label set of its `up` series), consecutive `up` samples
//! more than 1.5 scrape intervals apart (at least one missed scrape) bound a hole, as do the
//! edges of the checked window when the first or last sample is that far from them.
//!
//! A peer sample is copied into a hole only when it lies more than half an interval from
//! this replica's own samples: the replicas scrape at different moments, and a copy right
//! next to an own sample would be a near-duplicate, not a missing point.

use std::collections::HashMap;

use argus_model::Labels;

/// Copy peer samples with `lo < t < hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hole {
    pub lo: i64,
    pub hi: i64,
}

impl Hole {
    pub fn contains(&self, t: i64) -> bool {
        self.lo < t && t < self.hi
    }
}

/// Holes in `own` (sorted timestamps, possibly reaching before `start` for context)
/// within `[start, end]`, for a scrape interval of `interval` ms.
pub fn holes(own: &[i64], start: i64, end: i64, interval: i64) -> Vec<Hole> {
    let interval = interval.max(1);
    let threshold = interval + interval / 2;
    let margin = interval / 2;
    let mut out = Vec::new();
    let mut push = |lo: i64, hi: i64| {
        let lo = lo.max(start - 1);
        let hi = hi.min(end + 1);
        if hi - lo > 1 {
            out.push(Hole { lo, hi });
        }
    };
    let Some(&first) = own.first() else {
        push(start - 1, end + 1);
        return out;
    };
    if first - start > threshold {
        push(start - 1, first - margin);
    }
    for w in own.windows(2) {
        if let [a, b] = *w {
            if b - a > threshold {
                push(a + margin, b - margin);
            }
        }
    }
    if let Some(&last) = own.last() {
        if end - last > threshold {
            push(last + margin, end + 1);
        }
    }
    out
}

/// One scrape target of a pool and its holes.
#[derive(Debug, Clone)]
pub struct TargetHoles {
    /// The target's labels (its `up` series without `__name__`).
    pub labels: Labels,
    pub holes: Vec<Hole>,
}

/// The holes of a pool's targets, looked up by a series' labels.
#[derive(Debug, Default)]
pub struct PoolHoles {
    by_instance: HashMap<String, Vec<TargetHoles>>,
}

impl PoolHoles {
    pub fn new(targets: Vec<TargetHoles>) -> PoolHoles {
        let mut by_instance: HashMap<String, Vec<TargetHoles>> = HashMap::new();
        for t in targets.into_iter().filter(|t| !t.holes.is_empty()) {
            by_instance
                .entry(t.labels.get_or_empty("instance").to_owned())
                .or_default()
                .push(t);
        }
        PoolHoles { by_instance }
    }

    pub fn is_empty(&self) -> bool {
        self.by_instance.is_empty()
    }

    /// Number of (target, hole) pairs.
    pub fn count(&self) -> usize {
        self.by_instance
            .values()
            .flatten()
            .map(|t| t.holes.len())
            .sum()
    }

    /// The smallest window covering every hole.
    pub fn span(&self) -> Option<(i64, i64)> {
        let all = self.by_instance.values().flatten().flat_map(|t| &t.holes);
        let lo = all.clone().map(|h| h.lo + 1).min()?;
        let hi = all.map(|h| h.hi - 1).max()?;
        Some((lo, hi))
    }

    /// The holes of the target a series was scraped from: the target whose labels the
    /// series carries, all of them with the same values.
    pub fn for_series(&self, series: &Labels) -> Option<&[Hole]> {
        let cands = self.by_instance.get(series.get_or_empty("instance"))?;
        cands
            .iter()
            .find(|t| t.labels.iter().all(|l| series.get(l.name) == Some(l.value)))
            .map(|t| t.holes.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_history_has_no_holes() {
        let own: Vec<i64> = (0..20).map(|i| 1000 + i * 1000 + (i % 3) * 40).collect();
        assert!(holes(&own, 1000, 20_500, 1000).is_empty());
    }

    #[test]
    fn missed_scrapes_make_a_hole_with_margins() {
        let own = [1000, 2000, 3000, 9000, 10_000];
        assert_eq!(
            holes(&own, 0, 10_400, 1000),
            vec![Hole { lo: 3500, hi: 8500 }]
        );
        // One missed scrape (2 intervals apart) counts.
        assert_eq!(
            holes(&[1000, 3000], 1000, 3000, 1000),
            vec![Hole { lo: 1500, hi: 2500 }]
        );
    }

    #[test]
    fn edges_of_the_window() {
        // Restart: nothing since 3000, checked up to 20000.
        assert_eq!(
            holes(&[1000, 2000, 3000], 0, 20_000, 1000),
            vec![Hole {
                lo: 3500,
                hi: 20_001
            }]
        );
        // Nothing at all: the whole window.
        assert_eq!(
            holes(&[], 5000, 9000, 1000),
            vec![Hole { lo: 4999, hi: 9001 }]
        );
        // Context before the window start bounds the hole: half an interval from 500.
        assert_eq!(
            holes(&[500, 6000], 1000, 6000, 1000),
            vec![Hole { lo: 1000, hi: 5500 }]
        );
    }

    #[test]
    fn series_find_their_target() {
        let t = |inst: &str, extra: &str| TargetHoles {
            labels: Labels::from_pairs(&[("instance", inst), ("job", "node"), ("zone", extra)]),
            holes: vec![Hole { lo: 0, hi: 10 }],
        };
        let p = PoolHoles::new(vec![t("a:1", "x"), t("a:1", "y"), t("b:1", "x")]);
        assert_eq!(p.count(), 3);
        assert_eq!(p.span(), Some((1, 9)));
        let s = Labels::from_pairs(&[
            ("__name__", "m"),
            ("instance", "a:1"),
            ("job", "node"),
            ("zone", "y"),
        ]);
        assert!(p.for_series(&s).is_some());
        let other = Labels::from_pairs(&[("__name__", "m"), ("instance", "c:1"), ("job", "node")]);
        assert!(p.for_series(&other).is_none());
    }
}
