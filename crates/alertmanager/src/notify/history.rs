//! Notification history for `GET /api/v2/notifications` (an Argus extension): what was
//! sent where and with what result, and which alerts were kept back and why (silence,
//! inhibition rule, time interval). Bounded; persisted with the notification state.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Maximum records kept.
pub const MAX_RECORDS: usize = 2000;

/// Why an alert was not shown to a receiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SuppressReason {
    /// Matched active silences.
    Silenced {
        /// Silence IDs.
        #[serde(rename = "silenceIds")]
        silence_ids: Vec<String>,
    },
    /// Inhibited by a source alert.
    Inhibited {
        /// Fingerprint of the inhibiting alert.
        #[serde(rename = "inhibitedBy")]
        inhibited_by: String,
        /// Index of the rule in `inhibit_rules`.
        #[serde(rename = "inhibitRule")]
        inhibit_rule: usize,
    },
    /// Inside one of the route's `mute_time_intervals`.
    MuteTimeInterval {
        /// The intervals that contain the flush time.
        #[serde(rename = "timeIntervals")]
        time_intervals: Vec<String>,
    },
    /// Outside all of the route's `active_time_intervals`.
    ActiveTimeInterval {
        /// The route's active intervals.
        #[serde(rename = "timeIntervals")]
        time_intervals: Vec<String>,
    },
}

impl SuppressReason {
    /// Label value for `alertmanager_notifications_suppressed_total{reason}`.
    pub fn metric_reason(&self) -> &'static str {
        match self {
            SuppressReason::Silenced { .. } => "silence",
            SuppressReason::Inhibited { .. } => "inhibition",
            SuppressReason::MuteTimeInterval { .. } => "mute_time_interval",
            SuppressReason::ActiveTimeInterval { .. } => "active_time_interval",
        }
    }
}

/// A suppressed alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressedAlert {
    /// Fingerprint.
    pub fingerprint: String,
    /// `alertname`.
    pub alertname: String,
    /// Why.
    #[serde(flatten)]
    pub why: SuppressReason,
}

/// An alert in a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryAlert {
    /// Fingerprint.
    pub fingerprint: String,
    /// `alertname`.
    pub alertname: String,
    /// `firing` / `resolved`.
    pub status: String,
}

/// One history record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRecord {
    /// When the record was created (flush time).
    pub time: DateTime<Utc>,
    /// Group key.
    pub group_key: String,
    /// Receiver name.
    pub receiver: String,
    /// `webhook[0]`, `email[1]`; absent for suppression records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration: Option<String>,
    /// Idempotency key sent with the notification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// `pending`, `delivered`, `recorded` (nothing to send), `failed` (given up),
    /// `suppressed`.
    pub status: String,
    /// Why the pipeline notified (`first notification`, `repeat interval elapsed`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_reason: Option<String>,
    /// Delivery attempts.
    pub attempts: u32,
    /// Last HTTP status from the receiver (webhooks) or SMTP reply code (email).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_status: Option<u16>,
    /// Last error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it was delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// Alerts sent.
    pub alerts: Vec<HistoryAlert>,
    /// Alerts held back.
    pub suppressed: Vec<SuppressedAlert>,
}

/// The bounded history.
#[derive(Debug, Clone, Default)]
pub struct History {
    records: VecDeque<HistoryRecord>,
    /// Last suppression signature per (group key, receiver), so an unchanged suppression
    /// is recorded once, not at every flush.
    last_suppression: HashMap<(String, String), Vec<SuppressedAlert>>,
}

impl History {
    /// Restores persisted records.
    pub fn restore(records: Vec<HistoryRecord>) -> Self {
        History {
            records: records.into_iter().collect(),
            last_suppression: HashMap::new(),
        }
    }

    /// Records, oldest first.
    pub fn records(&self) -> impl Iterator<Item = &HistoryRecord> {
        self.records.iter()
    }

    /// Appends a record.
    pub fn push(&mut self, r: HistoryRecord) {
        if self.records.len() >= MAX_RECORDS {
            self.records.pop_front();
        }
        self.records.push_back(r);
    }

    /// Updates the record of a notification by idempotency key.
    pub fn update(&mut self, key: &str, f: impl FnOnce(&mut HistoryRecord)) {
        if let Some(r) = self
            .records
            .iter_mut()
            .rev()
            .find(|r| r.idempotency_key.as_deref() == Some(key))
        {
            f(r);
        }
    }

    /// Records a suppression unless it equals the previous one for the group/receiver.
    pub fn suppressed(
        &mut self,
        time: DateTime<Utc>,
        group_key: &str,
        receiver: &str,
        mut alerts: Vec<SuppressedAlert>,
    ) -> bool {
        alerts.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
        let k = (group_key.to_owned(), receiver.to_owned());
        if self.last_suppression.get(&k) == Some(&alerts) {
            return false;
        }
        self.last_suppression.insert(k, alerts.clone());
        if alerts.is_empty() {
            return false;
        }
        self.push(HistoryRecord {
            time,
            group_key: group_key.to_owned(),
            receiver: receiver.to_owned(),
            integration: None,
            idempotency_key: None,
            status: "suppressed".into(),
            notify_reason: None,
            attempts: 0,
            response_status: None,
            error: None,
            delivered_at: None,
            alerts: Vec::new(),
            suppressed: alerts,
        });
        true
    }

    /// All records, for persistence.
    pub fn snapshot(&self) -> Vec<HistoryRecord> {
        self.records.iter().cloned().collect()
    }
}
