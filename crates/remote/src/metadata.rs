//! Metric metadata (TYPE, HELP, UNIT) sent every `metadata_config.send_interval`, as
//! Prometheus does (`storage/remote/metadata_watcher.go`). The WAL holds no metadata, so it
//! comes from a [`MetadataSource`], normally the scrape manager, which knows what its
//! targets exposed.

use std::collections::BTreeMap;
use std::sync::Arc;

use argus_model::{MetricMetadata, MetricType};
use argus_scrape::remote_write::proto;
use parking_lot::RwLock;
use tracing::warn;

use crate::client::{Backoff, Outcome};
use crate::shards::Shared;

/// Where metadata comes from.
pub trait MetadataSource: Send + Sync {
    /// Metadata per metric family name.
    fn metadata(&self) -> BTreeMap<String, Vec<MetricMetadata>>;
}

impl MetadataSource for argus_scrape::ScrapeManager {
    fn metadata(&self) -> BTreeMap<String, Vec<MetricMetadata>> {
        argus_scrape::ScrapeManager::metadata(self)
    }
}

/// The source shared by a manager's queues (set after the queues may have started).
pub(crate) type SourceSlot = Arc<RwLock<Option<Arc<dyn MetadataSource>>>>;

fn proto_type(t: MetricType) -> i32 {
    match t {
        MetricType::Unknown => 0,
        MetricType::Counter => 1,
        MetricType::Gauge => 2,
        MetricType::Histogram => 3,
        MetricType::Gaugehistogram => 4,
        MetricType::Summary => 5,
        MetricType::Info => 6,
        MetricType::Stateset => 7,
    }
}

/// The metadata of `src` as protobuf messages, one per family and distinct metadata.
pub fn to_proto(src: &BTreeMap<String, Vec<MetricMetadata>>) -> Vec<proto::MetricMetadata> {
    src.iter()
        .flat_map(|(name, list)| {
            list.iter().map(move |m| proto::MetricMetadata {
                r#type: proto_type(m.metric_type),
                metric_family_name: name.clone(),
                help: m.help.clone(),
                unit: m.unit.clone(),
            })
        })
        .collect()
}

/// Sends the metadata every interval until the queue stops.
pub(crate) async fn metadata_loop(sh: Arc<Shared>, source: SourceSlot) {
    let mc = sh.cfg.metadata_config.clone();
    let every = mc
        .send_interval
        .to_std()
        .max(std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = sh.stopping.cancelled() => return,
        }
        let src = source.read().clone();
        let Some(src) = src else { continue };
        let all = to_proto(&src.metadata());
        for chunk in all.chunks(mc.max_samples_per_send.max(1)) {
            let body = proto::WriteRequest {
                timeseries: Vec::new(),
                metadata: chunk.to_vec(),
            }
            .encode_snappy();
            if !send(&sh, bytes::Bytes::from(body), chunk.len() as u64).await {
                return;
            }
        }
    }
}

/// Sends one metadata request with retries; false when the queue stopped meanwhile.
async fn send(sh: &Shared, body: bytes::Bytes, n: u64) -> bool {
    let q = &sh.cfg.queue_config;
    let mut backoff = Backoff::new(q.min_backoff.to_std(), q.max_backoff.to_std());
    loop {
        let outcome = tokio::select! {
            o = sh.client().send(body.clone()) => o,
            _ = sh.stopping.cancelled() => return false,
        };
        match outcome {
            Outcome::Sent => {
                sh.metrics.metadata.inc_by(n);
                return true;
            }
            Outcome::Drop { reason } => {
                sh.metrics.metadata_failed.inc_by(n);
                warn!(remote_name = %sh.remote_name, url = %sh.cfg.url, error = %reason, "Non-recoverable error sending metadata; it is dropped.");
                return true;
            }
            Outcome::Retry { after, .. } => {
                sh.metrics.metadata_retried.inc_by(n);
                tokio::select! {
                    _ = tokio::time::sleep(backoff.delay(after)) => {}
                    _ = sh.stopping.cancelled() => return false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_maps_to_the_remote_write_enum() {
        let mut src = BTreeMap::new();
        src.insert(
            "http_requests_total".to_owned(),
            vec![MetricMetadata {
                metric_type: MetricType::Counter,
                help: "Requests.".into(),
                unit: String::new(),
            }],
        );
        src.insert(
            "temp".to_owned(),
            vec![
                MetricMetadata {
                    metric_type: MetricType::Gauge,
                    help: "a".into(),
                    unit: "celsius".into(),
                },
                MetricMetadata {
                    metric_type: MetricType::Stateset,
                    help: "b".into(),
                    unit: String::new(),
                },
            ],
        );
        let p = to_proto(&src);
        assert_eq!(p.len(), 3);
        assert_eq!(
            (p[0].r#type, p[0].metric_family_name.as_str()),
            (1, "http_requests_total")
        );
        assert_eq!((p[1].r#type, p[1].unit.as_str()), (2, "celsius"));
        assert_eq!(p[2].r#type, 7);
        assert_eq!(proto_type(MetricType::Unknown), 0);
        assert_eq!(proto_type(MetricType::Summary), 5);
    }
}
