//! Reading the head: turning matched series into the chunk lists and sample buffers the
//! querier merges with disk blocks, as seen by one reader (isolation).

use std::sync::Arc;

use argus_model::{Labels, Sample};

use super::series::MemSeries;
use crate::error::Result;
use crate::querier::source::{SeriesSource, SourceData};
use crate::tombstones::{is_deleted, Interval};

/// The head's series matching a select, snapshotted lazily one by one.
pub struct HeadSeriesSource {
    series: std::vec::IntoIter<Arc<MemSeries>>,
    mint: i64,
    maxt: i64,
    max_id: u64,
}

impl HeadSeriesSource {
    /// Reads `series` (sorted by labels) within `[mint, maxt]` as of commit `max_id`.
    pub fn new(series: Vec<Arc<MemSeries>>, mint: i64, maxt: i64, max_id: u64) -> Self {
        HeadSeriesSource {
            series: series.into_iter(),
            mint,
            maxt,
            max_id,
        }
    }
}

/// The data of one head series for a reader.
pub fn snapshot(s: &MemSeries, mint: i64, maxt: i64, max_id: u64) -> Vec<SourceData> {
    let d = s.data.lock();
    let chunks = d.chunk_metas(mint, maxt, max_id);
    let deleted: Arc<[Interval]> = Arc::from(d.deleted.as_slice());
    let ooo: Vec<Sample> = d
        .ooo
        .iter()
        .filter(|o| o.append_id <= max_id && o.t >= mint && o.t <= maxt)
        .filter(|o| !is_deleted(&d.deleted, o.t))
        .map(|o| Sample::new(o.t, o.v))
        .collect();
    drop(d);
    let mut out = Vec::with_capacity(2);
    if !chunks.is_empty() {
        out.push(SourceData::Chunks { chunks, deleted });
    }
    if !ooo.is_empty() {
        out.push(SourceData::Samples(ooo));
    }
    out
}

impl SeriesSource for HeadSeriesSource {
    fn next(&mut self) -> Option<Result<(Labels, Vec<SourceData>)>> {
        for s in self.series.by_ref() {
            let data = snapshot(&s, self.mint, self.maxt, self.max_id);
            if !data.is_empty() {
                return Some(Ok((s.labels.clone(), data)));
            }
        }
        None
    }
}
