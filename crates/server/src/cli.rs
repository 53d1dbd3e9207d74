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
    /// Validate configuration and rule files (like `promtool check`).
    #[command(subcommand)]
    Check(crate::cmd_check::CheckCommand),
    /// Unit-test rule files (like `promtool test rules`).
    #[command(subcommand)]
    Test(crate::cmd_check::TestCommand),
    /// Run PromQL queries against a running server (like `promtool query`).
    #[command(subcommand)]
    Query(crate::cmd_query::QueryCommand),
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

    /// Maximum bytes of storage to keep: blocks plus the WAL, as Prometheus counts it (units
    /// B, KB, MB, GB, TB, PB, EB; base 2). 0 = no limit.
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

    /// TLS and basic authentication of the listener (Prometheus' web configuration file:
    /// `tls_server_config`, `basic_auth_users`, `http_server_config`).
    #[arg(long = "web.config.file")]
    pub web_config_file: Option<PathBuf>,

    /// Enable the admin endpoints (`/api/v1/admin/tsdb/*`).
    #[arg(long = "web.enable-admin-api", default_value_t = false)]
    pub enable_admin_api: bool,

    /// Enable `POST /-/reload` and `POST /-/quit`.
    #[arg(long = "web.enable-lifecycle", default_value_t = false)]
    pub enable_lifecycle: bool,

    /// The URL under which Argus is reachable from outside (for alert generator URLs).
    #[arg(long = "web.external-url")]
    pub external_url: Option<String>,

    /// Regex of origins allowed by CORS, fully anchored.
    #[arg(long = "web.cors.origin", default_value = ".*")]
    pub cors_origin: String,

    /// Accepted for compatibility with Prometheus manifests: Argus' remote-write receiver
    /// (`POST /api/v1/write`) is on by default.
    #[arg(long = "web.enable-remote-write-receiver", default_value_t = false)]
    pub enable_remote_write_receiver: bool,

    /// Turn the remote-write receiver off.
    #[arg(long = "web.disable-remote-write-receiver", default_value_t = false)]
    pub disable_remote_write_receiver: bool,

    /// How far back a vector selector looks for the newest sample.
    #[arg(long = "query.lookback-delta", default_value = "5m")]
    pub lookback_delta: PromDuration,

    /// Samples a single query may load into memory.
    #[arg(long = "query.max-samples", default_value_t = 50_000_000)]
    pub query_max_samples: usize,

    /// Longest a query may run.
    #[arg(long = "query.timeout", default_value = "2m")]
    pub query_timeout: PromDuration,

    /// Queries evaluated at once; further ones wait.
    #[arg(long = "query.max-concurrency", default_value_t = 20)]
    pub query_max_concurrency: usize,

    /// Feature flags (Prometheus' `--enable-feature`; comma-separated or repeated).
    /// `promql-delayed-name-removal` is honoured; others are accepted and logged.
    #[arg(long = "enable-feature", value_delimiter = ',')]
    pub enable_feature: Vec<String>,

    /// Alerts in `for` state are restored only if the outage was shorter than this.
    #[arg(long = "rules.alert.for-outage-tolerance", default_value = "1h")]
    pub for_outage_tolerance: PromDuration,

    /// Minimum time between a restart and an alert firing for a restored `for` state.
    #[arg(long = "rules.alert.for-grace-period", default_value = "10m")]
    pub for_grace_period: PromDuration,

    /// Minimum delay before re-sending an alert to Alertmanager.
    #[arg(long = "rules.alert.resend-delay", default_value = "1m")]
    pub resend_delay: PromDuration,

    /// Alerts queued for external Alertmanagers before the oldest are dropped.
    #[arg(
        long = "alertmanager.notification-queue-capacity",
        default_value_t = 10_000
    )]
    pub notification_queue_capacity: usize,

    /// Configuration of the built-in alert manager (Alertmanager's format). Without it,
    /// alerts are kept and shown, and routed to a receiver with no integrations.
    #[arg(long = "alertmanager.config.file")]
    pub alertmanager_config: Option<PathBuf>,

    /// State directory of the built-in alert manager (silences, notification log,
    /// outbox). Default: `alertmanager/` inside `--storage.tsdb.path`.
    #[arg(long = "alertmanager.storage.path")]
    pub alertmanager_storage: Option<PathBuf>,

    /// Address of the Kubernetes metrics APIs (TLS). Empty turns them off.
    #[arg(long = "adapter.listen-address", default_value = "0.0.0.0:6443")]
    pub adapter_listen_address: String,

    /// Metric rules of the adapter (prometheus-adapter's format). Default: embedded rules
    /// serving the usual cAdvisor, node_exporter and application metrics.
    #[arg(long = "adapter.config.file")]
    pub adapter_config: Option<PathBuf>,

    /// Serving certificate of the adapter (PEM); a self-signed one is generated without it.
    #[arg(long = "adapter.tls-cert-file")]
    pub adapter_tls_cert: Option<PathBuf>,

    /// Private key of `--adapter.tls-cert-file` (PEM).
    #[arg(long = "adapter.tls-private-key-file")]
    pub adapter_tls_key: Option<PathBuf>,

    /// CA of front-proxy client certificates (the aggregator's). In a cluster it is read
    /// from `kube-system/extension-apiserver-authentication` when not given.
    #[arg(long = "requestheader-client-ca-file")]
    pub requestheader_client_ca: Option<PathBuf>,

    /// Client certificate common names allowed to act as a front proxy (empty: any).
    #[arg(long = "requestheader-allowed-names", value_delimiter = ',')]
    pub requestheader_allowed_names: Vec<String>,

    /// Headers carrying the user name set by the front proxy.
    #[arg(
        long = "requestheader-username-headers",
        value_delimiter = ',',
        default_value = "X-Remote-User"
    )]
    pub requestheader_username_headers: Vec<String>,

    /// Headers carrying the groups set by the front proxy.
    #[arg(
        long = "requestheader-group-headers",
        value_delimiter = ',',
        default_value = "X-Remote-Group"
    )]
    pub requestheader_group_headers: Vec<String>,

    /// Serve the adapter APIs to requests without credentials (testing only).
    #[arg(long = "adapter.allow-anonymous", default_value_t = false)]
    pub adapter_allow_anonymous: bool,

    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// Label that tells replicas apart in data from several replicas (remote-written into
    /// one place): queries drop it and merge the replicas' series, keeping one replica's
    /// samples and switching only across its gaps. Repeatable.
    #[arg(long = "query.replica-label")]
    pub query_replica_labels: Vec<String>,
}

