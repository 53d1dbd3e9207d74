//! Alerting rules (`rules/alerting.go`): the inactive → pending → firing state machine with
//! `for` and `keep_firing_for`, resolved alerts kept for 15 minutes so they can be re-sent,
//! and the `ALERTS` / `ALERTS_FOR_STATE` series.

use std::collections::{BTreeMap, HashSet};

use argus_model::{Labels, LabelsBuilder, METRIC_NAME};
use argus_query::ParseError;

use super::template_expand::{alert_functions, expand_all};
use super::{query_vector, EvalContext, OutputSample, RuleStatus};

/// How long resolved alerts are kept (and re-sent), Prometheus' `resolvedRetention`.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// Name of the alert-state series.
pub const ALERTS_METRIC: &str = "ALERTS";
/// Name of the series recording when alerts became active.
pub const ALERTS_FOR_STATE_METRIC: &str = "ALERTS_FOR_STATE";
/// The label holding the alert name.
pub const ALERTNAME_LABEL: &str = "alertname";
/// The label holding the alert state in `ALERTS`.
pub const ALERTSTATE_LABEL: &str = "alertstate";

/// An alert's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertState {
    /// Resolved (kept for re-sending).
    Inactive,
    /// Active, waiting for `for` to pass.
    Pending,
    /// Firing.
    Firing,
}

impl AlertState {
    /// `inactive`, `pending` or `firing`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert of an alerting rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Labels: the series' labels without `__name__`, the rule's (expanded) labels and
    /// `alertname`.
    pub labels: Labels,
    /// Expanded annotations.
    pub annotations: Labels,
    /// State.
    pub state: AlertState,
    /// The expression's value at the last evaluation.
    pub value: f64,
    /// When it became active (ms).
    pub active_at_ms: i64,
    /// When it started firing (ms).
    pub fired_at_ms: Option<i64>,
    /// When it was resolved (ms).
    pub resolved_at_ms: Option<i64>,
    /// When it was last sent (ms).
    pub last_sent_at_ms: Option<i64>,
    /// `endsAt` of the last send: the alert is valid until then unless re-sent.
    pub valid_until_ms: i64,
    /// Since when it keeps firing only because of `keep_firing_for`.
    pub keep_firing_since_ms: Option<i64>,
}

impl Alert {
    /// Prometheus' `needsSending`: never pending ones; resolved ones once right away; the
    /// rest every `resend_delay`.
    pub fn needs_sending(&self, ts_ms: i64, resend_delay_ms: i64) -> bool {
        if self.state == AlertState::Pending {
            return false;
        }
        if let Some(r) = self.resolved_at_ms {
            if self.last_sent_at_ms.is_none_or(|s| r > s) {
                return true;
            }
        }
        match self.last_sent_at_ms {
            None => true,
            Some(s) => s + resend_delay_ms < ts_ms,
        }
    }
}

/// An alerting rule.
#[derive(Debug)]
pub struct AlertingRule {
    /// Alert name.
    pub name: String,
    /// Expression as written.
    pub expr: String,
    /// Expression as printed by the parser.
    pub query: String,
    /// `for`, ms.
    pub hold_ms: i64,
    /// `keep_firing_for`, ms.
    pub keep_firing_for_ms: i64,
    /// Label templates.
    pub labels: BTreeMap<String, String>,
    /// Annotation templates.
    pub annotations: BTreeMap<String, String>,
    /// Alerts by label set (active, and resolved ones still retained).
    pub active: BTreeMap<Labels, Alert>,
    /// Whether `for` state has been restored (until then no `ALERTS` series are written).
    pub restored: bool,
    /// Last evaluation.
    pub status: RuleStatus,
}

impl AlertingRule {
    /// A new rule; `restored` = false holds back `ALERTS` output until
    /// [`crate::rules::group::Group::restore_for_state`] ran.
    pub fn new(
        name: &str,
        expr: &str,
        hold_ms: i64,
        keep_firing_for_ms: i64,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
        restored: bool,
    ) -> Result<Self, ParseError> {
        let query = argus_query::parse(expr)?.to_string();
        Ok(AlertingRule {
            name: name.into(),
            expr: expr.into(),
            query,
            hold_ms,
            keep_firing_for_ms,
            labels,
            annotations,
            active: BTreeMap::new(),
            restored,
            status: RuleStatus::default(),
        })
    }

    /// The rule's state: the highest state among its alerts.
    pub fn state(&self) -> AlertState {
        self.active
            .values()
            .map(|a| a.state)
            .max()
            .unwrap_or(AlertState::Inactive)
    }

    /// Active alerts (pending or firing), in label order.
    pub fn active_alerts(&self) -> Vec<Alert> {
        self.active
            .values()
            .filter(|a| a.state != AlertState::Inactive)
            .cloned()
            .collect()
    }

