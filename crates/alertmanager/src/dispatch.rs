//! Aggregation groups and their timers (Alertmanager's `dispatch` package).
//!
//! Every alert is routed; in each matching route it joins the group of alerts with the same
//! values of the route's `group_by` labels. A new group waits `group_wait` before its first
//! flush (or flushes at once when its first alert started longer than `group_wait` ago),
//! then flushes every `group_interval`. A flush hands the group's alerts to the
//! notification pipeline; firing alerts are presented with no end time, resolved ones are
//! removed from the group after a successful flush unless they changed meanwhile.
//!
//! Timers are deadlines compared with an injected clock, so the state can be persisted
//! (`GroupTimer`) and a restart or reload resumes a group where it was instead of starting
//! its `group_wait` again.

use std::collections::HashMap;

use argus_model::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::route::{group_key, RouteTree};
use crate::types::{alert_order, fingerprint, Alert, Fingerprint};

/// Identifies a group: route index and fingerprint of its group labels.
pub type GroupId = (usize, Fingerprint);

/// One aggregation group.
#[derive(Debug, Clone)]
pub struct AggrGroup {
    /// Route index in the tree.
    pub route_idx: usize,
    /// Group labels.
    pub labels: Labels,
    /// `{route key}:{labels}`.
    pub key: String,
    /// Route ID.
    pub route_id: String,
    /// Receiver of the route.
    pub receiver: String,
    /// Alerts by fingerprint.
    pub alerts: HashMap<Fingerprint, Alert>,
    /// When the next flush is due.
    pub next_flush: DateTime<Utc>,
    /// Whether the group flushed at least once.
    pub has_flushed: bool,
}

/// Persisted timer state of a group, keyed by group key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupTimer {
    /// Group key.
    pub key: String,
    /// Next flush.
    pub next_flush: DateTime<Utc>,
    /// Flushed before.
    pub has_flushed: bool,
}

/// An alert as a flush presents it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlushAlert {
    /// The alert as stored (its `ends_at` is the real one).
    pub alert: Alert,
    /// Resolved at flush time.
    pub resolved: bool,
}

/// A flush in progress.
#[derive(Debug, Clone)]
pub struct Flush {
    /// The group.
    pub id: GroupId,
    /// Group key.
    pub key: String,
    /// Group labels.
    pub labels: Labels,
    /// Route index.
    pub route_idx: usize,
    /// Flush time.
    pub now: DateTime<Utc>,
    /// Alerts in Alertmanager's order.
    pub alerts: Vec<FlushAlert>,
}

/// All groups.
#[derive(Debug, Clone, Default)]
pub struct Dispatcher {
    groups: HashMap<GroupId, AggrGroup>,
}

impl Dispatcher {
    /// Routes `alert` into its groups. Returns true when a group became due at once.
    pub fn insert(&mut self, routes: &RouteTree, alert: &Alert, now: DateTime<Utc>) -> bool {
        let mut due_now = false;
        for idx in routes.match_labels(&alert.labels) {
            let Some(route) = routes.get(idx) else {
                continue;
            };
            let labels = routes.group_labels(idx, &alert.labels);
            let id = (idx, fingerprint(&labels));
            let g = self.groups.entry(id).or_insert_with(|| AggrGroup {
                route_idx: idx,
                key: group_key(&route.key, &labels),
                labels,
                route_id: route.id.clone(),
                receiver: route.opts.receiver.clone(),
                alerts: HashMap::new(),
                next_flush: clock::add(now, route.opts.group_wait),
                has_flushed: false,
            });
            g.alerts.insert(alert.fingerprint(), alert.clone());
            // An alert that started longer than group_wait ago need not wait any more.
            if !g.has_flushed && clock::add(alert.starts_at, route.opts.group_wait) < now {
                g.next_flush = g.next_flush.min(now);
            }
            due_now |= g.next_flush <= now;
        }
        due_now
    }

    /// Groups whose flush is due at `now`.
    pub fn due(&self, now: DateTime<Utc>) -> Vec<GroupId> {
        let mut v: Vec<(DateTime<Utc>, GroupId)> = self
            .groups
            .iter()
            .filter(|(_, g)| g.next_flush <= now)
            .map(|(id, g)| (g.next_flush, *id))
            .collect();
        v.sort();
        v.into_iter().map(|(_, id)| id).collect()
    }

