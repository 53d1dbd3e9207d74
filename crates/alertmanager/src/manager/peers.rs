//! The manager's side of a replica cluster: what it tells its peers (silence changes,
//! notification log entries, "sending" announcements) and what it takes from them.
//! Transport is the caller's business (the server pushes these over HTTP); this module
//! only defines the messages and applies them.
//!
//! Delivery rules that make a pair notify once (Alertmanager's wait-then-dedup scheme,
//! plus announcements):
//! - a replica at position `i` delays a new notification by `i × peer_timeout`;
//! - just before sending, it re-checks the merged notification log: a newer entry that
//!   covers the notification means a peer delivered it, and it is dropped;
//! - before every attempt it announces "sending group G to R until T"; a peer holding the
//!   same lane defers until T (or until the log entry arrives), so a slow or failing
//!   receiver is not hit by both replicas while one retries. An announcement that expires
//!   unfulfilled lets the peer send: a partition doubles notifications, never drops them.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AlertManager;
use crate::nflog::{NflogEntry, ReceiverKey};
use crate::notify::outbox::OutboxEntry;
use crate::notify::pipeline::{needs_update, LastNotified};
use crate::silences::{Silence, StoredSilence};

/// A replica's announcement that it is delivering a lane (group and integration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendingClaim {
    /// Group key.
    pub group_key: String,
    /// Integration.
    pub receiver: ReceiverKey,
    /// Idempotency key of the notification being sent.
    pub key: String,
    /// Position of the announcing replica.
    pub position: u32,
    /// The claim lapses at this time unless renewed; `until <= now` releases it.
    pub until: DateTime<Utc>,
}

/// One change a replica tells its peers about.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "camelCase")]
pub enum PeerEvent {
    /// A silence was created, updated or expired.
    Silence(StoredSilence),
    /// A notification was delivered (or recorded).
    Nflog(NflogEntry),
    /// A notification is about to be sent (or retried).
    Sending(SendingClaim),
}

/// Where the manager sends its [`PeerEvent`]s.
pub type PeerSink = tokio::sync::mpsc::UnboundedSender<PeerEvent>;

/// A cluster member as `/api/v2/status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerStatus {
    /// Member name.
    pub name: String,
    /// Address peers reach it at.
    pub address: String,
}

/// Cluster status for `/api/v2/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// This member's name.
    pub name: String,
    /// `ready` or `settling`.
    pub status: String,
    /// Members currently reachable, this one included.
    pub peers: Vec<PeerStatus>,
}

/// Peer claims by lane.
pub(crate) type Claims = HashMap<(String, ReceiverKey), SendingClaim>;

impl AlertManager {
    /// Routes [`PeerEvent`]s to `sink` from now on.
    pub fn set_peer_sink(&self, sink: PeerSink) {
        *self.peer_sink.lock() = Some(sink);
    }

    /// Sets this replica's position among the live members (0 sends without delay).
    pub fn set_peer_position(&self, position: u32) {
        let old = self.peer_position.swap(position, Ordering::SeqCst);
        if old != position {
            tracing::info!(position, "Alert manager peer position changed.");
            self.wake_deliver.notify_one();
        }
    }

    /// This replica's position.
    pub fn peer_position(&self) -> u32 {
        self.peer_position.load(Ordering::SeqCst)
    }

    /// Holds (false) or releases (true) delivery until the cluster has settled: peers
    /// heard from once, their notification logs merged (Alertmanager's settle wait).
    pub fn set_settled(&self, settled: bool) {
        self.settled.store(settled, Ordering::SeqCst);
        if settled {
            self.wake_deliver.notify_one();
        }
    }

    pub(crate) fn is_settled(&self) -> bool {
        self.settled.load(Ordering::SeqCst)
    }

    /// Sets what `/api/v2/status` reports about the cluster.
    pub fn set_cluster_status(&self, s: ClusterStatus) {
        *self.cluster.lock() = Some(s);
    }

    /// The cluster status, `None` when not clustered.
    pub fn cluster_status(&self) -> Option<ClusterStatus> {
        self.cluster.lock().clone()
    }

