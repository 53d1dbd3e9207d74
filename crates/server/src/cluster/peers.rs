//! The configured peers: which entry is this replica itself, which peers are alive, and
//! this replica's position among the live members.
//!
//! An entry is recognised as this replica statically (same port as
//! `--cluster.listen-address` on a loopback or unspecified host, or on this host's name,
//! also as the first label of a DNS name such as `argus-0.argus-peers.monitoring.svc`),
//! and otherwise dynamically: a peer answering with this process's node ID is this replica
//! behind another address, and is dropped from the list.
//!
//! Positions follow Alertmanager: members sorted by name (node ID breaks ties), counting
//! only members heard from within three exchange intervals, so a dead replica stops
//! delaying the others.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// What a peer said about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub node_id: String,
    pub name: String,
}

#[derive(Debug)]
pub struct PeerState {
    /// `host:port` as configured.
    pub address: String,
    /// `http://host:port`.
    pub base: String,
    pub member: Option<Member>,
    pub last_ok: Option<Instant>,
    pub failures: u64,
    pub is_self: bool,
}

/// The peer list.
pub struct Peers {
    list: Mutex<Vec<PeerState>>,
}

fn host_port(s: &str) -> Option<(String, u16)> {
    let s = s.trim();
    let s = s.strip_prefix("http://").unwrap_or(s);
    let (h, p) = s.rsplit_once(':')?;
    let h = h.trim_start_matches('[').trim_end_matches(']');
    Some((h.to_owned(), p.parse().ok()?))
}

/// Whether `address` names this replica's own listener (the static check).
pub fn is_static_self(address: &str, listen: Option<SocketAddr>, hostname: &str) -> bool {
    let (Some(listen), Some((host, port))) = (listen, host_port(address)) else {
        return false;
    };
    if port != listen.port() {
        return false;
    }
    let host = host.to_ascii_lowercase();
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        if ip == listen.ip() {
            return true;
        }
        // A wildcard listener is reachable on loopback, but so might another replica on
        // the same machine be at another IP: only loopback counts.
        return ip.is_loopback() && (listen.ip().is_unspecified() || listen.ip().is_loopback());
    }
    if host == "localhost" {
        return listen.ip().is_loopback() || listen.ip().is_unspecified();
    }
    let hostname = hostname.to_ascii_lowercase();
    !hostname.is_empty() && (host == hostname || host.split('.').next() == Some(&hostname))
}

impl Peers {
    pub fn new(addresses: &[String], listen: Option<SocketAddr>) -> anyhow::Result<Peers> {
        let hostname = argus_query::api::providers::hostname();
        let mut list = Vec::new();
        for a in addresses {
            let a = a.trim();
            if a.is_empty() {
                continue;
            }
            let Some((host, port)) = host_port(a) else {
                anyhow::bail!("--cluster.peer={a}: expected host:port");
            };
            let is_self = is_static_self(a, listen, &hostname);
            if is_self {
                tracing::info!(peer = %a, "Recognised this replica in the peer list; skipping it.");
            }
            let base = if host.contains(':') {
                format!("http://[{host}]:{port}")
            } else {
                format!("http://{host}:{port}")
            };
            list.push(PeerState {
                address: a.to_owned(),
                base,
                member: None,
                last_ok: None,
                failures: 0,
                is_self,
            });
        }
        Ok(Peers {
            list: Mutex::new(list),
        })
    }

    /// `(address, base URL)` of every peer that is not this replica.
    pub fn others(&self) -> Vec<(String, String)> {
        self.list
            .lock()
            .iter()
            .filter(|p| !p.is_self)
            .map(|p| (p.address.clone(), p.base.clone()))
            .collect()
    }

    /// Others, those alive first (then the order configured): who to ask for data.
    pub fn by_preference(&self, alive_within: Duration) -> Vec<(String, String)> {
        let now = Instant::now();
        let l = self.list.lock();
        let mut v: Vec<(bool, String, String)> = l
            .iter()
            .filter(|p| !p.is_self)
            .map(|p| {
                let alive = p
                    .last_ok
                    .is_some_and(|t| now.duration_since(t) <= alive_within);
                (!alive, p.address.clone(), p.base.clone())
            })
            .collect();
        v.sort_by_key(|x| x.0);
        v.into_iter().map(|(_, a, b)| (a, b)).collect()
    }

