//! The built-in alert manager: its configuration (Alertmanager's format, or an embedded
//! default), and the seam that hands the rule manager's alerts to it in-process, exactly
//! as an external Prometheus would post them to `/api/v2/alerts`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use argus_alert::{AlertSender, NotifierAlert};
use argus_alertmanager::{AlertManager, Config, PostableAlert};
use chrono::{DateTime, TimeZone, Utc};

/// Used without `--alertmanager.config.file`: every alert goes to one receiver with no
/// integrations, so alerts and silences work in the API and UI and nothing is sent.
pub const DEFAULT_CONFIG: &str = "\
route:
  receiver: default
  group_by: [alertname]
receivers:
  - name: default
";

/// Loads `--alertmanager.config.file`, or the embedded default.
pub fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    match path {
        Some(p) => Config::load(p).with_context(|| format!("loading {}", p.display())),
        None => Config::parse(DEFAULT_CONFIG).context("embedded alert manager config"),
    }
}

fn time(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

fn map(l: &argus_model::Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|x| (x.name.to_owned(), x.value.to_owned()))
        .collect()
}

/// Converts the rule manager's alerts into what the alert manager's API receives.
pub fn postable(alerts: Vec<NotifierAlert>) -> Vec<PostableAlert> {
    alerts
        .into_iter()
        .map(|a| PostableAlert {
            labels: map(&a.labels),
            annotations: map(&a.annotations),
            starts_at: time(a.starts_at_ms),
            ends_at: time(a.ends_at_ms),
            generator_url: a.generator_url,
        })
        .collect()
}

/// Sends alerts to the built-in alert manager, adding the external labels an alert lacks
/// (as Prometheus' notifier does before any Alertmanager sees them), except the replica
/// label: the replicas' alert managers form one cluster and must see identical alerts.
pub struct BuiltinSender {
    pub am: Arc<AlertManager>,
    /// External labels without the replica label.
    pub external_labels: parking_lot::RwLock<BTreeMap<String, String>>,
    /// The replica label and this replica's value, in a replica cluster.
    pub replica: parking_lot::RwLock<Option<(String, String)>>,
}

impl AlertSender for BuiltinSender {
    fn send(&self, alerts: Vec<NotifierAlert>) {
        let ext = self.external_labels.read().clone();
        let replica = self.replica.read().clone();
        let mut posts = postable(alerts);
        for p in &mut posts {
            // A rule that copied the label in (e.g. from $externalLabels) would split the
            // replicas' alerts apart again.
            if let Some((k, v)) = &replica {
                if p.labels.get(k) == Some(v) {
                    p.labels.remove(k);
                }
            }
            for (k, v) in &ext {
                let e = p.labels.entry(k.clone()).or_default();
                if e.is_empty() {
                    e.clone_from(v);
                }
            }
        }
        if let Err(errors) = self.am.put_alerts(posts) {
            for e in errors {
                tracing::warn!(error = %e, "Built-in alert manager refused an alert.");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_loads() {
        let c = load_config(None).unwrap();
        assert_eq!(c.receivers.len(), 1);
    }

    #[test]
    fn converts_times_and_labels() {
        let a = NotifierAlert {
            labels: argus_model::Labels::from_pairs(&[("alertname", "X"), ("job", "a")]),
            annotations: argus_model::Labels::from_pairs(&[("summary", "s")]),
            starts_at_ms: 1_700_000_000_000,
            ends_at_ms: 1_700_000_240_000,
            generator_url: "http://h/graph".into(),
        };
        let p = postable(vec![a]);
        assert_eq!(p[0].labels["alertname"], "X");
        assert_eq!(p[0].annotations["summary"], "s");
        assert_eq!(
            p[0].starts_at.unwrap().timestamp_millis(),
            1_700_000_000_000
        );
        assert_eq!(p[0].ends_at.unwrap().timestamp_millis(), 1_700_000_240_000);
    }
}
