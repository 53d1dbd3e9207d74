//! `argus tsdb analyze`: what a data directory holds, block by block — series, chunks,
//! samples, bytes, bytes per sample and cardinality — with every chunk checksum verified.
//! Works on a directory in use by a running server (it only reads immutable files).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use argus_model::storage::NameCount;

use crate::block::Block;
use crate::error::{Result, TsdbError};
use crate::fs::atomic_write::dir_size;

/// Analysis of one block.
#[derive(Debug, Clone, Default)]
pub struct BlockReport {
    /// ULID.
    pub ulid: String,
    /// Start (inclusive), ms.
    pub min_time: i64,
    /// End (exclusive), ms.
    pub max_time: i64,
    /// Compaction level.
    pub level: u32,
    /// Series.
    pub series: u64,
    /// Chunks.
    pub chunks: u64,
    /// Samples.
    pub samples: u64,
    /// Bytes of `index`.
    pub index_bytes: u64,
    /// Bytes of `chunks/`.
    pub chunk_bytes: u64,
    /// Bytes of the whole directory.
    pub total_bytes: u64,
    /// Distinct label names.
    pub label_names: u64,
    /// Distinct label pairs.
    pub label_pairs: u64,
    /// Series with deletions.
    pub tombstones: u64,
    /// Chunks whose checksum did not match.
    pub corrupt_chunks: u64,
    /// Label names with the most distinct values.
    pub top_label_names: Vec<NameCount>,
    /// Label pairs in the most series.
    pub top_label_pairs: Vec<NameCount>,
    /// Metric names with the most series.
    pub top_metrics: Vec<NameCount>,
}

impl BlockReport {
    /// Chunk bytes per sample (the codec's efficiency).
    pub fn chunk_bytes_per_sample(&self) -> f64 {
        ratio(self.chunk_bytes, self.samples)
    }

    /// All block bytes (index included) per sample.
    pub fn bytes_per_sample(&self) -> f64 {
        ratio(self.total_bytes, self.samples)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Analysis of a data directory.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Blocks, oldest first.
    pub blocks: Vec<BlockReport>,
    /// Blocks that could not be opened, with the reason.
    pub broken: Vec<(String, String)>,
    /// Bytes of the WAL directory.
    pub wal_bytes: u64,
    /// Number of WAL segments.
    pub wal_segments: usize,
}

impl Report {
    /// Samples in all blocks.
    pub fn samples(&self) -> u64 {
        self.blocks.iter().map(|b| b.samples).sum()
    }

    /// Bytes of all blocks.
    pub fn block_bytes(&self) -> u64 {
        self.blocks.iter().map(|b| b.total_bytes).sum()
    }

    /// Bytes per sample over all blocks.
    pub fn bytes_per_sample(&self) -> f64 {
        ratio(self.block_bytes(), self.samples())
    }
}

fn top(mut v: Vec<NameCount>, limit: usize) -> Vec<NameCount> {
    v.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.name.cmp(&b.name)));
    v.truncate(limit);
    v
}

