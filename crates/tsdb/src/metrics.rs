//! Self-metrics, named exactly as Prometheus names its `argus_tsdb_*` metrics so that
//! existing dashboards and alerts work unchanged.

use prometheus::core::Collector;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

fn counter(name: &str, help: &str) -> IntCounter {
    IntCounter::new(name, help).unwrap_or_else(|_| fallback_counter())
}

fn float_counter(name: &str, help: &str) -> IntCounter {
    // Prometheus labels sample counters with type="float" (histograms are the other type).
    IntCounterVec::new(Opts::new(name, help), &["type"])
        .map(|v| v.with_label_values(&["float"]))
        .unwrap_or_else(|_| fallback_counter())
}

fn gauge(name: &str, help: &str) -> IntGauge {
    IntGauge::new(name, help).unwrap_or_else(|_| {
        // Only reachable with an invalid metric name, which the constants here are not.
        IntGauge::new("argus_invalid_metric", "placeholder").unwrap_or_else(|_| unreachable!())
    })
}

fn fallback_counter() -> IntCounter {
    IntCounter::new("argus_invalid_metric_total", "placeholder").unwrap_or_else(|_| unreachable!())
}

fn histogram(name: &str, help: &str, buckets: Vec<f64>) -> Histogram {
    Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets)).unwrap_or_else(|_| {
        Histogram::with_opts(HistogramOpts::new("argus_invalid_histogram", "placeholder"))
            .unwrap_or_else(|_| unreachable!())
    })
}

fn register(reg: &Registry, c: Box<dyn Collector>) {
    if let Err(e) = reg.register(c) {
        tracing::warn!(error = %e, "Cannot register a TSDB metric.");
    }
}

/// WAL metrics.
#[derive(Clone)]
pub struct WalMetrics {
    /// `argus_tsdb_wal_fsync_duration_seconds`.
    pub fsync_duration: Histogram,
    /// `argus_tsdb_wal_segment_current`.
    pub segment_current: IntGauge,
    /// `argus_tsdb_wal_writes_failed_total`.
    pub writes_failed: IntCounter,
    /// `argus_tsdb_wal_corruptions_total`.
    pub corruptions: IntCounter,
    /// `argus_tsdb_wal_truncations_total`.
    pub truncations: IntCounter,
    /// `argus_tsdb_checkpoint_creations_total`.
    pub checkpoint_creations: IntCounter,
    /// `argus_tsdb_wal_storage_size_bytes`.
    pub storage_size: IntGauge,
}

impl WalMetrics {
    /// Metrics not attached to any registry (tests, tools).
    pub fn unregistered() -> Self {
        WalMetrics {
            fsync_duration: histogram(
                "argus_tsdb_wal_fsync_duration_seconds",
                "Duration of write log fsync.",
                vec![0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0],
            ),
            segment_current: gauge(
                "argus_tsdb_wal_segment_current",
                "Write log segment index that TSDB is currently writing to.",
            ),
            writes_failed: counter(
                "argus_tsdb_wal_writes_failed_total",
                "Total number of write log writes that failed.",
            ),
            corruptions: counter(
                "argus_tsdb_wal_corruptions_total",
                "Total number of WAL corruptions.",
            ),
            truncations: counter(
                "argus_tsdb_wal_truncations_total",
                "Total number of write log truncations attempted.",
            ),
            checkpoint_creations: counter(
                "argus_tsdb_checkpoint_creations_total",
                "Total number of checkpoint creations attempted.",
            ),
            storage_size: gauge(
                "argus_tsdb_wal_storage_size_bytes",
                "Size of the write log directory.",
            ),
        }
    }

    fn register(&self, r: &Registry) {
        register(r, Box::new(self.fsync_duration.clone()));
        register(r, Box::new(self.segment_current.clone()));
        register(r, Box::new(self.writes_failed.clone()));
        register(r, Box::new(self.corruptions.clone()));
        register(r, Box::new(self.truncations.clone()));
        register(r, Box::new(self.checkpoint_creations.clone()));
        register(r, Box::new(self.storage_size.clone()));
    }
}