/// Flags of the HA replica cluster (see deploy/README.md).
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Address of the peer API (state replication, remote read for backfill). Empty
    /// (default) with no `--cluster.peer` runs a single server.
    #[arg(
        id = "cluster_listen_address",
        long = "cluster.listen-address",
        default_value = ""
    )]
    pub listen_address: String,

    /// A peer's `--cluster.listen-address` as host:port; repeatable. The list may include
    /// this replica itself (recognised and skipped).
    #[arg(long = "cluster.peer")]
    pub peers: Vec<String>,

    /// How long each position in the peer order delays a notification (Alertmanager's
    /// `--cluster.peer-timeout`).
    #[arg(long = "cluster.peer-timeout", default_value = "15s")]
    pub peer_timeout: PromDuration,

    /// How often full state is exchanged with every peer (anti-entropy; changes are also
    /// pushed at once). Also the liveness probe of peers.
    #[arg(long = "cluster.pushpull-interval", default_value = "5s")]
    pub pushpull_interval: PromDuration,

    /// External label naming this replica in everything sent out (not in local storage,
    /// not in alerts to the built-in alert manager).
    #[arg(long = "cluster.replica-label", default_value = "replica")]
    pub replica_label: String,

    /// This replica's name (the replica label's value). Default: the hostname, unless
    /// `global.external_labels` already sets the replica label.
    #[arg(long = "cluster.replica-name")]
    pub replica_name: Option<String>,

    /// How far back gaps in this replica's scraping are healed from peers.
    #[arg(long = "cluster.backfill.max-window", default_value = "1h")]
    pub backfill_max_window: PromDuration,

    /// Longest start-up backfill before the server reports ready anyway.
    #[arg(long = "cluster.backfill.timeout", default_value = "1m")]
    pub backfill_timeout: PromDuration,

    /// How often the scrape history is checked for gaps while running.
    #[arg(long = "cluster.backfill.check-interval", default_value = "1m")]
    pub backfill_check_interval: PromDuration,
}

