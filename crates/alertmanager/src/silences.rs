//! Silences (Alertmanager's `silence` package): matcher sets that mute alerts between
//! `startsAt` and `endsAt`, with Alertmanager's update rules (a change that is not allowed
//! in place expires the old silence and creates a new one), expiry, and garbage collection
//! after a retention period.
//!
//! HA seam: [`Silences::merge`] takes a peer's silences and keeps, per ID, the version with
//! the latest `updated_at` (Alertmanager's gossip merge rule), so replicas converge.

use std::collections::HashMap;
use std::time::Duration;

use argus_model::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::matchers::{MatchType, Matcher};

/// Lifecycle state of a silence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceState {
    /// Ended.
    Expired,
    /// Muting now.
    Active,
    /// Starts in the future.
    Pending,
}

impl SilenceState {
    /// The API string.
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Expired => "expired",
            SilenceState::Active => "active",
            SilenceState::Pending => "pending",
        }
    }
}

/// A silence.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    /// UUID; empty when creating.
    pub id: String,
    /// All must match for the silence to apply.
    pub matchers: Vec<Matcher>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Author.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

impl Silence {
    /// State at `now` (`getState`: pending before start, expired after end).
    pub fn state(&self, now: DateTime<Utc>) -> SilenceState {
        if now < self.starts_at {
            SilenceState::Pending
        } else if now > self.ends_at {
            SilenceState::Expired
        } else {
            SilenceState::Active
        }
    }

    /// True when every matcher matches `l`.
    pub fn matches(&self, l: &Labels) -> bool {
        self.matchers.iter().all(|m| m.matches_labels(l))
    }
}

/// A silence operation that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    /// No silence with that ID.
    #[error("silence not found")]
    NotFound,
    /// Expiring an already expired silence.
    #[error("silence {0} already expired")]
    AlreadyExpired(String),
    /// Validation failure.
    #[error("{0}")]
    Invalid(String),
}

/// Checks a silence as Alertmanager's `validateSilence`.
pub fn validate(s: &Silence) -> Result<(), SilenceError> {
    let inv = |m: &str| Err(SilenceError::Invalid(m.to_owned()));
    if s.matchers.is_empty() {
        return inv("at least one matcher required");
    }
    for (i, m) in s.matchers.iter().enumerate() {
        if m.name.is_empty() {
            return Err(SilenceError::Invalid(format!(
                "invalid label matcher {i}: invalid label name \"\""
            )));
        }
    }
    if s.matchers.iter().all(|m| m.matches("")) {
        return inv("at least one matcher must not match the empty string");
    }
    if s.ends_at < s.starts_at {
        return inv("end time must not be before start time");
    }
    Ok(())
}

/// A random UUID v4 in canonical form.
pub fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// All silences.
#[derive(Debug, Clone)]
pub struct Silences {
    map: HashMap<String, Silence>,
    retention: Duration,
}

impl Silences {
    /// Empty set; expired silences are kept for `retention` after they end.
    pub fn new(retention: Duration) -> Self {
        Silences {
            map: HashMap::new(),
            retention,
        }
    }

    fn can_update(a: &Silence, b: &Silence, now: DateTime<Utc>) -> bool {
        if a.matchers != b.matchers {
            return false;
        }
        match a.state(now) {
            SilenceState::Active => b.starts_at == a.starts_at && b.ends_at >= now,
            SilenceState::Pending => b.starts_at >= now,
            SilenceState::Expired => false,
        }
    }

    /// Creates or updates a silence (`Silences.Set`); returns its ID, which is new when the
    /// change could not be made in place.
    pub fn set(&mut self, mut sil: Silence, now: DateTime<Utc>) -> Result<String, SilenceError> {
        validate(&sil)?;
        if !sil.id.is_empty() {
            let Some(prev) = self.map.get(&sil.id).cloned() else {
                return Err(SilenceError::NotFound);
            };
            if Self::can_update(&prev, &sil, now) {
                sil.updated_at = now;
                self.map.insert(sil.id.clone(), sil.clone());
                return Ok(sil.id);
            }
            if prev.state(now) != SilenceState::Expired {
                self.expire(&prev.id, now)?;
            }
        }
        sil.id = new_uuid();
        if sil.starts_at < now {
            sil.starts_at = now;
        }
        if sil.ends_at < sil.starts_at {
            return Err(SilenceError::Invalid(
                "end time must not be before start time".into(),
            ));
        }
        sil.updated_at = now;
        let id = sil.id.clone();
        self.map.insert(id.clone(), sil);
        Ok(id)
    }