/// Head and database metrics.
#[derive(Clone)]
pub struct Metrics {
    /// WAL metrics.
    pub wal: WalMetrics,
    /// `argus_tsdb_head_series`.
    pub head_series: IntGauge,
    /// `argus_tsdb_head_series_created_total`.
    pub series_created: IntCounter,
    /// `argus_tsdb_head_series_removed_total`.
    pub series_removed: IntCounter,
    /// `argus_tsdb_head_chunks`.
    pub head_chunks: IntGauge,
    /// `argus_tsdb_head_chunks_created_total`.
    pub chunks_created: IntCounter,
    /// `argus_tsdb_head_min_time`.
    pub head_min_time: IntGauge,
    /// `argus_tsdb_head_max_time`.
    pub head_max_time: IntGauge,
    /// `argus_tsdb_head_samples_appended_total{type="float"}`.
    pub samples_appended: IntCounter,
    /// `argus_tsdb_head_out_of_order_samples_appended_total{type="float"}`.
    pub ooo_appended: IntCounter,
    /// `argus_tsdb_out_of_order_samples_total{type="float"}`.
    pub out_of_order: IntCounter,
    /// `argus_tsdb_out_of_bound_samples_total{type="float"}`.
    pub out_of_bounds: IntCounter,
    /// `argus_tsdb_too_old_samples_total{type="float"}`.
    pub too_old: IntCounter,
    /// `argus_tsdb_head_truncations_total`.
    pub head_truncations: IntCounter,
    /// `argus_tsdb_compactions_total`.
    pub compactions: IntCounter,
    /// `argus_tsdb_compactions_failed_total`.
    pub compactions_failed: IntCounter,
    /// `argus_tsdb_compactions_triggered_total`.
    pub compactions_triggered: IntCounter,
    /// `argus_tsdb_compaction_duration_seconds`.
    pub compaction_duration: Histogram,
    /// `argus_tsdb_blocks_loaded`.
    pub blocks_loaded: IntGauge,
    /// `argus_tsdb_storage_blocks_bytes`.
    pub blocks_bytes: IntGauge,
    /// `argus_tsdb_reloads_total`.
    pub reloads: IntCounter,
    /// `argus_tsdb_time_retentions_total`.
    pub time_retentions: IntCounter,
    /// `argus_tsdb_size_retentions_total`.
    pub size_retentions: IntCounter,
    /// `argus_tsdb_retention_limit_bytes`.
    pub retention_limit_bytes: IntGauge,
    /// `argus_tsdb_lowest_timestamp`.
    pub lowest_timestamp: IntGauge,
    /// `argus_tsdb_data_replay_duration_seconds` (milliseconds resolution, as seconds).
    pub replay_duration: prometheus::Gauge,
}

impl Metrics {
    /// Metrics registered with `registry`.
    pub fn new(registry: &Registry) -> Self {
        let m = Self::unregistered();
        m.wal.register(registry);
        for c in [
            &m.head_series,
            &m.head_chunks,
            &m.head_min_time,
            &m.head_max_time,
            &m.blocks_loaded,
            &m.blocks_bytes,
            &m.retention_limit_bytes,
            &m.lowest_timestamp,
        ] {
            register(registry, Box::new(c.clone()));
        }
        for c in [
            &m.series_created,
            &m.series_removed,
            &m.chunks_created,
            &m.head_truncations,
            &m.compactions,
            &m.compactions_failed,
            &m.compactions_triggered,
            &m.reloads,
            &m.time_retentions,
            &m.size_retentions,
        ] {
            register(registry, Box::new(c.clone()));
        }
        // The typed counters share a vector per name; register the vectors' parents.
        for (name, help, c) in [
            (
                "argus_tsdb_head_samples_appended_total",
                "Total number of appended samples.",
                &m.samples_appended,
            ),
            (
                "argus_tsdb_head_out_of_order_samples_appended_total",
                "Total number of appended out of order samples.",
                &m.ooo_appended,
            ),
            (
                "argus_tsdb_out_of_order_samples_total",
                "Total number of out of order samples ingestion failed attempts due to out of order being disabled.",
                &m.out_of_order,
            ),
            (
                "argus_tsdb_out_of_bound_samples_total",
                "Total number of out of bound samples ingestion failed attempts with out of order support disabled.",
                &m.out_of_bounds,
            ),
            (
                "argus_tsdb_too_old_samples_total",
                "Total number of out of order samples ingestion failed attempts with out of order support enabled, but sample outside of time window.",
                &m.too_old,
            ),
        ] {
            register(registry, Box::new(TypedCounter::new(name, help, c.clone())));
        }
        register(registry, Box::new(m.compaction_duration.clone()));
        register(registry, Box::new(m.replay_duration.clone()));
        m
    }

