//! The notification pipeline of one flush, as Alertmanager's stages: inhibition, active
//! and mute time intervals, silences (each removes alerts; nothing left means nothing to
//! do), then per integration the dedup decision against what was last notified, and the
//! resulting notification, which goes to the outbox.
//!
//! "What was last notified" is the newest pending outbox entry for the group and
//! integration if there is one, else the notification log entry. Deciding against pending
//! entries keeps a receiver outage from queueing the same notification at every flush.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::data::NotifyAlert;
use super::history::{SuppressReason, SuppressedAlert};
use super::outbox::OutboxEntry;
use crate::config::time_interval::{any_contains, TimeInterval};
use crate::config::ReceiverConfig;
use crate::dispatch::{Flush, FlushAlert};
use crate::inhibit::Inhibitor;
use crate::nflog::ReceiverKey;
use crate::route::RouteOpts;
use crate::silences::Silences;
use crate::types::alert_hash;

/// One integration of a receiver, as the pipeline needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationSpec {
    /// Identity (notification log key).
    pub key: ReceiverKey,
    /// `send_resolved`.
    pub send_resolved: bool,
    /// `max_alerts` (0 = unlimited).
    pub max_alerts: u64,
}

/// The integrations of a receiver config.
pub fn integrations(r: &ReceiverConfig) -> Vec<IntegrationSpec> {
    let mut v = Vec::new();
    for (i, w) in r.webhook_configs.iter().enumerate() {
        v.push(IntegrationSpec {
            key: ReceiverKey {
                receiver: r.name.clone(),
                integration: "webhook".into(),
                idx: i as u32,
            },
            send_resolved: w.send_resolved(),
            max_alerts: w.max_alerts,
        });
    }
    for (i, e) in r.email_configs.iter().enumerate() {
        v.push(IntegrationSpec {
            key: ReceiverKey {
                receiver: r.name.clone(),
                integration: "email".into(),
                idx: i as u32,
            },
            send_resolved: e.send_resolved(),
            max_alerts: 0,
        });
    }
    v
}

/// What was last notified to an integration for a group.
#[derive(Debug, Clone, PartialEq)]
pub struct LastNotified {
    /// Flush time.
    pub timestamp: DateTime<Utc>,
    /// Firing hashes.
    pub firing: HashSet<u64>,
    /// Resolved hashes.
    pub resolved: HashSet<u64>,
}

/// Muting inputs.
pub struct MuteInputs<'a> {
    /// Silences.
    pub silences: &'a Silences,
    /// Inhibition rules.
    pub inhibitor: &'a Inhibitor,
    /// Named time intervals.
    pub intervals: &'a HashMap<String, Vec<TimeInterval>>,
}

/// Outcome of one flush for one receiver.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Notifications to enqueue.
    pub entries: Vec<OutboxEntry>,
    /// Alerts held back, with reasons.
    pub suppressed: Vec<SuppressedAlert>,
}

/// Applies the mute stages; returns (visible alerts, suppressed alerts with reasons).
pub fn mute<'f>(
    flush: &'f Flush,
    opts: &RouteOpts,
    m: &MuteInputs<'_>,
) -> (Vec<&'f FlushAlert>, Vec<(&'f FlushAlert, SuppressReason)>) {
    let now = flush.now;
    let mut visible = Vec::new();
    let mut muted = Vec::new();
    for a in &flush.alerts {
        match m.inhibitor.mutes(&a.alert.labels, now) {
            Some(ih) => muted.push((
                a,
                SuppressReason::Inhibited {
                    inhibited_by: ih.source.to_string(),
                    inhibit_rule: ih.rule,
                },
            )),
            None => visible.push(a),
        }
    }
    let time_reason = if !opts.active_time_intervals.is_empty()
        && !opts
            .active_time_intervals
            .iter()
            .any(|n| m.intervals.get(n).is_some_and(|ti| any_contains(ti, now)))
    {
        Some(SuppressReason::ActiveTimeInterval {
            time_intervals: opts.active_time_intervals.clone(),
        })
    } else {
        let inside: Vec<String> = opts
            .mute_time_intervals
            .iter()
            .filter(|n| m.intervals.get(*n).is_some_and(|ti| any_contains(ti, now)))
            .cloned()
            .collect();
        (!inside.is_empty()).then_some(SuppressReason::MuteTimeInterval {
            time_intervals: inside,
        })
    };
    if let Some(r) = time_reason {
        muted.extend(visible.drain(..).map(|a| (a, r.clone())));
        return (visible, muted);
    }
    let mut still = Vec::new();
    for a in visible {
        let ids = m.silences.mutes(&a.alert.labels, now);
        if ids.is_empty() {
            still.push(a);
        } else {
            muted.push((a, SuppressReason::Silenced { silence_ids: ids }));
        }
    }
    (still, muted)
}

/// Alertmanager's `DedupStage.needsUpdate`, with the repeat interval already rounded up to
/// a multiple of the group interval and compared against flush times (so a repeat happens
/// exactly at that multiple). Returns the reason to notify, if any.
pub fn needs_update(
    last: Option<&LastNotified>,
    firing: &HashSet<u64>,
    resolved: &HashSet<u64>,
    send_resolved: bool,
    repeat: std::time::Duration,
    now: DateTime<Utc>,
) -> Option<&'static str> {
    let Some(e) = last else {
        return (!firing.is_empty()).then_some("first notification");
    };
    if !firing.is_subset(&e.firing) {
        return Some(if e.firing.is_empty() {
            "first notification"
        } else {
            "new alerts added"
        });
    }
    if firing.is_empty() {
        return (!e.firing.is_empty()).then_some("all alerts resolved");
    }
    if send_resolved && !resolved.is_subset(&e.resolved) {
        return Some("some alerts resolved");
    }
    (e.timestamp <= crate::clock::sub(now, repeat)).then_some("repeat interval elapsed")
}

