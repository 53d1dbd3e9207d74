//! Retention: whole blocks are deleted when they are too old or when the database is too big,
//! exactly as Prometheus decides (`BeyondTimeRetention`, `BeyondSizeRetention`):
//!
//! - time: with blocks ordered newest first, a block (never the newest) whose end lags the
//!   newest block's end by at least the retention period goes, with every older block;
//! - size: the WAL counts first, then blocks from the newest; the first block that makes the
//!   total exceed the limit goes, with every older block.

use std::collections::BTreeSet;

use tracing::info;

use crate::db::DbInner;
use crate::error::Result;
use crate::fs::atomic_write::dir_size;

/// What retention would delete: (ULID, max time, size) of blocks sorted oldest first.
pub fn beyond_retention(
    blocks: &[(String, i64, u64)],
    retention_ms: i64,
    retention_bytes: u64,
    wal_bytes: u64,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut by_newest: Vec<&(String, i64, u64)> = blocks.iter().collect();
    by_newest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    let mut by_time = BTreeSet::new();
    if retention_ms > 0 {
        if let Some(newest) = by_newest.first() {
            for (i, b) in by_newest.iter().enumerate() {
                if i > 0 && newest.1.saturating_sub(b.1) >= retention_ms {
                    by_time.extend(by_newest.iter().skip(i).map(|b| b.0.clone()));
                    break;
                }
            }
        }
    }
    let mut by_size = BTreeSet::new();
    if retention_bytes > 0 {
        let mut total = wal_bytes;
        for (i, b) in by_newest.iter().enumerate() {
            total += b.2;
            if total > retention_bytes {
                by_size.extend(by_newest.iter().skip(i).map(|b| b.0.clone()));
                break;
            }
        }
    }
    (by_time, by_size)
}

/// Deletes the blocks beyond the configured retention.
pub(crate) fn apply(db: &DbInner) -> Result<()> {
    let blocks = db.state.read().blocks.clone();
    let list: Vec<(String, i64, u64)> = blocks
        .iter()
        .map(|b| (b.meta().ulid.clone(), b.meta().max_time, b.size()))
        .collect();
    let wal = dir_size(&db.dir.join("wal"));
    let (by_time, by_size) =
        beyond_retention(&list, db.opts.retention_ms, db.opts.retention_bytes, wal);
    if by_time.is_empty() && by_size.is_empty() {
        return Ok(());
    }
    if !by_time.is_empty() {
        db.metrics.time_retentions.inc();
    }
    if !by_size.is_empty() {
        db.metrics.size_retentions.inc();
    }
    let all: Vec<String> = by_time.union(&by_size).cloned().collect();
    info!(blocks = ?all, by_time = by_time.len(), by_size = by_size.len(), "Deleting blocks beyond retention.");
    db.swap_blocks(&all, Vec::new(), false);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn time_and_size_like_prometheus() {
        let blocks = vec![
            ("a".to_string(), 2 * H, 100),
            ("b".to_string(), 4 * H, 100),
            ("c".to_string(), 6 * H, 100),
            ("d".to_string(), 8 * H, 100),
        ];
        let (t, s) = beyond_retention(&blocks, 4 * H, 0, 0);
        assert_eq!(t.into_iter().collect::<Vec<_>>(), vec!["a", "b"]);
        assert!(s.is_empty());
        let (t, s) = beyond_retention(&blocks, 0, 250, 50);
        assert!(t.is_empty());
        assert_eq!(s.into_iter().collect::<Vec<_>>(), vec!["a", "b"]);
        // The newest block is never removed by time.
        let (t, _) = beyond_retention(&blocks[..1], 1, 0, 0);
        assert!(t.is_empty());
    }
}
