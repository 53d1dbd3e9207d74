//! WAL checkpoints: after the head was persisted up to `mint`, the closed segments (and the
//! previous checkpoint) are condensed into `checkpoint.N/` holding only the series still in
//! the head and the samples and deletions at or after `mint`; then those segments and older
//! checkpoints are deleted. Checkpoints use the segment format, so replay reads them with the
//! same reader.
//!
//! Crash safety: the checkpoint is written to `checkpoint.N.tmp/`, fsynced and renamed; only
//! then are old files removed. A crash at any point leaves either the old files (the next
//! cycle retries) or a complete checkpoint plus segments it already covers (replay skips
//! them by number).

use std::fs;
use std::path::{Path, PathBuf};

use tracing::info;

use super::reader::WalReader;
use super::record::{
    decode, encode_samples, encode_series, encode_tombstones, Record, RefSample, RefTombstone,
};
use super::segment::{list_checkpoints, list_segments};
use super::writer::WalWriter;
use crate::error::{Result, TsdbError};
use crate::fs::atomic_write::{publish_dir, sync_dir};
use crate::metrics::WalMetrics;
use crate::options::FsyncPolicy;

/// Outcome of a checkpoint.
#[derive(Debug, Clone, Default)]
pub struct CheckpointStats {
    /// Number of the checkpoint written (= last segment covered).
    pub number: u64,
    /// Series records kept / dropped.
    pub series_kept: u64,
    /// Samples kept.
    pub samples_kept: u64,
    /// Samples dropped.
    pub samples_dropped: u64,
    /// Segments deleted.
    pub segments_removed: usize,
}

/// Checkpoints every segment numbered `<= last` (plus the previous checkpoint).
pub fn checkpoint(
    dir: &Path,
    last: u64,
    keep_series: &dyn Fn(u64) -> bool,
    mint: i64,
    metrics: &WalMetrics,
) -> Result<CheckpointStats> {
    metrics.checkpoint_creations.inc();
    let prev = list_checkpoints(dir)?
        .into_iter()
        .rfind(|(n, _)| *n <= last);
    let mut inputs: Vec<PathBuf> = Vec::new();
    if let Some((_, p)) = &prev {
        inputs.extend(list_segments(p)?.into_iter().map(|(_, p)| p));
    }
    let from = prev.as_ref().map(|(n, _)| n + 1).unwrap_or(0);
    let segs: Vec<(u64, PathBuf)> = list_segments(dir)?
        .into_iter()
        .filter(|(i, _)| *i >= from && *i <= last)
        .collect();
    inputs.extend(segs.iter().map(|(_, p)| p.clone()));

    let tmp = dir.join(format!("checkpoint.{last:08}.tmp"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| TsdbError::io("remove", &tmp, e))?;
    }
    let mut w = WalWriter::open(
        &tmp,
        0,
        128 << 20,
        FsyncPolicy::Segment,
        WalMetrics::unregistered(),
    )?;
    let mut stats = CheckpointStats {
        number: last,
        ..Default::default()
    };
    let mut r = WalReader::new(inputs.clone(), u64::from(u32::MAX));
    let mut buf = Vec::new();
    let mut out = Vec::new();
    loop {
        match r.next(&mut buf) {
            Ok(true) => {}
            Ok(false) => break,
            Err(Ok(c)) => {
                let _ = fs::remove_dir_all(&tmp);
                return Err(TsdbError::corruption(&c.path, c.offset, c.reason));
            }
            Err(Err(e)) => {
                let _ = fs::remove_dir_all(&tmp);
                return Err(e);
            }
        }
        let rec = match decode(&buf) {
            Ok(r) => r,
            Err(reason) => {
                let _ = fs::remove_dir_all(&tmp);
                let p = inputs.get(r.segment_pos()).cloned().unwrap_or_default();
                return Err(TsdbError::corruption(&p, 0, reason));
            }
        };
        out.clear();
        match rec {
            Record::Series(list) => {
                let kept: Vec<_> = list.iter().filter(|(r, _)| keep_series(*r)).collect();
                stats.series_kept += kept.len() as u64;
                if !kept.is_empty() {
                    encode_series(
                        kept.iter()
                            .map(|(r, l)| (*r, l))
                            .collect::<Vec<_>>()
                            .into_iter(),
                        &mut out,
                    );
                }
            }
            Record::Samples(list) => {
                let kept: Vec<RefSample> = list
                    .iter()
                    .filter(|s| s.t >= mint && keep_series(s.r))
                    .copied()
                    .collect();
                stats.samples_kept += kept.len() as u64;
                stats.samples_dropped += (list.len() - kept.len()) as u64;
                if !kept.is_empty() {
                    encode_samples(&kept, &mut out);
                }
            }
            Record::Tombstones(list) => {
                let kept: Vec<RefTombstone> = list
                    .iter()
                    .filter(|t| t.maxt >= mint && keep_series(t.r))
                    .copied()
                    .collect();
                if !kept.is_empty() {
                    encode_tombstones(&kept, &mut out);
                }
            }
        }
        if !out.is_empty() {
            w.log(&[&out])?;
        }
    }
    w.sync()?;
    drop(w);
    let dst = dir.join(format!("checkpoint.{last:08}"));
    if dst.exists() {
        fs::remove_dir_all(&dst).map_err(|e| TsdbError::io("remove", &dst, e))?;
    }
    publish_dir(&tmp, &dst)?;

    // The new checkpoint is durable: older data can go.
    metrics.truncations.inc();
    for (i, p) in list_segments(dir)? {
        if i <= last {
            fs::remove_file(&p).map_err(|e| TsdbError::io("remove", &p, e))?;
            stats.segments_removed += 1;
        }
    }
    for (n, p) in list_checkpoints(dir)? {
        if n < last {
            fs::remove_dir_all(&p).map_err(|e| TsdbError::io("remove", &p, e))?;
        }
    }
    sync_dir(dir)?;
    info!(
        checkpoint = last,
        series = stats.series_kept,
        samples_kept = stats.samples_kept,
        samples_dropped = stats.samples_dropped,
        segments_removed = stats.segments_removed,
        "WAL checkpoint complete."
    );
    Ok(stats)
}

