//! The durable outbox: notifications decided by the pipeline wait here, persisted before
//! the first delivery attempt, until the receiver accepts them. Entries for the same group
//! and integration are delivered strictly in order (the notification log records each one
//! as it is delivered, so order keeps it truthful); different groups proceed independently.
//! Each entry's ID is sent as an idempotency key so that a receiver can drop a duplicate
//! delivered just before a crash.

use std::collections::{BTreeMap, HashSet};

use argus_model::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::data::NotifyAlert;
use crate::nflog::ReceiverKey;

/// One pending notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Idempotency key: the same on every replica for the same notification (see
    /// [`super::pipeline::notification_key`]).
    pub id: String,
    /// Order of creation.
    pub seq: u64,
    /// Target integration.
    pub receiver: ReceiverKey,
    /// Group key.
    pub group_key: String,
    /// Group labels.
    pub group_labels: Labels,
    /// Flush time that produced it (becomes the notification log timestamp).
    pub flush_time: DateTime<Utc>,
    /// Hashes of the firing alerts of the group state it reports.
    pub firing: Vec<u64>,
    /// Hashes of the resolved alerts of that state.
    pub resolved: Vec<u64>,
    /// Notification log entry lifetime, milliseconds.
    pub expiry_ms: u64,
    /// What is sent; empty means "record only" (resolved-only state for a receiver
    /// without `send_resolved`).
    pub alerts: Vec<NotifyAlert>,
    /// Alerts left out because of `max_alerts`.
    pub truncated: u64,
    /// Why the pipeline notified.
    pub reason: String,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Earliest next attempt.
    pub next_attempt: DateTime<Utc>,
    /// Last error.
    pub last_error: Option<String>,
    /// Last HTTP status seen.
    pub last_status: Option<u16>,
    /// Timestamp of the notification this one was decided against (`None`: the first of
    /// its group). A newer log entry that covers this one means a peer delivered it.
    #[serde(default)]
    pub basis: Option<DateTime<Utc>>,
    /// `send_resolved` of the integration when the entry was made.
    #[serde(default)]
    pub send_resolved: bool,
}

impl OutboxEntry {
    fn lane(&self) -> (&str, &ReceiverKey) {
        (&self.group_key, &self.receiver)
    }
}

/// Persisted outbox state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OutboxState {
    /// Entries in creation order.
    pub entries: Vec<OutboxEntry>,
    /// Next sequence number.
    pub next_seq: u64,
}

/// The outbox.
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    entries: BTreeMap<u64, OutboxEntry>,
    next_seq: u64,
    in_flight: HashSet<String>,
}

impl Outbox {
    /// Restores from a snapshot.
    pub fn restore(s: OutboxState) -> Self {
        let next = s
            .entries
            .iter()
            .map(|e| e.seq + 1)
            .max()
            .unwrap_or(0)
            .max(s.next_seq);
        Outbox {
            entries: s.entries.into_iter().map(|e| (e.seq, e)).collect(),
            next_seq: next,
            in_flight: HashSet::new(),
        }
    }

    /// Snapshot for persistence.
    pub fn state(&self) -> OutboxState {
        OutboxState {
            entries: self.entries.values().cloned().collect(),
            next_seq: self.next_seq,
        }
    }

    /// Adds an entry; assigns its sequence number.
    pub fn push(&mut self, mut e: OutboxEntry) -> u64 {
        e.seq = self.next_seq;
        self.next_seq += 1;
        let seq = e.seq;
        self.entries.insert(seq, e);
        seq
    }

    /// The newest pending entry for a group and integration.
    pub fn last_for(&self, group_key: &str, recv: &ReceiverKey) -> Option<&OutboxEntry> {
        self.entries
            .values()
            .rev()
            .find(|e| e.group_key == group_key && &e.receiver == recv)
    }

    fn heads(&self) -> Vec<&OutboxEntry> {
        let mut seen = HashSet::new();
        self.entries
            .values()
            .filter(|e| seen.insert(e.lane()))
            .collect()
    }

