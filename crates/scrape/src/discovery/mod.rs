//! Target discovery: sources of target groups for a scrape pool.
//!
//! A [`Discoverer`] sends the full set of its groups first, then sends updates; each
//! group is identified by its `source`, and a later group with the same source replaces
//! the earlier one (an empty group removes its targets), as in Prometheus'
//! `discovery/discovery.go`.

mod file;
pub mod kubernetes;
mod static_targets;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use file::FileDiscoverer;
pub use kubernetes::KubernetesDiscoverer;
pub use static_targets::StaticDiscoverer;

use crate::config::ScrapeConfig;

/// A set of labels describing one target (`__address__`, `__meta_*`, ...).
pub type LabelSet = BTreeMap<String, String>;

/// Targets sharing a set of labels, from one source.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TargetGroup {
    /// Identifies the group within its discoverer; a later group with the same source
    /// replaces it.
    pub source: String,
    /// One label set per target; each has at least `__address__`.
    pub targets: Vec<LabelSet>,
    /// Labels common to every target of the group (a target's own labels win).
    pub labels: LabelSet,
}

/// A boxed future of a discoverer's run.
pub type DiscoveryFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A source of target groups.
pub trait Discoverer: Send + 'static {
    /// Sends the full set of groups, then updates, until `cancel` fires or `tx` closes.
    fn run(
        self: Box<Self>,
        cancel: CancellationToken,
        tx: mpsc::Sender<Vec<TargetGroup>>,
    ) -> DiscoveryFuture;
}

/// The discoverers of a scrape config: its static configs, file SD and Kubernetes SD
/// configs. Discovery mechanisms Argus does not implement yet yield nothing (they are
/// reported by [`ScrapeConfig::unsupported`]).
pub fn discoverers(sc: &ScrapeConfig) -> Vec<Box<dyn Discoverer>> {
    let mut out: Vec<Box<dyn Discoverer>> = Vec::new();
    if !sc.static_configs.is_empty() {
        out.push(Box::new(StaticDiscoverer::new(&sc.static_configs)));
    }
    for (i, f) in sc.file_sd_configs.iter().enumerate() {
        out.push(Box::new(FileDiscoverer::new(i, f)));
    }
    for k in &sc.kubernetes_sd_configs {
        out.push(Box::new(KubernetesDiscoverer::new(k)));
    }
    out
}
