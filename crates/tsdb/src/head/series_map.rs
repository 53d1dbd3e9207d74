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
    by_hash: Vec<RwLock<HashStripe>>,
}

/// One stripe of the label-hash index. A 64-bit hash collision is rare, so the first series
/// of a hash is stored directly and only colliding ones get a list: a `Vec` per series would
/// cost a heap block for every series.
#[derive(Default)]
struct HashStripe {
    one: HashMap<u64, Arc<MemSeries>>,
    more: HashMap<u64, Vec<Arc<MemSeries>>>,
}

impl HashStripe {
    fn find(&self, hash: u64, labels: &Labels) -> Option<&Arc<MemSeries>> {
        match self.one.get(&hash) {
            Some(s) if &s.labels == labels => Some(s),
            Some(_) => self.more.get(&hash)?.iter().find(|s| &s.labels == labels),
            None => None,
        }
    }

    fn insert(&mut self, hash: u64, s: Arc<MemSeries>) {
        match self.one.entry(hash) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(s);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.more.entry(hash).or_default().push(s);
            }
        }
    }
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
            .find(hash, labels)
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
        if let Some(s) = hs.find(hash, labels) {
            return Some((s.clone(), false));
        }
        let s = Arc::new(MemSeries::new(new_ref(), labels.clone()));
        self.by_ref.get(stripe(s.r))?.write().insert(s.r, s.clone());
        hs.insert(hash, s.clone());
        Some((s, true))
    }

    /// Inserts a series with a known reference (WAL replay). Returns the existing series when
    /// the labels are already present (under whatever reference).
    pub fn insert_with_ref(&self, r: u64, labels: Labels) -> Option<(Arc<MemSeries>, bool)> {
        let hash = labels.stable_hash();
        let mut hs = self.by_hash.get(stripe(hash))?.write();
        if let Some(s) = hs.find(hash, &labels) {
            return Some((s.clone(), false));
        }
        let s = Arc::new(MemSeries::new(r, labels));
        self.by_ref.get(stripe(r))?.write().insert(r, s.clone());
        hs.insert(hash, s.clone());
        Some((s, true))
    }

    /// Removes the series for which `dead` returns true (checked under the series' lock while
    /// both map locks are held, so no appender can pick it up in between). Returns them.
    pub fn remove_if(&self, dead: impl Fn(&MemSeries) -> bool) -> Vec<Arc<MemSeries>> {
        let mut removed = Vec::new();
        let mut drop_dead = |s: &Arc<MemSeries>| {
            if !dead(s) {
                return true;
            }
            if let Some(rs) = self.by_ref.get(stripe(s.r)) {
                rs.write().remove(&s.r);
            }
            removed.push(s.clone());
            false
        };
        for hs in &self.by_hash {
            let mut hs = hs.write();
            let HashStripe { one, more } = &mut *hs;
            one.retain(|_, s| drop_dead(s));
            more.retain(|_, bucket| {
                bucket.retain(&mut drop_dead);
                !bucket.is_empty()
            });
            // A colliding series whose first went away takes the direct slot.
            let orphans: Vec<u64> = more
                .keys()
                .filter(|h| !one.contains_key(h))
                .copied()
                .collect();
            for h in orphans {
                if let Some(mut bucket) = more.remove(&h) {
                    if let Some(first) = bucket.pop() {
                        one.insert(h, first);
                    }
                    if !bucket.is_empty() {
                        more.insert(h, bucket);
                    }
                }
            }
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
        // A forced collision: same hash, other labels.
        let l2 = labels!("a" => "2");
        let (s3, created) = m.get_or_create(h, &l2, || 9).unwrap();
        assert!(created);
        assert_eq!(m.get_by_labels(h, &l2).unwrap().r, s3.r);
        assert_eq!(m.remove_if(|s| s.r == 7).len(), 1);
        assert_eq!(
            m.get_by_labels(h, &l2).unwrap().r,
            9,
            "promoted to the direct slot"
        );
        assert!(m.get_by_labels(h, &l).is_none());
        let (s, _) = m.get_or_create(h, &l, || 7).unwrap();
        assert_eq!(s.r, 7);
        assert_eq!(m.remove_if(|s| s.r == 9).len(), 1);
        let gone = m.remove_if(|s| s.r == 7);
        assert_eq!(gone.len(), 1);
        assert!(m.get_by_ref(7).is_none());
        assert!(m.is_empty());
    }
}