fn notify_alert(a: &FlushAlert, resolved: bool, now: DateTime<Utc>) -> NotifyAlert {
    NotifyAlert {
        status: if resolved { "resolved" } else { "firing" }.into(),
        labels: a.alert.labels.clone(),
        annotations: a.alert.annotations.clone(),
        starts_at: a.alert.starts_at,
        ends_at: resolved.then_some(if a.resolved { a.alert.ends_at } else { now }),
        generator_url: a.alert.generator_url.clone(),
        fingerprint: a.alert.fingerprint().to_string(),
    }
}

/// Runs the pipeline of one flush for the route's receiver.
pub fn plan(
    flush: &Flush,
    opts: &RouteOpts,
    receiver: Option<&ReceiverConfig>,
    m: &MuteInputs<'_>,
    last: &dyn Fn(&ReceiverKey) -> Option<LastNotified>,
) -> Plan {
    let (visible, muted) = mute(flush, opts, m);
    let suppressed: Vec<SuppressedAlert> = muted
        .iter()
        .map(|(a, why)| SuppressedAlert {
            fingerprint: a.alert.fingerprint().to_string(),
            alertname: a.alert.name().to_owned(),
            why: why.clone(),
        })
        .collect();
    let mut out = Plan {
        entries: Vec::new(),
        suppressed,
    };
    let Some(receiver) = receiver else {
        return out;
    };
    let repeat = opts.effective_repeat_interval();
    for spec in integrations(receiver) {
        let prev = last(&spec.key);
        let mut alerts: Vec<NotifyAlert> = visible
            .iter()
            .map(|a| notify_alert(a, a.resolved, flush.now))
            .collect();
        if receiver.send_resolved_when_muted {
            if let Some(p) = &prev {
                for (a, _) in &muted {
                    if p.firing.contains(&alert_hash(&a.alert.labels)) {
                        alerts.push(notify_alert(a, true, flush.now));
                    }
                }
            }
        }
        if alerts.is_empty() {
            continue;
        }
        let mut firing = HashSet::new();
        let mut resolved = HashSet::new();
        for a in &alerts {
            let h = alert_hash(&a.labels);
            if a.status == "firing" {
                firing.insert(h);
            } else {
                resolved.insert(h);
            }
        }
        let Some(reason) = needs_update(
            prev.as_ref(),
            &firing,
            &resolved,
            spec.send_resolved,
            repeat,
            flush.now,
        ) else {
            continue;
        };
        let mut send: Vec<NotifyAlert> = if spec.send_resolved {
            alerts
        } else if firing.is_empty() {
            Vec::new()
        } else {
            alerts
                .into_iter()
                .filter(|a| a.status == "firing")
                .collect()
        };
        let mut truncated = 0;
        if spec.max_alerts > 0 && send.len() as u64 > spec.max_alerts {
            truncated = send.len() as u64 - spec.max_alerts;
            send.truncate(usize::try_from(spec.max_alerts).unwrap_or(usize::MAX));
        }
        let mut firing: Vec<u64> = firing.into_iter().collect();
        let mut resolved: Vec<u64> = resolved.into_iter().collect();
        firing.sort_unstable();
        resolved.sort_unstable();
        let basis = prev.as_ref().map(|p| p.timestamp);
        out.entries.push(OutboxEntry {
            id: notification_key(&flush.key, &spec.key, &firing, &resolved, basis),
            seq: 0,
            receiver: spec.key.clone(),
            group_key: flush.key.clone(),
            group_labels: flush.labels.clone(),
            flush_time: flush.now,
            firing,
            resolved,
            expiry_ms: u64::try_from(repeat.as_millis().saturating_mul(2)).unwrap_or(u64::MAX),
            alerts: send,
            truncated,
            reason: reason.to_owned(),
            attempts: 0,
            next_attempt: flush.now,
            last_error: None,
            last_status: None,
            basis,
            send_resolved: spec.send_resolved,
        });
    }
    out
}

/// The idempotency key of a notification, identical on every replica that decides the
/// same notification: group key, integration, the sorted firing and resolved alert hashes,
/// and the timestamp of the notification it follows. Replicas share the notification log,
/// so they agree on that predecessor; flush times and random IDs would differ per replica.
/// The predecessor makes a repeat of an unchanged group a new notification, which a
/// receiver deduplicating by key must not drop.
pub fn notification_key(
    group_key: &str,
    recv: &ReceiverKey,
    firing: &[u64],
    resolved: &[u64],
    basis: Option<DateTime<Utc>>,
) -> String {
    let mut b = Vec::with_capacity(64 + group_key.len() + 8 * (firing.len() + resolved.len()));
    let mut field = |x: &[u8]| {
        b.extend_from_slice(&(x.len() as u64).to_le_bytes());
        b.extend_from_slice(x);
    };
    field(group_key.as_bytes());
    field(recv.receiver.as_bytes());
    field(recv.integration.as_bytes());
    field(&recv.idx.to_le_bytes());
    let hashes = |v: &[u64]| v.iter().flat_map(|h| h.to_le_bytes()).collect::<Vec<u8>>();
    field(&hashes(firing));
    field(&hashes(resolved));
    match basis {
        Some(t) => field(&t.timestamp_millis().to_le_bytes()),
        None => field(b"first"),
    }
    let h = xxhash_rust::xxh3::xxh3_128(&b);
    format!("{h:032x}")
}
