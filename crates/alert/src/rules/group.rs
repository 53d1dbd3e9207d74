//! Rule groups (`rules/group.go`): rules evaluated in order at aligned timestamps (offset
//! by a hash of file and name, so groups don't all run at once), outputs appended to
//! storage with stale markers for series that disappeared, alerts handed to the sender.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use argus_model::{stale_nan, AppendError, Appendable, Labels};
use parking_lot::Mutex;

use super::alerting::Alert;
use super::restore::restore_rule;
use super::{Clock, EvalContext, Health, Rule, RuleRef};
use crate::metrics::RuleMetrics;
use crate::notifier::{AlertSender, NotifierAlert};

/// What every group of a manager shares.
pub(crate) struct Shared {
    pub ctx: EvalContext,
    pub appendable: Arc<dyn Appendable>,
    pub sender: Arc<dyn AlertSender>,
    pub metrics: RuleMetrics,
    pub clock: Arc<dyn Clock>,
    pub outage_tolerance_ms: i64,
    pub grace_period_ms: i64,
    pub resend_delay_ms: i64,
}

/// A group's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupParams {
    /// Group name.
    pub name: String,
    /// File it came from.
    pub file: String,
    /// Evaluation interval, ms.
    pub interval_ms: i64,
    /// Query offset, ms.
    pub query_offset_ms: i64,
    /// Limit on series/alerts per rule (0 = none).
    pub limit: u64,
}

/// Mutable bookkeeping of a group.
#[derive(Default)]
pub(crate) struct GroupState {
    /// Per rule: series written by the last evaluation (to mark vanished ones stale).
    pub series_prev: Vec<HashSet<Labels>>,
    /// Series of deleted rules, marked stale at the next evaluation.
    pub stale_series: Vec<Labels>,
    /// Wall-clock start of the last evaluation, ms.
    pub last_evaluation_ms: Option<i64>,
    /// Duration of the last evaluation, seconds.
    pub evaluation_time_s: f64,
    /// Evaluation timestamp of the last evaluation, ms.
    pub last_eval_ts: Option<i64>,
    /// Next aligned evaluation timestamp, ms.
    pub next_eval_ts: Option<i64>,
    /// Evaluations done.
    pub iterations: u64,
    /// Restore `for` state after the second evaluation.
    pub should_restore: bool,
}

/// A rule group.
pub struct Group {
    /// Group name.
    pub name: String,
    /// File it came from.
    pub file: String,
    /// Evaluation interval, ms.
    pub interval_ms: i64,
    /// Query offset, ms.
    pub query_offset_ms: i64,
    /// Limit on series/alerts per rule (0 = none).
    pub limit: u64,
    pub(crate) rules: Vec<RuleRef>,
    pub(crate) state: Mutex<GroupState>,
    pub(crate) shared: Arc<Shared>,
}

/// `FILE;NAME`, the `rule_group` metric label.
pub fn group_key(file: &str, name: &str) -> String {
    format!("{file};{name}")
}

/// Prometheus' group hash: `labels.Hash` of `{file=FILE, name=NAME}` (xxhash64 over
/// `file 0xff FILE 0xff name 0xff NAME 0xff`).
pub fn group_hash(file: &str, name: &str) -> u64 {
    let mut b = Vec::with_capacity(file.len() + name.len() + 12);
    for (k, v) in [("file", file), ("name", name)] {
        b.extend_from_slice(k.as_bytes());
        b.push(0xff);
        b.extend_from_slice(v.as_bytes());
        b.push(0xff);
    }
    xxhash_rust::xxh64::xxh64(&b, 0)
}

/// Prometheus' `EvalTimestamp`: the latest slot ≤ `now_ms` on this group's grid
/// (`interval` apart, offset by `hash % interval`).
pub fn eval_timestamp(file: &str, name: &str, interval_ms: i64, now_ms: i64) -> i64 {
    let interval_ns = i128::from(interval_ms.max(1)) * 1_000_000;
    let offset = i128::from(group_hash(file, name)) % interval_ns;
    let adj = i128::from(now_ms) * 1_000_000 - offset;
    let base = adj - adj.rem_euclid(interval_ns);
    ((base + offset).div_euclid(1_000_000)) as i64
}

