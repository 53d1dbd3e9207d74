//! The data set written straight into an Argus TSDB directory and persisted to blocks, for a
//! second Argus that answers from blocks instead of the head.

use std::path::Path;

use argus_model::{Appendable, Labels};
use argus_tsdb::{Db, FsyncPolicy, Options};

use super::data::Data;

/// Block range of the persisted data: several blocks over the 45 minutes, so queries cross
/// block boundaries.
pub const BLOCK_MS: i64 = 10 * 60_000;

/// Appends every sample (stale markers included) in time order and flushes the head to
/// blocks of [`BLOCK_MS`].
pub fn write(data: &Data, dir: &Path) {
    let db = Db::open(
        dir,
        Options {
            auto_compaction: false,
            fsync: FsyncPolicy::Segment,
            min_block_ms: BLOCK_MS,
            ..Options::default()
        },
        &prometheus::Registry::new(),
    )
    .unwrap();
    let mut samples: Vec<(i64, usize, f64)> = data
        .series
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.samples.iter().map(move |(t, v)| (*t, i, *v)))
        .collect();
    samples.sort_by_key(|(t, i, _)| (*t, *i));
    let labels: Vec<Labels> = data
        .series
        .iter()
        .map(|s| {
            let pairs: Vec<(&str, &str)> = s
                .labels
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            Labels::from_pairs(&pairs)
        })
        .collect();
    for chunk in samples.chunks(5000) {
        let mut app = db.appender();
        for (t, i, v) in chunk {
            app.append(None, &labels[*i], *t, *v).unwrap();
        }
        app.commit().unwrap();
    }
    db.flush_head().unwrap();
    assert!(
        db.blocks().len() >= 4,
        "expected the data in several blocks, got {}",
        db.blocks().len()
    );
    db.close().unwrap();
}