impl ClusterArgs {
    /// True when this server is a member of a replica cluster.
    pub fn enabled(&self) -> bool {
        !self.listen_address.trim().is_empty() || !self.peers.is_empty()
    }
}

impl ServerArgs {
    /// Whether a feature flag was given.
    pub fn feature(&self, name: &str) -> bool {
        self.enable_feature.iter().any(|f| f.trim() == name)
    }

    /// Every flag with its value, as `/api/v1/status/flags` shows them.
    pub fn flag_map(&self) -> std::collections::BTreeMap<String, String> {
        let opt = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        let mut m = std::collections::BTreeMap::new();
        let mut put = |k: &str, v: String| {
            m.insert(k.to_owned(), v);
        };
        put("config.file", opt(&self.config_file));
        put("storage.tsdb.path", self.tsdb_path.display().to_string());
        put(
            "storage.tsdb.retention.time",
            self.retention_time.to_string(),
        );
        put(
            "storage.tsdb.retention.size",
            self.retention_size.to_string(),
        );
        put("storage.tsdb.wal-fsync", self.wal_fsync.clone());
        put(
            "storage.tsdb.out-of-order-time-window",
            self.out_of_order_time_window
                .map(|d| d.to_string())
                .unwrap_or_else(|| "0s".into()),
        );
        put("web.listen-address", self.listen_address.to_string());
        put("web.config.file", opt(&self.web_config_file));
        put("web.enable-admin-api", self.enable_admin_api.to_string());
        put("web.enable-lifecycle", self.enable_lifecycle.to_string());
        put(
            "web.external-url",
            self.external_url.clone().unwrap_or_default(),
        );
        put("web.cors.origin", self.cors_origin.clone());
        put(
            "web.enable-remote-write-receiver",
            (!self.disable_remote_write_receiver).to_string(),
        );
        put("query.lookback-delta", self.lookback_delta.to_string());
        put("query.max-samples", self.query_max_samples.to_string());
        put("query.timeout", self.query_timeout.to_string());
        put(
            "query.max-concurrency",
            self.query_max_concurrency.to_string(),
        );
        put("enable-feature", self.enable_feature.join(","));
        put(
            "rules.alert.for-outage-tolerance",
            self.for_outage_tolerance.to_string(),
        );
        put(
            "rules.alert.for-grace-period",
            self.for_grace_period.to_string(),
        );
        put("rules.alert.resend-delay", self.resend_delay.to_string());
        put(
            "alertmanager.notification-queue-capacity",
            self.notification_queue_capacity.to_string(),
        );
        put("alertmanager.config.file", opt(&self.alertmanager_config));
        put("alertmanager.storage.path", opt(&self.alertmanager_storage));
        put(
            "adapter.listen-address",
            self.adapter_listen_address.clone(),
        );
        put("adapter.config.file", opt(&self.adapter_config));
        let c = &self.cluster;
        put("cluster.listen-address", c.listen_address.clone());
        put("cluster.peer", c.peers.join(","));
        put("cluster.peer-timeout", c.peer_timeout.to_string());
        put("cluster.pushpull-interval", c.pushpull_interval.to_string());
        put("cluster.replica-label", c.replica_label.clone());
        put(
            "cluster.replica-name",
            c.replica_name.clone().unwrap_or_default(),
        );
        put(
            "cluster.backfill.max-window",
            c.backfill_max_window.to_string(),
        );
        put("cluster.backfill.timeout", c.backfill_timeout.to_string());
        put(
            "cluster.backfill.check-interval",
            c.backfill_check_interval.to_string(),
        );
        put("query.replica-label", self.query_replica_labels.join(","));
        m
    }
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