impl Group {
    pub(crate) fn new(
        p: GroupParams,
        rules: Vec<Rule>,
        should_restore: bool,
        shared: Arc<Shared>,
    ) -> Self {
        let GroupParams {
            name,
            file,
            interval_ms,
            query_offset_ms,
            limit,
        } = p;
        let n = rules.len();
        let key = group_key(&file, &name);
        shared
            .metrics
            .group_interval
            .with_label_values(&[&key])
            .set(interval_ms as f64 / 1000.0);
        shared
            .metrics
            .rules
            .with_label_values(&[&key])
            .set(n as f64);
        Group {
            name,
            file,
            interval_ms,
            query_offset_ms,
            limit,
            rules: rules.into_iter().map(|r| Arc::new(Mutex::new(r))).collect(),
            state: Mutex::new(GroupState {
                series_prev: vec![HashSet::new(); n],
                should_restore,
                ..Default::default()
            }),
            shared,
        }
    }

    /// The `rule_group` label value.
    pub fn key(&self) -> String {
        group_key(&self.file, &self.name)
    }

    /// The rules (each locked separately).
    pub fn rules(&self) -> &[RuleRef] {
        &self.rules
    }

    /// Wall-clock start (ms) and duration (s) of the last evaluation.
    pub fn last_evaluation(&self) -> (Option<i64>, f64) {
        let st = self.state.lock();
        (st.last_evaluation_ms, st.evaluation_time_s)
    }

    /// The next evaluation timestamp; on first call it is the slot after `now_ms`, since
    /// Prometheus waits for its first aligned slot.
    pub fn next_eval_ts(&self, now_ms: i64) -> i64 {
        let mut st = self.state.lock();
        *st.next_eval_ts.get_or_insert_with(|| {
            eval_timestamp(&self.file, &self.name, self.interval_ms, now_ms) + self.interval_ms
        })
    }

    /// Runs the evaluation due at `now_ms`, if any (the group's scheduler step): evaluates
    /// at the newest due slot, counts skipped slots as missed, restores `for` state after
    /// the second evaluation of a group that should. Returns whether it evaluated.
    pub fn step(&self, now_ms: i64) -> bool {
        let next = self.next_eval_ts(now_ms);
        if now_ms < next {
            return false;
        }
        let missed = (now_ms - next) / self.interval_ms.max(1);
        let ts = next + missed * self.interval_ms;
        let key = self.key();
        if missed > 0 {
            self.shared
                .metrics
                .iterations_missed
                .with_label_values(&[&key])
                .inc_by(missed as u64);
            self.shared
                .metrics
                .iterations_total
                .with_label_values(&[&key])
                .inc_by(missed as u64);
        }
        self.shared
            .metrics
            .iterations_total
            .with_label_values(&[&key])
            .inc();
        let wall_start = self.shared.clock.now_ms();
        let start = Instant::now();
        self.eval(ts);
        let took = start.elapsed().as_secs_f64();
        self.shared.metrics.group_duration.observe(took);
        self.shared
            .metrics
            .last_duration
            .with_label_values(&[&key])
            .set(took);
        self.shared
            .metrics
            .last_eval_ts
            .with_label_values(&[&key])
            .set(ts as f64 / 1000.0);
        let restore = {
            let mut st = self.state.lock();
            st.last_evaluation_ms = Some(wall_start);
            st.evaluation_time_s = took;
            st.last_eval_ts = Some(ts);
            st.next_eval_ts = Some(ts + self.interval_ms);
            st.iterations += 1;
            let r = st.should_restore && st.iterations >= 2;
            if r {
                st.should_restore = false;
            }
            r
        };
        if restore {
            self.restore_for_state(self.shared.clock.now_ms());
        }
        true
    }

    /// Restores the `for` state of every alerting rule at `ts_ms`.
    pub fn restore_for_state(&self, ts_ms: i64) {
        let start = Instant::now();
        for r in &self.rules {
            let mut rule = r.lock();
            if let Rule::Alerting(a) = &mut *rule {
                let sh = &self.shared;
                match restore_rule(
                    a,
                    sh.ctx.queryable.as_ref(),
                    ts_ms,
                    sh.outage_tolerance_ms,
                    sh.grace_period_ms,
                ) {
                    Ok(n) if n > 0 => {
                        tracing::info!(group = %self.name, rule = %a.name, alerts = n, "Restored 'for' state of alerts.")
                    }
                    Ok(_) => {}
                    Err(e) => {
                        a.restored = true;
                        tracing::error!(group = %self.name, rule = %a.name, err = %e, "Failed to restore 'for' state.");
                    }
                }
            }
        }
        let key = self.key();
        self.shared
            .metrics
            .last_restore_duration
            .with_label_values(&[&key])
            .set(start.elapsed().as_secs_f64());
    }

