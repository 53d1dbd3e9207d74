//! The notification log (Alertmanager's `nflog`): for each (group key, receiver
//! integration) the last notification that was delivered: when, and which alerts (by
//! label hash) were firing and resolved in it. The dedup step compares a group's current
//! state with it to decide whether to notify; entries expire after twice the repeat
//! interval.
//!
//! HA seam: [`NotificationLog::merge`] takes a peer's entries and keeps, per key, the one
//! with the latest timestamp (Alertmanager's gossip merge rule). Replicas that merge each
//! other's logs before notifying send each notification once.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Identifies one integration of a receiver (`nflogpb.Receiver`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReceiverKey {
    /// Receiver name.
    pub receiver: String,
    /// Integration kind (`webhook`, `email`).
    pub integration: String,
    /// Index among the receiver's integrations of that kind.
    pub idx: u32,
}

impl fmt::Display for ReceiverKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}[{}]", self.receiver, self.integration, self.idx)
    }
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NflogEntry {
    /// Group key.
    pub group_key: String,
    /// Integration.
    pub receiver: ReceiverKey,
    /// Flush time of the notification.
    pub timestamp: DateTime<Utc>,
    /// Hashes of the alerts notified as firing.
    pub firing: Vec<u64>,
    /// Hashes of the alerts notified as resolved.
    pub resolved: Vec<u64>,
    /// When the entry may be dropped.
    pub expires_at: DateTime<Utc>,
}

impl NflogEntry {
    /// True when every alert in `set` was notified as firing.
    pub fn is_firing_subset(&self, set: &HashSet<u64>) -> bool {
        let have: HashSet<u64> = self.firing.iter().copied().collect();
        set.iter().all(|h| have.contains(h))
    }

    /// True when every alert in `set` was notified as resolved.
    pub fn is_resolved_subset(&self, set: &HashSet<u64>) -> bool {
        let have: HashSet<u64> = self.resolved.iter().copied().collect();
        set.iter().all(|h| have.contains(h))
    }
}

/// The log.
#[derive(Debug, Clone, Default)]
pub struct NotificationLog {
    entries: HashMap<(String, ReceiverKey), NflogEntry>,
}

impl NotificationLog {
    /// The entry for a group and integration.
    pub fn query(&self, group_key: &str, recv: &ReceiverKey) -> Option<&NflogEntry> {
        self.entries.get(&(group_key.to_owned(), recv.clone()))
    }

    /// Records a delivered notification.
    pub fn log(&mut self, e: NflogEntry) {
        self.entries
            .insert((e.group_key.clone(), e.receiver.clone()), e);
    }

    /// Drops expired entries; returns how many.
    pub fn gc(&mut self, now: DateTime<Utc>) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, e| e.expires_at > now);
        before - self.entries.len()
    }

    /// HA seam: merges a peer's entries; per key the latest timestamp wins. Returns how
    /// many entries changed.
    pub fn merge(&mut self, peer: impl IntoIterator<Item = NflogEntry>) -> usize {
        let mut changed = 0;
        for e in peer {
            let k = (e.group_key.clone(), e.receiver.clone());
            if self
                .entries
                .get(&k)
                .is_none_or(|cur| e.timestamp > cur.timestamp)
            {
                self.entries.insert(k, e);
                changed += 1;
            }
        }
        changed
    }

    /// All entries, sorted by key (snapshots and peers).
    pub fn snapshot(&self) -> Vec<NflogEntry> {
        let mut v: Vec<NflogEntry> = self.entries.values().cloned().collect();
        v.sort_by(|a, b| {
            a.group_key
                .cmp(&b.group_key)
                .then_with(|| a.receiver.cmp(&b.receiver))
        });
        v
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn entry(ts: i64, firing: &[u64]) -> NflogEntry {
        NflogEntry {
            group_key: "{}:{}".into(),
            receiver: ReceiverKey {
                receiver: "r".into(),
                integration: "webhook".into(),
                idx: 0,
            },
            timestamp: t(ts),
            firing: firing.to_vec(),
            resolved: vec![],
            expires_at: t(ts + 100),
        }
    }

    #[test]
    fn subsets_merge_gc() {
        let mut l = NotificationLog::default();
        l.log(entry(0, &[1, 2]));
        let e = l.query("{}:{}", &entry(0, &[]).receiver).unwrap();
        assert!(e.is_firing_subset(&[1].into_iter().collect()));
        assert!(!e.is_firing_subset(&[3].into_iter().collect()));
        assert_eq!(l.merge(vec![entry(-5, &[9])]), 0);
        assert_eq!(l.merge(vec![entry(5, &[9])]), 1);
        assert_eq!(l.snapshot()[0].firing, vec![9]);
        assert_eq!(l.gc(t(104)), 0);
        assert_eq!(l.gc(t(105)), 1);
    }
}
