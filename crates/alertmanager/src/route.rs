//! The routing tree at run time: matching an alert's labels depth-first, left to right,
//! honouring `continue`, with options inherited from parents (Alertmanager's
//! `dispatch/route.go`). Route keys (`{}/{team="db"}`) are the prefix of group keys.

use std::time::Duration;

use argus_model::Labels;

use crate::config::{build_matchers, RouteConfig};
use crate::matchers::Matchers;

/// Alertmanager's root defaults.
const DEFAULT_GROUP_WAIT: Duration = Duration::from_secs(30);
const DEFAULT_GROUP_INTERVAL: Duration = Duration::from_secs(5 * 60);
const DEFAULT_REPEAT_INTERVAL: Duration = Duration::from_secs(4 * 3600);

/// Effective options of a route.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteOpts {
    /// Receiver name.
    pub receiver: String,
    /// `group_by` labels, sorted.
    pub group_by: Vec<String>,
    /// `group_by: ['...']`.
    pub group_by_all: bool,
    /// Initial wait of a new group.
    pub group_wait: Duration,
    /// Interval between flushes.
    pub group_interval: Duration,
    /// Re-notification interval.
    pub repeat_interval: Duration,
    /// Mute intervals (not inherited).
    pub mute_time_intervals: Vec<String>,
    /// Active intervals (not inherited).
    pub active_time_intervals: Vec<String>,
}

impl RouteOpts {
    /// The repeat interval as it takes effect: flushes only happen every
    /// `group_interval`, so a repeat is due at the first flush at or after
    /// `repeat_interval`, i.e. `repeat_interval` rounded up to a multiple of
    /// `group_interval`.
    pub fn effective_repeat_interval(&self) -> Duration {
        let gi = self.group_interval.as_millis().max(1);
        let ri = self.repeat_interval.as_millis();
        let n = ri.div_ceil(gi).max(1);
        Duration::from_millis(u64::try_from(n.saturating_mul(gi)).unwrap_or(u64::MAX))
    }
}

/// One node.
#[derive(Debug, Clone)]
pub struct Route {
    /// Index in [`RouteTree::routes`] (depth-first pre-order; the root is 0).
    pub idx: usize,
    /// Parent index.
    pub parent: Option<usize>,
    /// Effective options.
    pub opts: RouteOpts,
    /// Sorted matchers.
    pub matchers: Matchers,
    /// `continue`.
    pub continue_: bool,
    /// Children, in file order.
    pub children: Vec<usize>,
    /// `Route.Key()`: parent key `/` matchers.
    pub key: String,
    /// `Route.ID()`: key plus the position among siblings.
    pub id: String,
}

/// The compiled tree.
#[derive(Debug, Clone)]
pub struct RouteTree {
    /// All routes; `routes[0]` is the root.
    pub routes: Vec<Route>,
}

fn ms(d: argus_model::PromDuration) -> Duration {
    d.to_std()
}

impl RouteTree {
    /// Builds the tree from a validated config.
    pub fn new(root: &RouteConfig) -> Result<RouteTree, String> {
        let mut t = RouteTree { routes: Vec::new() };
        t.add(root, None, None)?;
        Ok(t)
    }

    fn add(
        &mut self,
        cr: &RouteConfig,
        parent: Option<usize>,
        pos: Option<usize>,
    ) -> Result<usize, String> {
        let mut opts = match parent.and_then(|p| self.routes.get(p)) {
            Some(p) => p.opts.clone(),
            None => RouteOpts {
                receiver: String::new(),
                group_by: Vec::new(),
                group_by_all: false,
                group_wait: DEFAULT_GROUP_WAIT,
                group_interval: DEFAULT_GROUP_INTERVAL,
                repeat_interval: DEFAULT_REPEAT_INTERVAL,
                mute_time_intervals: Vec::new(),
                active_time_intervals: Vec::new(),
            },
        };
        if let Some(r) = cr.receiver.as_ref().filter(|r| !r.is_empty()) {
            opts.receiver = r.clone();
        }
        if let Some(gb) = &cr.group_by {
            opts.group_by_all = gb.iter().any(|l| l == "...");
            let mut g: Vec<String> = gb.iter().filter(|l| *l != "...").cloned().collect();
            g.sort();
            g.dedup();
            opts.group_by = g;
        }
        if let Some(d) = cr.group_wait {
            opts.group_wait = ms(d);
        }
        if let Some(d) = cr.group_interval {
            opts.group_interval = ms(d);
        }
        if let Some(d) = cr.repeat_interval {
            opts.repeat_interval = ms(d);
        }
        opts.mute_time_intervals = cr.mute_time_intervals.clone();
        opts.active_time_intervals = cr.active_time_intervals.clone();
        let matchers = build_matchers(&cr.match_, &cr.match_re, &cr.matchers, "match")?;
        let key = match parent.and_then(|p| self.routes.get(p)) {
            Some(p) => format!("{}/{}", p.key, matchers),
            None => matchers.to_string(),
        };
        let id = match pos {
            Some(i) => format!("{key}/{i}"),
            None => key.clone(),
        };
        let idx = self.routes.len();
        self.routes.push(Route {
            idx,
            parent,
            opts,
            matchers,
            continue_: cr.continue_,
            children: Vec::new(),
            key,
            id,
        });
        for (i, c) in cr.routes.iter().enumerate() {
            let ci = self.add(c, Some(idx), Some(i))?;
            if let Some(r) = self.routes.get_mut(idx) {
                r.children.push(ci);
            }
        }
        Ok(idx)
    }