    /// Evaluates every rule at `ts_ms`, in order, so that later rules see earlier outputs.
    pub fn eval(&self, ts_ms: i64) {
        let key = self.key();
        let sh = &self.shared;
        let mut samples_total = 0usize;
        let mut rule_duration_sum = 0.0;
        for (i, rref) in self.rules.iter().enumerate() {
            sh.metrics.evals_total.with_label_values(&[&key]).inc();
            let start = Instant::now();
            let mut rule = rref.lock();
            let result = match &mut *rule {
                Rule::Recording(r) => r.eval(&sh.ctx, ts_ms, self.query_offset_ms, self.limit),
                Rule::Alerting(a) => a.eval(&sh.ctx, ts_ms, self.query_offset_ms, self.limit),
            };
            let wall = sh.clock.now_ms();
            match result {
                Err(e) => {
                    tracing::warn!(group = %self.name, rule = %rule.name(), err = %e, "Evaluating rule failed.");
                    let st = rule.status_mut();
                    st.health = Health::Bad;
                    st.last_error = e;
                    sh.metrics.eval_failures.with_label_values(&[&key]).inc();
                }
                Ok(vector) => {
                    {
                        let st = rule.status_mut();
                        st.health = Health::Good;
                        st.last_error.clear();
                    }
                    samples_total += vector.len();
                    if let Rule::Alerting(a) = &mut *rule {
                        let due = a.alerts_to_send(ts_ms, sh.resend_delay_ms, self.interval_ms);
                        if !due.is_empty() {
                            let url = generator_url(&sh.ctx.external_url, &a.query);
                            sh.sender
                                .send(due.iter().map(|x| to_notifier(x, &url)).collect());
                        }
                    }
                    self.append(i, &mut rule, &vector, ts_ms, &key);
                }
            }
            let took = start.elapsed();
            let st = rule.status_mut();
            st.last_evaluation_ms = Some(wall);
            st.evaluation_time = took;
            rule_duration_sum += took.as_secs_f64();
            sh.metrics.eval_duration.observe(took.as_secs_f64());
        }
        sh.metrics
            .samples
            .with_label_values(&[&key])
            .set(samples_total as f64);
        sh.metrics
            .last_rule_duration_sum
            .with_label_values(&[&key])
            .set(rule_duration_sum);
        self.cleanup_stale_series(ts_ms);
    }

    fn append(
        &self,
        i: usize,
        rule: &mut Rule,
        vector: &[super::OutputSample],
        ts_ms: i64,
        key: &str,
    ) {
        let sh = &self.shared;
        let mut app = sh.appendable.appender();
        let mut returned = HashSet::with_capacity(vector.len());
        let (mut ooo, mut dup) = (0usize, 0usize);
        for s in vector {
            match app.append(None, &s.labels, s.t, s.v) {
                Ok(_) => {
                    returned.insert(s.labels.clone());
                }
                Err(e) => {
                    match e {
                        AppendError::OutOfOrder => ooo += 1,
                        AppendError::DuplicateSample => dup += 1,
                        _ => {}
                    }
                    let st = rule.status_mut();
                    st.health = Health::Bad;
                    st.last_error = e.to_string();
                }
            }
        }
        if ooo > 0 {
            tracing::warn!(group = %self.name, rule = %rule.name(), count = ooo, "Error on ingesting out-of-order result from rule evaluation.");
        }
        if dup > 0 {
            tracing::warn!(group = %self.name, rule = %rule.name(), count = dup, "Error on ingesting results from rule evaluation with different value but same timestamp.");
        }
        let prev = self
            .state
            .lock()
            .series_prev
            .get_mut(i)
            .map(std::mem::take)
            .unwrap_or_default();
        let stale_ts = ts_ms - self.query_offset_ms;
        for l in prev.difference(&returned) {
            // Series no longer produced: mark stale. Rejections (a newer sample already
            // there) are expected and ignored, as in Prometheus.
            let _ = app.append(None, l, stale_ts, stale_nan());
        }
        if let Err(e) = app.commit() {
            let st = rule.status_mut();
            st.health = Health::Bad;
            st.last_error = e.to_string();
            sh.metrics.eval_failures.with_label_values(&[key]).inc();
            tracing::warn!(group = %self.name, err = %e, "Rule sample appending failed.");
            return;
        }
        if let Some(slot) = self.state.lock().series_prev.get_mut(i) {
            *slot = returned;
        }
    }

