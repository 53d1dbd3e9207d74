//! The `remote_write` section of the Prometheus configuration file.
//!
//! The main config keeps the section as a raw YAML value ([`argus_scrape::config::Config`]'s
//! `remote_write`); [`parse`] turns it into [`RemoteWriteConfig`]s with Prometheus'
//! defaults (`config/config.go` `DefaultRemoteWriteConfig`, `DefaultQueueConfig`,
//! `DefaultMetadataConfig`). Unknown fields are errors. Settings Prometheus knows but
//! Argus cannot act on (`oauth2`, `sigv4`, `azuread`, `google_iam`, remote-write 2.0
//! messages) are errors too, saying so, rather than being silently ignored: a sender that
//! authenticates differently than configured would only fail later, at the receiver.

use std::collections::{BTreeMap, HashSet};

use argus_model::PromDuration;
use argus_scrape::config::{Authorization, BasicAuth, HttpClientConfig, Secret, TlsConfig};
use argus_scrape::relabel::RelabelConfig;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// The only message Argus sends (remote-write 1.0).
pub const PROTOBUF_MESSAGE_V1: &str = "prometheus.WriteRequest";

/// Headers a `headers:` entry must not set, because the sender owns them
/// (Prometheus' `reservedHeaders`).
const RESERVED_HEADERS: [&str; 10] = [
    "authorization",
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
];

fn d(ms: i64) -> PromDuration {
    PromDuration(ms)
}

fn default_timeout() -> PromDuration {
    d(30_000)
}

fn default_true() -> bool {
    true
}

fn default_protobuf_message() -> String {
    PROTOBUF_MESSAGE_V1.to_owned()
}

/// `queue_config`: how samples are buffered, batched and retried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Samples buffered per shard before reading the WAL blocks (10000).
    pub capacity: usize,
    /// Shards never go above this (50).
    pub max_shards: usize,
    /// Shards start at and never go below this (1).
    pub min_shards: usize,
    /// Samples per request (2000).
    pub max_samples_per_send: usize,
    /// A batch that is not full is sent after this long (5s).
    pub batch_send_deadline: PromDuration,
    /// First retry delay, doubled on every retry (30ms).
    pub min_backoff: PromDuration,
    /// Retry delay cap (5s).
    pub max_backoff: PromDuration,
    /// Retry on 429 Too Many Requests instead of dropping the batch (false).
    pub retry_on_http_429: bool,
    /// Samples older than this are dropped instead of sent or retried (0: never).
    pub sample_age_limit: PromDuration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 10_000,
            max_shards: 50,
            min_shards: 1,
            max_samples_per_send: 2_000,
            batch_send_deadline: d(5_000),
            min_backoff: d(30),
            max_backoff: d(5_000),
            retry_on_http_429: false,
            sample_age_limit: d(0),
        }
    }
}

/// `metadata_config`: periodic metric metadata (see [`crate::metadata`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataConfig {
    /// Send metadata (true).
    pub send: bool,
    /// How often (1m).
    pub send_interval: PromDuration,
    /// Metadata entries per request (2000).
    pub max_samples_per_send: usize,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            send: true,
            send_interval: d(60_000),
            max_samples_per_send: 2_000,
        }
    }
}

