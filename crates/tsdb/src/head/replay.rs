//! WAL replay at open: the newest checkpoint, then every later segment, in order.
//!
//! A torn tail (the file ends inside a frame: a crash during `write(2)`) is truncated with a
//! warning. Any other damage (bad checksum, impossible length, undecodable record) is
//! repaired the same way — the damaged segment is cut at the bad frame and later segments are
//! deleted — with an error log that says how many bytes were dropped. Replay never panics on
//! bytes from disk.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tracing::{error, info, warn};

use super::appender::{apply, Applied};
use super::Head;
use crate::error::{Result, TsdbError};
use crate::tombstones::{add_interval, Interval};
use crate::wal::reader::{repair, Corruption, WalReader};
use crate::wal::record::{decode, Record};
use crate::wal::segment::{last_checkpoint, list_segments};

/// What replay found.
#[derive(Debug, Clone, Default)]
pub struct ReplayStats {
    /// Segments read (checkpoint segments included).
    pub segments: usize,
    /// Series records applied.
    pub series: u64,
    /// Samples applied to memory.
    pub samples: u64,
    /// Samples referring to unknown series.
    pub unknown_refs: u64,
    /// Bytes dropped by repairs.
    pub dropped_bytes: u64,
    /// Index the next WAL segment should get.
    pub next_segment: u64,
    /// Wall time.
    pub duration: std::time::Duration,
    /// The head snapshot loaded before the WAL, if one was usable.
    pub snapshot: Option<super::snapshot::SnapshotStats>,
}

struct Replayer<'a> {
    head: &'a Head,
    /// WAL refs that duplicate the labels of an existing series → that series' ref.
    remap: HashMap<u64, u64>,
    stats: ReplayStats,
}

impl Replayer<'_> {
    fn apply_record(&mut self, rec: Record) {
        match rec {
            Record::Series(list) => {
                for (r, labels) in list {
                    if let Some(s) = self.head.create_with_ref(r, labels) {
                        s.logged.store(true, Ordering::Relaxed);
                        if s.r != r {
                            self.remap.insert(r, s.r);
                        }
                        self.stats.series += 1;
                    }
                }
            }
            Record::Samples(samples) => {
                let mut cache: Option<(u64, std::sync::Arc<super::series::MemSeries>)> = None;
                for s in samples {
                    let r = self.remap.get(&s.r).copied().unwrap_or(s.r);
                    let series = match &cache {
                        Some((cr, cs)) if *cr == r => cs.clone(),
                        _ => match self.head.series.get_by_ref(r) {
                            Some(x) => {
                                cache = Some((r, x.clone()));
                                x
                            }
                            None => {
                                self.stats.unknown_refs += 1;
                                continue;
                            }
                        },
                    };
                    if !matches!(apply(self.head, &series, s.t, s.v, 0, 0), Applied::Skipped) {
                        self.stats.samples += 1;
                    }
                }
            }
            Record::Tombstones(ts) => {
                for t in ts {
                    let r = self.remap.get(&t.r).copied().unwrap_or(t.r);
                    if let Some(s) = self.head.series.get_by_ref(r) {
                        add_interval(
                            &mut s.data.lock().deleted,
                            Interval {
                                mint: t.mint,
                                maxt: t.maxt,
                            },
                        );
                    }
                }
            }
        }
    }

    /// Reads `segments` in order. Returns the corruption that stopped it, if any.
    fn read(&mut self, segments: &[std::path::PathBuf], what: &str) -> Result<Option<Corruption>> {
        let total = segments.len();
        let mut r = WalReader::new(segments.to_vec(), u64::from(u32::MAX));
        let mut buf = Vec::new();
        let mut last_pos = 0;
        loop {
            match r.next(&mut buf) {
                Ok(true) => match decode(&buf) {
                    Ok(rec) => self.apply_record(rec),
                    Err(reason) => {
                        return Ok(Some(Corruption {
                            segment_pos: r.segment_pos(),
                            path: segments.get(r.segment_pos()).cloned().unwrap_or_default(),
                            // The record was fully read; its frame started before the offset.
                            offset: 0,
                            reason: format!("undecodable record: {reason}"),
                            torn: false,
                        }));
                    }
                },
                Ok(false) => break,
                Err(Ok(c)) => return Ok(Some(c)),
                Err(Err(e)) => return Err(e),
            }
            if r.segment_pos() != last_pos {
                last_pos = r.segment_pos();
                self.stats.segments += 1;
                info!(
                    what,
                    segment = last_pos,
                    total,
                    percent = last_pos * 100 / total.max(1),
                    series = self.stats.series,
                    samples = self.stats.samples,
                    "WAL segment loaded."
                );
            }
        }
        if total > 0 {
            self.stats.segments += 1;
        }
        Ok(None)
    }
}

