//! The rule manager (`rules/manager.go`): loads rule files (globs), keeps groups running on
//! their intervals, and on reload keeps unchanged groups as they are and carries alert
//! state over to changed ones. The first load of a process restores `for` state from
//! `ALERTS_FOR_STATE` after each group's second evaluation.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use argus_model::{Appendable, Queryable};
use argus_query::engine::QueryOptions;
use argus_query::Engine;
use parking_lot::Mutex;

use super::group::{group_key, Group, GroupParams, Shared};
use super::{AlertingRule, Clock, EvalContext, RecordingRule, Rule, SystemClock};
use crate::metrics::{RuleMetrics, TemplateMetrics};
use crate::notifier::AlertSender;
use crate::rulefmt::{parse_file, GroupSpec, ParseOptions, RuleFileError};

/// Rule manager settings (Prometheus' `global` rule settings and `--rules.*` flags).
#[derive(Clone)]
pub struct RuleManagerOptions {
    /// `global.evaluation_interval`, ms (default 1m).
    pub evaluation_interval_ms: i64,
    /// `global.rule_query_offset`, ms (default 0).
    pub query_offset_ms: i64,
    /// `global.external_labels`.
    pub external_labels: BTreeMap<String, String>,
    /// `--web.external-url`.
    pub external_url: String,
    /// `--rules.alert.for-outage-tolerance` (default 1h).
    pub outage_tolerance_ms: i64,
    /// `--rules.alert.for-grace-period` (default 10m).
    pub for_grace_period_ms: i64,
    /// `--rules.alert.resend-delay` (default 1m).
    pub resend_delay_ms: i64,
    /// Restore `for` state on the first load (default true).
    pub restore_for_state: bool,
    /// Rule-file parsing.
    pub parse: ParseOptions,
    /// Options of rule queries.
    pub query_options: QueryOptions,
    /// Time source.
    pub clock: Arc<dyn Clock>,
}