    pub(crate) fn emit(&self, e: PeerEvent) {
        if let Some(s) = &*self.peer_sink.lock() {
            let _ = s.send(e);
        }
    }

    pub(crate) fn emit_silence(&self, s: Option<Silence>) {
        if let Some(s) = s {
            self.emit(PeerEvent::Silence(StoredSilence::from(&s)));
        }
    }

    /// Applies events received from a peer. Returns how many changed local state.
    pub fn receive_peer_events(&self, events: Vec<PeerEvent>) -> usize {
        let mut silences = Vec::new();
        let mut nflog = Vec::new();
        let mut claims = 0;
        for e in events {
            match e {
                PeerEvent::Silence(s) => silences.push(s),
                PeerEvent::Nflog(n) => nflog.push(n),
                PeerEvent::Sending(mut c) => {
                    let lane = (c.group_key.clone(), c.receiver.clone());
                    let now = self.clock.now();
                    // A peer whose clock runs ahead must not hold a lane for long: no
                    // announcement lasts longer than two retries at the longest back-off.
                    let cap = (self.opts.peer_timeout * 4).max(self.opts.retry_max * 2);
                    c.until = c.until.min(crate::clock::add(now, cap));
                    let mut m = self.claims.lock();
                    if c.until <= now {
                        m.remove(&lane);
                    } else {
                        m.insert(lane, c);
                    }
                    claims += 1;
                }
            }
        }
        let had_log = !nflog.is_empty();
        let n = if silences.is_empty() && nflog.is_empty() {
            0
        } else {
            self.merge_peer_state(silences, nflog)
        };
        if had_log || claims > 0 {
            // A log entry or a released claim may settle a waiting notification now.
            self.wake_deliver.notify_one();
        }
        n + claims
    }

    /// The peer claim that makes `e` wait, if any: a live claim on its lane by another
    /// replica, unless this replica already started on it and ranks first.
    pub(crate) fn blocking_claim(
        &self,
        e: &OutboxEntry,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let mut m = self.claims.lock();
        m.retain(|_, c| c.until > now);
        let c = m.get(&(e.group_key.clone(), e.receiver.clone()))?;
        let me = self.peer_position();
        (e.attempts == 0 || c.position < me).then_some(c.until)
    }
}

