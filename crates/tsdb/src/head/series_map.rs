//! Striped maps of head series: by reference and by label hash. Striping keeps concurrent
//! appenders of different series from contending on one lock (Prometheus' `stripeSeries`).
//!
//! Lock order: a hash stripe before a ref stripe, never the other way round.

use std::collections::HashMap;
use std::sync::Arc;

use argus_model::Labels;
use parking_lot::RwLock;

use super::series::MemSeries;

const STRIPES: usize = 256;

/// Series by reference and by label hash.
pub struct SeriesMap {
    by_ref: Vec<RwLock<HashMap<u64, Arc<MemSeries>>>>,
    by_hash: Vec<RwLock<HashMap<u64, Vec<Arc<MemSeries>>>>>,
}

impl Default for SeriesMap {
    fn default() -> Self {
        SeriesMap {
            by_ref: (0..STRIPES).map(|_| RwLock::default()).collect(),
            by_hash: (0..STRIPES).map(|_| RwLock::default()).collect(),
        }
    }
}

fn stripe(x: u64) -> usize {
    (x % STRIPES as u64) as usize
}

impl SeriesMap {
    /// The series with reference `r`.
    pub fn get_by_ref(&self, r: u64) -> Option<Arc<MemSeries>> {
        self.by_ref.get(stripe(r))?.read().get(&r).cloned()
    }

    /// The series with exactly these labels.
    pub fn get_by_labels(&self, hash: u64, labels: &Labels) -> Option<Arc<MemSeries>> {
        self.by_hash
            .get(stripe(hash))?
            .read()
            .get(&hash)?
            .iter()
            .find(|s| &s.labels == labels)
            .cloned()
    }

    /// The series with these labels, created with `new_ref()` when absent. The flag is true
    /// when it was created.
    pub fn get_or_create(
        &self,
        hash: u64,
        labels: &Labels,
        new_ref: impl FnOnce() -> u64,
    ) -> Option<(Arc<MemSeries>, bool)> {
        if let Some(s) = self.get_by_labels(hash, labels) {
            return Some((s, false));
        }
        let mut hs = self.by_hash.get(stripe(hash))?.write();
        let bucket = hs.entry(hash).or_default();
        if let Some(s) = bucket.iter().find(|s| &s.labels == labels) {
            return Some((s.clone(), false));
        }
        let s = Arc::new(MemSeries::new(new_ref(), labels.clone()));
        self.by_ref.get(stripe(s.r))?.write().insert(s.r, s.clone());
        bucket.push(s.clone());
        Some((s, true))
    }

    /// Inserts a series with a known reference (WAL replay). Returns the existing series when
    /// the labels are already present (under whatever reference).
    pub fn insert_with_ref(&self, r: u64, labels: Labels) -> Option<(Arc<MemSeries>, bool)> {
        let hash = labels.stable_hash();
        let mut hs = self.by_hash.get(stripe(hash))?.write();
        let bucket = hs.entry(hash).or_default();
        if let Some(s) = bucket.iter().find(|s| s.labels == labels) {
            return Some((s.clone(), false));
        }
        let s = Arc::new(MemSeries::new(r, labels));
        self.by_ref.get(stripe(r))?.write().insert(r, s.clone());
        bucket.push(s.clone());
        Some((s, true))
    }

    /// Removes the series for which `dead` returns true (checked under the series' lock while
    /// both map locks are held, so no appender can pick it up in between). Returns them.
    pub fn remove_if(&self, dead: impl Fn(&MemSeries) -> bool) -> Vec<Arc<MemSeries>> {
        let mut removed = Vec::new();
        for hs in &self.by_hash {
            let mut hs = hs.write();
            hs.retain(|_, bucket| {
                bucket.retain(|s| {
                    if !dead(s) {
                        return true;
                    }
                    if let Some(rs) = self.by_ref.get(stripe(s.r)) {
                        rs.write().remove(&s.r);
                    }
                    removed.push(s.clone());
                    false
                });
                !bucket.is_empty()
            });
        }
        removed
    }

    /// Calls `f` for every series (stripe by stripe; series added meanwhile may be missed).
    pub fn for_each(&self, mut f: impl FnMut(&Arc<MemSeries>)) {
        for rs in &self.by_ref {
            let list: Vec<Arc<MemSeries>> = rs.read().values().cloned().collect();
            for s in &list {
                f(s);
            }
        }
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.by_ref.iter().map(|s| s.read().len()).sum()
    }

    /// True when there are no series.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::labels;

    #[test]
    fn create_lookup_remove() {
        let m = SeriesMap::default();
        let l = labels!("a" => "1");
        let h = l.stable_hash();
        let (s, created) = m.get_or_create(h, &l, || 7).unwrap();
        assert!(created);
        assert_eq!(s.r, 7);
        let (s2, created) = m.get_or_create(h, &l, || 8).unwrap();
        assert!(!created);
        assert_eq!(s2.r, 7);
        assert_eq!(m.get_by_ref(7).unwrap().labels, l);
        assert_eq!(m.len(), 1);
        let gone = m.remove_if(|s| s.r == 7);
        assert_eq!(gone.len(), 1);
        assert!(m.get_by_ref(7).is_none());
        assert!(m.is_empty());
    }
}
