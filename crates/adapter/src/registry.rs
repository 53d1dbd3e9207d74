//! Which metrics exist: the rules' `seriesQuery` resolved against the live index.
//!
//! prometheus-adapter relists its metrics every `--metrics-relist-interval` (10 minutes by
//! default), so a new metric is invisible to the HPA until the next relist; this is its
//! most reported bug. Here a snapshot is rebuilt in the background every
//! `refresh_interval`, and a request for a metric the snapshot doesn't know triggers an
//! immediate rebuild (at most once per [`MIN_REBUILD_GAP_MS`]), so new metrics resolve on
//! first use.
//!
//! A rebuild asks the index, never the chunks: per rule, `label_values(__name__)` under
//! the rule's matchers, then `label_names` per metric to learn which resource labels it
//! carries. Discovery documents are always served from the last snapshot and never fail.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use argus_model::{LabelHints, Matcher, Queryable, StorageError};
use parking_lot::{Mutex, RwLock};

use crate::config::{AdapterConfig, GroupResource};

/// Minimum time between two on-demand rebuilds.
pub const MIN_REBUILD_GAP_MS: i64 = 1_000;

/// A custom metric for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomMetric {
    /// Index of the rule in `rules`.
    pub rule: usize,
    /// The series name (`<<.Series>>`).
    pub series: String,
    /// Whether the metric is served per namespace for this resource.
    pub namespaced: bool,
}

/// An external metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalMetric {
    /// Index of the rule in `externalRules`.
    pub rule: usize,
    /// The series name.
    pub series: String,
}

/// One view of the available metrics.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// When it was built, ms.
    pub built_ms: i64,
    /// (resource, API metric name) → metric. First rule wins on collisions.
    pub custom: BTreeMap<(GroupResource, String), CustomMetric>,
    /// API metric name → metric.
    pub external: BTreeMap<String, ExternalMetric>,
}

/// The live metric registry.
pub struct Registry {
    current: RwLock<Arc<Snapshot>>,
    rebuild: Mutex<()>,
    window_ms: i64,
}

impl Registry {
    /// An empty registry looking `window_ms` back for series.
    pub fn new(window_ms: i64) -> Self {
        Self {
            current: RwLock::new(Arc::new(Snapshot::default())),
            rebuild: Mutex::new(()),
            window_ms,
        }
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.read().clone()
    }

    /// Rebuilds now (blocking). Concurrent callers wait for one rebuild instead of
    /// starting their own.
    pub fn rebuild(
        &self,
        storage: &dyn Queryable,
        config: &AdapterConfig,
        now_ms: i64,
    ) -> Result<Arc<Snapshot>, StorageError> {
        let before = self.snapshot().built_ms;
        let _guard = self.rebuild.lock();
        let cur = self.snapshot();
        if cur.built_ms > before && cur.built_ms >= now_ms - MIN_REBUILD_GAP_MS {
            return Ok(cur);
        }
        let snap = Arc::new(build(storage, config, now_ms, self.window_ms)?);
        *self.current.write() = snap.clone();
        Ok(snap)
    }

    /// Rebuilds unless the snapshot is younger than [`MIN_REBUILD_GAP_MS`].
    pub fn rebuild_if_stale(
        &self,
        storage: &dyn Queryable,
        config: &AdapterConfig,
        now_ms: i64,
    ) -> Result<Arc<Snapshot>, StorageError> {
        let cur = self.snapshot();
        if cur.built_ms != 0 && now_ms - cur.built_ms < MIN_REBUILD_GAP_MS {
            return Ok(cur);
        }
        self.rebuild(storage, config, now_ms)
    }

    /// Drops the snapshot (after a config reload).
    pub fn clear(&self) {
        *self.current.write() = Arc::new(Snapshot::default());
    }
}

fn with_name(matchers: &[Matcher], name: &str) -> Vec<Matcher> {
    let mut m: Vec<Matcher> = matchers
        .iter()
        .filter(|m| m.name != argus_model::METRIC_NAME)
        .cloned()
        .collect();
    m.push(Matcher::equal(argus_model::METRIC_NAME, name));
    m
}