    /// Evaluates at `ts_ms`; returns the `ALERTS`/`ALERTS_FOR_STATE` samples to write.
    pub fn eval(
        &mut self,
        ctx: &EvalContext,
        ts_ms: i64,
        query_offset_ms: i64,
        limit: u64,
    ) -> Result<Vec<OutputSample>, String> {
        let query_ts = ts_ms - query_offset_ms;
        let res = query_vector(ctx, &self.expr, query_ts).map_err(|e| e.to_string())?;
        let funcs = alert_functions(ctx, ts_ms);
        let mut fresh: BTreeMap<Labels, Alert> = BTreeMap::new();
        for smpl in res {
            let series: BTreeMap<String, String> = smpl
                .labels
                .iter()
                .map(|l| (l.name.to_string(), l.value.to_string()))
                .collect();
            let mut b = LabelsBuilder::from(&smpl.labels);
            b.del(METRIC_NAME);
            for (k, v) in expand_all(ctx, &funcs, &self.name, &series, smpl.v, &self.labels) {
                b.set(&k, &v);
            }
            b.set(ALERTNAME_LABEL, &self.name);
            let annotations =
                expand_all(ctx, &funcs, &self.name, &series, smpl.v, &self.annotations);
            let mut ab = LabelsBuilder::new();
            for (k, v) in &annotations {
                ab.set(k, v);
            }
            let lbs = b.build();
            if fresh.contains_key(&lbs) {
                return Err(
                    "vector contains metrics with the same labelset after applying alert labels"
                        .into(),
                );
            }
            fresh.insert(
                lbs.clone(),
                Alert {
                    labels: lbs,
                    annotations: ab.build(),
                    state: AlertState::Pending,
                    value: smpl.v,
                    active_at_ms: ts_ms,
                    fired_at_ms: None,
                    resolved_at_ms: None,
                    last_sent_at_ms: None,
                    valid_until_ms: 0,
                    keep_firing_since_ms: None,
                },
            );
        }
        let result_keys: HashSet<Labels> = fresh.keys().cloned().collect();
        for (k, a) in fresh {
            match self.active.get_mut(&k) {
                Some(existing) if existing.state != AlertState::Inactive => {
                    existing.value = a.value;
                    existing.annotations = a.annotations;
                }
                _ => {
                    self.active.insert(k, a);
                }
            }
        }

        let mut out = Vec::new();
        let mut num_active = 0u64;
        let mut drop = Vec::new();
        for (k, a) in self.active.iter_mut() {
            if !result_keys.contains(k) {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && self.keep_firing_for_ms > 0 {
                    let since = *a.keep_firing_since_ms.get_or_insert(ts_ms);
                    keep_firing = ts_ms - since < self.keep_firing_for_ms;
                }
                // Resolved alerts stay for the retention period so they can be re-sent.
                if a.state == AlertState::Pending
                    || a.resolved_at_ms
                        .is_some_and(|r| ts_ms - r > RESOLVED_RETENTION_MS)
                {
                    drop.push(k.clone());
                }
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at_ms = Some(ts_ms);
                }
                if !keep_firing {
                    continue;
                }
            } else {
                a.keep_firing_since_ms = None;
            }
            num_active += 1;
            if a.state == AlertState::Pending && ts_ms - a.active_at_ms >= self.hold_ms {
                a.state = AlertState::Firing;
                a.fired_at_ms = Some(ts_ms);
            }
            if self.restored {
                out.push(alert_sample(&self.labels, &self.name, a, query_ts, true));
                out.push(alert_sample(&self.labels, &self.name, a, query_ts, false));
            }
        }
        for k in drop {
            self.active.remove(&k);
        }
        if limit > 0 && num_active > limit {
            self.active.clear();
            return Err(format!(
                "exceeded limit of {limit} with {num_active} alerts"
            ));
        }
        Ok(out)
    }

    /// Marks alerts sent at `ts_ms` and returns those due (Prometheus' `sendAlerts`): each
    /// gets `valid_until = ts + 4 × max(resend_delay, interval)`.
    pub fn alerts_to_send(
        &mut self,
        ts_ms: i64,
        resend_delay_ms: i64,
        interval_ms: i64,
    ) -> Vec<Alert> {
        let mut out = Vec::new();
        for a in self.active.values_mut() {
            if a.needs_sending(ts_ms, resend_delay_ms) {
                a.last_sent_at_ms = Some(ts_ms);
                a.valid_until_ms = ts_ms + 4 * resend_delay_ms.max(interval_ms);
                out.push(a.clone());
            }
        }
        out
    }
}

/// `ALERTS{...,alertstate}` = 1 or `ALERTS_FOR_STATE{...}` = activeAt in seconds. Rule
/// labels go first so that the alert's (expanded) labels win.
fn alert_sample(
    rule_labels: &BTreeMap<String, String>,
    name: &str,
    a: &Alert,
    ts: i64,
    alerts: bool,
) -> OutputSample {
    let mut b = LabelsBuilder::new();
    for (k, v) in rule_labels {
        b.set(k, v);
    }
    for l in a.labels.iter() {
        b.set(l.name, l.value);
    }
    b.set(ALERTNAME_LABEL, name);
    let v = if alerts {
        b.set(METRIC_NAME, ALERTS_METRIC);
        b.set(ALERTSTATE_LABEL, a.state.as_str());
        1.0
    } else {
        b.set(METRIC_NAME, ALERTS_FOR_STATE_METRIC);
        // Whole seconds, as Prometheus writes `ActiveAt.Unix()`.
        a.active_at_ms.div_euclid(1000) as f64
    };
    OutputSample {
        labels: b.build(),
        t: ts,
        v,
    }
}