    /// Claims every lane head that is due and not already being delivered.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<OutboxEntry> {
        let due: Vec<OutboxEntry> = self
            .heads()
            .into_iter()
            .filter(|e| e.next_attempt <= now && !self.in_flight.contains(&e.id))
            .cloned()
            .collect();
        for e in &due {
            self.in_flight.insert(e.id.clone());
        }
        due
    }

    /// The earliest attempt time among lane heads not in flight.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.heads()
            .into_iter()
            .filter(|e| !self.in_flight.contains(&e.id))
            .map(|e| e.next_attempt)
            .min()
    }

    /// Removes a delivered (or abandoned) entry.
    pub fn remove(&mut self, id: &str) -> Option<OutboxEntry> {
        self.in_flight.remove(id);
        let seq = self.entries.values().find(|e| e.id == id)?.seq;
        self.entries.remove(&seq)
    }

    /// Records a failed attempt and schedules the next one.
    pub fn retry_later(
        &mut self,
        id: &str,
        error: String,
        status: Option<u16>,
        next: DateTime<Utc>,
    ) -> Option<&OutboxEntry> {
        self.in_flight.remove(id);
        let e = self.entries.values_mut().find(|e| e.id == id)?;
        e.attempts += 1;
        e.last_error = Some(error);
        e.last_status = status;
        e.next_attempt = next;
        Some(e)
    }

    /// Releases a claim and moves the next attempt to `until` without counting an attempt
    /// (a peer announced it is sending the same group).
    pub fn defer(&mut self, id: &str, until: DateTime<Utc>) {
        self.in_flight.remove(id);
        if let Some(e) = self.entries.values_mut().find(|e| e.id == id) {
            e.next_attempt = e.next_attempt.max(until);
        }
    }

    /// Releases a claim without counting an attempt (shutdown).
    pub fn release(&mut self, id: &str) {
        self.in_flight.remove(id);
    }

    /// Number of pending entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All pending entries in order.
    pub fn iter(&self) -> impl Iterator<Item = &OutboxEntry> {
        self.entries.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn e(id: &str, gk: &str, at: i64) -> OutboxEntry {
        OutboxEntry {
            id: id.into(),
            seq: 0,
            receiver: ReceiverKey {
                receiver: "r".into(),
                integration: "webhook".into(),
                idx: 0,
            },
            group_key: gk.into(),
            group_labels: Labels::empty(),
            flush_time: t(at),
            firing: vec![],
            resolved: vec![],
            expiry_ms: 0,
            alerts: vec![],
            truncated: 0,
            reason: String::new(),
            attempts: 0,
            next_attempt: t(at),
            last_error: None,
            last_status: None,
            basis: None,
            send_resolved: false,
        }
    }

    #[test]
    fn lanes_are_fifo_and_independent() {
        let mut o = Outbox::default();
        o.push(e("a1", "A", 0));
        o.push(e("a2", "A", 1));
        o.push(e("b1", "B", 0));
        let due: Vec<String> = o.take_due(t(5)).into_iter().map(|e| e.id).collect();
        assert_eq!(due, ["a1", "b1"]);
        assert!(o.take_due(t(5)).is_empty());
        o.retry_later("a1", "500".into(), Some(500), t(10));
        assert_eq!(o.next_due(), Some(t(10)));
        assert!(o.take_due(t(9)).is_empty());
        o.remove("b1");
        assert_eq!(o.take_due(t(10))[0].id, "a1");
        o.remove("a1");
        assert_eq!(o.take_due(t(10))[0].id, "a2");
        assert_eq!(o.last_for("A", &e("", "", 0).receiver).unwrap().id, "a2");
        let s = o.state();
        let o2 = Outbox::restore(s);
        assert_eq!(o2.len(), 1);
        let mut o2 = o2;
        assert_eq!(o2.push(e("a3", "A", 2)), 3);
    }
}
