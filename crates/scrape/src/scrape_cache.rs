//! Per-target scrape state and the append step of a scrape.
//!
//! The cache maps a sample's series text (as the target exposed it) to the final label
//! set (after target labels and `metric_relabel_configs`) and the storage's series
//! reference, so a warm scrape neither builds label sets nor relabels. It also keeps the
//! series written without explicit timestamps by the previous successful scrape: the ones
//! missing from the next scrape get a stale marker, exactly as Prometheus'
//! `scrapeCache.forEachStale` does.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use argus_model::{
    stale_nan, AppendError, Appender, Labels, LabelsBuilder, MetricMetadata, SeriesRef,
    StorageError, METRIC_NAME,
};

use crate::config::ScrapeConfig;
use crate::parse::{series_into_builder, Entry, Format, ParseError, Parser};
use crate::relabel;

/// A small, fast hasher for series texts (FxHash's multiply-rotate over 8-byte words).
/// Keys come from the scraped target, which cannot pick them to collide on purpose
/// without also owning the series names it exposes, so DoS resistance is not needed here.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(SEED);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(SEED);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(SEED);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;

struct CacheEntry {
    /// Final labels; `None` when metric relabeling dropped the series.
    labels: Option<Labels>,
    hash: u64,
    r: Option<SeriesRef>,
    last_iter: u64,
}

/// Scrape settings of one target, derived from its scrape config.
#[derive(Clone)]
pub(crate) struct ScrapeSettings {
    pub cfg: Arc<ScrapeConfig>,
    /// The target's public labels (added to every series).
    pub target_labels: Labels,
}

/// Why a scrape's samples were not stored.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScrapeFailure {
    /// The body is malformed.
    #[error("{format} parse error: {err}")]
    Parse {
        /// Format of the body.
        format: Format,
        /// Where and what.
        err: ParseError,
    },
    /// More samples than `sample_limit` after metric relabeling.
    #[error("sample limit exceeded (limit: {0})")]
    SampleLimit(u64),
    /// A series broke `label_limit`, `label_name_length_limit` or
    /// `label_value_length_limit`.
    #[error("{0}")]
    LabelLimit(String),
    /// A series has no metric name after relabeling.
    #[error("series {0} has no metric name after relabeling")]
    NoMetricName(String),
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(StorageError),
}

/// Counts of one append step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendStats {
    /// Samples in the body.
    pub scraped: u64,
    /// Samples left after metric relabeling.
    pub post_relabel: u64,
    /// Series new to the cache and stored.
    pub added: u64,
    /// Samples refused as out of order.
    pub out_of_order: u64,
    /// Samples refused as duplicates (same timestamp, different value).
    pub duplicate: u64,
    /// Samples refused as out of bounds or too old.
    pub out_of_bounds: u64,
}

/// The cache of one target's scrape loop. Owned by the loop and moved into the blocking
/// task that appends, so it needs no lock.
pub(crate) struct ScrapeCache {
    series: HashMap<Box<str>, CacheEntry, FxBuild>,
    iter: u64,
    /// Series stored without explicit timestamp by the last successful scrape.
    prev: HashMap<u64, Labels>,
    cur: HashMap<u64, Labels>,
    pub metadata: BTreeMap<String, MetricMetadata>,
    pub metadata_changed: bool,
    /// Refs of the report series (`up`, ...), in [`REPORT_NAMES`] order.
    pub report_refs: [Option<SeriesRef>; 5],
    builder: LabelsBuilder,
}

/// The report series Prometheus writes for every scrape.
pub(crate) const REPORT_NAMES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

impl ScrapeCache {
    pub fn new() -> Self {
        ScrapeCache {
            series: HashMap::default(),
            iter: 0,
            prev: HashMap::new(),
            cur: HashMap::new(),
            metadata: BTreeMap::new(),
            metadata_changed: false,
            report_refs: [None; 5],
            builder: LabelsBuilder::new(),
        }
    }

    /// A cache for a reloaded loop whose labels may differ: the series map is dropped but
    /// the staleness set is kept, so series that are no longer produced get stale markers.
    pub fn carry_staleness(&mut self) -> ScrapeCache {
        let mut fresh = ScrapeCache::new();
        fresh.prev = std::mem::take(&mut self.prev);
        fresh
    }

