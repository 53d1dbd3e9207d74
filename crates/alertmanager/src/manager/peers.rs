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
                PeerEvent::Sending(c) => {
                    let lane = (c.group_key.clone(), c.receiver.clone());
                    let mut m = self.claims.lock();
                    if c.until <= self.clock.now() {
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

    /// True when the merged notification log shows a peer delivered what `e` would
    /// notify: an entry newer than the one `e` was decided against, after which the
    /// dedup step would not notify `e`'s state.
    pub(crate) fn covered_by_log(&self, log: Option<&NflogEntry>, e: &OutboxEntry) -> bool {
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
}