/// Removes leftovers of interrupted checkpoints.
pub fn remove_tmp_checkpoints(dir: &Path) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name();
        if name.to_string_lossy().starts_with("checkpoint.")
            && name.to_string_lossy().ends_with(".tmp")
        {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::reader::read_all;
    use argus_model::labels;

    #[test]
    fn keeps_live_series_and_recent_samples() {
        let d = tempfile::tempdir().unwrap();
        let m = WalMetrics::unregistered();
        let mut w = WalWriter::open(d.path(), 0, 1 << 20, FsyncPolicy::Segment, m.clone()).unwrap();
        let a = labels!("a" => "1");
        let b = labels!("b" => "1");
        let mut rec = Vec::new();
        encode_series([(1u64, &a), (2, &b)].into_iter(), &mut rec);
        w.log(&[&rec]).unwrap();
        rec.clear();
        encode_samples(
            &[
                RefSample { r: 1, t: 5, v: 1.0 },
                RefSample {
                    r: 1,
                    t: 15,
                    v: 2.0,
                },
                RefSample {
                    r: 2,
                    t: 20,
                    v: 3.0,
                },
            ],
            &mut rec,
        );
        w.log(&[&rec]).unwrap();
        w.roll().unwrap();
        w.log(&[&rec]).unwrap();
        drop(w);
        let st = checkpoint(d.path(), 0, &|r| r == 1, 10, &m).unwrap();
        assert_eq!(st.samples_kept, 1);
        assert_eq!(st.segments_removed, 1);
        let cp = d.path().join("checkpoint.00000000/00000000");
        let recs = read_all(&[&cp]).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(decode(&recs[0]).unwrap(), Record::Series(vec![(1, a)]));
        assert!(d.path().join("00000001").exists());
        // A second checkpoint folds the first one in.
        let st = checkpoint(d.path(), 1, &|r| r == 1, 10, &m).unwrap();
        assert_eq!(st.samples_kept, 2);
        assert!(!d.path().join("checkpoint.00000000").exists());
    }
}