    /// Number of series in the cache.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Appends the samples of one scrape body at timestamp `ts`, then stale markers for
    /// the series of the previous scrape that are gone.
    pub fn append_body(
        &mut self,
        app: &mut dyn Appender,
        format: Format,
        body: &[u8],
        ts: i64,
        s: &ScrapeSettings,
    ) -> Result<AppendStats, (ScrapeFailure, AppendStats)> {
        self.iter += 1;
        self.cur.clear();
        let mut stats = AppendStats::default();
        let mut limit_hit = false;
        let cfg = &*s.cfg;
        let mut parser = Parser::new(format, body)
            .map_err(|err| (ScrapeFailure::Parse { format, err }, stats))?;
        loop {
            let entry = match parser.next_entry() {
                Ok(Some(e)) => e,
                Ok(None) => break,
                Err(err) => return Err((ScrapeFailure::Parse { format, err }, stats)),
            };
            let sample = match entry {
                Entry::Sample(x) => x,
                Entry::Help { name, help } => {
                    self.set_metadata(name, |m| {
                        if m.help != help {
                            m.help = help.into_owned();
                            true
                        } else {
                            false
                        }
                    });
                    continue;
                }
                Entry::Type { name, kind } => {
                    self.set_metadata(name, |m| {
                        std::mem::replace(&mut m.metric_type, kind) != kind
                    });
                    continue;
                }
                Entry::Unit { name, unit } => {
                    self.set_metadata(name, |m| {
                        if m.unit != unit {
                            m.unit = unit.to_owned();
                            true
                        } else {
                            false
                        }
                    });
                    continue;
                }
            };
            stats.scraped += 1;
            let t = match sample.timestamp_ms {
                Some(t) if cfg.honor_timestamps => t,
                _ => ts,
            };
            let explicit_ts = sample.timestamp_ms.is_some() && cfg.honor_timestamps;
            let iter = self.iter;
            let (labels, hash, r, new) = match self.series.get_mut(sample.series) {
                Some(e) => {
                    e.last_iter = iter;
                    match &e.labels {
                        None => continue,
                        Some(l) => (l.clone(), e.hash, e.r, false),
                    }
                }
                None => {
                    let labels = self
                        .new_series_labels(sample.series, s)
                        .map_err(|f| (f, stats))?;
                    let hash = labels.as_ref().map(Labels::stable_hash).unwrap_or(0);
                    self.series.insert(
                        sample.series.into(),
                        CacheEntry {
                            labels: labels.clone(),
                            hash,
                            r: None,
                            last_iter: iter,
                        },
                    );
                    match labels {
                        None => continue,
                        Some(l) => (l, hash, None, true),
                    }
                }
            };
            stats.post_relabel += 1;
            if cfg.sample_limit > 0 && stats.post_relabel > cfg.sample_limit {
                // Keep counting the body (the report says how many were scraped).
                limit_hit = true;
                continue;
            }
            match app.append(r, &labels, t, sample.value) {
                Ok(nr) => {
                    if let Some(e) = self.series.get_mut(sample.series) {
                        e.r = Some(nr);
                    }
                    if new {
                        stats.added += 1;
                    }
                }
                Err(e) => match e {
                    AppendError::OutOfOrder => stats.out_of_order += 1,
                    AppendError::DuplicateSample => stats.duplicate += 1,
                    AppendError::OutOfBounds | AppendError::TooOld => stats.out_of_bounds += 1,
                    AppendError::InvalidLabels { .. } | AppendError::Limit(_) => {}
                    AppendError::Storage(err) => return Err((ScrapeFailure::Storage(err), stats)),
                },
            }
            if !explicit_ts || cfg.track_timestamps_staleness {
                self.cur.insert(hash, labels);
            }
        }
        if limit_hit {
            return Err((ScrapeFailure::SampleLimit(cfg.sample_limit), stats));
        }
        self.write_stale_markers(app, ts)?;
        self.iter_done();
        Ok(stats)
    }

    fn set_metadata(&mut self, name: &str, f: impl FnOnce(&mut MetricMetadata) -> bool) {
        let changed = match self.metadata.get_mut(name) {
            Some(m) => f(m),
            None => {
                let mut m = MetricMetadata::default();
                f(&mut m);
                self.metadata.insert(name.to_owned(), m);
                true
            }
        };
        self.metadata_changed |= changed;
    }

    /// Stale markers for every series of the previous scrape missing from this one.
    fn write_stale_markers(
        &mut self,
        app: &mut dyn Appender,
        ts: i64,
    ) -> Result<(), (ScrapeFailure, AppendStats)> {
        for (h, l) in &self.prev {
            if !self.cur.contains_key(h) {
                if let Err(AppendError::Storage(e)) = app.append(None, l, ts, stale_nan()) {
                    return Err((ScrapeFailure::Storage(e), AppendStats::default()));
                }
            }
        }
        Ok(())
    }

