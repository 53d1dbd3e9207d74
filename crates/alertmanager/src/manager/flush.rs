//! One dispatch round: garbage collection, then every due group is flushed through the
//! pipeline; resulting notifications are persisted in the outbox before anything is sent.

use std::collections::HashSet;

use super::AlertManager;
use crate::clock;
use crate::notify::history::{HistoryAlert, HistoryRecord};
use crate::notify::pipeline::{self, LastNotified, MuteInputs};

impl AlertManager {
    /// Flushes every group that is due now. Returns how many notifications were enqueued.
    pub fn flush_due(&self) -> usize {
        let now = self.clock.now();
        let mut enqueued = 0;
        let mut guard = self.state.lock();
        let st = &mut *guard;
        let mut notify_changed = false;
        if clock::add(st.last_gc, self.opts.alerts_gc_interval) <= now {
            st.last_gc = now;
            for a in st.alerts.gc(now) {
                st.c.inhibitor.forget(&a);
            }
            if st.silences.gc(now) > 0 {
                self.persist_silences(st);
            }
            notify_changed |= st.nflog.gc(now) > 0;
            st.alerts_dirty = true;
        }
        let due = st.dispatcher.due(now);
        let routes = st.c.routes.clone();
        for id in due {
            let Some(flush) = st.dispatcher.begin_flush(&routes, id, now) else {
                continue;
            };
            st.alerts_dirty = true;
            let Some(route) = routes.get(flush.route_idx) else {
                continue;
            };
            let receiver =
                st.c.config
                    .receivers
                    .iter()
                    .find(|r| r.name == route.opts.receiver);
            let plan = {
                let outbox = &st.outbox;
                let nflog = &st.nflog;
                let last = |k: &crate::nflog::ReceiverKey| -> Option<LastNotified> {
                    if let Some(e) = outbox.last_for(&flush.key, k) {
                        return Some(LastNotified {
                            timestamp: e.flush_time,
                            firing: e.firing.iter().copied().collect::<HashSet<u64>>(),
                            resolved: e.resolved.iter().copied().collect(),
                        });
                    }
                    nflog.query(&flush.key, k).map(|e| LastNotified {
                        timestamp: e.timestamp,
                        firing: e.firing.iter().copied().collect(),
                        resolved: e.resolved.iter().copied().collect(),
                    })
                };
                let m = MuteInputs {
                    silences: &st.silences,
                    inhibitor: &st.c.inhibitor,
                    intervals: &st.c.intervals,
                };
                pipeline::plan(&flush, &route.opts, receiver, &m, &last)
            };
            for s in &plan.suppressed {
                self.metrics
                    .notifications_suppressed
                    .with_label_values(&[s.why.metric_reason()])
                    .inc();
            }
            notify_changed |= st.history.suppressed(
                now,
                &flush.key,
                &route.opts.receiver,
                plan.suppressed.clone(),
            );
            for e in plan.entries {
                self.metrics
                    .notifications
                    .with_label_values(&[e.receiver.integration.as_str()])
                    .inc();
                st.history.push(HistoryRecord {
                    time: now,
                    group_key: e.group_key.clone(),
                    receiver: e.receiver.receiver.clone(),
                    integration: Some(format!("{}[{}]", e.receiver.integration, e.receiver.idx)),
                    idempotency_key: Some(e.id.clone()),
                    status: "pending".into(),
                    notify_reason: Some(e.reason.clone()),
                    attempts: 0,
                    response_status: None,
                    error: None,
                    delivered_at: None,
                    alerts: e
                        .alerts
                        .iter()
                        .map(|a| HistoryAlert {
                            fingerprint: a.fingerprint.clone(),
                            alertname: a.labels.get_or_empty("alertname").to_owned(),
                            status: a.status.clone(),
                        })
                        .collect(),
                    suppressed: plan.suppressed.clone(),
                });
                tracing::debug!(group = %e.group_key, receiver = %e.receiver, reason = %e.reason, "Notification enqueued.");
                st.outbox.push(e);
                enqueued += 1;
                notify_changed = true;
            }
            st.dispatcher.finish_flush(&flush, true);
        }
        if notify_changed {
            self.persist_notify(st);
        }
        if st.alerts_dirty {
            self.persist_alerts(st);
        }
        drop(guard);
        self.update_gauges();
        if enqueued > 0 {
            self.wake_deliver.notify_one();
        }
        enqueued
    }
}
