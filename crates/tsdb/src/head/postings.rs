//! Inverted index of the head: label name → value → bitmap of series references.
//!
//! Head references are `u64` (they keep growing with churn over the life of a process), so
//! the bitmaps are `RoaringTreemap`s.

use std::collections::HashMap;

use argus_model::storage::NameCount;
use argus_model::Labels;
use roaring::RoaringTreemap;

use crate::error::Result;
use crate::querier::postings::PostingsIndex;

/// Head postings.
#[derive(Default)]
pub struct MemPostings {
    m: HashMap<Box<str>, HashMap<Box<str>, RoaringTreemap>>,
    all: RoaringTreemap,
}

impl MemPostings {
    /// Adds series `r` with `labels`.
    pub fn add(&mut self, r: u64, labels: &Labels) {
        for l in labels.iter() {
            let values = match self.m.get_mut(l.name) {
                Some(v) => v,
                None => self.m.entry(l.name.into()).or_default(),
            };
            match values.get_mut(l.value) {
                Some(b) => {
                    b.insert(r);
                }
                None => {
                    let mut b = RoaringTreemap::new();
                    b.insert(r);
                    values.insert(l.value.into(), b);
                }
            }
        }
        self.all.insert(r);
    }

    /// Moves every posting of `other` into `self` (parallel loads build one index per
    /// thread and merge them, instead of contending on one lock per series).
    pub fn merge(&mut self, other: MemPostings) {
        for (name, values) in other.m {
            let mine = self.m.entry(name).or_default();
            for (value, b) in values {
                match mine.get_mut(&value) {
                    Some(x) => *x |= b,
                    None => {
                        mine.insert(value, b);
                    }
                }
            }
        }
        self.all |= other.all;
    }

    /// Removes series `r`.
    pub fn remove(&mut self, r: u64, labels: &Labels) {
        for l in labels.iter() {
            let Some(values) = self.m.get_mut(l.name) else {
                continue;
            };
            if let Some(b) = values.get_mut(l.value) {
                b.remove(r);
                if b.is_empty() {
                    values.remove(l.value);
                }
            }
            if values.is_empty() {
                self.m.remove(l.name);
            }
        }
        self.all.remove(r);
    }

    /// Sorted label names.
    pub fn label_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.m.keys().map(|k| k.to_string()).collect();
        v.sort();
        v
    }

    /// Sorted values of `name`.
    pub fn label_values(&self, name: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .m
            .get(name)
            .map(|vals| vals.keys().map(|k| k.to_string()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Number of distinct label pairs.
    pub fn num_label_pairs(&self) -> u64 {
        self.m.values().map(|v| v.len() as u64).sum()
    }

    /// Cardinality statistics for `/api/v1/status/tsdb`, top `limit` each, computed like
    /// Prometheus' `MemPostings.Stats`.
    pub fn stats(&self, limit: usize) -> PostingsStats {
        let mut by_metric = Vec::new();
        let mut value_count = Vec::new();
        let mut memory = Vec::new();
        let mut pairs = Vec::new();
        for (name, values) in &self.m {
            value_count.push(NameCount {
                name: name.to_string(),
                value: values.len() as u64,
            });
            let mut size = 0u64;
            for (value, b) in values {
                let n = b.len();
                if &**name == argus_model::METRIC_NAME {
                    by_metric.push(NameCount {
                        name: value.to_string(),
                        value: n,
                    });
                }
                pairs.push(NameCount {
                    name: format!("{name}={value}"),
                    value: n,
                });
                size += value.len() as u64 * n;
            }
            memory.push(NameCount {
                name: name.to_string(),
                value: size,
            });
        }
        PostingsStats {
            series_count_by_metric_name: top(by_metric, limit),
            label_value_count_by_label_name: top(value_count, limit),
            memory_in_bytes_by_label_name: top(memory, limit),
            series_count_by_label_value_pair: top(pairs, limit),
        }
    }
}

/// The four top-lists of the TSDB status page.
#[derive(Debug, Clone, Default)]
pub struct PostingsStats {
    /// Series per metric name.
    pub series_count_by_metric_name: Vec<NameCount>,
    /// Distinct values per label name.
    pub label_value_count_by_label_name: Vec<NameCount>,
    /// Bytes of values per label name.
    pub memory_in_bytes_by_label_name: Vec<NameCount>,
    /// Series per label pair.
    pub series_count_by_label_value_pair: Vec<NameCount>,
}

fn top(mut v: Vec<NameCount>, limit: usize) -> Vec<NameCount> {
    v.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.name.cmp(&b.name)));
    v.truncate(limit);
    v
}

impl PostingsIndex for MemPostings {
    type Set = RoaringTreemap;

    fn all_postings(&self) -> Result<RoaringTreemap> {
        Ok(self.all.clone())
    }

    fn postings(&self, name: &str, value: &str) -> Result<RoaringTreemap> {
        Ok(self
            .m
            .get(name)
            .and_then(|v| v.get(value))
            .cloned()
            .unwrap_or_default())
    }

    fn postings_where(&self, name: &str, keep: &dyn Fn(&str) -> bool) -> Result<RoaringTreemap> {
        let mut out = RoaringTreemap::new();
        if let Some(values) = self.m.get(name) {
            for (v, b) in values {
                if keep(v) {
                    out |= b;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::labels;

    #[test]
    fn add_remove_stats() {
        let mut p = MemPostings::default();
        p.add(1, &labels!("__name__" => "up", "job" => "a"));
        p.add(2, &labels!("__name__" => "up", "job" => "bb"));
        p.add(3, &labels!("__name__" => "x"));
        assert_eq!(p.label_values("job"), vec!["a", "bb"]);
        let s = p.stats(10);
        assert_eq!(s.series_count_by_metric_name[0].name, "up");
        assert_eq!(s.series_count_by_metric_name[0].value, 2);
        let mem: Vec<_> = s
            .memory_in_bytes_by_label_name
            .iter()
            .map(|n| (n.name.as_str(), n.value))
            .collect();
        assert!(mem.contains(&("job", 3)));
        p.remove(2, &labels!("__name__" => "up", "job" => "bb"));
        assert_eq!(p.label_values("job"), vec!["a"]);
        assert_eq!(p.postings("__name__", "up").unwrap().len(), 1);
        assert_eq!(p.num_label_pairs(), 3);
    }
}
