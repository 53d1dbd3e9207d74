//! Shared setup for the rule evaluation tests: MemStorage, a recording sender, a manual
//! clock, rule files in a temp dir.

#![allow(dead_code, clippy::indexing_slicing, clippy::unwrap_used)]

use std::sync::Arc;

use argus_alert::notifier::RecordingSender;
use argus_alert::{ManualClock, RuleManager, RuleManagerOptions};
use argus_model::memstore::MemStorage;
use argus_model::{Labels, Matcher, Queryable, Sample};
use argus_query::Engine;

pub struct Setup {
    pub mgr: RuleManager,
    pub storage: Arc<MemStorage>,
    pub sender: Arc<RecordingSender>,
    pub clock: Arc<ManualClock>,
    pub registry: prometheus::Registry,
    pub dir: tempfile::TempDir,
}

impl Setup {
    pub fn new(rules: &str, tweak: impl FnOnce(&mut RuleManagerOptions)) -> Setup {
        Self::with_storage(rules, Arc::new(MemStorage::new()), tweak)
    }

    pub fn with_storage(
        rules: &str,
        storage: Arc<MemStorage>,
        tweak: impl FnOnce(&mut RuleManagerOptions),
    ) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rules.yml"), rules).unwrap();
        let clock = Arc::new(ManualClock::new(0));
        let mut opts = RuleManagerOptions {
            clock: clock.clone(),
            external_url: "http://argus.example:9090".into(),
            restore_for_state: false,
            ..RuleManagerOptions::default()
        };
        tweak(&mut opts);
        let sender = Arc::new(RecordingSender::default());
        let registry = prometheus::Registry::new();
        let mgr = RuleManager::new(
            Engine::default(),
            storage.clone(),
            storage.clone(),
            sender.clone(),
            &registry,
            opts,
        );
        let s = Setup {
            mgr,
            storage,
            sender,
            clock,
            registry,
            dir,
        };
        s.mgr.load(&[s.file()]).unwrap();
        s
    }

    pub fn file(&self) -> String {
        self.dir.path().join("rules.yml").display().to_string()
    }

    pub fn rewrite(&self, rules: &str) {
        std::fs::write(self.dir.path().join("rules.yml"), rules).unwrap();
    }

    /// Evaluates every group at `ts` (clock set to `ts` too).
    pub fn eval(&self, ts: i64) {
        self.clock.set(ts);
        self.mgr.eval_all(ts);
    }

    pub fn series(&self, name: &str) -> Vec<(Labels, Vec<Sample>)> {
        select(self.storage.as_ref(), &[Matcher::equal("__name__", name)])
    }

    pub fn metric(&self, name: &str) -> f64 {
        self.registry
            .gather()
            .iter()
            .filter(|f| f.name() == name)
            .flat_map(|f| f.get_metric().iter())
            .map(|m| m.get_counter().get_value() + m.get_gauge().get_value())
            .sum()
    }
}

pub fn select(q: &dyn Queryable, ms: &[Matcher]) -> Vec<(Labels, Vec<Sample>)> {
    let querier = q.querier(i64::MIN, i64::MAX).unwrap();
    let mut set = querier.select(true, None, ms);
    argus_model::storage::collect_series(set.as_mut()).unwrap()
}

pub const MIN: i64 = 60_000;

/// Appends one sample per minute from `from` to `to` (inclusive) with value `v`.
pub fn fill(storage: &MemStorage, labels: &Labels, from: i64, to: i64, v: f64) {
    let samples: Vec<(i64, f64)> = (0..)
        .map(|i| from + i * MIN)
        .take_while(|t| *t <= to)
        .map(|t| (t, v))
        .collect();
    storage.add(labels, &samples).unwrap();
}