/// Replays the WAL in `dir` into `head`. With `repair_damage` false (read-only tools), damage
/// stops the replay without touching the files.
pub fn replay(head: &Head, dir: &Path, repair_damage: bool) -> Result<ReplayStats> {
    replay_from(head, dir, repair_damage, None)
}

/// Like [`replay`], but after a head snapshot that covers the checkpoint and every segment
/// up to `snapshot_segment`: only the later segments are read.
pub fn replay_from(
    head: &Head,
    dir: &Path,
    repair_damage: bool,
    snapshot_segment: Option<u64>,
) -> Result<ReplayStats> {
    let start = Instant::now();
    let mut rp = Replayer {
        head,
        remap: HashMap::new(),
        stats: ReplayStats::default(),
    };
    let mut after = None;
    let checkpoint = last_checkpoint(dir)?;
    if let (Some((n, _)), Some(_)) = (&checkpoint, snapshot_segment) {
        after = Some(*n);
    } else if let Some((n, cdir)) = checkpoint {
        let segs: Vec<_> = list_segments(&cdir)?.into_iter().map(|(_, p)| p).collect();
        info!(checkpoint = %cdir.display(), segments = segs.len(), "Replaying WAL checkpoint.");
        if let Some(c) = rp.read(&segs, "checkpoint")? {
            head.metrics.wal.corruptions.inc();
            error!(
                file = %c.path.display(),
                offset = c.offset,
                reason = %c.reason,
                "WAL checkpoint is damaged; the rest of it is skipped and its samples are lost."
            );
        }
        after = Some(n);
    }
    let segs: Vec<(u64, std::path::PathBuf)> = list_segments(dir)?
        .into_iter()
        .filter(|(i, _)| after.is_none_or(|n| *i > n))
        .filter(|(i, _)| snapshot_segment.is_none_or(|n| *i > n))
        .collect();
    let paths: Vec<std::path::PathBuf> = segs.iter().map(|(_, p)| p.clone()).collect();
    info!(segments = paths.len(), "Replaying WAL segments.");
    if let Some(c) = rp.read(&paths, "segment")? {
        head.metrics.wal.corruptions.inc();
        let last = c.segment_pos + 1 == paths.len();
        let c = if c.offset == 0 && c.reason.starts_with("undecodable") {
            // Locate the bad frame precisely: re-scan that segment frame by frame.
            locate_undecodable(&paths, c)
        } else {
            c
        };
        if !repair_damage {
            warn!(file = %c.path.display(), offset = c.offset, reason = %c.reason,
                "WAL damaged; read-only replay stops here.");
        } else {
            let dropped = repair(&paths, &c).map_err(|e| {
                TsdbError::corruption(
                    &c.path,
                    c.offset,
                    format!("{}; repair failed: {e}", c.reason),
                )
            })?;
            rp.stats.dropped_bytes = dropped;
            if c.torn && last {
                warn!(file = %c.path.display(), offset = c.offset, dropped_bytes = dropped,
                    reason = %c.reason, "Truncated torn WAL tail.");
            } else {
                error!(file = %c.path.display(), offset = c.offset, dropped_bytes = dropped,
                    later_segments_removed = paths.len() - c.segment_pos - 1, reason = %c.reason,
                    "WAL corruption repaired by dropping everything from the damaged record on.");
            }
        }
    }
    let last_seg = list_segments(dir)?.last().map(|(i, _)| *i);
    rp.stats.next_segment = match (last_seg, after) {
        (Some(l), Some(n)) => l.max(n) + 1,
        (Some(l), None) => l + 1,
        (None, Some(n)) => n + 1,
        (None, None) => 0,
    };
    rp.stats.duration = start.elapsed();
    head.metrics
        .replay_duration
        .set(rp.stats.duration.as_secs_f64());
    info!(
        segments = rp.stats.segments,
        series = rp.stats.series,
        samples = rp.stats.samples,
        unknown_series_refs = rp.stats.unknown_refs,
        duration = ?rp.stats.duration,
        "WAL replay completed."
    );
    Ok(rp.stats)
}

/// Finds the offset of the first frame in the damaged segment whose record does not decode.
fn locate_undecodable(paths: &[std::path::PathBuf], c: Corruption) -> Corruption {
    let Some(p) = paths.get(c.segment_pos) else {
        return c;
    };
    let mut r = WalReader::new(vec![p.clone()], u64::from(u32::MAX));
    let mut buf = Vec::new();
    let mut offset = 0u64;
    while let Ok(true) = r.next(&mut buf) {
        if decode(&buf).is_err() {
            return Corruption { offset, ..c };
        }
        offset = r.bytes_read;
    }
    c
}
