//! `static_configs`: fixed target groups, sent once.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Discoverer, DiscoveryFuture, LabelSet, TargetGroup};
use crate::config::StaticConfig;

/// Discovers the targets written in the configuration.
pub struct StaticDiscoverer {
    groups: Vec<TargetGroup>,
}

impl StaticDiscoverer {
    /// Groups from `static_configs` (source `static/<index>`).
    pub fn new(configs: &[StaticConfig]) -> Self {
        let groups = configs
            .iter()
            .enumerate()
            .map(|(i, sc)| TargetGroup {
                source: format!("static/{i}"),
                targets: sc
                    .targets
                    .iter()
                    .map(|t| LabelSet::from([("__address__".to_owned(), t.clone())]))
                    .collect(),
                labels: sc.labels.clone(),
            })
            .collect();
        StaticDiscoverer { groups }
    }
}

impl Discoverer for StaticDiscoverer {
    fn run(
        self: Box<Self>,
        _cancel: CancellationToken,
        tx: mpsc::Sender<Vec<TargetGroup>>,
    ) -> DiscoveryFuture {
        Box::pin(async move {
            // The receiver may be gone already (pool stopped); nothing else to do then.
            let _ = tx.send(self.groups).await;
        })
    }
}