/// Analyzes one open block, verifying every chunk checksum.
pub fn analyze_block(b: &Block, limit: usize) -> Result<BlockReport> {
    let ix = b.index();
    let mut r = BlockReport {
        ulid: b.meta().ulid.clone(),
        min_time: b.meta().min_time,
        max_time: b.meta().max_time,
        level: b.meta().compaction.level,
        series: u64::from(ix.num_series()),
        samples: b.meta().stats.num_samples,
        index_bytes: ix.size() as u64,
        chunk_bytes: b.chunks().size(),
        total_bytes: b.size(),
        label_pairs: ix.num_label_pairs() as u64,
        tombstones: b.tombstones().len() as u64,
        ..Default::default()
    };
    let names = ix.label_names();
    r.label_names = names.len() as u64;
    let mut entries = Vec::new();
    for ord in 0..ix.num_series() {
        ix.series(ord, &mut entries)?;
        for e in &entries {
            r.chunks += 1;
            // A columnar chunk counts as corrupt when its shared time column is.
            let bad = match b.chunk_data(e.r) {
                Ok(data) => data.verify().is_err(),
                Err(TsdbError::Corruption { .. }) => true,
                Err(err) => return Err(err),
            };
            if bad {
                r.corrupt_chunks += 1;
            }
        }
    }
    let mut value_counts: HashMap<String, u64> = HashMap::new();
    let mut pairs = Vec::new();
    let mut metrics = Vec::new();
    ix.for_each_pair(|n, v, count| {
        *value_counts.entry(n.to_owned()).or_default() += 1;
        pairs.push(NameCount {
            name: format!("{n}={v}"),
            value: count,
        });
        if n == argus_model::METRIC_NAME {
            metrics.push(NameCount {
                name: v.to_owned(),
                value: count,
            });
        }
    })?;
    r.top_label_names = top(
        value_counts
            .into_iter()
            .map(|(name, value)| NameCount { name, value })
            .collect(),
        limit,
    );
    r.top_label_pairs = top(pairs, limit);
    r.top_metrics = top(metrics, limit);
    Ok(r)
}

/// Analyzes every block of the data directory `dir` (top lists cut at `limit`).
pub fn analyze(dir: &Path, limit: usize) -> Result<Report> {
    let rd = std::fs::read_dir(dir).map_err(|e| TsdbError::io("read dir", dir, e))?;
    let mut report = Report::default();
    let mut dirs: Vec<_> = rd
        .flatten()
        .filter(|e| crate::ulid::is_ulid(&e.file_name().to_string_lossy()) && e.path().is_dir())
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for d in dirs {
        let name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match Block::open(&d).and_then(|b| analyze_block(&b, limit)) {
            Ok(r) => report.blocks.push(r),
            Err(e) => report.broken.push((name, e.to_string())),
        }
    }
    report.blocks.sort_by_key(|b| (b.min_time, b.ulid.clone()));
    let wal = dir.join("wal");
    report.wal_bytes = dir_size(&wal);
    report.wal_segments = crate::wal::segment::list_segments(&wal)?.len();
    Ok(report)
}

fn fmt_time(ms: i64) -> String {
    argus_model::api::format_rfc3339(ms)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Blocks: {}   samples: {}   bytes: {}   bytes/sample: {:.3}",
            self.blocks.len(),
            self.samples(),
            self.block_bytes(),
            self.bytes_per_sample()
        )?;
        writeln!(
            f,
            "WAL: {} segments, {} bytes",
            self.wal_segments, self.wal_bytes
        )?;
        for (name, err) in &self.broken {
            writeln!(f, "BROKEN block {name}: {err}")?;
        }
        for b in &self.blocks {
            writeln!(f)?;
            writeln!(
                f,
                "Block {}  {} .. {}  level {}",
                b.ulid,
                fmt_time(b.min_time),
                fmt_time(b.max_time),
                b.level
            )?;
            writeln!(
                f,
                "  series {}  chunks {}  samples {}  label names {}  label pairs {}  tombstones {}",
                b.series, b.chunks, b.samples, b.label_names, b.label_pairs, b.tombstones
            )?;
            writeln!(
                f,
                "  bytes: index {}  chunks {}  total {}   bytes/sample: chunks {:.3}  total {:.3}",
                b.index_bytes,
                b.chunk_bytes,
                b.total_bytes,
                b.chunk_bytes_per_sample(),
                b.bytes_per_sample()
            )?;
            if b.corrupt_chunks > 0 {
                writeln!(f, "  CORRUPT CHUNKS: {}", b.corrupt_chunks)?;
            }
            for (title, list) in [
                ("Highest cardinality metric names", &b.top_metrics),
                ("Label names with most values", &b.top_label_names),
                ("Most common label pairs", &b.top_label_pairs),
            ] {
                writeln!(f, "  {title}:")?;
                for nc in list {
                    writeln!(f, "    {} {}", nc.value, nc.name)?;
                }
            }
        }
        Ok(())
    }
}