/// One entry of `remote_write`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteWriteConfig {
    /// Endpoint (`http` or `https`).
    pub url: String,
    /// Name used in metrics and logs; unique among the entries.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Timeout of one request (30s).
    #[serde(default = "default_timeout")]
    pub remote_timeout: PromDuration,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Relabeling applied to each series before it is sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub write_relabel_configs: Vec<RelabelConfig>,
    /// Accepted; Argus' WAL holds no exemplars, so none are sent.
    #[serde(default)]
    pub send_exemplars: bool,
    /// Accepted; Argus' WAL holds no native histograms, so none are sent.
    #[serde(default)]
    pub send_native_histograms: bool,
    /// Must be `prometheus.WriteRequest` (remote-write 1.0).
    #[serde(default = "default_protobuf_message")]
    pub protobuf_message: String,
    /// Accepted for compatibility (connections use the resolver's order).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub round_robin_dns: bool,
    /// `basic_auth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// `authorization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// Deprecated spelling of `authorization` credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    /// Deprecated spelling of `authorization.credentials_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<String>,
    /// `tls_config`.
    #[serde(default, skip_serializing_if = "TlsConfig::is_default")]
    pub tls_config: TlsConfig,
    /// HTTP(S) proxy for requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// Follow 3xx redirects (true).
    #[serde(default = "default_true")]
    pub follow_redirects: bool,
    /// Accepted; requests use HTTP/1.1.
    #[serde(default = "default_true")]
    pub enable_http2: bool,
    /// `queue_config`.
    #[serde(default)]
    pub queue_config: QueueConfig,
    /// `metadata_config`.
    #[serde(default)]
    pub metadata_config: MetadataConfig,
    /// Prometheus settings Argus does not implement; present means an error.
    #[serde(default, skip_serializing)]
    oauth2: Option<serde_yaml_ng::Value>,
    #[serde(default, skip_serializing)]
    sigv4: Option<serde_yaml_ng::Value>,
    #[serde(default, skip_serializing)]
    azuread: Option<serde_yaml_ng::Value>,
    #[serde(default, skip_serializing)]
    google_iam: Option<serde_yaml_ng::Value>,
    #[serde(default, skip_serializing)]
    no_proxy: Option<serde_yaml_ng::Value>,
    #[serde(default, skip_serializing)]
    proxy_from_environment: Option<serde_yaml_ng::Value>,
    #[serde(default, skip_serializing)]
    proxy_connect_header: Option<serde_yaml_ng::Value>,
    #[serde(default, skip_serializing)]
    http_headers: Option<serde_yaml_ng::Value>,
}

impl RemoteWriteConfig {
    /// An entry for `url` with every default, as if written as `- url: <url>`.
    pub fn new(url: impl Into<String>) -> Self {
        RemoteWriteConfig {
            url: url.into(),
            name: String::new(),
            remote_timeout: default_timeout(),
            headers: BTreeMap::new(),
            write_relabel_configs: Vec::new(),
            send_exemplars: false,
            send_native_histograms: false,
            protobuf_message: default_protobuf_message(),
            round_robin_dns: false,
            basic_auth: None,
            authorization: None,
            bearer_token: None,
            bearer_token_file: None,
            tls_config: TlsConfig::default(),
            proxy_url: None,
            follow_redirects: true,
            enable_http2: true,
            queue_config: QueueConfig::default(),
            metadata_config: MetadataConfig::default(),
            oauth2: None,
            sigv4: None,
            azuread: None,
            google_iam: None,
            no_proxy: None,
            proxy_from_environment: None,
            proxy_connect_header: None,
            http_headers: None,
        }
    }

    /// The authentication and TLS settings, with `bearer_token(_file)` folded into
    /// `authorization` as Prometheus does.
    pub fn http_client(&self) -> HttpClientConfig {
        let authorization = match (
            &self.authorization,
            &self.bearer_token,
            &self.bearer_token_file,
        ) {
            (Some(a), _, _) => {
                let mut a = a.clone();
                if a.kind.is_empty() {
                    a.kind = "Bearer".into();
                }
                Some(a)
            }
            (None, None, None) => None,
            (None, token, file) => Some(Authorization {
                kind: "Bearer".into(),
                credentials: token.clone(),
                credentials_file: file.clone(),
            }),
        };
        HttpClientConfig {
            basic_auth: self.basic_auth.clone(),
            authorization,
            tls_config: self.tls_config.clone(),
            follow_redirects: self.follow_redirects,
            enable_http2: self.enable_http2,
        }
    }