impl Default for RuleManagerOptions {
    fn default() -> Self {
        RuleManagerOptions {
            evaluation_interval_ms: 60_000,
            query_offset_ms: 0,
            external_labels: BTreeMap::new(),
            external_url: String::new(),
            outage_tolerance_ms: 3_600_000,
            for_grace_period_ms: 600_000,
            resend_delay_ms: 60_000,
            restore_for_state: true,
            parse: ParseOptions::default(),
            query_options: QueryOptions::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Rule files failed to load; the previous rule set stays in force.
#[derive(Debug, Clone, thiserror::Error)]
#[error("error loading rules, previous rule set restored: {}", .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct RuleLoadError {
    /// Every problem found.
    pub errors: Vec<RuleFileError>,
}

/// `run()` needs a Tokio runtime.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the rule manager must run inside a Tokio runtime")]
pub struct NoRuntime;

struct Running {
    handle: tokio::runtime::Handle,
    tasks: HashMap<String, tokio::sync::watch::Sender<bool>>,
}

struct Inner {
    engine: Engine,
    queryable: Arc<dyn Queryable>,
    appendable: Arc<dyn Appendable>,
    sender: Arc<dyn AlertSender>,
    metrics: RuleMetrics,
    template_metrics: Arc<TemplateMetrics>,
    opts: Mutex<RuleManagerOptions>,
    /// Groups in file order, then group order.
    groups: Mutex<Vec<Arc<Group>>>,
    /// Whether a first load happened (later loads do not restore `for` state).
    loaded: AtomicBool,
    running: Mutex<Option<Running>>,
    /// Bumped when options that rules capture change, so every group is rebuilt.
    shared: Mutex<Option<Arc<Shared>>>,
}

/// The rule manager. Cheap to clone (shared).
#[derive(Clone)]
pub struct RuleManager {
    inner: Arc<Inner>,
}

/// Expands globs into a sorted, de-duplicated file list.
pub fn expand_globs(
    patterns: &[impl AsRef<std::ffi::OsStr>],
) -> Result<Vec<PathBuf>, RuleFileError> {
    let mut out = Vec::new();
    for p in patterns {
        let p = p.as_ref().to_string_lossy();
        let p = p.as_ref();
        let paths = glob::glob(p).map_err(|e| RuleFileError::File {
            file: p.to_string(),
            msg: format!("error retrieving rule files for {p}: {e}"),
        })?;
        let mut matched: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
        if matched.is_empty() && !p.contains(['*', '?', '[']) {
            // A plain path that does not exist is reported by the read.
            matched.push(PathBuf::from(p));
        }
        matched.sort();
        out.extend(matched);
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

impl RuleManager {
    /// A manager with no rules. `registry` receives the rule metrics.
    pub fn new(
        engine: Engine,
        queryable: Arc<dyn Queryable>,
        appendable: Arc<dyn Appendable>,
        sender: Arc<dyn AlertSender>,
        registry: &prometheus::Registry,
        opts: RuleManagerOptions,
    ) -> Self {
        RuleManager {
            inner: Arc::new(Inner {
                engine,
                queryable,
                appendable,
                sender,
                metrics: RuleMetrics::new(registry),
                template_metrics: Arc::new(TemplateMetrics::new(registry)),
                opts: Mutex::new(opts),
                groups: Mutex::new(Vec::new()),
                loaded: AtomicBool::new(false),
                running: Mutex::new(None),
                shared: Mutex::new(None),
            }),
        }
    }

    /// Replaces the options (external labels/URL, intervals, ...) used by the next
    /// [`RuleManager::load`]; groups are rebuilt (keeping alert state) if they changed.
    pub fn set_options(&self, opts: RuleManagerOptions) {
        *self.inner.opts.lock() = opts;
        *self.inner.shared.lock() = None;
    }

    fn shared(&self) -> Arc<Shared> {
        let mut s = self.inner.shared.lock();
        if let Some(sh) = &*s {
            return sh.clone();
        }
        let o = self.inner.opts.lock().clone();
        let sh = Arc::new(Shared {
            ctx: EvalContext {
                engine: self.inner.engine.clone(),
                queryable: self.inner.queryable.clone(),
                query_options: o.query_options.clone(),
                external_labels: Arc::new(o.external_labels.clone()),
                external_url: Arc::from(o.external_url.as_str()),
                template_metrics: Some(self.inner.template_metrics.clone()),
            },
            appendable: self.inner.appendable.clone(),
            sender: self.inner.sender.clone(),
            metrics: self.inner.metrics.clone(),
            clock: o.clock.clone(),
            outage_tolerance_ms: o.outage_tolerance_ms,
            grace_period_ms: o.for_grace_period_ms,
            resend_delay_ms: o.resend_delay_ms,
        });
        *s = Some(sh.clone());
        sh
    }

    fn build_group(
        &self,
        file: &str,
        spec: &GroupSpec,
        restore: bool,
        shared: &Arc<Shared>,
    ) -> Result<Group, RuleFileError> {
        let o = self.inner.opts.lock().clone();
        let mut rules = Vec::with_capacity(spec.rules.len());
        for (i, r) in spec.rules.iter().enumerate() {
            let mut labels = spec.labels.clone();
            labels.extend(r.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
            let built = match (&r.record, &r.alert) {
                (Some(name), _) => RecordingRule::new(name, &r.expr, labels).map(Rule::Recording),
                (None, Some(name)) => AlertingRule::new(
                    name,
                    &r.expr,
                    r.for_ms,
                    r.keep_firing_for_ms,
                    labels,
                    r.annotations.clone(),
                    !restore,
                )
                .map(Rule::Alerting),
                (None, None) => continue,
            };
            rules.push(built.map_err(|e| RuleFileError::Rule {
                file: file.to_string(),
                group: spec.name.clone(),
                index: i + 1,
                rule: r.name().to_string(),
                field: Some("expr".into()),
                msg: format!("could not parse expression: {e}"),
            })?);
        }
        let params = GroupParams {
            name: spec.name.clone(),
            file: file.to_string(),
            interval_ms: spec.interval_ms.unwrap_or(o.evaluation_interval_ms).max(1),
            query_offset_ms: spec.query_offset_ms.unwrap_or(o.query_offset_ms),
            limit: spec.limit,
        };
        Ok(Group::new(params, rules, restore, shared.clone()))
    }

    /// Loads rule files (paths or globs), replacing the current rule set. On any error
    /// nothing changes. Unchanged groups keep running untouched; changed groups take over
    /// their predecessor's alert state; removed groups' series are marked stale.
    pub fn load(&self, patterns: &[impl AsRef<std::ffi::OsStr>]) -> Result<(), RuleLoadError> {
        let files = expand_globs(patterns).map_err(|e| RuleLoadError { errors: vec![e] })?;
        let parse_opts = self.inner.opts.lock().parse;
        let first_load = !self.inner.loaded.load(Ordering::SeqCst);
        let restore = first_load && self.inner.opts.lock().restore_for_state;
        let shared = self.shared();
        let mut errors = Vec::new();
        let mut new_groups = Vec::new();
        for f in &files {
            let file = f.display().to_string();
            match parse_file(f, parse_opts) {
                Err(e) => errors.extend(e),
                Ok(spec) => {
                    for w in &spec.warnings {
                        tracing::warn!(file = %file, "{w}");
                    }
                    for g in &spec.groups {
                        match self.build_group(&file, g, restore, &shared) {
                            Ok(g) => new_groups.push(g),
                            Err(e) => errors.push(e),
                        }
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(RuleLoadError { errors });
        }
        self.inner.loaded.store(true, Ordering::SeqCst);
        let mut old: HashMap<String, Arc<Group>> = self
            .inner
            .groups
            .lock()
            .drain(..)
            .map(|g| (g.key(), g))
            .collect();
        let mut result = Vec::with_capacity(new_groups.len());
        let mut started = Vec::new();
        for g in new_groups {
            let key = g.key();
            match old.remove(&key) {
                Some(o) if Arc::ptr_eq(&o.shared, &shared) && o.same_definition(&g) => {
                    result.push(o)
                }
                Some(o) => {
                    self.stop_task(&key);
                    g.copy_state(&o);
                    let g = Arc::new(g);
                    started.push(g.clone());
                    result.push(g);
                }
                None => {
                    let g = Arc::new(g);
                    started.push(g.clone());
                    result.push(g);
                }
            }
        }
        let now = shared.clock.now_ms();
        for (key, g) in old {
            self.stop_task(&key);
            g.mark_all_stale(now);
            self.inner.metrics.remove_group(&key);
        }
        *self.inner.groups.lock() = result;
        if self.inner.running.lock().is_some() {
            for g in started {
                self.start_task(g);
            }
        }
        Ok(())
    }

    /// The current groups, in file and group order.
    pub fn groups(&self) -> Vec<Arc<Group>> {
        self.inner.groups.lock().clone()
    }

    /// Runs every group whose evaluation is due at `now_ms` (one scheduler step, for
    /// simulated time). Returns how many groups evaluated.
    pub fn step(&self, now_ms: i64) -> usize {
        self.groups().iter().filter(|g| g.step(now_ms)).count()
    }

    /// Evaluates every group at `ts_ms` right away, in order (promtool-style).
    pub fn eval_all(&self, ts_ms: i64) {
        for g in self.groups() {
            g.eval(ts_ms);
        }
    }

    fn start_task(&self, g: Arc<Group>) {
        let mut running = self.inner.running.lock();
        let Some(r) = running.as_mut() else { return };
        let (tx, rx) = tokio::sync::watch::channel(false);
        r.tasks.insert(g.key(), tx);
        r.handle.spawn(group_loop(g, rx));
    }

    fn stop_task(&self, key: &str) {
        if let Some(r) = self.inner.running.lock().as_mut() {
            if let Some(tx) = r.tasks.remove(key) {
                let _ = tx.send(true);
            }
        }
    }

    /// Starts evaluating every group on its interval, on the current Tokio runtime.
    pub fn run(&self) -> Result<(), NoRuntime> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| NoRuntime)?;
        {
            let mut running = self.inner.running.lock();
            if running.is_some() {
                return Ok(());
            }
            *running = Some(Running {
                handle,
                tasks: HashMap::new(),
            });
        }
        for g in self.groups() {
            self.start_task(g);
        }
        Ok(())
    }

    /// Stops all evaluation (an evaluation in progress completes).
    pub fn stop(&self) {
        if let Some(r) = self.inner.running.lock().take() {
            for tx in r.tasks.values() {
                let _ = tx.send(true);
            }
        }
    }

    /// Whether [`RuleManager::run`] is in effect.
    pub fn is_running(&self) -> bool {
        self.inner.running.lock().is_some()
    }

    /// External URL the alerts link to.
    pub fn external_url(&self) -> String {
        self.inner.opts.lock().external_url.clone()
    }

    /// `rule_group` keys of the current groups.
    pub fn group_keys(&self) -> Vec<String> {
        self.groups()
            .iter()
            .map(|g| group_key(&g.file, &g.name))
            .collect()
    }
}

/// One group's evaluation loop: sleep until the next aligned slot, evaluate (off the async
/// threads), repeat until stopped.
async fn group_loop(g: Arc<Group>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let clock = g.shared.clock.clone();
    loop {
        if *stop.borrow() {
            return;
        }
        let now = clock.now_ms();
        let next = g.next_eval_ts(now);
        if now < next {
            let wait = Duration::from_millis(u64::try_from(next - now).unwrap_or(0));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
            continue;
        }
        let g2 = g.clone();
        let c2 = clock.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || g2.step(c2.now_ms())).await {
            tracing::error!(group = %g.name, err = %e, "Rule group evaluation task failed.");
        }
    }
}