    fn iter_done(&mut self) {
        std::mem::swap(&mut self.prev, &mut self.cur);
        self.cur.clear();
        // Forget series not seen for a while, as Prometheus flushes its cache, so label
        // churn does not grow the cache forever.
        if self.iter % 10 == 0 {
            let iter = self.iter;
            self.series.retain(|_, e| iter - e.last_iter < 10);
        }
    }

    /// After a failed scrape: stale markers for everything the last successful scrape
    /// wrote (Prometheus appends an empty scrape in this case).
    pub fn append_failed_scrape(
        &mut self,
        app: &mut dyn Appender,
        ts: i64,
    ) -> Result<(), StorageError> {
        self.cur.clear();
        let r = self.write_stale_markers(app, ts);
        self.prev.clear();
        r.map_err(|(f, _)| match f {
            ScrapeFailure::Storage(e) => e,
            other => StorageError::Other(other.to_string()),
        })
    }

    /// When the loop ends (target gone): stale markers for its series, returned so the
    /// caller can add its report series.
    pub fn take_all_series(&mut self) -> Vec<Labels> {
        self.prev.drain().map(|(_, l)| l).collect()
    }

    /// Final labels of a series seen for the first time: series text → labels, target
    /// labels, metric relabeling, limits. `None` when relabeling drops it.
    fn new_series_labels(
        &mut self,
        series: &str,
        s: &ScrapeSettings,
    ) -> Result<Option<Labels>, ScrapeFailure> {
        let cfg = &*s.cfg;
        let b = &mut self.builder;
        series_into_builder(series, b);
        merge_target_labels(b, &s.target_labels, cfg.honor_labels);
        if !relabel::process_builder(b, &cfg.metric_relabel_configs) || b.is_empty() {
            return Ok(None);
        }
        if b.get(METRIC_NAME).is_none() {
            return Err(ScrapeFailure::NoMetricName(series.to_owned()));
        }
        check_label_limits(b, cfg, series)?;
        Ok(Some(b.build()))
    }
}

/// Adds the target's labels to a scraped series. With `honor_labels` the scraped values
/// win; otherwise the target's win and the scraped ones are kept as `exported_<name>`
/// (`exported_exported_<name>` if that exists too), shortest names first, as Prometheus'
/// `mutateSampleLabels` does.
pub(crate) fn merge_target_labels(b: &mut LabelsBuilder, target: &Labels, honor: bool) {
    if honor {
        for l in target.iter() {
            if b.get(l.name).is_none() {
                b.set(l.name, l.value);
            }
        }
        return;
    }
    let mut conflicts: Vec<(&str, String)> = Vec::new();
    for l in target.iter() {
        if let Some(v) = b.get(l.name) {
            conflicts.push((l.name, v.to_owned()));
        }
        b.set(l.name, l.value);
    }
    conflicts.sort_by_key(|(n, _)| n.len());
    for (name, value) in conflicts {
        let mut new = format!("exported_{name}");
        while b.get(&new).is_some() {
            new = format!("exported_{new}");
        }
        b.set(&new, &value);
    }
}

fn check_label_limits(
    b: &LabelsBuilder,
    cfg: &ScrapeConfig,
    series: &str,
) -> Result<(), ScrapeFailure> {
    let short: String = series.chars().take(50).collect();
    let n = b.len() as u64;
    if cfg.label_limit > 0 && n > cfg.label_limit {
        return Err(ScrapeFailure::LabelLimit(format!(
            "label_limit exceeded (metric: {short}, number of labels: {n}, limit: {})",
            cfg.label_limit
        )));
    }
    for l in b.iter() {
        if cfg.label_name_length_limit > 0 && l.name.len() as u64 > cfg.label_name_length_limit {
            return Err(ScrapeFailure::LabelLimit(format!(
                "label_name_length_limit exceeded (metric: {short}, label name: {}, length: {}, limit: {})",
                l.name,
                l.name.len(),
                cfg.label_name_length_limit
            )));
        }
        if cfg.label_value_length_limit > 0 && l.value.len() as u64 > cfg.label_value_length_limit {
            return Err(ScrapeFailure::LabelLimit(format!(
                "label_value_length_limit exceeded (metric: {short}, label name: {}, value: {:?}, length: {}, limit: {})",
                l.name,
                l.value,
                l.value.len(),
                cfg.label_value_length_limit
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
