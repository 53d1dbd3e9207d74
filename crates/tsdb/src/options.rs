//! Tunables of the database, with Prometheus' defaults where Prometheus has one.

use std::time::Duration;

use crate::error::{Result, TsdbError};

/// One hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// When the WAL is fsynced. Every mode writes a commit's records with `write(2)` before the
/// commit returns, so an acknowledged sample survives the process being killed (the page
/// cache outlives the process). The modes differ only in what a power loss or kernel crash
/// can take away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// fsync before each commit returns (one fsync per commit, under the WAL lock, so
    /// concurrent commits queue behind it). Power loss loses nothing that was acknowledged.
    /// Slowest.
    Always,
    /// fsync on a background thread every interval when something was written (default 1 s).
    /// Power loss loses at most about one interval of acknowledged samples.
    Interval(Duration),
    /// fsync only when a segment file is full and closed (Prometheus' behaviour). Power loss
    /// can lose up to a whole segment (128 MiB) of acknowledged samples.
    Segment,
}

impl Default for FsyncPolicy {
    fn default() -> Self {
        FsyncPolicy::Interval(Duration::from_secs(1))
    }
}

/// Options of [`crate::Db::open`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Drop blocks whose data is older than this, ms, relative to the newest block's end
    /// (`--storage.tsdb.retention.time`, default 15 d). 0 disables time retention.
    pub retention_ms: i64,
    /// Maximum bytes of blocks + WAL (`--storage.tsdb.retention.size`). 0 = no limit.
    pub retention_bytes: u64,
    /// The smallest block range, ms (Prometheus: 2 h). Also the head's chunk range.
    pub min_block_ms: i64,
    /// The largest block range compaction produces, ms. `None` = min(31 d, 10 % of
    /// retention), rounded down to a power-of-3 multiple of `min_block_ms`.
    pub max_block_ms: Option<i64>,
    /// Samples up to this much older than the head's newest sample are accepted out of
    /// order (`storage.tsdb.out_of_order_time_window`). 0 = only in-order appends.
    pub out_of_order_window_ms: i64,
    /// WAL fsync policy.
    pub fsync: FsyncPolicy,
    /// WAL segment size cap, bytes (default 128 MiB).
    pub wal_segment_bytes: u64,
    /// Maximum samples per head chunk before a new one is cut (Prometheus: 120).
    pub samples_per_chunk: u16,
    /// How often the background loop checks for compaction and retention.
    pub compaction_interval: Duration,
    /// Set to false to never compact automatically (tests, read-only tools).
    pub auto_compaction: bool,
    /// Write a head snapshot on close and load it on open instead of replaying the whole
    /// WAL (Prometheus' `memory-snapshot-on-shutdown`).
    pub head_snapshot: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retention_ms: 15 * DAY_MS,
            retention_bytes: 0,
            min_block_ms: 2 * HOUR_MS,
            max_block_ms: None,
            out_of_order_window_ms: 0,
            fsync: FsyncPolicy::default(),
            wal_segment_bytes: 128 << 20,
            samples_per_chunk: 120,
            compaction_interval: Duration::from_secs(60),
            auto_compaction: true,
            head_snapshot: true,
        }
    }
}

impl Options {
    /// Checks the options for consistency.
    pub fn validate(&self) -> Result<()> {
        if self.min_block_ms <= 0 {
            return Err(TsdbError::InvalidOptions(format!(
                "min block range must be positive, got {} ms",
                self.min_block_ms
            )));
        }
        if self.retention_ms < 0 || self.out_of_order_window_ms < 0 {
            return Err(TsdbError::InvalidOptions(
                "retention and out-of-order window must not be negative".into(),
            ));
        }
        if self.wal_segment_bytes < 64 << 10 {
            return Err(TsdbError::InvalidOptions(format!(
                "WAL segment size must be at least 64 KiB, got {}",
                self.wal_segment_bytes
            )));
        }
        if self.samples_per_chunk < 2 {
            return Err(TsdbError::InvalidOptions(
                "samples per chunk must be at least 2".into(),
            ));
        }
        Ok(())
    }

    /// The compaction levels: `min_block_ms × 3^i` up to the maximum block range, as
    /// Prometheus' `ExponentialBlockRanges(min, 10, 3)` capped by its max-block-duration.
    pub fn block_ranges(&self) -> Vec<i64> {
        let max = self.max_block_ms.unwrap_or_else(|| {
            let mut m = 31 * DAY_MS;
            if self.retention_ms > 0 {
                m = m.min(self.retention_ms / 10);
            }
            m
        });
        let mut ranges = vec![self.min_block_ms];
        let mut r = self.min_block_ms;
        for _ in 0..10 {
            let Some(next) = r.checked_mul(3) else { break };
            if next > max {
                break;
            }
            ranges.push(next);
            r = next;
        }
        ranges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ranges_follow_prometheus() {
        let o = Options::default();
        // 15 d retention → max 1.5 d → 2h, 6h, 18h (54h would exceed 36h).
        assert_eq!(
            o.block_ranges(),
            vec![2 * HOUR_MS, 6 * HOUR_MS, 18 * HOUR_MS]
        );
        let o = Options {
            retention_ms: 365 * DAY_MS,
            ..Options::default()
        };
        assert_eq!(o.block_ranges().last(), Some(&(486 * HOUR_MS)));
        assert!(o.validate().is_ok());
        assert!(Options {
            min_block_ms: 0,
            ..Options::default()
        }
        .validate()
        .is_err());
    }
}