/// True when the merged notification log shows a peer delivered what `e` would notify:
/// an entry newer than the one `e` was decided against, after which the dedup step would
/// not notify `e`'s state.
pub(crate) fn covered_by_log(log: Option<&NflogEntry>, e: &OutboxEntry) -> bool {
    let Some(l) = log else {
        return false;
    };
    if e.basis.is_some_and(|b| l.timestamp <= b) {
        return false;
    }
    if l.timestamp == e.flush_time && l.firing == e.firing && l.resolved == e.resolved {
        // Our own entry (a restart replaying the outbox after it was logged).
        return true;
    }
    let last = LastNotified {
        timestamp: l.timestamp,
        firing: l.firing.iter().copied().collect(),
        resolved: l.resolved.iter().copied().collect(),
    };
    let firing = e.firing.iter().copied().collect();
    let resolved = e.resolved.iter().copied().collect();
    let repeat = std::time::Duration::from_millis(e.expiry_ms / 2);
    needs_update(
        Some(&last),
        &firing,
        &resolved,
        e.send_resolved,
        repeat,
        e.flush_time,
    )
    .is_none()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::notify::pipeline::notification_key;
    use argus_model::Labels;
    use std::sync::Arc;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn recv() -> ReceiverKey {
        ReceiverKey {
            receiver: "r".into(),
            integration: "webhook".into(),
            idx: 0,
        }
    }

    fn entry(flush: i64, basis: Option<i64>, firing: &[u64]) -> OutboxEntry {
        OutboxEntry {
            id: "k".into(),
            seq: 0,
            receiver: recv(),
            group_key: "g".into(),
            group_labels: Labels::empty(),
            flush_time: t(flush),
            firing: firing.to_vec(),
            resolved: vec![],
            expiry_ms: 2 * 3_600_000,
            alerts: vec![],
            truncated: 0,
            reason: String::new(),
            attempts: 0,
            next_attempt: t(flush),
            last_error: None,
            last_status: None,
            basis: basis.map(t),
            send_resolved: false,
        }
    }

    fn log(ts: i64, firing: &[u64]) -> NflogEntry {
        NflogEntry {
            group_key: "g".into(),
            receiver: recv(),
            timestamp: t(ts),
            firing: firing.to_vec(),
            resolved: vec![],
            expires_at: t(ts + 7200),
        }
    }

    #[test]
    fn a_newer_covering_log_entry_means_a_peer_sent_it() {
        let e = entry(100, None, &[1, 2]);
        assert!(!covered_by_log(None, &e));
        // The peer flushed a little earlier, with the same alerts or more.
        assert!(covered_by_log(Some(&log(98, &[1, 2])), &e));
        assert!(covered_by_log(Some(&log(98, &[1, 2, 3])), &e));
        // The peer notified fewer alerts: ours adds news.
        assert!(!covered_by_log(Some(&log(98, &[1])), &e));
        // A repeat decided against the entry at 50: only a newer entry covers it.
        let r = entry(3700, Some(50), &[1, 2]);
        assert!(!covered_by_log(Some(&log(50, &[1, 2])), &r));
        assert!(covered_by_log(Some(&log(3695, &[1, 2])), &r));
    }

    #[test]
    fn keys_agree_across_replicas_and_change_with_the_predecessor() {
        let k = |basis: Option<i64>, firing: &[u64]| {
            notification_key("g", &recv(), firing, &[], basis.map(t))
        };
        assert_eq!(k(None, &[1, 2]), k(None, &[1, 2]));
        assert_ne!(k(None, &[1, 2]), k(None, &[1]));
        assert_ne!(k(None, &[1, 2]), k(Some(0), &[1, 2]));
        assert_ne!(k(Some(0), &[1, 2]), k(Some(1), &[1, 2]));
        assert_eq!(k(None, &[]).len(), 32);
    }

    #[tokio::test]
    async fn a_peer_announcement_defers_delivery_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(t(0)));
        let cfg = crate::Config::parse("route:\n  receiver: r\nreceivers:\n  - name: r\n").unwrap();
        let am = AlertManager::new(
            cfg,
            dir.path(),
            "http://x",
            &prometheus::Registry::new(),
            clock.clone(),
        )
        .unwrap();
        am.set_peer_position(1);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        am.set_peer_sink(tx);
        let claim = |until: i64, position: u32| {
            PeerEvent::Sending(SendingClaim {
                group_key: "g".into(),
                receiver: recv(),
                key: "k".into(),
                position,
                until: t(until),
            })
        };
        let e = entry(0, None, &[1]);
        assert_eq!(am.blocking_claim(&e, t(0)), None);
        assert_eq!(am.receive_peer_events(vec![claim(30, 0)]), 1);
        assert_eq!(am.blocking_claim(&e, t(1)), Some(t(30)));
        // Once this replica has started retrying, only a better-placed peer holds it.
        let mut started = e.clone();
        started.attempts = 1;
        assert_eq!(am.blocking_claim(&started, t(1)), Some(t(30)));
        am.set_peer_position(0);
        assert_eq!(am.blocking_claim(&started, t(1)), None);
        am.set_peer_position(1);
        // Expiry and explicit release.
        assert_eq!(am.blocking_claim(&e, t(31)), None);
        am.receive_peer_events(vec![claim(30, 0)]);
        clock.set(t(2));
        am.receive_peer_events(vec![claim(2, 0)]);
        assert_eq!(am.blocking_claim(&e, t(2)), None);
        // Silences made here are announced to peers.
        let now = clock.now();
        let id = am
            .set_silence(crate::silences::Silence {
                id: String::new(),
                matchers: vec![crate::matchers::parse_matcher("a=\"b\"").unwrap()],
                starts_at: now,
                ends_at: crate::clock::add(now, std::time::Duration::from_secs(60)),
                updated_at: now,
                created_by: "t".into(),
                comment: "c".into(),
            })
            .unwrap();
        match rx.try_recv().unwrap() {
            PeerEvent::Silence(s) => {
                let s = crate::silences::Silence::try_from(s).unwrap();
                assert_eq!(s.id, id);
            }
            other => panic!("{other:?}"),
        }
    }
}