fn build(
    storage: &dyn Queryable,
    config: &AdapterConfig,
    now_ms: i64,
    window_ms: i64,
) -> Result<Snapshot, StorageError> {
    let q = storage.querier(now_ms.saturating_sub(window_ms), now_ms)?;
    let hints = LabelHints::default();
    // Rules often share a seriesQuery; ask the index once per query.
    let mut names_cache: HashMap<&str, Vec<String>> = HashMap::new();
    let mut snap = Snapshot {
        built_ms: now_ms,
        ..Snapshot::default()
    };
    for rule in &config.rules {
        let names = match names_cache.get(rule.series_query.as_str()) {
            Some(n) => n.clone(),
            None => {
                let (n, _) =
                    q.label_values(argus_model::METRIC_NAME, &hints, &rule.series_matchers)?;
                names_cache.insert(&rule.series_query, n.clone());
                n
            }
        };
        for series in names {
            let Some(api_name) = rule.metric_name(&series) else {
                continue;
            };
            let (labels, _) = q.label_names(&hints, &with_name(&rule.series_matchers, &series))?;
            let (resources, has_ns) = rule
                .resources
                .resources_for_labels(labels.iter().map(String::as_str));
            for res in resources {
                // Metrics about namespaces, nodes and persistent volumes are cluster-scoped.
                let namespaced = has_ns && res.info().namespaced;
                snap.custom
                    .entry((res, api_name.clone()))
                    .or_insert_with(|| CustomMetric {
                        rule: rule.index,
                        series: series.clone(),
                        namespaced,
                    });
            }
        }
    }
    let mut seen = BTreeSet::new();
    for rule in &config.external_rules {
        let names = match names_cache.get(rule.series_query.as_str()) {
            Some(n) => n.clone(),
            None => {
                let (n, _) =
                    q.label_values(argus_model::METRIC_NAME, &hints, &rule.series_matchers)?;
                names_cache.insert(&rule.series_query, n.clone());
                n
            }
        };
        for series in names {
            if let Some(api_name) = rule.metric_name(&series) {
                if seen.insert(api_name.clone()) {
                    snap.external.insert(
                        api_name,
                        ExternalMetric {
                            rule: rule.index,
                            series,
                        },
                    );
                }
            }
        }
    }
    Ok(snap)
}

#[cfg(test)]
mod tests {
    use argus_model::memstore::MemStorage;
    use argus_model::Labels;

    use super::*;

    #[test]
    fn builds_from_the_index() {
        let s = MemStorage::new();
        let add = |pairs: &[(&str, &str)]| {
            s.add(&Labels::from_pairs(pairs), &[(1_000, 1.0)]).unwrap();
        };
        add(&[
            ("__name__", "http_requests_total"),
            ("namespace", "a"),
            ("pod", "p1"),
        ]);
        add(&[
            ("__name__", "queue_depth"),
            ("namespace", "a"),
            ("service", "q"),
        ]);
        add(&[("__name__", "node_load1"), ("node", "n1")]);
        let cfg = AdapterConfig::parse(
            r#"
rules:
- seriesQuery: '{namespace!=""}'
  resources: {template: "<<.Resource>>"}
  name: {matches: "^(.*)_total$"}
- seriesQuery: '{node!=""}'
  resources: {overrides: {node: {resource: nodes}}}
externalRules:
- seriesQuery: '{__name__=~"queue_.*"}'
"#,
        )
        .unwrap();
        let reg = Registry::new(3_600_000);
        let snap = reg.rebuild(&s, &cfg, 2_000).unwrap();
        let pods = &snap.custom[&(GroupResource::core("pods"), "http_requests".to_owned())];
        assert!(pods.namespaced);
        assert_eq!(pods.series, "http_requests_total");
        let ns = &snap.custom[&(
            GroupResource::core("namespaces"),
            "http_requests".to_owned(),
        )];
        assert!(!ns.namespaced);
        assert!(!snap
            .custom
            .contains_key(&(GroupResource::core("services"), "queue_depth".to_owned())));
        let node = &snap.custom[&(GroupResource::core("nodes"), "node_load1".to_owned())];
        assert!(!node.namespaced);
        assert_eq!(snap.external["queue_depth"].series, "queue_depth");
        assert_eq!(snap.custom.len(), 3);
        // A fresh snapshot is reused; a stale one is rebuilt.
        let again = reg.rebuild_if_stale(&s, &cfg, 2_500).unwrap();
        assert!(Arc::ptr_eq(&snap, &again));
        add(&[
            ("__name__", "late_total"),
            ("namespace", "a"),
            ("pod", "p1"),
        ]);
        let later = reg.rebuild_if_stale(&s, &cfg, 4_000).unwrap();
        assert!(later
            .custom
            .contains_key(&(GroupResource::core("pods"), "late".to_owned())));
    }
}
