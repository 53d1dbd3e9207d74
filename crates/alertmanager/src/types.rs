//! The alert as the alert manager stores it, its identity (fingerprint) and Alertmanager's
//! merge rules for updates of the same alert.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use argus_model::Labels;
use chrono::{DateTime, Utc};

/// Alertmanager's alert identity: FNV-1a 64 over the sorted label set
/// (`name 0xff value 0xff ...`), printed as 16 hex digits. Same algorithm as
/// `prometheus/common/model.LabelSet.Fingerprint`, so fingerprints equal those a real
/// Alertmanager shows for the same labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Fingerprint(pub u64);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for Fingerprint {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(s, 16).map(Fingerprint)
    }
}

const FNV_OFFSET: u64 = 14_695_981_039_346_656_037;
const FNV_PRIME: u64 = 1_099_511_628_211;
const SEP: u8 = 0xff;

fn fnv_add(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Fingerprint of a label set (see [`Fingerprint`]).
pub fn fingerprint(labels: &Labels) -> Fingerprint {
    let mut h = FNV_OFFSET;
    for l in labels.iter() {
        h = fnv_add(h, l.name.as_bytes());
        h = fnv_add(h, &[SEP]);
        h = fnv_add(h, l.value.as_bytes());
        h = fnv_add(h, &[SEP]);
    }
    Fingerprint(h)
}

/// The hash the notification log stores per alert: xxHash64 over the sorted label set
/// (`name 0xff value 0xff ...`), as Alertmanager's `hashAlert`. Keeping it identical lets a
/// notification log be compared with (and later merged from) an Alertmanager peer.
pub fn alert_hash(labels: &Labels) -> u64 {
    let mut h = xxhash_rust::xxh64::Xxh64::new(0);
    for l in labels.iter() {
        h.update(l.name.as_bytes());
        h.update(&[SEP]);
        h.update(l.value.as_bytes());
        h.update(&[SEP]);
    }
    h.digest()
}

/// An alert in the alert manager.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Identifying labels.
    pub labels: Labels,
    /// Annotations (empty values are kept, as Alertmanager does).
    pub annotations: BTreeMap<String, String>,
    /// When the alert started firing.
    pub starts_at: DateTime<Utc>,
    /// When it ends (or ended). Alerts received without `endsAt` get
    /// `received + resolve_timeout` and `timeout = true`.
    pub ends_at: DateTime<Utc>,
    /// Link to the rule that generated it.
    pub generator_url: String,
    /// When the alert manager last received it.
    pub updated_at: DateTime<Utc>,
    /// True when `ends_at` was derived from `resolve_timeout`.
    pub timeout: bool,
}

impl Alert {
    /// The alert's fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint(&self.labels)
    }

    /// The `alertname` label, or `""`.
    pub fn name(&self) -> &str {
        self.labels.get_or_empty("alertname")
    }

    /// True when the alert is resolved at `t` (`endsAt <= t`).
    pub fn resolved_at(&self, t: DateTime<Utc>) -> bool {
        self.ends_at <= t
    }

    /// Merges an update `o` of the same alert, as Alertmanager's `types.Alert.Merge`: the
    /// more recently received one wins, but the earliest `startsAt` is kept, and an explicit
    /// (non-timeout) later `endsAt` is not overridden by a timeout.
    pub fn merge(&self, o: &Alert, now: DateTime<Utc>) -> Alert {
        if o.updated_at < self.updated_at {
            return o.merge(self, now);
        }
        let mut res = o.clone();
        if self.starts_at < o.starts_at {
            res.starts_at = self.starts_at;
        }
        if o.resolved_at(now) {
            // Both effectively resolved: the latest explicit resolve time wins.
            if self.resolved_at(now) && self.ends_at > o.ends_at {
                res.ends_at = self.ends_at;
            }
        } else if self.ends_at > o.ends_at && !self.timeout {
            res.ends_at = self.ends_at;
        }
        res
    }
}

/// Notification status of an alert.
pub fn status_str(resolved: bool) -> &'static str {
    if resolved {
        "resolved"
    } else {
        "firing"
    }
}

/// Alertmanager's `AlertSlice` order: by `job`, then `instance` (alerts having the label
/// first), then by the whole label set.
pub fn alert_order(a: &Labels, b: &Labels) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for key in ["job", "instance"] {
        match (a.get(key), b.get(key)) {
            (None, None) => continue,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    label_set_before(a, b)
}

/// `model.LabelSet.Before`: compares label names pairwise in sorted order, then values,
/// then length.
pub fn label_set_before(a: &Labels, b: &Labels) -> std::cmp::Ordering {
    a.cmp(b)
}

/// `model.LabelSet.String()`: `{a="b", c="d"}` with Go `%q` quoting.
pub fn label_set_string(l: &Labels) -> String {
    l.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_matches_prometheus_common() {
        // Values from prometheus/common model/signature_test.go (TestLabelsToSignature
        // uses the same FNV construction): the empty set is the FNV offset basis.
        assert_eq!(fingerprint(&Labels::empty()).0, 14_695_981_039_346_656_037);
        let l = Labels::from_pairs(&[("name", "garland, briggs"), ("fear", "love is not enough")]);
        assert_eq!(fingerprint(&l).0, 5_799_056_148_416_392_346);
        assert_eq!(format!("{}", Fingerprint(0xab)), "00000000000000ab");
    }

    #[test]
    fn merge_keeps_earliest_start_and_explicit_end() {
        let t0 = DateTime::<Utc>::from_timestamp(1_000, 0).unwrap();
        let t = |s: i64| DateTime::<Utc>::from_timestamp(1_000 + s, 0).unwrap();
        let a = Alert {
            labels: Labels::from_pairs(&[("alertname", "x")]),
            annotations: BTreeMap::new(),
            starts_at: t0,
            ends_at: t(600),
            generator_url: String::new(),
            updated_at: t(10),
            timeout: false,
        };
        let mut b = a.clone();
        b.starts_at = t(5);
        b.ends_at = t(300);
        b.updated_at = t(20);
        b.timeout = true;
        let m = a.merge(&b, t(30));
        assert_eq!(m.starts_at, t0);
        assert_eq!(m.ends_at, t(600));
        assert_eq!(m.updated_at, t(20));
    }
}
