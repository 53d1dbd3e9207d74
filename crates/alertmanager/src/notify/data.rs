//! What a notification carries: Alertmanager's template `Data` (receiver, status, alerts,
//! group/common labels, common annotations, external URL) and the webhook message built on
//! it (version "4", field order and formats as Alertmanager's JSON).

use std::collections::BTreeMap;

use argus_model::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::timefmt;

/// An alert as notified. `ends_at` is `None` for firing alerts (Alertmanager zeroes it so
/// that a firing alert never looks resolved to a receiver).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotifyAlert {
    /// `firing` / `resolved`.
    pub status: String,
    /// Labels.
    pub labels: Labels,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End (resolved alerts only).
    pub ends_at: Option<DateTime<Utc>>,
    /// Source link.
    pub generator_url: String,
    /// 16 hex digits.
    pub fingerprint: String,
}

/// Template data of one notification.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationData {
    /// Receiver name, regex-quoted as Alertmanager does (`regexp.QuoteMeta`).
    pub receiver: String,
    /// `firing` if any alert fires, else `resolved`.
    pub status: String,
    /// The alerts.
    pub alerts: Vec<NotifyAlert>,
    /// Group labels.
    pub group_labels: BTreeMap<String, String>,
    /// Labels shared by all alerts.
    pub common_labels: BTreeMap<String, String>,
    /// Annotations shared by all alerts.
    pub common_annotations: BTreeMap<String, String>,
    /// Link to the alert manager.
    pub external_url: String,
}

/// Go's `regexp.QuoteMeta`.
pub fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn to_map(l: &Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|l| (l.name.to_owned(), l.value.to_owned()))
        .collect()
}

impl NotificationData {
    /// Builds the data (`template.Data`).
    pub fn new(
        receiver: &str,
        group_labels: &Labels,
        alerts: &[NotifyAlert],
        external_url: &str,
    ) -> Self {
        let mut common_labels = BTreeMap::new();
        let mut common_annotations = BTreeMap::new();
        if let Some(first) = alerts.first() {
            common_labels = to_map(&first.labels);
            common_annotations = first.annotations.clone();
            for a in alerts.iter().skip(1) {
                common_labels.retain(|k, v| a.labels.get(k) == Some(v.as_str()));
                common_annotations.retain(|k, v| a.annotations.get(k) == Some(v));
            }
        }
        NotificationData {
            receiver: quote_meta(receiver),
            status: if alerts.iter().any(|a| a.status == "firing") {
                "firing".into()
            } else {
                "resolved".into()
            },
            alerts: alerts.to_vec(),
            group_labels: to_map(group_labels),
            common_labels,
            common_annotations,
            external_url: external_url.to_owned(),
        }
    }

    /// Number of firing alerts.
    pub fn firing(&self) -> usize {
        self.alerts.iter().filter(|a| a.status == "firing").count()
    }
}

#[derive(Serialize)]
struct WebhookAlert<'a> {
    status: &'a str,
    labels: &'a Labels,
    annotations: &'a BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "endsAt")]
    ends_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
    fingerprint: &'a str,
}

#[derive(Serialize)]
struct WebhookMessage<'a> {
    receiver: &'a str,
    status: &'a str,
    alerts: Vec<WebhookAlert<'a>>,
    #[serde(rename = "groupLabels")]
    group_labels: &'a BTreeMap<String, String>,
    #[serde(rename = "commonLabels")]
    common_labels: &'a BTreeMap<String, String>,
    #[serde(rename = "commonAnnotations")]
    common_annotations: &'a BTreeMap<String, String>,
    #[serde(rename = "externalURL")]
    external_url: &'a str,
    version: &'a str,
    #[serde(rename = "groupKey")]
    group_key: &'a str,
    #[serde(rename = "truncatedAlerts")]
    truncated_alerts: u64,
}

impl NotificationData {
    /// The webhook body (Alertmanager's `webhook.Message`, version "4").
    pub fn webhook_body(&self, group_key: &str, truncated: u64) -> Vec<u8> {
        let msg = WebhookMessage {
            receiver: &self.receiver,
            status: &self.status,
            alerts: self
                .alerts
                .iter()
                .map(|a| WebhookAlert {
                    status: &a.status,
                    labels: &a.labels,
                    annotations: &a.annotations,
                    starts_at: timefmt::go(Some(a.starts_at)),
                    ends_at: timefmt::go(a.ends_at),
                    generator_url: &a.generator_url,
                    fingerprint: &a.fingerprint,
                })
                .collect(),
            group_labels: &self.group_labels,
            common_labels: &self.common_labels,
            common_annotations: &self.common_annotations,
            external_url: &self.external_url,
            version: "4",
            group_key,
            truncated_alerts: truncated,
        };
        serde_json::to_vec(&msg).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(status: &str, p: &[(&str, &str)], ann: &[(&str, &str)]) -> NotifyAlert {
        NotifyAlert {
            status: status.into(),
            labels: Labels::from_pairs(p),
            annotations: ann
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            starts_at: timefmt::parse("2024-01-01T00:00:00.5Z").unwrap(),
            ends_at: None,
            generator_url: "http://g".into(),
            fingerprint: "0000000000000001".into(),
        }
    }

    #[test]
    fn common_labels_and_payload() {
        let alerts = vec![
            a("firing", &[("alertname", "X"), ("i", "1")], &[("s", "x")]),
            a(
                "resolved",
                &[("alertname", "X"), ("i", "2")],
                &[("s", "x"), ("t", "y")],
            ),
        ];
        let d = NotificationData::new(
            "team-X.pager",
            &Labels::from_pairs(&[("alertname", "X")]),
            &alerts,
            "http://am",
        );
        assert_eq!(d.receiver, "team-X\\.pager");
        assert_eq!(d.status, "firing");
        assert_eq!(d.common_labels.len(), 1);
        assert_eq!(d.common_annotations.len(), 1);
        let body = String::from_utf8(d.webhook_body("{}:{alertname=\"X\"}", 2)).unwrap();
        assert_eq!(
            body,
            r#"{"receiver":"team-X\\.pager","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"X","i":"1"},"annotations":{"s":"x"},"startsAt":"2024-01-01T00:00:00.5Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://g","fingerprint":"0000000000000001"},{"status":"resolved","labels":{"alertname":"X","i":"2"},"annotations":{"s":"x","t":"y"},"startsAt":"2024-01-01T00:00:00.5Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://g","fingerprint":"0000000000000001"}],"groupLabels":{"alertname":"X"},"commonLabels":{"alertname":"X"},"commonAnnotations":{"s":"x"},"externalURL":"http://am","version":"4","groupKey":"{}:{alertname=\"X\"}","truncatedAlerts":2}"#
        );
    }
}
