//! The alert store (Alertmanager's `provider/mem`): every alert received, keyed by
//! fingerprint, with updates merged by Alertmanager's rules, and resolved alerts garbage
//! collected. Aggregation groups keep their own copies (see `dispatch`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::types::{Alert, Fingerprint};

/// All known alerts.
#[derive(Debug, Default, Clone)]
pub struct AlertStore {
    alerts: HashMap<Fingerprint, Alert>,
}

impl AlertStore {
    /// Inserts or merges `alert`; returns the stored version. Merging happens only when the
    /// activity ranges overlap, as in Alertmanager; otherwise the new alert replaces the old
    /// one (a new occurrence of a resolved alert).
    pub fn put(&mut self, alert: Alert, now: DateTime<Utc>) -> Alert {
        let fp = alert.fingerprint();
        let merged = match self.alerts.get(&fp) {
            Some(old)
                if (alert.ends_at > old.starts_at && alert.ends_at < old.ends_at)
                    || (alert.starts_at > old.starts_at && alert.starts_at < old.ends_at) =>
            {
                old.merge(&alert, now)
            }
            _ => alert,
        };
        self.alerts.insert(fp, merged.clone());
        merged
    }

    /// The alert with fingerprint `fp`.
    pub fn get(&self, fp: Fingerprint) -> Option<&Alert> {
        self.alerts.get(&fp)
    }

    /// All alerts (unordered).
    pub fn iter(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.values()
    }

    /// Number of alerts.
    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// Removes alerts resolved at `now`; returns them.
    pub fn gc(&mut self, now: DateTime<Utc>) -> Vec<Alert> {
        let dead: Vec<Fingerprint> = self
            .alerts
            .iter()
            .filter(|(_, a)| a.resolved_at(now))
            .map(|(fp, _)| *fp)
            .collect();
        dead.into_iter()
            .filter_map(|fp| self.alerts.remove(&fp))
            .collect()
    }

    /// Replaces the contents (restore from disk).
    pub fn restore(&mut self, alerts: Vec<Alert>) {
        self.alerts = alerts.into_iter().map(|a| (a.fingerprint(), a)).collect();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use argus_model::Labels;

    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn alert(start: i64, end: i64, upd: i64, timeout: bool) -> Alert {
        Alert {
            labels: Labels::from_pairs(&[("alertname", "A")]),
            annotations: BTreeMap::new(),
            starts_at: t(start),
            ends_at: t(end),
            generator_url: String::new(),
            updated_at: t(upd),
            timeout,
        }
    }

    #[test]
    fn resend_extends_and_resolve_wins() {
        let mut s = AlertStore::default();
        s.put(alert(0, 300, 0, true), t(0));
        // Prometheus re-sends a minute later with a new timeout-derived end.
        let a = s.put(alert(0, 360, 60, true), t(60));
        assert_eq!(a.ends_at, t(360));
        // Explicit resolve.
        let a = s.put(alert(0, 90, 90, false), t(90));
        assert_eq!(a.ends_at, t(90));
        assert!(a.resolved_at(t(90)));
        // A new occurrence after resolution replaces it.
        let a = s.put(alert(200, 500, 200, true), t(200));
        assert_eq!(a.starts_at, t(200));
        assert_eq!(s.gc(t(1000)).len(), 1);
        assert!(s.is_empty());
    }
}
