//! The sender's own metrics, named as Prometheus names them with `argus_` in place of
//! `prometheus_`, each labelled `remote_name` and `url`.

use prometheus::{
    GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
};

use crate::error::RemoteError;

/// Why a sample read from the WAL was not sent (`reason` of `samples_dropped_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// `write_relabel_configs` dropped the series.
    Relabeled,
    /// Older than `sample_age_limit`.
    TooOld,
    /// The WAL referred to a series it never defined (lost to truncation or damage).
    UnknownRef,
}

impl DropReason {
    fn as_str(self) -> &'static str {
        match self {
            DropReason::Relabeled => "dropped_series",
            DropReason::TooOld => "too_old",
            DropReason::UnknownRef => "unknown_series",
        }
    }
}

/// The metric families, registered once per manager.
#[derive(Clone)]
pub(crate) struct Families {
    samples: IntCounterVec,
    failed: IntCounterVec,
    retried: IntCounterVec,
    dropped: IntCounterVec,
    pending: IntGaugeVec,
    highest_ts: GaugeVec,
    highest_sent_ts: GaugeVec,
    shards: IntGaugeVec,
    shards_min: IntGaugeVec,
    shards_max: IntGaugeVec,
    shards_desired: GaugeVec,
    shard_capacity: IntGaugeVec,
    max_samples_per_send: IntGaugeVec,
    batch_duration: HistogramVec,
    bytes: IntCounterVec,
    enqueue_retries: IntCounterVec,
    current_segment: IntGaugeVec,
    records_read: IntCounterVec,
    metadata: IntCounterVec,
    metadata_failed: IntCounterVec,
    metadata_retried: IntCounterVec,
}

const LABELS: [&str; 2] = ["remote_name", "url"];

fn reg<C: prometheus::core::Collector + Clone + 'static>(
    r: &Registry,
    c: C,
) -> Result<C, RemoteError> {
    r.register(Box::new(c.clone()))
        .map_err(|e| RemoteError::Metrics(e.to_string()))?;
    Ok(c)
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help)
}