    fn validate(&self) -> Result<(), String> {
        let scheme_ok = self
            .url
            .split_once("://")
            .is_some_and(|(s, rest)| matches!(s, "http" | "https") && !rest.is_empty());
        if self.url.is_empty() {
            return Err("url for remote_write is empty".into());
        }
        if !scheme_ok || reqwest::Url::parse(&self.url).is_err() {
            return Err(format!("invalid remote write url {:?}", self.url));
        }
        for (field, set) in [
            ("oauth2", self.oauth2.is_some()),
            ("sigv4", self.sigv4.is_some()),
            ("azuread", self.azuread.is_some()),
            ("google_iam", self.google_iam.is_some()),
            ("no_proxy", self.no_proxy.is_some()),
            (
                "proxy_from_environment",
                self.proxy_from_environment.is_some(),
            ),
            ("proxy_connect_header", self.proxy_connect_header.is_some()),
            ("http_headers", self.http_headers.is_some()),
        ] {
            if set {
                return Err(format!("{field} is not supported by Argus' remote write"));
            }
        }
        if self.protobuf_message != PROTOBUF_MESSAGE_V1 {
            return Err(format!(
                "protobuf_message {:?} is not supported, only {PROTOBUF_MESSAGE_V1:?}",
                self.protobuf_message
            ));
        }
        for h in self.headers.keys() {
            let lower = h.to_ascii_lowercase();
            if RESERVED_HEADERS.contains(&lower.as_str())
                || lower.starts_with("x-prometheus-remote-write")
            {
                return Err(format!("{h} is a reserved header. It must not be changed"));
            }
            if reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_err() {
                return Err(format!("{h:?} is not a valid header name"));
            }
        }
        for v in self.headers.values() {
            if reqwest::header::HeaderValue::from_str(v).is_err() {
                return Err(format!("{v:?} is not a valid header value"));
            }
        }
        let bearer = self.bearer_token.is_some() || self.bearer_token_file.is_some();
        if self.bearer_token.is_some() && self.bearer_token_file.is_some() {
            return Err(
                "at most one of bearer_token & bearer_token_file must be configured".into(),
            );
        }
        if let Some(a) = &self.authorization {
            if bearer {
                return Err(
                    "authorization is not compatible with bearer_token & bearer_token_file".into(),
                );
            }
            if a.credentials.is_some() && a.credentials_file.is_some() {
                return Err(
                    "at most one of authorization credentials & credentials_file must be configured"
                        .into(),
                );
            }
            if a.kind.eq_ignore_ascii_case("basic") {
                return Err(
                    "authorization type cannot be set to \"basic\", use \"basic_auth\" instead"
                        .into(),
                );
            }
        }
        if self.basic_auth.is_some() && (bearer || self.authorization.is_some()) {
            return Err(
                "at most one of basic_auth, bearer_token & authorization must be configured".into(),
            );
        }
        if let Some(b) = &self.basic_auth {
            if !b.username.is_empty() && b.username_file.is_some() {
                return Err(
                    "at most one of basic_auth username & username_file must be configured".into(),
                );
            }
            if b.password.is_some() && b.password_file.is_some() {
                return Err(
                    "at most one of basic_auth password & password_file must be configured".into(),
                );
            }
        }
        if let Some(p) = &self.proxy_url {
            if reqwest::Url::parse(p).is_err() {
                return Err(format!("invalid proxy_url {p:?}"));
            }
        }
        if self.remote_timeout.0 <= 0 {
            return Err("remote_timeout must be positive".into());
        }
        self.queue_config.validate()
    }
}

impl QueueConfig {
    fn validate(&self) -> Result<(), String> {
        if self.min_shards == 0 {
            return Err("queue_config.min_shards must be at least 1".into());
        }
        if self.max_shards < self.min_shards {
            return Err(format!(
                "queue_config.max_shards ({}) must not be below min_shards ({})",
                self.max_shards, self.min_shards
            ));
        }
        if self.max_samples_per_send == 0 {
            return Err("queue_config.max_samples_per_send must be at least 1".into());
        }
        if self.capacity == 0 {
            return Err("queue_config.capacity must be at least 1".into());
        }
        if self.batch_send_deadline.0 <= 0 {
            return Err("queue_config.batch_send_deadline must be positive".into());
        }
        if self.min_backoff.0 < 0 || self.max_backoff.0 < self.min_backoff.0 {
            return Err("queue_config.max_backoff must not be below min_backoff".into());
        }
        Ok(())
    }
}