    /// The earliest pending flush.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.groups.values().map(|g| g.next_flush).min()
    }

    /// Starts a flush: re-arms the timer for `group_interval` and snapshots the alerts.
    /// Returns `None` for an unknown or empty group (an empty group is removed).
    pub fn begin_flush(
        &mut self,
        routes: &RouteTree,
        id: GroupId,
        now: DateTime<Utc>,
    ) -> Option<Flush> {
        let g = self.groups.get_mut(&id)?;
        let interval = routes.get(g.route_idx)?.opts.group_interval;
        g.next_flush = clock::add(now, interval);
        g.has_flushed = true;
        if g.alerts.is_empty() {
            self.groups.remove(&id);
            return None;
        }
        let mut alerts: Vec<FlushAlert> = g
            .alerts
            .values()
            .map(|a| FlushAlert {
                resolved: a.resolved_at(now),
                alert: a.clone(),
            })
            .collect();
        alerts.sort_by(|a, b| alert_order(&a.alert.labels, &b.alert.labels));
        Some(Flush {
            id,
            key: g.key.clone(),
            labels: g.labels.clone(),
            route_idx: g.route_idx,
            now,
            alerts,
        })
    }

    /// Ends a flush. After success, resolved alerts that were not updated meanwhile leave
    /// the group, and an empty group is removed.
    pub fn finish_flush(&mut self, flush: &Flush, success: bool) {
        if !success {
            return;
        }
        let Some(g) = self.groups.get_mut(&flush.id) else {
            return;
        };
        for fa in flush.alerts.iter().filter(|a| a.resolved) {
            let fp = fa.alert.fingerprint();
            if g.alerts
                .get(&fp)
                .is_some_and(|cur| cur.updated_at == fa.alert.updated_at)
            {
                g.alerts.remove(&fp);
            }
        }
        if g.alerts.is_empty() {
            self.groups.remove(&flush.id);
        }
    }

    /// All groups.
    pub fn groups(&self) -> impl Iterator<Item = &AggrGroup> {
        self.groups.values()
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// True when there are no groups.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Timer state for persistence.
    pub fn timers(&self) -> Vec<GroupTimer> {
        let mut v: Vec<GroupTimer> = self
            .groups
            .values()
            .map(|g| GroupTimer {
                key: g.key.clone(),
                next_flush: g.next_flush,
                has_flushed: g.has_flushed,
            })
            .collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }

    /// Applies saved timers to groups with the same key (after a restart or a reload), so
    /// they keep their schedule instead of restarting `group_wait`.
    pub fn apply_timers(&mut self, timers: &[GroupTimer]) {
        let by_key: HashMap<&str, &GroupTimer> =
            timers.iter().map(|t| (t.key.as_str(), t)).collect();
        for g in self.groups.values_mut() {
            if let Some(t) = by_key.get(g.key.as_str()) {
                g.next_flush = t.next_flush;
                g.has_flushed = t.has_flushed;
            }
        }
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

    fn alert(p: &[(&str, &str)], start: i64, end: i64, upd: i64) -> Alert {
        Alert {
            labels: Labels::from_pairs(p),
            annotations: BTreeMap::new(),
            starts_at: t(start),
            ends_at: t(end),
            generator_url: String::new(),
            updated_at: t(upd),
            timeout: false,
        }
    }

    fn routes() -> RouteTree {
        let c = Config::parse(
            "route:\n  receiver: a\n  group_by: [team]\n  group_wait: 30s\n  group_interval: 5m\n  routes:\n  - matchers: ['team=\"db\"']\n    group_by: [alertname]\nreceivers: [{name: a}]\n",
        )
        .unwrap();
        RouteTree::new(c.route.as_ref().unwrap()).unwrap()
    }

    #[test]
    fn group_wait_interval_and_keys() {
        let r = routes();
        let mut d = Dispatcher::default();
        assert!(!d.insert(
            &r,
            &alert(&[("alertname", "X"), ("team", "db")], 0, 1000, 0),
            t(0)
        ));
        assert!(!d.insert(
            &r,
            &alert(
                &[("alertname", "X"), ("team", "db"), ("i", "2")],
                5,
                1000,
                5
            ),
            t(5)
        ));
        assert_eq!(d.len(), 1);
        let g = d.groups().next().unwrap();
        assert_eq!(g.key, r#"{}/{team="db"}:{alertname="X"}"#);
        assert!(d.due(t(29)).is_empty());
        let id = d.due(t(30))[0];
        let f = d.begin_flush(&r, id, t(30)).unwrap();
        assert_eq!(f.alerts.len(), 2);
        d.finish_flush(&f, true);
        assert_eq!(d.next_deadline(), Some(t(330)));
        // Old alert in a new group flushes at once.
        assert!(d.insert(
            &r,
            &alert(&[("alertname", "Y"), ("team", "web")], -100, 1000, 40),
            t(40)
        ));
        assert_eq!(d.due(t(40)).len(), 1);
    }

    #[test]
    fn resolved_alerts_leave_after_flush_unless_updated() {
        let r = routes();
        let mut d = Dispatcher::default();
        d.insert(
            &r,
            &alert(&[("alertname", "X"), ("team", "db")], 0, 10, 0),
            t(0),
        );
        d.insert(
            &r,
            &alert(&[("alertname", "X"), ("team", "db"), ("i", "2")], 0, 10, 0),
            t(0),
        );
        let id = d.due(t(30))[0];
        let f = d.begin_flush(&r, id, t(30)).unwrap();
        assert!(f.alerts.iter().all(|a| a.resolved));
        // One of them fires again during the flush.
        d.insert(
            &r,
            &alert(
                &[("alertname", "X"), ("team", "db"), ("i", "2")],
                31,
                1000,
                31,
            ),
            t(31),
        );
        d.finish_flush(&f, true);
        assert_eq!(d.groups().next().unwrap().alerts.len(), 1);
        let timers = d.timers();
        let mut d2 = Dispatcher::default();
        d2.insert(
            &r,
            &alert(&[("alertname", "X"), ("team", "db")], 0, 1000, 0),
            t(40),
        );
        d2.apply_timers(&timers);
        assert_eq!(d2.next_deadline(), Some(t(330)));
    }
}
