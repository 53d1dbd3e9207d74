//! Opening and closing the TSDB for the server. The flags map onto [`argus_tsdb::Options`]
//! with Prometheus' meanings; opening replays the WAL, so it runs on a blocking thread before
//! the server reports ready.

use anyhow::Context as _;
use argus_tsdb::{Db, FsyncPolicy, Options};
use prometheus::Registry;

use crate::cli::ServerArgs;

/// Storage options from the command line.
pub fn options(args: &ServerArgs) -> anyhow::Result<Options> {
    let mut o = Options {
        retention_ms: args.retention_time.as_millis(),
        retention_bytes: args.retention_size,
        fsync: parse_fsync(&args.wal_fsync)?,
        ..Options::default()
    };
    if let Some(d) = args.min_block_duration {
        o.min_block_ms = d.as_millis();
    }
    if let Some(d) = args.max_block_duration {
        o.max_block_ms = Some(d.as_millis());
    }
    if let Some(d) = args.out_of_order_time_window {
        o.out_of_order_window_ms = d.as_millis();
    }
    o.validate().context("invalid storage flags")?;
    Ok(o)
}

/// Parses `--storage.tsdb.wal-fsync`: `always`, `segment`, `interval` (1 s) or a duration
/// such as `200ms` / `5s` (interval mode with that period).
pub fn parse_fsync(s: &str) -> anyhow::Result<FsyncPolicy> {
    Ok(match s {
        "always" => FsyncPolicy::Always,
        "segment" => FsyncPolicy::Segment,
        "interval" => FsyncPolicy::default(),
        other => {
            let ms = argus_model::parse_duration_ms(other)
                .map_err(|e| anyhow::anyhow!("invalid --storage.tsdb.wal-fsync {other:?}: {e}"))?;
            anyhow::ensure!(ms > 0, "--storage.tsdb.wal-fsync interval must be positive");
            FsyncPolicy::Interval(std::time::Duration::from_millis(ms as u64))
        }
    })
}

/// Opens the database (WAL replay included) off the async runtime's worker threads.
pub async fn open(args: &ServerArgs, registry: &Registry) -> anyhow::Result<Db> {
    let opts = options(args)?;
    let dir = args.tsdb_path.clone();
    let registry = registry.clone();
    tracing::info!(path = %dir.display(), "Opening storage.");
    tokio::task::spawn_blocking(move || Db::open(&dir, opts, &registry))
        .await
        .context("storage open task")?
        .with_context(|| format!("opening storage at {}", args.tsdb_path.display()))
}

/// Closes the database (final WAL fsync, lock released) off the async runtime.
pub async fn close(db: Db) {
    match tokio::task::spawn_blocking(move || db.close()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "Closing storage failed."),
        Err(e) => tracing::error!(error = %e, "Storage close task failed."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsync_flag() {
        assert_eq!(parse_fsync("always").unwrap(), FsyncPolicy::Always);
        assert_eq!(parse_fsync("segment").unwrap(), FsyncPolicy::Segment);
        assert_eq!(
            parse_fsync("250ms").unwrap(),
            FsyncPolicy::Interval(std::time::Duration::from_millis(250))
        );
        assert!(parse_fsync("sometimes").is_err());
    }
}