/// Parses the raw `remote_write` value of the main configuration (`None` or `null`: no
/// queues). Errors name the entry: `remote_write[1]: unknown field "bogus"`.
pub fn parse(value: Option<&serde_yaml_ng::Value>) -> Result<Vec<RemoteWriteConfig>, ConfigError> {
    let entries = match value {
        None | Some(serde_yaml_ng::Value::Null) => return Ok(Vec::new()),
        Some(serde_yaml_ng::Value::Sequence(s)) => s,
        Some(_) => {
            return Err(ConfigError {
                path: "remote_write".into(),
                message: "must be a list of remote write configs".into(),
            })
        }
    };
    let mut out: Vec<RemoteWriteConfig> = Vec::with_capacity(entries.len());
    let mut names = HashSet::new();
    for (i, v) in entries.iter().enumerate() {
        let at = |message: String| ConfigError {
            path: format!("remote_write[{i}]"),
            message,
        };
        let cfg: RemoteWriteConfig =
            serde_yaml_ng::from_value(v.clone()).map_err(|e| at(e.to_string()))?;
        cfg.validate().map_err(at)?;
        if !cfg.name.is_empty() && !names.insert(cfg.name.clone()) {
            return Err(at(format!(
                "found multiple remote write configs with job name {:?}",
                cfg.name
            )));
        }
        if out.iter().any(|o| o.url == cfg.url && o.name == cfg.name) {
            return Err(at(format!(
                "duplicate remote write configs are not allowed, found duplicate for URL: {} (give them distinct names)",
                cfg.url
            )));
        }
        out.push(cfg);
    }
    Ok(out)
}

/// Parses YAML text holding a `remote_write` list (tests and tools).
pub fn parse_str(text: &str) -> Result<Vec<RemoteWriteConfig>, ConfigError> {
    let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| ConfigError {
        path: "remote_write".into(),
        message: e.to_string(),
    })?;
    parse(Some(&v))
}

impl RemoteWriteConfig {
    /// Identifies the destination: the position file is named after it, so tuning
    /// `queue_config`, relabeling or credentials on reload resumes where the queue was.
    pub fn destination_key(&self) -> u64 {
        let mut h = xxhash_rust::xxh64::Xxh64::new(0);
        h.update(self.url.as_bytes());
        h.update(&[0]);
        h.update(self.name.as_bytes());
        h.digest()
    }

    /// Changes whenever anything in the entry (secrets included) or the external labels
    /// change: a reload restarts exactly the queues whose hash changed.
    pub fn config_hash(&self, external_labels: &BTreeMap<String, String>) -> u64 {
        let mut h = xxhash_rust::xxh64::Xxh64::new(0);
        h.update(serde_json::to_string(self).unwrap_or_default().as_bytes());
        let secrets = [
            self.basic_auth.as_ref().and_then(|b| b.password.as_ref()),
            self.authorization
                .as_ref()
                .and_then(|a| a.credentials.as_ref()),
            self.bearer_token.as_ref(),
            self.tls_config.key.as_ref(),
        ];
        for s in secrets {
            h.update(&[0xff]);
            if let Some(s) = s {
                h.update(s.0.as_bytes());
            }
        }
        for (k, v) in external_labels {
            h.update(&[0xfe]);
            h.update(k.as_bytes());
            h.update(&[0]);
            h.update(v.as_bytes());
        }
        h.digest()
    }

    /// The `remote_name` label: the configured name, else the first six hex digits of the
    /// destination key (Prometheus uses a prefix of its config hash the same way).
    pub fn remote_name(&self) -> String {
        if self.name.is_empty() {
            format!("{:016x}", self.destination_key())
                .get(..6)
                .unwrap_or_default()
                .to_owned()
        } else {
            self.name.clone()
        }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
