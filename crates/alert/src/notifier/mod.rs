//! Sending alerts: the [`AlertSender`] seam (implemented by the external Alertmanager
//! client here and by the server's adapter to the built-in alert manager) and the alert
//! shape Prometheus posts to Alertmanager's `/api/v2/alerts`.

pub mod alertmanager;

use std::sync::Arc;

use argus_model::api::civil_from_days;
use argus_model::Labels;

pub use alertmanager::{AlertingConfig, AlertmanagerConfig, Notifier, NotifierOptions};

/// An alert as handed to alert managers (Prometheus' `notifier.Alert`).
#[derive(Debug, Clone, PartialEq)]
pub struct NotifierAlert {
    /// Labels, including `alertname` (and, after the notifier, external labels).
    pub labels: Labels,
    /// Annotations.
    pub annotations: Labels,
    /// When it started firing (ms).
    pub starts_at_ms: i64,
    /// When it resolved, or until when it is valid unless re-sent (ms).
    pub ends_at_ms: i64,
    /// Link back to the expression (`<external URL>/graph?g0.expr=...&g0.tab=1`).
    pub generator_url: String,
}

/// `2006-01-02T15:04:05.000Z`, how Alertmanager's API client (strfmt.DateTime) writes times.
pub fn format_api_time(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        (rem / 60_000) % 60,
        (rem / 1000) % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

fn label_map(l: &Labels) -> serde_json::Map<String, serde_json::Value> {
    l.iter()
        .map(|x| {
            (
                x.name.to_string(),
                serde_json::Value::String(x.value.to_string()),
            )
        })
        .collect()
}

impl NotifierAlert {
    /// The alert as a `PostableAlert` of Alertmanager's API v2.
    pub fn to_api_v2(&self) -> serde_json::Value {
        serde_json::json!({
            "labels": label_map(&self.labels),
            "annotations": label_map(&self.annotations),
            "startsAt": format_api_time(self.starts_at_ms),
            "endsAt": format_api_time(self.ends_at_ms),
            "generatorURL": self.generator_url,
        })
    }

    /// Whether it is resolved at `now_ms`.
    pub fn resolved(&self, now_ms: i64) -> bool {
        self.ends_at_ms <= now_ms
    }
}

/// Receives alerts from the rule manager after every group evaluation. Implementations
/// must not block (queue and return).
pub trait AlertSender: Send + Sync {
    /// Hands over alerts that need (re-)sending.
    fn send(&self, alerts: Vec<NotifierAlert>);
}

/// Discards alerts (no alert manager configured).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopSender;

impl AlertSender for NoopSender {
    fn send(&self, _alerts: Vec<NotifierAlert>) {}
}

/// Sends every batch to several senders (built-in alert manager and external ones).
#[derive(Clone, Default)]
pub struct FanoutSender(pub Vec<Arc<dyn AlertSender>>);

impl AlertSender for FanoutSender {
    fn send(&self, alerts: Vec<NotifierAlert>) {
        if let Some((last, rest)) = self.0.split_last() {
            for s in rest {
                s.send(alerts.clone());
            }
            last.send(alerts);
        }
    }
}

/// Records what it was sent (tests).
#[derive(Debug, Default)]
pub struct RecordingSender(pub parking_lot::Mutex<Vec<NotifierAlert>>);

impl RecordingSender {
    /// Takes the alerts received so far.
    pub fn take(&self) -> Vec<NotifierAlert> {
        std::mem::take(&mut *self.0.lock())
    }
}

impl AlertSender for RecordingSender {
    fn send(&self, alerts: Vec<NotifierAlert>) {
        self.0.lock().extend(alerts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_v2_shape() {
        let a = NotifierAlert {
            labels: Labels::from_pairs(&[("alertname", "A"), ("job", "x")]),
            annotations: Labels::from_pairs(&[("summary", "s")]),
            starts_at_ms: 1_700_000_000_000,
            ends_at_ms: 1_700_000_060_123,
            generator_url: "http://p/graph?g0.expr=up&g0.tab=1".into(),
        };
        assert_eq!(
            a.to_api_v2().to_string(),
            r#"{"annotations":{"summary":"s"},"endsAt":"2023-11-14T22:14:20.123Z","generatorURL":"http://p/graph?g0.expr=up&g0.tab=1","labels":{"alertname":"A","job":"x"},"startsAt":"2023-11-14T22:13:20.000Z"}"#
        );
    }
}
