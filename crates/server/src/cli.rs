//! Command line. Flag names follow Prometheus' wherever the meaning is the same, so that
//! existing manifests and scripts port over unchanged.

use std::net::SocketAddr;
use std::path::PathBuf;

use argus_model::PromDuration;
use clap::{Args, Parser, Subcommand};

/// Argus: Prometheus-compatible metrics and monitoring pipeline.
#[derive(Debug, Parser)]
#[command(name = "argus", version, about, long_about = None)]
pub struct Cli {
    /// Log level: debug, info, warn, error.
    #[arg(long = "log.level", default_value = "info", global = true)]
    pub log_level: String,

    /// Log format: logfmt or json.
    #[arg(long = "log.format", default_value = "logfmt", global = true)]
    pub log_format: String,

    #[command(flatten)]
    pub server: ServerArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands (operator tools). Without one, `argus` runs the server.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tools for the time-series database (analyze, dump).
    #[command(subcommand)]
    Tsdb(crate::cmd_tsdb::TsdbCommand),
}

/// Flags of the server.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Configuration file (Prometheus format). Without it an embedded default is used: scrape
    /// Argus itself and a local node_exporter on :9100.
    #[arg(long = "config.file")]
    pub config_file: Option<PathBuf>,

    /// Base directory of the time-series database.
    #[arg(long = "storage.tsdb.path", default_value = "./data")]
    pub tsdb_path: PathBuf,

    /// How long to keep samples.
    #[arg(long = "storage.tsdb.retention.time", default_value = "15d")]
    pub retention_time: PromDuration,

    /// Maximum bytes of blocks to keep (units B, KB, MB, GB, TB, PB, EB; base 2). 0 = no limit.
    #[arg(long = "storage.tsdb.retention.size", default_value = "0", value_parser = parse_bytes)]
    pub retention_size: u64,

    /// When the WAL is fsynced: `interval` (every 1 s, default; or a duration such as
    /// `200ms`), `always` (before each commit returns) or `segment` (when a 128 MiB segment
    /// is full, Prometheus' behaviour). Every mode survives a process crash; they differ in
    /// what a power loss can take (see docs/tsdb.md).
    #[arg(long = "storage.tsdb.wal-fsync", default_value = "interval")]
    pub wal_fsync: String,

    /// Smallest block range (Prometheus' hidden flag; default 2h).
    #[arg(long = "storage.tsdb.min-block-duration", hide = true)]
    pub min_block_duration: Option<PromDuration>,

    /// Largest block range compaction produces (default: 10% of retention, at most 31d).
    #[arg(long = "storage.tsdb.max-block-duration", hide = true)]
    pub max_block_duration: Option<PromDuration>,

    /// Accept samples up to this much older than the newest one (Prometheus' config
    /// `storage.tsdb.out_of_order_time_window`; a config file setting overrides it).
    #[arg(long = "storage.tsdb.out-of-order-time-window")]
    pub out_of_order_time_window: Option<PromDuration>,

    /// Address to listen on for the UI, API and telemetry.
    #[arg(long = "web.listen-address", default_value = "0.0.0.0:9090")]
    pub listen_address: SocketAddr,

    /// Enable the admin endpoints (`/api/v1/admin/tsdb/*`).
    #[arg(long = "web.enable-admin-api", default_value_t = false)]
    pub enable_admin_api: bool,

    /// Enable `POST /-/reload` and `POST /-/quit`.
    #[arg(long = "web.enable-lifecycle", default_value_t = false)]
    pub enable_lifecycle: bool,

    /// The URL under which Argus is reachable from outside (for alert generator URLs).
    #[arg(long = "web.external-url")]
    pub external_url: Option<String>,
}

/// Parses Prometheus' byte sizes (`512MB`, `1GB`, `100`), base 2 like Prometheus' flag.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("invalid size {s:?}"))?;
    let mult: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" | "KIB" => 1 << 10,
        "MB" | "MIB" => 1 << 20,
        "GB" | "GIB" => 1 << 30,
        "TB" | "TIB" => 1 << 40,
        "PB" | "PIB" => 1 << 50,
        "EB" | "EIB" => 1 << 60,
        _ => return Err(format!("invalid size unit in {s:?}")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes() {
        assert_eq!(parse_bytes("512MB"), Ok(512 << 20));
        assert_eq!(parse_bytes("100"), Ok(100));
        assert!(parse_bytes("1XB").is_err());
    }

    #[test]
    fn prometheus_flag_names_parse() {
        let c = Cli::try_parse_from([
            "argus",
            "--config.file=x.yml",
            "--storage.tsdb.path",
            "/d",
            "--storage.tsdb.retention.time=100y",
            "--web.listen-address=127.0.0.1:1",
            "--web.enable-admin-api",
        ])
        .unwrap();
        assert_eq!(c.server.retention_time.as_millis(), 100 * 365 * 86_400_000);
        assert!(c.server.enable_admin_api);
    }
}