    /// The root route.
    pub fn root(&self) -> Option<&Route> {
        self.routes.first()
    }

    /// The route at `idx`.
    pub fn get(&self, idx: usize) -> Option<&Route> {
        self.routes.get(idx)
    }

    /// The routes an alert with labels `l` ends up in, in order (`Route.Match`).
    pub fn match_labels(&self, l: &Labels) -> Vec<usize> {
        let mut out = Vec::new();
        self.match_from(0, l, &mut out);
        out
    }

    fn match_from(&self, idx: usize, l: &Labels, out: &mut Vec<usize>) -> bool {
        let Some(r) = self.routes.get(idx) else {
            return false;
        };
        if !r.matchers.matches(l) {
            return false;
        }
        let before = out.len();
        for &c in &r.children {
            let matched = self.match_from(c, l, out);
            let cont = self.routes.get(c).is_some_and(|c| c.continue_);
            if matched && !cont {
                break;
            }
        }
        if out.len() == before {
            out.push(idx);
        }
        true
    }

    /// Receiver names for `l`, in routing order (what `amtool config routes test` prints).
    pub fn receivers_for(&self, l: &Labels) -> Vec<String> {
        self.match_labels(l)
            .into_iter()
            .filter_map(|i| self.routes.get(i).map(|r| r.opts.receiver.clone()))
            .collect()
    }

    /// The group labels of an alert in route `idx`: its labels named in `group_by` (or all
    /// of them with `...`).
    pub fn group_labels(&self, idx: usize, l: &Labels) -> Labels {
        let Some(r) = self.routes.get(idx) else {
            return Labels::empty();
        };
        if r.opts.group_by_all {
            return l.clone();
        }
        l.filter(|lb| {
            r.opts
                .group_by
                .binary_search_by(|g| g.as_str().cmp(lb.name))
                .is_ok()
        })
    }
}

/// Alertmanager's group key: `<route key>:<group labels>`.
pub fn group_key(route_key: &str, group_labels: &Labels) -> String {
    format!("{route_key}:{group_labels}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const TREE: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
  - matchers: ['owner="team-A"']
    receiver: team-A
    group_by: ['...']
    group_wait: 10s
    routes:
    - matchers: ['env=~"produ.*"', 'level!="critical"']
      receiver: team-A-prod
      continue: true
    - match: {env: testing}
      receiver: team-A-test
  - match_re: {owner: 'team-(B|C)'}
    receiver: team-BC
    continue: true
    group_interval: 1m
    repeat_interval: 150s
  - matchers: ['baz!~".*quux"']
    receiver: not-quux
receivers: [{name: default}, {name: team-A}, {name: team-A-prod}, {name: team-A-test}, {name: team-BC}, {name: not-quux}]
"#;

    fn tree() -> RouteTree {
        let c = Config::parse(TREE).unwrap();
        RouteTree::new(c.route.as_ref().unwrap()).unwrap()
    }

    fn l(p: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(p)
    }

    #[test]
    fn matching_and_inheritance() {
        let t = tree();
        assert_eq!(t.receivers_for(&l(&[("owner", "team-A")])), ["team-A"]);
        assert_eq!(
            t.receivers_for(&l(&[("owner", "team-A"), ("env", "production")])),
            ["team-A-prod"]
        );
        assert_eq!(
            t.receivers_for(&l(&[("owner", "team-A"), ("env", "testing")])),
            ["team-A-test"]
        );
        assert_eq!(
            t.receivers_for(&l(&[("owner", "team-B"), ("baz", "x")])),
            ["team-BC", "not-quux"]
        );
        assert_eq!(
            t.receivers_for(&l(&[("owner", "team-C"), ("baz", "aquux")])),
            ["team-BC"]
        );
        assert_eq!(t.receivers_for(&l(&[("baz", "aquux")])), ["default"]);
        let a = t.match_labels(&l(&[("owner", "team-A"), ("env", "production")]));
        let r = t.get(a[0]).unwrap();
        assert!(r.opts.group_by_all);
        assert_eq!(r.opts.group_wait, Duration::from_secs(10));
        assert_eq!(r.opts.group_interval, DEFAULT_GROUP_INTERVAL);
        let bc = t
            .get(t.match_labels(&l(&[("owner", "team-B")]))[0])
            .unwrap();
        assert_eq!(bc.opts.group_by, ["alertname"]);
        assert_eq!(
            bc.opts.effective_repeat_interval(),
            Duration::from_secs(180)
        );
    }

    #[test]
    fn keys_and_ids() {
        let t = tree();
        let keys: Vec<&str> = t.routes.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "{}",
                r#"{}/{owner="team-A"}"#,
                r#"{}/{owner="team-A"}/{env=~"produ.*",level!="critical"}"#,
                r#"{}/{owner="team-A"}/{env="testing"}"#,
                r#"{}/{owner=~"^(?:team-(B|C))$"}"#,
                r#"{}/{baz!~".*quux"}"#,
            ]
        );
        assert_eq!(t.routes[3].id, r#"{}/{owner="team-A"}/{env="testing"}/1"#);
        assert_eq!(t.routes[0].id, "{}");
        let gl = t.group_labels(4, &l(&[("alertname", "X"), ("owner", "team-B")]));
        assert_eq!(
            group_key(&t.routes[4].key, &gl),
            r#"{}/{owner=~"^(?:team-(B|C))$"}:{alertname="X"}"#
        );
    }
}
