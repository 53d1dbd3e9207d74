//! `argus tsdb ...`: operator tools on a data directory.
//!
//! - `argus tsdb analyze <dir>`: blocks, series, chunks, samples, bytes per sample and the
//!   highest-cardinality names and pairs; every chunk checksum is verified.
//! - `argus tsdb dump <dir> [--match <selector>]... [--min-time] [--max-time]`: samples as
//!   `{labels} value timestamp` lines (promtool's format), from blocks and the WAL.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};

/// `argus tsdb` subcommands.
#[derive(Debug, Subcommand)]
pub enum TsdbCommand {
    /// Report series, chunks, samples, bytes/sample and cardinality of each block.
    Analyze(AnalyzeArgs),
    /// Print samples as `{labels} value timestamp_ms` lines.
    Dump(DumpArgs),
}

/// Flags of `argus tsdb analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The data directory (`--storage.tsdb.path` of the server).
    #[arg(default_value = "data/")]
    pub dir: PathBuf,
    /// How many entries each top list shows.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

/// Flags of `argus tsdb dump`.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// The data directory.
    #[arg(default_value = "data/")]
    pub dir: PathBuf,
    /// Series selector; repeatable (series matching any of them are dumped). Default: all.
    #[arg(long = "match")]
    pub matches: Vec<String>,
    /// Lowest timestamp to dump, ms since the epoch.
    #[arg(long = "min-time", default_value_t = i64::MIN, allow_hyphen_values = true)]
    pub min_time: i64,
    /// Highest timestamp to dump, ms since the epoch.
    #[arg(long = "max-time", default_value_t = i64::MAX, allow_hyphen_values = true)]
    pub max_time: i64,
}

/// Runs a `tsdb` subcommand.
pub fn run(cmd: TsdbCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TsdbCommand::Analyze(a) => {
            let report = argus_tsdb::analyze::analyze(&a.dir, a.limit)
                .with_context(|| format!("analyzing {}", a.dir.display()))?;
            let mut out = std::io::stdout().lock();
            write!(out, "{report}")?;
            out.flush()?;
            let damaged =
                !report.broken.is_empty() || report.blocks.iter().any(|b| b.corrupt_chunks > 0);
            Ok(if damaged {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        TsdbCommand::Dump(d) => {
            anyhow::ensure!(
                d.min_time <= d.max_time,
                "--min-time {} is after --max-time {}",
                d.min_time,
                d.max_time
            );
            let mut selectors = Vec::new();
            for m in &d.matches {
                let ms = argus_query::parse_metric_selector(m)
                    .map_err(|e| anyhow::anyhow!("invalid --match {m:?}: {e}"))?;
                selectors.push(ms);
            }
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            argus_tsdb::dump::dump(&d.dir, &selectors, d.min_time, d.max_time, &mut out)
                .with_context(|| format!("dumping {}", d.dir.display()))?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
