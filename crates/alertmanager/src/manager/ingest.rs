//! Receiving alerts (the API's `POST /api/v2/alerts` semantics) and reading them back
//! with their current status.

use std::collections::BTreeMap;
use std::sync::Arc;

use argus_model::Labels;
use chrono::{DateTime, Utc};

use super::AlertManager;
use crate::clock;
use crate::notify::history::HistoryRecord;
use crate::types::{alert_order, Alert, Fingerprint};

/// An alert as senders post it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostableAlert {
    /// Labels (empty values are dropped, as Alertmanager does).
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Start (defaults to now, or to `ends_at` when only that is given).
    pub starts_at: Option<DateTime<Utc>>,
    /// End (defaults to now + `resolve_timeout`).
    pub ends_at: Option<DateTime<Utc>>,
    /// Link to the source.
    pub generator_url: String,
}

/// An alert with its current routing and suppression status.
#[derive(Debug, Clone)]
pub struct AlertView {
    /// The alert.
    pub alert: Alert,
    /// Fingerprint.
    pub fingerprint: Fingerprint,
    /// Receivers it routes to, in routing order.
    pub receivers: Vec<String>,
    /// Active silences muting it.
    pub silenced_by: Vec<String>,
    /// Alerts inhibiting it.
    pub inhibited_by: Vec<String>,
}

impl AlertView {
    /// `active` or `suppressed`.
    pub fn state(&self) -> &'static str {
        if self.silenced_by.is_empty() && self.inhibited_by.is_empty() {
            "active"
        } else {
            "suppressed"
        }
    }
}

/// An aggregation group with its alerts.
#[derive(Debug, Clone)]
pub struct GroupView {
    /// Group labels.
    pub labels: Labels,
    /// Receiver.
    pub receiver: String,
    /// Group key.
    pub key: String,
    /// Alerts (not resolved).
    pub alerts: Vec<AlertView>,
}

fn validate(a: &Alert) -> Result<(), String> {
    if a.labels.is_empty() {
        return Err("at least one label pair required".into());
    }
    if a.ends_at < a.starts_at {
        return Err("start time must be before end time".into());
    }
    for l in a.labels.iter() {
        if l.name.is_empty() {
            return Err("invalid label set: invalid name \"\"".into());
        }
    }
    if a.annotations.keys().any(String::is_empty) {
        return Err("invalid annotations: invalid name \"\"".into());
    }
    Ok(())
}

impl AlertManager {
    /// Receives alerts. Valid alerts are stored and dispatched even when others are
    /// invalid; the errors of the invalid ones are returned (the API answers 400 with them).
    pub fn put_alerts(self: &Arc<Self>, alerts: Vec<PostableAlert>) -> Result<(), Vec<String>> {
        let now = self.clock.now();
        let mut errors = Vec::new();
        let mut due = false;
        {
            let mut st = self.state.lock();
            let resolve_timeout = st.c.config.global().resolve_timeout();
            for p in alerts {
                let starts_at = p.starts_at.or(p.ends_at).unwrap_or(now);
                let (ends_at, timeout) = match p.ends_at {
                    Some(e) => (e, false),
                    None => (clock::add(now, resolve_timeout), true),
                };
                let status = if ends_at > now { "firing" } else { "resolved" };
                self.metrics
                    .alerts_received
                    .with_label_values(&[status])
                    .inc();
                let labels: Vec<(String, String)> = p
                    .labels
                    .into_iter()
                    .filter(|(_, v)| !v.is_empty())
                    .collect();
                let a = Alert {
                    labels: Labels::from_pairs(&labels),
                    annotations: p.annotations,
                    starts_at,
                    ends_at,
                    generator_url: p.generator_url,
                    updated_at: now,
                    timeout,
                };
                if let Err(e) = validate(&a) {
                    self.metrics.alerts_invalid.inc();
                    errors.push(e);
                    continue;
                }
                let stored = st.alerts.put(a, now);
                st.c.inhibitor.observe(&stored);
                let routes = st.c.routes.clone();
                due |= st.dispatcher.insert(&routes, &stored, now);
                st.alerts_dirty = true;
            }
        }
        if due {
            self.wake_dispatch.notify_one();
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn view(&self, st: &super::State, a: &Alert, now: DateTime<Utc>) -> AlertView {
        AlertView {
            fingerprint: a.fingerprint(),
            receivers: st.c.routes.receivers_for(&a.labels),
            silenced_by: st.silences.mutes(&a.labels, now),
            inhibited_by: st
                .c
                .inhibitor
                .mutes(&a.labels, now)
                .map(|i| vec![i.source.to_string()])
                .unwrap_or_default(),
            alert: a.clone(),
        }
    }

    /// All alerts that are not resolved, by fingerprint.
    pub fn alerts(&self) -> Vec<AlertView> {
        let st = self.state.lock();
        let now = self.clock.now();
        let mut v: Vec<AlertView> = st
            .alerts
            .iter()
            .filter(|a| !a.resolved_at(now))
            .map(|a| self.view(&st, a, now))
            .collect();
        v.sort_by_key(|a| a.fingerprint.to_string());
        v
    }

    /// Aggregation groups with their unresolved alerts, ordered as Alertmanager's
    /// `AlertGroups` (by labels, then receiver).
    pub fn alert_groups(&self) -> Vec<GroupView> {
        let st = self.state.lock();
        let now = self.clock.now();
        let mut groups: Vec<GroupView> = st
            .dispatcher
            .groups()
            .map(|g| {
                let mut alerts: Vec<&Alert> =
                    g.alerts.values().filter(|a| !a.resolved_at(now)).collect();
                alerts.sort_by(|a, b| alert_order(&a.labels, &b.labels));
                GroupView {
                    labels: g.labels.clone(),
                    receiver: g.receiver.clone(),
                    key: g.key.clone(),
                    alerts: alerts.into_iter().map(|a| self.view(&st, a, now)).collect(),
                }
            })
            .collect();
        groups.sort_by(|a, b| {
            a.labels
                .cmp(&b.labels)
                .then_with(|| a.receiver.cmp(&b.receiver))
        });
        groups
    }

    /// Notification history, optionally only for one group key, oldest first.
    pub fn notification_history(&self, group_key: Option<&str>) -> Vec<HistoryRecord> {
        let st = self.state.lock();
        st.history
            .records()
            .filter(|r| group_key.is_none_or(|k| r.group_key == k))
            .cloned()
            .collect()
    }

    /// Receiver names in config order.
    pub fn receiver_names(&self) -> Vec<String> {
        self.state
            .lock()
            .c
            .config
            .receivers
            .iter()
            .map(|r| r.name.clone())
            .collect()
    }
}