    fn cleanup_stale_series(&self, ts_ms: i64) {
        let stale = std::mem::take(&mut self.state.lock().stale_series);
        if stale.is_empty() {
            return;
        }
        let mut app = self.shared.appendable.appender();
        for l in &stale {
            let _ = app.append(None, l, ts_ms - self.query_offset_ms, stale_nan());
        }
        if let Err(e) = app.commit() {
            tracing::warn!(group = %self.name, err = %e, "Stale sample appending for previous configuration failed.");
        }
    }

    /// Every series this group wrote at its last evaluation (to mark stale on removal).
    pub(crate) fn written_series(&self) -> Vec<Labels> {
        let st = self.state.lock();
        st.series_prev
            .iter()
            .flat_map(|s| s.iter().cloned())
            .chain(st.stale_series.iter().cloned())
            .collect()
    }

    /// Writes stale markers for everything this group wrote (group removed).
    pub(crate) fn mark_all_stale(&self, ts_ms: i64) {
        let series = self.written_series();
        if series.is_empty() {
            return;
        }
        let mut app = self.shared.appendable.appender();
        for l in &series {
            let _ = app.append(None, l, ts_ms, stale_nan());
        }
        if let Err(e) = app.commit() {
            tracing::warn!(group = %self.name, err = %e, "Stale sample appending for removed group failed.");
        }
    }

    /// Takes over alert state and series bookkeeping from the group this one replaces
    /// (Prometheus' `CopyState`): rules match by name and labels, in order.
    pub(crate) fn copy_state(&self, from: &Group) {
        let from_st = from.state.lock();
        let mut st = self.state.lock();
        st.last_evaluation_ms = from_st.last_evaluation_ms;
        st.evaluation_time_s = from_st.evaluation_time_s;
        st.next_eval_ts = None;
        let mut by_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (fi, r) in from.rules.iter().enumerate() {
            by_key
                .entry(r.lock().name_and_labels())
                .or_default()
                .push(fi);
        }
        for (i, r) in self.rules.iter().enumerate() {
            let k = r.lock().name_and_labels();
            let Some(list) = by_key.get_mut(&k) else {
                continue;
            };
            if list.is_empty() {
                continue;
            }
            let fi = list.remove(0);
            if let (Some(dst), Some(src)) = (st.series_prev.get_mut(i), from_st.series_prev.get(fi))
            {
                *dst = src.clone();
            }
            let from_rule = from.rules.get(fi).map(|x| x.lock());
            if let (Rule::Alerting(a), Some(fr)) = (&mut *r.lock(), from_rule) {
                if let Rule::Alerting(fa) = &*fr {
                    a.active = fa.active.clone();
                    a.restored = a.restored || fa.restored;
                    a.status = fa.status.clone();
                }
            } else if let Some(fr) = from.rules.get(fi) {
                r.lock().status_mut().clone_from(fr.lock().status());
            }
        }
        st.stale_series = from_st.stale_series.clone();
        for (fi, _) in from.rules.iter().enumerate() {
            let unmatched = by_key.values().any(|l| l.contains(&fi));
            if unmatched {
                if let Some(s) = from_st.series_prev.get(fi) {
                    st.stale_series.extend(s.iter().cloned());
                }
            }
        }
    }

    /// Whether `other` is defined identically (same settings and rules).
    pub(crate) fn same_definition(&self, other: &Group) -> bool {
        self.name == other.name
            && self.file == other.file
            && self.interval_ms == other.interval_ms
            && self.query_offset_ms == other.query_offset_ms
            && self.limit == other.limit
            && self.rules.len() == other.rules.len()
            && self
                .rules
                .iter()
                .zip(&other.rules)
                .all(|(a, b)| a.lock().same_definition(&b.lock()))
    }
}

/// `<external URL>/graph?g0.expr=<query>&g0.tab=1` (Prometheus' table link).
pub fn generator_url(external_url: &str, query: &str) -> String {
    format!(
        "{}/graph?g0.expr={}&g0.tab=1",
        external_url.trim_end_matches('/'),
        argus_template::escape::url_query_escape(query)
    )
}

/// Prometheus' `SendAlerts`: `startsAt` is when it fired; `endsAt` when it resolved or
/// its validity under re-sending.
fn to_notifier(a: &Alert, generator_url: &str) -> NotifierAlert {
    NotifierAlert {
        labels: a.labels.clone(),
        annotations: a.annotations.clone(),
        starts_at_ms: a.fired_at_ms.unwrap_or(a.active_at_ms),
        ends_at_ms: a.resolved_at_ms.unwrap_or(a.valid_until_ms),
        generator_url: generator_url.to_string(),
    }
}