    /// Metrics not attached to any registry (tests, tools).
    pub fn unregistered() -> Self {
        Metrics {
            wal: WalMetrics::unregistered(),
            head_series: gauge("argus_tsdb_head_series", "Total number of series in the head block."),
            series_created: counter("argus_tsdb_head_series_created_total", "Total number of series created in the head."),
            series_removed: counter("argus_tsdb_head_series_removed_total", "Total number of series removed in the head."),
            head_chunks: gauge("argus_tsdb_head_chunks", "Total number of chunks in the head block."),
            chunks_created: counter("argus_tsdb_head_chunks_created_total", "Total number of chunks created in the head."),
            head_min_time: gauge("argus_tsdb_head_min_time", "Minimum time bound of the head block."),
            head_max_time: gauge("argus_tsdb_head_max_time", "Maximum timestamp of the head block."),
            samples_appended: float_counter("argus_tsdb_head_samples_appended_total", "Total number of appended samples."),
            ooo_appended: float_counter("argus_tsdb_head_out_of_order_samples_appended_total", "Total number of appended out of order samples."),
            out_of_order: float_counter("argus_tsdb_out_of_order_samples_total", "Total number of out of order samples ingestion failed attempts."),
            out_of_bounds: float_counter("argus_tsdb_out_of_bound_samples_total", "Total number of out of bound samples ingestion failed attempts."),
            too_old: float_counter("argus_tsdb_too_old_samples_total", "Total number of too old samples ingestion failed attempts."),
            head_truncations: counter("argus_tsdb_head_truncations_total", "Total number of head truncations attempted."),
            compactions: counter("argus_tsdb_compactions_total", "Total number of compactions that were executed for the partition."),
            compactions_failed: counter("argus_tsdb_compactions_failed_total", "Total number of compactions that failed for the partition."),
            compactions_triggered: counter("argus_tsdb_compactions_triggered_total", "Total number of triggered compactions for the partition."),
            compaction_duration: histogram(
                "argus_tsdb_compaction_duration_seconds",
                "Duration of compaction runs.",
                vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0],
            ),
            blocks_loaded: gauge("argus_tsdb_blocks_loaded", "Number of currently loaded data blocks."),
            blocks_bytes: gauge("argus_tsdb_storage_blocks_bytes", "The number of bytes that are currently used for local storage by all blocks."),
            reloads: counter("argus_tsdb_reloads_total", "Number of times the database reloaded block data from disk."),
            time_retentions: counter("argus_tsdb_time_retentions_total", "The number of times that blocks were deleted because the maximum time limit was exceeded."),
            size_retentions: counter("argus_tsdb_size_retentions_total", "The number of times that blocks were deleted because the maximum number of bytes was exceeded."),
            retention_limit_bytes: gauge("argus_tsdb_retention_limit_bytes", "Max number of bytes to be retained in the tsdb blocks, configured 0 means disabled."),
            lowest_timestamp: gauge("argus_tsdb_lowest_timestamp", "Lowest timestamp value stored in the database. The unit is decided by the library consumer."),
            replay_duration: prometheus::Gauge::new(
                "argus_tsdb_data_replay_duration_seconds",
                "Time taken to replay the data on disk.",
            )
            .unwrap_or_else(|_| unreachable!()),
        }
    }
}

/// A counter exported with a constant `type="float"` label, like Prometheus' sample
/// counters, while the code holds a plain `IntCounter`.
struct TypedCounter {
    desc: Vec<prometheus::core::Desc>,
    name: String,
    help: String,
    counter: IntCounter,
}

impl TypedCounter {
    fn new(name: &str, help: &str, counter: IntCounter) -> Self {
        let desc = prometheus::core::Desc::new(
            name.to_owned(),
            help.to_owned(),
            vec!["type".to_owned()],
            Default::default(),
        )
        .map(|d| vec![d])
        .unwrap_or_default();
        TypedCounter {
            desc,
            name: name.to_owned(),
            help: help.to_owned(),
            counter,
        }
    }
}

impl Collector for TypedCounter {
    fn desc(&self) -> Vec<&prometheus::core::Desc> {
        self.desc.iter().collect()
    }

    fn collect(&self) -> Vec<prometheus::proto::MetricFamily> {
        let mut lp = prometheus::proto::LabelPair::default();
        lp.set_name("type".into());
        lp.set_value("float".into());
        let mut c = prometheus::proto::Counter::default();
        c.set_value(self.counter.get() as f64);
        let mut m = prometheus::proto::Metric::default();
        m.set_label(vec![lp]);
        m.set_counter(c);
        let mut mf = prometheus::proto::MetricFamily::default();
        mf.set_name(self.name.clone());
        mf.set_help(self.help.clone());
        mf.set_field_type(prometheus::proto::MetricType::COUNTER);
        mf.set_metric(vec![m]);
        vec![mf]
    }
}
