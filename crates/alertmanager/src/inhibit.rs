//! Inhibition (Alertmanager's `inhibit` package): a target alert is muted while a
//! non-resolved source alert exists whose `equal` labels have the same values (a label
//! absent on both sides counts as equal, `""` = `""`). An alert matching both sides never
//! inhibits one that also matches both sides (so a rule cannot make alerts mute each
//! other).
//!
//! Each rule keeps an index of its source alerts keyed by the hash of their `equal`
//! values, so a check costs one bucket lookup instead of a scan of all alerts.

use std::collections::HashMap;

use argus_model::Labels;
use chrono::{DateTime, Utc};

use crate::config::{build_matchers, InhibitRuleConfig};
use crate::matchers::Matchers;
use crate::types::{Alert, Fingerprint};

#[derive(Debug, Clone)]
struct Source {
    labels: Labels,
    ends_at: DateTime<Utc>,
}

/// One compiled rule with its source index.
#[derive(Debug, Clone)]
pub struct InhibitRule {
    /// Position in the config (reported as the reason of a suppression).
    pub index: usize,
    /// Name, if the config gave one.
    pub name: Option<String>,
    source: Matchers,
    target: Matchers,
    equal: Vec<String>,
    sources: HashMap<u64, HashMap<Fingerprint, Source>>,
}

impl InhibitRule {
    fn equal_hash(&self, l: &Labels) -> u64 {
        let mut h = xxhash_rust::xxh64::Xxh64::new(0);
        for n in &self.equal {
            h.update(l.get_or_empty(n).as_bytes());
            h.update(&[0xff]);
        }
        h.digest()
    }
}

/// The inhibition rules.
#[derive(Debug, Clone, Default)]
pub struct Inhibitor {
    rules: Vec<InhibitRule>,
}

/// Why an alert is inhibited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inhibition {
    /// The inhibiting (source) alert.
    pub source: Fingerprint,
    /// Index of the rule in `inhibit_rules`.
    pub rule: usize,
}

impl Inhibitor {
    /// Compiles the rules.
    pub fn new(rules: &[InhibitRuleConfig]) -> Result<Inhibitor, String> {
        let mut out = Vec::new();
        for (index, r) in rules.iter().enumerate() {
            out.push(InhibitRule {
                index,
                name: r.name.clone(),
                source: build_matchers(
                    &r.source_match,
                    &r.source_match_re,
                    &r.source_matchers,
                    "source_match",
                )?,
                target: build_matchers(
                    &r.target_match,
                    &r.target_match_re,
                    &r.target_matchers,
                    "target_match",
                )?,
                equal: r.equal.clone(),
                sources: HashMap::new(),
            });
        }
        Ok(Inhibitor { rules: out })
    }

    /// Records a stored alert (new or updated).
    pub fn observe(&mut self, a: &Alert) {
        let fp = a.fingerprint();
        for r in &mut self.rules {
            if !r.source.matches(&a.labels) {
                continue;
            }
            let h = r.equal_hash(&a.labels);
            r.sources.entry(h).or_default().insert(
                fp,
                Source {
                    labels: a.labels.clone(),
                    ends_at: a.ends_at,
                },
            );
        }
    }

    /// Forgets an alert removed from the store.
    pub fn forget(&mut self, a: &Alert) {
        let fp = a.fingerprint();
        for r in &mut self.rules {
            if !r.source.matches(&a.labels) {
                continue;
            }
            let h = r.equal_hash(&a.labels);
            if let Some(b) = r.sources.get_mut(&h) {
                b.remove(&fp);
                if b.is_empty() {
                    r.sources.remove(&h);
                }
            }
        }
    }

    /// Whether an alert with labels `l` is inhibited at `now`, and by what.
    pub fn mutes(&self, l: &Labels, now: DateTime<Utc>) -> Option<Inhibition> {
        for r in &self.rules {
            if !r.target.matches(l) {
                continue;
            }
            let two_sided = r.source.matches(l);
            let Some(bucket) = r.sources.get(&r.equal_hash(l)) else {
                continue;
            };
            // Deterministic choice when several sources qualify.
            let mut best: Option<Fingerprint> = None;
            for (fp, s) in bucket {
                if s.ends_at <= now {
                    continue;
                }
                if !r
                    .equal
                    .iter()
                    .all(|n| s.labels.get_or_empty(n) == l.get_or_empty(n))
                {
                    continue;
                }
                if two_sided && r.target.matches(&s.labels) {
                    continue;
                }
                if best.is_none_or(|b| *fp < b) {
                    best = Some(*fp);
                }
            }
            if let Some(source) = best {
                return Some(Inhibition {
                    source,
                    rule: r.index,
                });
            }
        }
        None
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::Config;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn alert(p: &[(&str, &str)], end: i64) -> Alert {
        Alert {
            labels: Labels::from_pairs(p),
            annotations: BTreeMap::new(),
            starts_at: t(0),
            ends_at: t(end),
            generator_url: String::new(),
            updated_at: t(0),
            timeout: false,
        }
    }

    fn inhibitor(rules: &str) -> Inhibitor {
        let c = Config::parse(&format!(
            "route: {{receiver: a}}\nreceivers: [{{name: a}}]\ninhibit_rules:\n{rules}"
        ))
        .unwrap();
        Inhibitor::new(&c.inhibit_rules).unwrap()
    }

    #[test]
    fn equal_labels_including_missing() {
        let mut ih = inhibitor(
            "- source_matchers: [severity=critical]\n  target_matchers: [severity=warning]\n  equal: [cluster, service]\n",
        );
        let src = alert(
            &[
                ("alertname", "Down"),
                ("severity", "critical"),
                ("cluster", "c1"),
            ],
            100,
        );
        ih.observe(&src);
        // Same cluster, service missing on both sides: inhibited.
        let tgt = Labels::from_pairs(&[
            ("alertname", "Slow"),
            ("severity", "warning"),
            ("cluster", "c1"),
        ]);
        let got = ih.mutes(&tgt, t(10)).unwrap();
        assert_eq!(got.source, src.fingerprint());
        assert_eq!(got.rule, 0);
        // Different cluster: not inhibited.
        let other = Labels::from_pairs(&[("severity", "warning"), ("cluster", "c2")]);
        assert!(ih.mutes(&other, t(10)).is_none());
        // Service present only on the target: not equal.
        let svc =
            Labels::from_pairs(&[("severity", "warning"), ("cluster", "c1"), ("service", "x")]);
        assert!(ih.mutes(&svc, t(10)).is_none());
        // Source resolved: no inhibition.
        assert!(ih.mutes(&tgt, t(100)).is_none());
        ih.forget(&src);
        assert!(ih.mutes(&tgt, t(10)).is_none());
    }

    #[test]
    fn two_sided_matches_do_not_inhibit_each_other() {
        let mut ih = inhibitor(
            "- source_match: {alertname: X}\n  target_match_re: {alertname: 'X|Y'}\n  equal: [zone]\n",
        );
        let x = alert(&[("alertname", "X"), ("zone", "a")], 100);
        ih.observe(&x);
        assert!(ih.mutes(&x.labels, t(1)).is_none());
        let y = Labels::from_pairs(&[("alertname", "Y"), ("zone", "a")]);
        assert!(ih.mutes(&y, t(1)).is_some());
    }
}
