//! Delivery of outbox entries: each due lane head is sent on its own task; the outcome
//! (notification log entry and removal, or a retry with exponential backoff, or giving
//! up) is persisted as soon as it is known.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use super::peers::{PeerEvent, SendingClaim};
use super::AlertManager;
use crate::clock;
use crate::nflog::NflogEntry;
use crate::notify::data::NotificationData;
use crate::notify::outbox::OutboxEntry;
use crate::receivers::{Delivery, Integration, SendError};
use crate::templates::data_value;

impl AlertManager {
    /// Claims every due outbox entry and starts sending it. The handles finish when the
    /// outcome has been recorded.
    pub fn deliver_due(self: &Arc<Self>) -> Vec<JoinHandle<()>> {
        if !self.is_settled() {
            return Vec::new();
        }
        let now = self.clock.now();
        // HA wait stage: a replica further down the list waits before sending, giving
        // the first one the chance to deliver and replicate its log entry.
        let wait = self.opts.peer_timeout * self.peer_position();
        let not_before = clock::sub(now, wait);
        let mut covered = Vec::new();
        let due: Vec<OutboxEntry> = {
            let mut st = self.state.lock();
            let mut due = Vec::new();
            for e in st.outbox.take_due(now) {
                if e.attempts == 0 && e.flush_time > not_before {
                    st.outbox.release(&e.id);
                } else if super::peers::covered_by_log(
                    st.nflog.query(&e.group_key, &e.receiver),
                    &e,
                ) {
                    st.outbox.remove(&e.id);
                    st.history.update(&e.id, |r| {
                        r.status = "delivered by peer".into();
                        r.delivered_at = Some(now);
                    });
                    covered.push(e);
                } else if let Some(until) = self.blocking_claim(&e, now) {
                    tracing::debug!(group = %e.group_key, receiver = %e.receiver, until = %until, "Peer is sending this group; waiting.");
                    st.outbox.defer(&e.id, until);
                } else {
                    due.push(e);
                }
            }
            if !covered.is_empty() {
                self.persist_notify(&st);
            }
            due
        };
        for e in &covered {
            self.metrics.notifications_deduplicated_by_peer.inc();
            tracing::debug!(group = %e.group_key, receiver = %e.receiver, key = %e.id, "Notification already delivered by a peer.");
        }
        if !covered.is_empty() {
            self.wake_deliver.notify_one();
        }
        due.into_iter()
            .map(|e| {
                self.announce(&e, now);
                let me = self.clone();
                tokio::spawn(async move { me.deliver_one(e).await })
            })
            .collect()
    }

    /// Tells peers this replica is sending `e`, for as long as this attempt and the wait
    /// before the next one may take.
    fn announce(&self, e: &OutboxEntry, now: DateTime<Utc>) {
        let hold = self.opts.peer_timeout.max(self.backoff(e.attempts)) * 2;
        self.emit(PeerEvent::Sending(SendingClaim {
            group_key: e.group_key.clone(),
            receiver: e.receiver.clone(),
            key: e.id.clone(),
            position: self.peer_position(),
            until: clock::add(now, hold),
        }));
    }

    async fn deliver_one(self: Arc<Self>, e: OutboxEntry) {
        let (integration, templates) = {
            let st = self.state.lock();
            (
                st.c.integrations.get(&e.receiver).cloned(),
                st.c.templates.clone(),
            )
        };
        let kind = e.receiver.integration.clone();
        let started = Instant::now();
        let result: Result<Delivery, SendError> = if e.alerts.is_empty() {
            // Nothing to show this receiver (resolved-only, send_resolved off): record it.
            Ok(Delivery { status: None })
        } else {
            match integration {
                None => Err(SendError::permanent(
                    "integration no longer configured (config reloaded)",
                    None,
                )),
                Some(i) => {
                    self.metrics
                        .notification_requests
                        .with_label_values(&[&kind])
                        .inc();
                    let data = NotificationData::new(
                        &e.receiver.receiver,
                        &e.group_labels,
                        &e.alerts,
                        &self.external_url,
                    );
                    let r = match i {
                        Integration::Webhook(w) => {
                            w.send(data.webhook_body(&e.group_key, e.truncated), &e.id)
                                .await
                        }
                        Integration::Email(m) => {
                            m.send(&templates, &data_value(&data), &e.id).await
                        }
                    };
                    self.metrics
                        .notification_latency
                        .with_label_values(&[&kind])
                        .observe(started.elapsed().as_secs_f64());
                    if r.is_err() {
                        self.metrics
                            .notification_requests_failed
                            .with_label_values(&[&kind])
                            .inc();
                    }
                    r
                }
            }
        };
        self.record_outcome(e, result);
        self.wake_deliver.notify_one();
    }

    fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.min(30));
        self.opts
            .retry_initial
            .saturating_mul(factor)
            .min(self.opts.retry_max)
    }

    fn record_outcome(&self, e: OutboxEntry, result: Result<Delivery, SendError>) {
        let now: DateTime<Utc> = self.clock.now();
        let mut st = self.state.lock();
        match result {
            Ok(d) => {
                st.outbox.remove(&e.id);
                let expiry = Duration::from_millis(e.expiry_ms);
                let entry = NflogEntry {
                    group_key: e.group_key.clone(),
                    receiver: e.receiver.clone(),
                    timestamp: e.flush_time,
                    firing: e.firing.clone(),
                    resolved: e.resolved.clone(),
                    expires_at: clock::add(e.flush_time, expiry),
                };
                st.nflog.log(entry.clone());
                self.emit(PeerEvent::Nflog(entry));
                let sent = !e.alerts.is_empty();
                st.history.update(&e.id, |r| {
                    r.status = if sent { "delivered" } else { "recorded" }.into();
                    r.attempts = e.attempts + u32::from(sent);
                    r.response_status = d.status;
                    r.delivered_at = Some(now);
                });
                if sent {
                    tracing::debug!(group = %e.group_key, receiver = %e.receiver, attempts = e.attempts + 1, "Notify success.");
                }
            }
            Err(err) => {
                let age = (now - e.flush_time).to_std().unwrap_or(Duration::ZERO);
                let give_up = !err.retryable || age >= self.opts.outbox_max_age;
                if give_up {
                    st.outbox.remove(&e.id);
                    // Release the lane at once: a peer may still get through.
                    self.emit(PeerEvent::Sending(SendingClaim {
                        group_key: e.group_key.clone(),
                        receiver: e.receiver.clone(),
                        key: e.id.clone(),
                        position: self.peer_position(),
                        until: now,
                    }));
                    self.metrics
                        .notifications_failed
                        .with_label_values(&[&e.receiver.integration, err.metric_reason()])
                        .inc();
                    st.history.update(&e.id, |r| {
                        r.status = "failed".into();
                        r.attempts = e.attempts + 1;
                        r.response_status = err.status;
                        r.error = Some(err.message.clone());
                    });
                    tracing::error!(group = %e.group_key, receiver = %e.receiver, attempts = e.attempts + 1, error = %err, "Notify failed; giving up.");
                } else {
                    let next = clock::add(now, self.backoff(e.attempts));
                    st.outbox
                        .retry_later(&e.id, err.message.clone(), err.status, next);
                    st.history.update(&e.id, |r| {
                        r.attempts = e.attempts + 1;
                        r.response_status = err.status;
                        r.error = Some(err.message.clone());
                    });
                    tracing::warn!(group = %e.group_key, receiver = %e.receiver, attempts = e.attempts + 1, error = %err, "Notify attempt failed, will retry later.");
                }
            }
        }
        self.persist_notify(&st);
        drop(st);
        self.update_gauges();
    }
}