impl Families {
    pub(crate) fn register(r: &Registry) -> Result<Self, RemoteError> {
        let m = |e: prometheus::Error| RemoteError::Metrics(e.to_string());
        let counter = |n: &str, h: &str| -> Result<IntCounterVec, RemoteError> {
            reg(r, IntCounterVec::new(opts(n, h), &LABELS).map_err(m)?)
        };
        let igauge = |n: &str, h: &str| -> Result<IntGaugeVec, RemoteError> {
            reg(r, IntGaugeVec::new(opts(n, h), &LABELS).map_err(m)?)
        };
        let gauge = |n: &str, h: &str| -> Result<GaugeVec, RemoteError> {
            reg(r, GaugeVec::new(opts(n, h), &LABELS).map_err(m)?)
        };
        let mut buckets = prometheus::DEFAULT_BUCKETS.to_vec();
        buckets.extend([25.0, 60.0, 120.0, 300.0]);
        Ok(Families {
            samples: counter(
                "argus_remote_storage_samples_total",
                "Total number of samples sent to remote storage.",
            )?,
            failed: counter(
                "argus_remote_storage_samples_failed_total",
                "Total number of samples which failed on send to remote storage, non-recoverable errors.",
            )?,
            retried: counter(
                "argus_remote_storage_samples_retried_total",
                "Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.",
            )?,
            dropped: reg(
                r,
                IntCounterVec::new(
                    opts(
                        "argus_remote_storage_samples_dropped_total",
                        "Total number of samples read from the WAL that were not sent: dropped by relabeling, too old, or of an unknown series.",
                    ),
                    &["remote_name", "url", "reason"],
                )
                .map_err(m)?,
            )?,
            pending: igauge(
                "argus_remote_storage_samples_pending",
                "The number of samples pending in the queue's shards to be sent to the remote storage.",
            )?,
            highest_ts: gauge(
                "argus_remote_storage_highest_timestamp_in_seconds",
                "Highest timestamp read from the WAL by this queue, in seconds since epoch.",
            )?,
            highest_sent_ts: gauge(
                "argus_remote_storage_queue_highest_sent_timestamp_seconds",
                "Timestamp from a WAL sample, the highest successfully sent by this queue, in seconds since epoch.",
            )?,
            shards: igauge(
                "argus_remote_storage_shards",
                "The number of shards used for parallel sending to the remote storage.",
            )?,
            shards_min: igauge(
                "argus_remote_storage_shards_min",
                "The minimum number of shards that the queue is allowed to run.",
            )?,
            shards_max: igauge(
                "argus_remote_storage_shards_max",
                "The maximum number of shards that the queue is allowed to run.",
            )?,
            shards_desired: gauge(
                "argus_remote_storage_shards_desired",
                "The number of shards that the queues shard calculation wants to run based on the rate of samples in vs. samples out.",
            )?,
            shard_capacity: igauge(
                "argus_remote_storage_shard_capacity",
                "The capacity of each shard of the queue used for parallel sending to the remote storage.",
            )?,
            max_samples_per_send: igauge(
                "argus_remote_storage_max_samples_per_send",
                "The maximum number of samples to be sent, in a single request, to the remote storage.",
            )?,
            batch_duration: reg(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "argus_remote_storage_sent_batch_duration_seconds",
                        "Duration of send calls to the remote storage.",
                    )
                    .buckets(buckets),
                    &LABELS,
                )
                .map_err(m)?,
            )?,
            bytes: counter(
                "argus_remote_storage_bytes_total",
                "The total number of bytes of data (not metadata) sent by the queue after compression.",
            )?,
            enqueue_retries: counter(
                "argus_remote_storage_enqueue_retries_total",
                "Total number of times enqueue has failed because a shards queue was full.",
            )?,
            current_segment: igauge(
                "argus_wal_watcher_current_segment",
                "Current segment the WAL watcher of the queue is reading records from.",
            )?,
            metadata: counter(
                "argus_remote_storage_metadata_total",
                "Total number of metadata entries sent to remote storage.",
            )?,
            metadata_failed: counter(
                "argus_remote_storage_metadata_failed_total",
                "Total number of metadata entries which failed on send to remote storage, non-recoverable errors.",
            )?,
            metadata_retried: counter(
                "argus_remote_storage_metadata_retried_total",
                "Total number of metadata entries which failed on send to remote storage but were retried because the send error was recoverable.",
            )?,
            records_read: reg(
                r,
                IntCounterVec::new(
                    opts(
                        "argus_wal_watcher_records_read_total",
                        "Number of records read by the WAL watcher of the queue, by type.",
                    ),
                    &["remote_name", "url", "type"],
                )
                .map_err(m)?,
            )?,
        })
    }

    pub(crate) fn queue(&self, remote_name: &str, url: &str) -> QueueMetrics {
        let l = [remote_name, url];
        let dropped = |r: DropReason| {
            self.dropped
                .with_label_values(&[remote_name, url, r.as_str()])
        };
        let records = |t: &str| self.records_read.with_label_values(&[remote_name, url, t]);
        QueueMetrics {
            families: self.clone(),
            labels: [remote_name.to_owned(), url.to_owned()],
            samples: self.samples.with_label_values(&l),
            failed: self.failed.with_label_values(&l),
            retried: self.retried.with_label_values(&l),
            dropped_relabeled: dropped(DropReason::Relabeled),
            dropped_too_old: dropped(DropReason::TooOld),
            dropped_unknown: dropped(DropReason::UnknownRef),
            pending: self.pending.with_label_values(&l),
            highest_ts: self.highest_ts.with_label_values(&l),
            highest_sent_ts: self.highest_sent_ts.with_label_values(&l),
            shards: self.shards.with_label_values(&l),
            shards_min: self.shards_min.with_label_values(&l),
            shards_max: self.shards_max.with_label_values(&l),
            shards_desired: self.shards_desired.with_label_values(&l),
            shard_capacity: self.shard_capacity.with_label_values(&l),
            max_samples_per_send: self.max_samples_per_send.with_label_values(&l),
            batch_duration: self.batch_duration.with_label_values(&l),
            bytes: self.bytes.with_label_values(&l),
            enqueue_retries: self.enqueue_retries.with_label_values(&l),
            current_segment: self.current_segment.with_label_values(&l),
            metadata: self.metadata.with_label_values(&l),
            metadata_failed: self.metadata_failed.with_label_values(&l),
            metadata_retried: self.metadata_retried.with_label_values(&l),
            records_series: records("series"),
            records_samples: records("samples"),
            records_tombstones: records("tombstones"),
        }
    }
}