    /// Records a successful exchange. Returns false when the peer turned out to be this
    /// replica (it is then skipped from now on).
    pub fn ok(&self, address: &str, member: Member, my_node_id: &str) -> bool {
        let mut l = self.list.lock();
        let Some(p) = l.iter_mut().find(|p| p.address == address) else {
            return true;
        };
        if member.node_id == my_node_id {
            if !p.is_self {
                tracing::info!(peer = %address, "Peer answered with this replica's own node ID; skipping it.");
            }
            p.is_self = true;
            return false;
        }
        if p.member.as_ref() != Some(&member) {
            tracing::info!(peer = %address, name = %member.name, node = %member.node_id, "Peer joined.");
        }
        p.member = Some(member);
        p.last_ok = Some(Instant::now());
        p.failures = 0;
        true
    }

    /// True when every peer (not this replica) has answered at least once.
    pub fn all_answered(&self) -> bool {
        self.list
            .lock()
            .iter()
            .all(|p| p.is_self || p.member.is_some())
    }

    /// Records a failed exchange; returns the consecutive failure count.
    pub fn failed(&self, address: &str) -> u64 {
        let mut l = self.list.lock();
        let Some(p) = l.iter_mut().find(|p| p.address == address) else {
            return 0;
        };
        p.failures += 1;
        p.failures
    }

    /// Live members other than this one, with their addresses.
    pub fn alive(&self, within: Duration) -> Vec<(Member, String)> {
        let now = Instant::now();
        self.list
            .lock()
            .iter()
            .filter(|p| !p.is_self)
            .filter(|p| p.last_ok.is_some_and(|t| now.duration_since(t) <= within))
            .filter_map(|p| p.member.clone().map(|m| (m, p.address.clone())))
            .collect()
    }
}

/// This replica's position among `me` and the live `others`, sorted by name then node ID.
pub fn position(me: &Member, others: &[Member]) -> u32 {
    let key = |m: &Member| (m.name.clone(), m.node_id.clone());
    let mine = key(me);
    let ahead = others.iter().filter(|o| key(o) < mine).count();
    u32::try_from(ahead).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, id: &str) -> Member {
        Member {
            node_id: id.into(),
            name: name.into(),
        }
    }

    #[test]
    fn recognises_itself_statically() {
        let l: SocketAddr = "0.0.0.0:9094".parse().unwrap();
        assert!(is_static_self(
            "argus-0.argus-peers.monitoring.svc:9094",
            Some(l),
            "argus-0"
        ));
        assert!(!is_static_self(
            "argus-1.argus-peers.monitoring.svc:9094",
            Some(l),
            "argus-0"
        ));
        assert!(is_static_self("127.0.0.1:9094", Some(l), "h"));
        assert!(!is_static_self("127.0.0.1:9095", Some(l), "h"));
        let lo: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        assert!(is_static_self("localhost:7000", Some(lo), "h"));
        assert!(!is_static_self("127.0.0.1:7001", Some(lo), "h"));
        assert!(!is_static_self("10.0.0.5:7000", Some(lo), "h"));
        assert!(!is_static_self("127.0.0.1:7000", None, "h"));
    }

    #[test]
    fn positions_are_consistent_across_replicas() {
        let a = m("a", "2");
        let b = m("b", "1");
        assert_eq!(position(&a, std::slice::from_ref(&b)), 0);
        assert_eq!(position(&b, std::slice::from_ref(&a)), 1);
        // Alone (the other is dead or partitioned away): first.
        assert_eq!(position(&b, &[]), 0);
        // Same name: node ID decides.
        assert_eq!(position(&m("x", "1"), &[m("x", "2")]), 0);
        assert_eq!(position(&m("x", "2"), &[m("x", "1")]), 1);
    }

    #[test]
    fn dynamic_self_is_skipped() {
        let p = Peers::new(&["127.0.0.1:1".into(), "127.0.0.1:2".into()], None).unwrap();
        assert_eq!(p.others().len(), 2);
        assert!(!p.ok("127.0.0.1:1", m("me", "n1"), "n1"));
        assert!(p.ok("127.0.0.1:2", m("b", "n2"), "n1"));
        assert_eq!(
            p.others(),
            vec![("127.0.0.1:2".into(), "http://127.0.0.1:2".into())]
        );
        assert_eq!(p.alive(Duration::from_secs(5)).len(), 1);
    }
}
