//! Writing a new block from a label-sorted series set (head persistence, compaction,
//! snapshots). Files are written into `<ulid>.tmp-for-creation/`, fsynced, `meta.json` last,
//! then the directory is renamed into place.

use std::path::Path;

use argus_model::{Labels, SeriesSet};
use tracing::info;

use super::columns::ColumnWriter;
use super::meta::{BlockCompaction, BlockMeta, BlockStats};
use crate::chunk_file::ChunkWriter;
use crate::error::{Result, TsdbError};
use crate::fs::atomic_write::publish_dir;
use crate::index::writer::write_index;
use crate::index::ChunkEntry;
use crate::tombstones;

pub use super::columns::BLOCK_CHUNK_SAMPLES;

/// What the new block is.
#[derive(Debug, Clone)]
pub struct NewBlock {
    /// First timestamp covered, inclusive.
    pub mint: i64,
    /// End of the range, exclusive.
    pub maxt: i64,
    /// Compaction level.
    pub level: u32,
    /// Level-1 sources (empty: the block is its own source).
    pub sources: Vec<String>,
    /// Parents.
    pub parents: Vec<String>,
    /// Use the lowest sample time as the block's start instead of `mint` (head blocks, as
    /// Prometheus does), so a partial first range does not claim time it has no data for.
    pub tight_mint: bool,
}

/// Writes the series of `set` into a new block under `parent` (only samples within
/// `[mint, maxt)`). Returns `None`, writing nothing, when there is no sample.
pub fn write_block(
    parent: &Path,
    nb: &NewBlock,
    set: &mut dyn SeriesSet,
) -> Result<Option<BlockMeta>> {
    let ulid = crate::ulid::new_ulid(argus_model::now_ms());
    let tmp = parent.join(format!("{ulid}.tmp-for-creation"));
    let res = write_into(&tmp, &ulid, nb, set);
    match res {
        Ok(Some(meta)) => {
            publish_dir(&tmp, &parent.join(&ulid))?;
            info!(
                ulid = %meta.ulid,
                mint = meta.min_time,
                maxt = meta.max_time,
                level = meta.compaction.level,
                series = meta.stats.num_series,
                samples = meta.stats.num_samples,
                "Block written."
            );
            Ok(Some(meta))
        }
        Ok(None) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(None)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

fn write_into(
    dir: &Path,
    ulid: &str,
    nb: &NewBlock,
    set: &mut dyn SeriesSet,
) -> Result<Option<BlockMeta>> {
    std::fs::create_dir_all(dir).map_err(|e| TsdbError::io("create dir", dir, e))?;
    let mut cw = ColumnWriter::new(ChunkWriter::new(&dir.join("chunks"))?);
    let mut series: Vec<(Labels, Vec<ChunkEntry>)> = Vec::new();
    let mut stats = BlockStats::default();
    let mut last: Option<Labels> = None;
    let mut lowest = i64::MAX;
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    while let Some(s) = set.next() {
        let s = s.map_err(|e| TsdbError::InvalidArgument(format!("reading source series: {e}")))?;
        let labels = s.labels().clone();
        if last.as_ref().is_some_and(|l| l >= &labels) {
            return Err(TsdbError::InvalidArgument(format!(
                "BUG: source series not sorted at {labels}"
            )));
        }
        let mut it = s.iterator();
        ts.clear();
        vs.clear();
        while it.next() {
            let smp = it.at();
            if smp.t < nb.mint || smp.t >= nb.maxt {
                continue;
            }
            ts.push(smp.t);
            vs.push(smp.v);
        }
        if let Some(e) = it.err() {
            return Err(TsdbError::InvalidArgument(format!(
                "reading samples of {labels}: {e}"
            )));
        }
        let Some(&first) = ts.first() else {
            continue;
        };
        lowest = lowest.min(first);
        stats.num_samples += ts.len() as u64;
        let mut entries = Vec::new();
        cw.write_series(&ts, &vs, &mut entries)?;
        stats.num_chunks += entries.len() as u64;
        stats.num_series += 1;
        last = Some(labels.clone());
        series.push((labels, entries));
    }
    if series.is_empty() {
        return Ok(None);
    }
    cw.finish()?;
    write_index(&dir.join("index"), &series)?;
    let tpath = dir.join("tombstones");
    crate::fs::atomic_write::atomic_write(&tpath, &tombstones::encode(&Default::default()))?;
    let meta = BlockMeta {
        ulid: ulid.to_owned(),
        min_time: if nb.tight_mint {
            lowest.max(nb.mint)
        } else {
            nb.mint
        },
        max_time: nb.maxt,
        stats,
        compaction: BlockCompaction {
            level: nb.level,
            sources: if nb.sources.is_empty() {
                vec![ulid.to_owned()]
            } else {
                nb.sources.clone()
            },
            parents: nb.parents.clone(),
        },
        version: 1,
    };
    meta.write(dir)?;
    Ok(Some(meta))
}