/// One queue's metrics.
pub(crate) struct QueueMetrics {
    families: Families,
    labels: [String; 2],
    pub samples: prometheus::IntCounter,
    pub failed: prometheus::IntCounter,
    pub retried: prometheus::IntCounter,
    pub dropped_relabeled: prometheus::IntCounter,
    pub dropped_too_old: prometheus::IntCounter,
    pub dropped_unknown: prometheus::IntCounter,
    pub pending: prometheus::IntGauge,
    pub highest_ts: prometheus::Gauge,
    pub highest_sent_ts: prometheus::Gauge,
    pub shards: prometheus::IntGauge,
    pub shards_min: prometheus::IntGauge,
    pub shards_max: prometheus::IntGauge,
    pub shards_desired: prometheus::Gauge,
    pub shard_capacity: prometheus::IntGauge,
    pub max_samples_per_send: prometheus::IntGauge,
    pub batch_duration: prometheus::Histogram,
    pub bytes: prometheus::IntCounter,
    pub enqueue_retries: prometheus::IntCounter,
    pub current_segment: prometheus::IntGauge,
    pub metadata: prometheus::IntCounter,
    pub metadata_failed: prometheus::IntCounter,
    pub metadata_retried: prometheus::IntCounter,
    pub records_series: prometheus::IntCounter,
    pub records_samples: prometheus::IntCounter,
    pub records_tombstones: prometheus::IntCounter,
}

impl QueueMetrics {
    pub(crate) fn dropped(&self, r: DropReason) -> &prometheus::IntCounter {
        match r {
            DropReason::Relabeled => &self.dropped_relabeled,
            DropReason::TooOld => &self.dropped_too_old,
            DropReason::UnknownRef => &self.dropped_unknown,
        }
    }

    /// Removes this queue's series from the families (the queue is gone after a reload).
    pub(crate) fn remove(&self) {
        let f = &self.families;
        let l = [self.labels[0].as_str(), self.labels[1].as_str()];
        let _ = f.samples.remove_label_values(&l);
        let _ = f.failed.remove_label_values(&l);
        let _ = f.retried.remove_label_values(&l);
        for r in [
            DropReason::Relabeled,
            DropReason::TooOld,
            DropReason::UnknownRef,
        ] {
            let _ = f.dropped.remove_label_values(&[l[0], l[1], r.as_str()]);
        }
        for t in ["series", "samples", "tombstones"] {
            let _ = f.records_read.remove_label_values(&[l[0], l[1], t]);
        }
        let _ = f.pending.remove_label_values(&l);
        let _ = f.highest_ts.remove_label_values(&l);
        let _ = f.highest_sent_ts.remove_label_values(&l);
        let _ = f.shards.remove_label_values(&l);
        let _ = f.shards_min.remove_label_values(&l);
        let _ = f.shards_max.remove_label_values(&l);
        let _ = f.shards_desired.remove_label_values(&l);
        let _ = f.shard_capacity.remove_label_values(&l);
        let _ = f.max_samples_per_send.remove_label_values(&l);
        let _ = f.batch_duration.remove_label_values(&l);
        let _ = f.bytes.remove_label_values(&l);
        let _ = f.enqueue_retries.remove_label_values(&l);
        let _ = f.current_segment.remove_label_values(&l);
        let _ = f.metadata.remove_label_values(&l);
        let _ = f.metadata_failed.remove_label_values(&l);
        let _ = f.metadata_retried.remove_label_values(&l);
    }
}