    /// Expires a silence now (`Silences.Expire`).
    pub fn expire(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), SilenceError> {
        let Some(s) = self.map.get_mut(id) else {
            return Err(SilenceError::NotFound);
        };
        match s.state(now) {
            SilenceState::Expired => return Err(SilenceError::AlreadyExpired(id.to_owned())),
            SilenceState::Active => s.ends_at = now,
            SilenceState::Pending => {
                s.starts_at = now;
                s.ends_at = now;
            }
        }
        s.updated_at = now;
        Ok(())
    }

    /// The silence with `id`.
    pub fn get(&self, id: &str) -> Option<&Silence> {
        self.map.get(id)
    }

    /// All silences (unordered).
    pub fn iter(&self) -> impl Iterator<Item = &Silence> {
        self.map.values()
    }

    /// IDs of the active silences muting `l`, sorted.
    pub fn mutes(&self, l: &Labels, now: DateTime<Utc>) -> Vec<String> {
        let mut ids: Vec<String> = self
            .map
            .values()
            .filter(|s| s.state(now) == SilenceState::Active && s.matches(l))
            .map(|s| s.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Drops silences that ended more than the retention ago; returns how many.
    pub fn gc(&mut self, now: DateTime<Utc>) -> usize {
        let before = self.map.len();
        let cutoff = clock::sub(now, self.retention);
        self.map.retain(|_, s| s.ends_at >= cutoff);
        before - self.map.len()
    }

    /// Counts by state.
    pub fn count_by_state(&self, now: DateTime<Utc>) -> [(SilenceState, usize); 3] {
        let mut c = [
            (SilenceState::Active, 0),
            (SilenceState::Pending, 0),
            (SilenceState::Expired, 0),
        ];
        for s in self.map.values() {
            let st = s.state(now);
            for e in &mut c {
                if e.0 == st {
                    e.1 += 1;
                }
            }
        }
        c
    }

    /// HA seam: merges a peer's silences; for each ID the latest `updated_at` wins.
    /// Returns how many entries changed.
    pub fn merge(&mut self, peer: impl IntoIterator<Item = Silence>) -> usize {
        let mut changed = 0;
        for s in peer {
            let newer = self
                .map
                .get(&s.id)
                .is_none_or(|cur| s.updated_at > cur.updated_at);
            if newer && !s.id.is_empty() {
                self.map.insert(s.id.clone(), s);
                changed += 1;
            }
        }
        changed
    }

    /// Every silence, for snapshots.
    pub fn snapshot(&self) -> Vec<Silence> {
        let mut v: Vec<Silence> = self.map.values().cloned().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }
}

/// On-disk / peer-exchange form of a silence.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSilence {
    id: String,
    matchers: Vec<StoredMatcher>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    created_by: String,
    comment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredMatcher {
    name: String,
    value: String,
    is_regex: bool,
    is_equal: bool,
}

impl From<&Silence> for StoredSilence {
    fn from(s: &Silence) -> Self {
        StoredSilence {
            id: s.id.clone(),
            matchers: s
                .matchers
                .iter()
                .map(|m| StoredMatcher {
                    name: m.name.clone(),
                    value: m.value.clone(),
                    is_regex: m.ty.is_regex(),
                    is_equal: m.ty.is_equal(),
                })
                .collect(),
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            updated_at: s.updated_at,
            created_by: s.created_by.clone(),
            comment: s.comment.clone(),
        }
    }
}

impl TryFrom<StoredSilence> for Silence {
    type Error = String;
    fn try_from(s: StoredSilence) -> Result<Self, String> {
        let matchers = s
            .matchers
            .into_iter()
            .map(|m| {
                Matcher::new(
                    MatchType::from_flags(m.is_equal, m.is_regex),
                    m.name,
                    m.value,
                )
                .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Silence {
            id: s.id,
            matchers,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            updated_at: s.updated_at,
            created_by: s.created_by,
            comment: s.comment,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matchers::parse_matchers;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn sil(m: &str, start: i64, end: i64) -> Silence {
        Silence {
            id: String::new(),
            matchers: parse_matchers(m).unwrap(),
            starts_at: t(start),
            ends_at: t(end),
            updated_at: t(0),
            created_by: "me".into(),
            comment: "c".into(),
        }
    }

    #[test]
    fn states_and_matching() {
        let mut s = Silences::new(Duration::from_secs(3600));
        let id = s
            .set(
                sil(r#"{alertname="A", env=~"prod|stage", team!="x"}"#, 10, 100),
                t(0),
            )
            .unwrap();
        assert_eq!(id.len(), 36);
        let l = Labels::from_pairs(&[("alertname", "A"), ("env", "prod")]);
        assert_eq!(s.get(&id).unwrap().state(t(5)), SilenceState::Pending);
        assert!(s.mutes(&l, t(5)).is_empty());
        assert_eq!(s.mutes(&l, t(50)), vec![id.clone()]);
        let other = Labels::from_pairs(&[("alertname", "A"), ("env", "dev")]);
        assert!(s.mutes(&other, t(50)).is_empty());
        let teamx = Labels::from_pairs(&[("alertname", "A"), ("env", "prod"), ("team", "x")]);
        assert!(s.mutes(&teamx, t(50)).is_empty());
        assert_eq!(s.get(&id).unwrap().state(t(101)), SilenceState::Expired);
    }

    #[test]
    fn update_rules() {
        let mut s = Silences::new(Duration::from_secs(3600));
        let id = s.set(sil("a=b", 0, 100), t(0)).unwrap();
        // Active: extending the end keeps the ID.
        let mut upd = s.get(&id).unwrap().clone();
        upd.ends_at = t(200);
        assert_eq!(s.set(upd, t(10)).unwrap(), id);
        // Active: changing matchers expires it and creates a new one.
        let mut upd = s.get(&id).unwrap().clone();
        upd.matchers = parse_matchers("a=c").unwrap();
        let id2 = s.set(upd, t(20)).unwrap();
        assert_ne!(id2, id);
        assert_eq!(s.get(&id).unwrap().state(t(21)), SilenceState::Expired);
        assert_eq!(s.get(&id2).unwrap().starts_at, t(20));
        // Expire twice.
        s.expire(&id2, t(30)).unwrap();
        assert_eq!(
            s.expire(&id2, t(31)),
            Err(SilenceError::AlreadyExpired(id2.clone()))
        );
        // Unknown ID.
        let mut ghost = sil("a=b", 0, 10);
        ghost.id = "nope".into();
        assert_eq!(s.set(ghost, t(0)), Err(SilenceError::NotFound));
        // Pending expire moves both ends to now.
        let p = s.set(sil("a=b", 100, 200), t(40)).unwrap();
        s.expire(&p, t(50)).unwrap();
        let ps = s.get(&p).unwrap();
        assert_eq!((ps.starts_at, ps.ends_at), (t(50), t(50)));
        // GC after retention.
        assert_eq!(s.gc(t(30 + 3600)), 1);
        assert_eq!(s.gc(t(50 + 3601)), 2);
    }

    #[test]
    fn validation() {
        let mut s = Silences::new(Duration::from_secs(1));
        let e = s.set(sil("a=~.*", 0, 10), t(0)).unwrap_err();
        assert!(e.to_string().contains("must not match the empty string"));
        let e = s.set(sil("a=b", 10, 0), t(0)).unwrap_err();
        assert!(e.to_string().contains("end time"));
    }

    #[test]
    fn merge_keeps_latest() {
        let mut a = Silences::new(Duration::from_secs(3600));
        let id = a.set(sil("a=b", 0, 100), t(0)).unwrap();
        let mut b = Silences::new(Duration::from_secs(3600));
        b.merge(a.snapshot());
        b.expire(&id, t(10)).unwrap();
        assert_eq!(a.merge(b.snapshot()), 1);
        assert_eq!(a.get(&id).unwrap().ends_at, t(10));
        assert_eq!(a.merge(b.snapshot()), 0);
    }
}
