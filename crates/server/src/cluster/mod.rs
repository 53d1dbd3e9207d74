//! The HA replica cluster: two or more Argus servers that scrape the same targets, heal
//! each other's gaps and notify once.
//!
//! - `peers`: the configured peers, recognising this replica among them, membership and
//!   this replica's position;
//! - `replicate`: the peer API on `--cluster.listen-address` (state, pushed events, remote
//!   read) and the alert manager's replication (push on change, periodic anti-entropy);
//! - `gaps`: where this replica's own scrape history has holes;
//! - `read_client`: remote-read requests to a peer;
//! - `backfill`: filling those holes from a peer, at start-up (before ready) and
//!   periodically.
//!
//! deploy/README.md describes the design and its failure modes for operators.

mod backfill;
mod gaps;
mod peers;
mod read_client;
mod replicate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use prometheus::Registry;

use crate::app::App;
use crate::cli::{ClusterArgs, ServerArgs};
use crate::config::LoadedConfig;

pub use backfill::BackfillMetrics;
use peers::Peers;

/// The replica label and this replica's value, when clustered: the value already set in
/// `global.external_labels`, else `--cluster.replica-name`, else the hostname.
pub fn replica_label(
    args: &ClusterArgs,
    external: &BTreeMap<String, String>,
) -> Option<(String, String)> {
    if !args.enabled() || args.replica_label.is_empty() {
        return None;
    }
    let name = args.replica_label.clone();
    if let Some(v) = external.get(&name).filter(|v| !v.is_empty()) {
        return Some((name, v.clone()));
    }
    Some((name, replica_name(args)))
}

/// `--cluster.replica-name`, or the hostname.
pub fn replica_name(args: &ClusterArgs) -> String {
    match &args.replica_name {
        Some(n) if !n.is_empty() => n.clone(),
        _ => {
            let h = argus_query::api::providers::hostname();
            if h.is_empty() {
                "argus".to_owned()
            } else {
                h
            }
        }
    }
}

fn ms(d: argus_model::PromDuration) -> Duration {
    Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(0))
}

/// This server's membership in a replica cluster.
pub struct Cluster {
    /// Random per process: how a replica recognises itself behind any address.
    pub node_id: String,
    /// The replica name (the replica label's value).
    pub name: String,
    listen: Option<SocketAddr>,
    peers: Peers,
    args: ClusterArgs,
    backfill_metrics: BackfillMetrics,
    /// This replica's own external labels: stripped from what peers send back.
    external: parking_lot::RwLock<BTreeMap<String, String>>,
    /// Scrape pools and their intervals (ms), for gap detection.
    pools: parking_lot::RwLock<Vec<(String, i64)>>,
}

impl Cluster {
    /// The cluster, or `None` for a single server.
    pub fn new(
        args: &ServerArgs,
        cfg: &LoadedConfig,
        registry: &Registry,
    ) -> anyhow::Result<Option<Arc<Cluster>>> {
        let c = &args.cluster;
        if !c.enabled() {
            return Ok(None);
        }
        let listen = if c.listen_address.trim().is_empty() {
            None
        } else {
            Some(
                c.listen_address
                    .trim()
                    .parse::<SocketAddr>()
                    .with_context(|| format!("--cluster.listen-address={}", c.listen_address))?,
            )
        };
        let name = cfg
            .replica
            .as_ref()
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| replica_name(c));
        let node_id = format!("{:016x}", rand_u64());
        let peers = Peers::new(&c.peers, listen)?;
        Ok(Some(Arc::new(Cluster {
            node_id,
            name,
            listen,
            peers,
            args: c.clone(),
            backfill_metrics: BackfillMetrics::new(registry)?,
            external: parking_lot::RwLock::new(cfg.external_labels().clone()),
            pools: parking_lot::RwLock::new(pool_intervals(cfg)),
        })))
    }

    /// Longest wait for every peer to answer before notifications start.
    fn settle_timeout(&self) -> Duration {
        ms(self.args.peer_timeout).max(Duration::from_secs(1))
    }

    fn pushpull(&self) -> Duration {
        ms(self.args.pushpull_interval).max(Duration::from_millis(100))
    }

    /// Binds the peer API and starts replication; runs one state exchange with every
    /// peer (bounded) so that the first notification already knows its position.
    pub async fn start(self: &Arc<Self>, app: &Arc<App>) -> anyhow::Result<()> {
        if let Some(addr) = self.listen {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("listening on --cluster.listen-address={addr}"))?;
            tracing::info!(address = %addr, name = %self.name, "Cluster listener started.");
            let router = replicate::router(self.clone(), app.clone());
            let stop = app.shutdown.clone();
            tokio::spawn(async move {
                if let Err(e) = axum::serve(l, router)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await
                {
                    tracing::error!(error = %e, "Cluster listener failed.");
                }
            });
        }
        replicate::start(self.clone(), app.clone()).await;
        Ok(())
    }

    /// Heals this replica's gaps from peers before it reports ready, bounded by
    /// `--cluster.backfill.timeout`. Returns where each pool's check ended.
    pub async fn startup_backfill(self: &Arc<Self>, app: &Arc<App>) -> StartupBackfill {
        StartupBackfill(backfill::startup(self.clone(), app.clone()).await)
    }

    /// Starts the periodic gap check, continuing from the start-up one.
    pub fn start_periodic_backfill(self: &Arc<Self>, app: &Arc<App>, from: StartupBackfill) {
        let me = self.clone();
        let app = app.clone();
        tokio::spawn(async move { backfill::periodic(me, app, from.0).await });
    }

    /// Takes a (re)loaded configuration: external labels and scrape pools.
    pub fn set_config(&self, cfg: &LoadedConfig) {
        *self.external.write() = cfg.external_labels().clone();
        *self.pools.write() = pool_intervals(cfg);
    }
}

/// Where the start-up backfill checked each pool up to.
pub struct StartupBackfill(std::collections::HashMap<String, i64>);

fn pool_intervals(cfg: &LoadedConfig) -> Vec<(String, i64)> {
    cfg.main
        .scrape_configs
        .iter()
        .map(|s| (s.job_name.clone(), s.interval().as_millis().max(1)))
        .collect()
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS; mixing in time and pid keeps IDs distinct even
    // if two processes were to get the same seed.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(argus_model::now_ms());
    h.write_u32(std::process::id());
    h.finish()
}
