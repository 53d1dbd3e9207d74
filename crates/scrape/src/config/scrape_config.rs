//! One `scrape_configs` entry, with Prometheus' defaults and validation.

use std::collections::BTreeMap;

use argus_model::PromDuration;
use serde::{Deserialize, Serialize};

use super::http_client::{
    validate_client_auth, Authorization, BasicAuth, ClientAuth, HttpClientConfig, TlsConfig,
};
use super::kubernetes::KubernetesSdConfig;
use super::locate::PathElem;
use super::sd::{FileSdConfig, StaticConfig};
use super::values::{default_true, is_false, is_zero, null_default, ByteSize, Secret};
use super::GlobalConfig;
use crate::relabel::RelabelConfig;

/// A scrape protocol name, as in `scrape_protocols` (case-sensitive, as in Prometheus).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScrapeProtocol {
    /// Protobuf exposition (`io.prometheus.client.MetricFamily`, delimited).
    PrometheusProto,
    /// Text format 0.0.4.
    #[serde(rename = "PrometheusText0.0.4")]
    PrometheusText004,
    /// Text format 1.0.0.
    #[serde(rename = "PrometheusText1.0.0")]
    PrometheusText100,
    /// OpenMetrics 0.0.1.
    #[serde(rename = "OpenMetricsText0.0.1")]
    OpenMetricsText001,
    /// OpenMetrics 1.0.0.
    #[serde(rename = "OpenMetricsText1.0.0")]
    OpenMetricsText100,
}

impl ScrapeProtocol {
    /// Prometheus' default preference order (without native histograms).
    pub const DEFAULT: [ScrapeProtocol; 4] = [
        ScrapeProtocol::OpenMetricsText100,
        ScrapeProtocol::OpenMetricsText001,
        ScrapeProtocol::PrometheusText100,
        ScrapeProtocol::PrometheusText004,
    ];

    /// The media type with parameters that is offered in the Accept header.
    pub fn header(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
            }
            ScrapeProtocol::PrometheusText004 => "text/plain;version=0.0.4",
            ScrapeProtocol::PrometheusText100 => "text/plain;version=1.0.0",
            ScrapeProtocol::OpenMetricsText001 => "application/openmetrics-text;version=0.0.1",
            ScrapeProtocol::OpenMetricsText100 => "application/openmetrics-text;version=1.0.0",
        }
    }
}

fn default_metrics_path() -> String {
    "/metrics".to_owned()
}

fn default_scheme() -> String {
    "http".to_owned()
}

/// Defines [`ScrapeConfig`] with one raw field per discovery mechanism Prometheus knows
/// but Argus does not implement (yet). They are accepted so a Prometheus file loads
/// unchanged, and reported by [`ScrapeConfig::unsupported`]. (`#[serde(flatten)]` would
/// be shorter, but it buffers the whole mapping and loses the line numbers of errors.)
macro_rules! with_other_sd {
    ($(#[$m:meta])* pub struct $name:ident { $($body:tt)* } other_sd: [$($sd:ident),* $(,)?]) => {
        $(#[$m])*
        pub struct $name {
            $($body)*
            $(
                #[doc = concat!("`", stringify!($sd), "`, kept as raw YAML (not supported).")]
                #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
                pub $sd: Vec<serde_yaml_ng::Value>,
            )*
        }
        impl $name {
            /// Names of the unsupported discovery sections that are not empty.
            pub fn other_sd_configured(&self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $( if !self.$sd.is_empty() { out.push(stringify!($sd)); } )*
                out
            }
        }
    };
}

with_other_sd! {
/// A `scrape_configs` entry. Optional fields left empty inherit from `global` in
/// [`ScrapeConfig::resolve`], as in Prometheus' `ScrapeConfig.Validate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeConfig {
    /// The job name (also the default `job` label).
    pub job_name: String,
    /// Keep the target's labels on conflicts instead of renaming them `exported_*`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub honor_labels: bool,
    /// Use timestamps the target exposes.
    #[serde(default = "default_true")]
    pub honor_timestamps: bool,
    /// Write stale markers for series with explicit timestamps too.
    #[serde(default)]
    pub track_timestamps_staleness: bool,
    /// URL query parameters.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub params: BTreeMap<String, Vec<String>>,
    /// Scrape interval (global default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_interval: Option<PromDuration>,
    /// Scrape timeout (min(global timeout, interval) when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_timeout: Option<PromDuration>,
    /// Accepted exposition formats, most preferred first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_protocols: Option<Vec<ScrapeProtocol>>,
    /// Format assumed when the target's Content-Type is missing or unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_scrape_protocol: Option<ScrapeProtocol>,
    /// Native histograms (not supported by Argus' storage; accepted for compatibility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_native_histograms: Option<bool>,
    /// Accepted for compatibility.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_scrape_classic_histograms: Option<bool>,
    /// Accepted for compatibility.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convert_classic_histograms_to_nhcb: Option<bool>,
    /// Accepted for compatibility.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_failure_log_file: Option<String>,
    /// Path of the metrics endpoint.
    #[serde(default = "default_metrics_path")]
    pub metrics_path: String,
    /// `http` or `https`.
    #[serde(default = "default_scheme")]
    pub scheme: String,
    /// Ask for gzip.
    #[serde(default = "default_true")]
    pub enable_compression: bool,
    /// Uncompressed body size limit; 0 means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_size_limit: Option<ByteSize>,
    /// Samples per scrape after metric relabeling; 0 means none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sample_limit: u64,
    /// Targets per pool after relabeling; 0 means none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub target_limit: u64,
    /// Labels per series; 0 means none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub label_limit: u64,
    /// Label name length; 0 means none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub label_name_length_limit: u64,
    /// Label value length; 0 means none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub label_value_length_limit: u64,
    /// Accepted for compatibility.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub native_histogram_bucket_limit: u64,
    /// Accepted for compatibility.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_histogram_min_bucket_factor: Option<f64>,
    /// Dropped targets kept for the API; 0 means all.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub keep_dropped_targets: u64,
    /// `legacy` or `utf8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name_validation_scheme: Option<String>,
    /// Escaping requested from targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name_escaping_scheme: Option<String>,
    /// Accepted for compatibility.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_scrape_metrics: Option<bool>,

    /// `basic_auth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// `authorization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// OAuth 2 (not supported; reported by [`ScrapeConfig::unsupported`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<serde_yaml_ng::Value>,
    /// Deprecated form of `authorization.credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    /// Deprecated form of `authorization.credentials_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<String>,
    /// `tls_config`.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "TlsConfig::is_default"
    )]
    pub tls_config: TlsConfig,
    /// Proxies are not supported; reported by [`ScrapeConfig::unsupported`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// See `proxy_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_proxy: Option<String>,
    /// See `proxy_url`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub proxy_from_environment: bool,
    /// See `proxy_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_connect_header: Option<serde_yaml_ng::Value>,
    /// Follow HTTP redirects.
    #[serde(default = "default_true")]
    pub follow_redirects: bool,
    /// Allow HTTP/2.
    #[serde(default = "default_true")]
    pub enable_http2: bool,
    /// Extra request headers (not supported; reported by [`ScrapeConfig::unsupported`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_headers: Option<serde_yaml_ng::Value>,

    /// Static targets.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub static_configs: Vec<StaticConfig>,
    /// File-based discovery.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub file_sd_configs: Vec<FileSdConfig>,
    /// Kubernetes API discovery.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub kubernetes_sd_configs: Vec<KubernetesSdConfig>,

    /// Target relabeling.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub relabel_configs: Vec<RelabelConfig>,
    /// Metric relabeling.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub metric_relabel_configs: Vec<RelabelConfig>,
}
other_sd: [
    azure_sd_configs,
    consul_sd_configs,
    digitalocean_sd_configs,
    docker_sd_configs,
    dockerswarm_sd_configs,
    dns_sd_configs,
    ec2_sd_configs,
    eureka_sd_configs,
    gce_sd_configs,
    hetzner_sd_configs,
    http_sd_configs,
    ionos_sd_configs,
    kuma_sd_configs,
    lightsail_sd_configs,
    linode_sd_configs,
    marathon_sd_configs,
    nerve_sd_configs,
    nomad_sd_configs,
    openstack_sd_configs,
    ovhcloud_sd_configs,
    puppetdb_sd_configs,
    scaleway_sd_configs,
    serverset_sd_configs,
    stackit_sd_configs,
    triton_sd_configs,
    uyuni_sd_configs,
    vultr_sd_configs,
]
}

/// A validation failure: the field (relative to the scrape config) and the message.
pub(crate) type FieldError = (Vec<PathElem>, String);

fn k(name: &str) -> Vec<PathElem> {
    vec![PathElem::Key(name.to_owned())]
}

impl ScrapeConfig {
    /// The scrape interval after inheritance (valid after config loading).
    pub fn interval(&self) -> PromDuration {
        self.scrape_interval.unwrap_or(PromDuration(60_000))
    }

    /// The scrape timeout after inheritance (valid after config loading).
    pub fn timeout(&self) -> PromDuration {
        self.scrape_timeout.unwrap_or(PromDuration(10_000))
    }

    /// The body size limit in bytes, 0 for none.
    pub fn body_size_limit_bytes(&self) -> u64 {
        self.body_size_limit.map(|b| b.0).unwrap_or(0)
    }

    /// The accepted protocols after inheritance.
    pub fn protocols(&self) -> &[ScrapeProtocol] {
        self.scrape_protocols
            .as_deref()
            .unwrap_or(&ScrapeProtocol::DEFAULT)
    }

    /// Authentication and TLS, with `bearer_token(_file)` folded into `authorization`.
    pub fn http_client(&self) -> HttpClientConfig {
        let mut authorization = self.authorization.clone();
        if self.bearer_token.is_some() || self.bearer_token_file.is_some() {
            authorization = Some(Authorization {
                kind: "Bearer".into(),
                credentials: self.bearer_token.clone(),
                credentials_file: self.bearer_token_file.clone(),
            });
        }
        if let Some(a) = authorization.as_mut() {
            if a.kind.is_empty() {
                a.kind = "Bearer".into();
            }
        }
        HttpClientConfig {
            basic_auth: self.basic_auth.clone(),
            authorization,
            tls_config: self.tls_config.clone(),
            follow_redirects: self.follow_redirects,
            enable_http2: self.enable_http2,
        }
    }

    /// Settings Argus accepts (they are valid Prometheus YAML) but does not act on.
    pub fn unsupported(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .other_sd_configured()
            .into_iter()
            .map(|s| format!("{s} is not supported yet; its targets are not discovered"))
            .collect();
        if self.oauth2.is_some() {
            out.push("oauth2 is not supported".into());
        }
        if self.proxy_url.is_some() || self.proxy_from_environment {
            out.push("proxies are not supported; targets are scraped directly".into());
        }
        if self.http_headers.is_some() {
            out.push("http_headers is not supported".into());
        }
        for (i, k) in self.kubernetes_sd_configs.iter().enumerate() {
            for u in k.unsupported() {
                out.push(format!("kubernetes_sd_configs[{i}]: {u}"));
            }
        }
        if self.scrape_native_histograms == Some(true) {
            out.push("native histograms are not stored; classic buckets are kept".into());
        }
        out
    }

    /// Fills inherited values from `global` and checks the scrape config, as Prometheus'
    /// `ScrapeConfig.Validate` does. Errors name the field they concern.
    pub(crate) fn resolve(&mut self, global: &GlobalConfig) -> Result<(), FieldError> {
        if self.job_name.is_empty() {
            return Err((k("job_name"), "job_name is empty".into()));
        }
        let interval = self.scrape_interval.unwrap_or(global.scrape_interval);
        if interval.0 <= 0 {
            return Err((
                k("scrape_interval"),
                "scrape interval must be positive".into(),
            ));
        }
        self.scrape_interval = Some(interval);
        if let Some(t) = self.scrape_timeout {
            if t > interval {
                return Err((
                    k("scrape_timeout"),
                    format!(
                        "scrape timeout greater than scrape interval for scrape config with job name {:?}",
                        self.job_name
                    ),
                ));
            }
        }
        let global_timeout = global.scrape_timeout.unwrap_or(PromDuration(10_000));
        self.scrape_timeout = Some(
            self.scrape_timeout
                .unwrap_or_else(|| global_timeout.min(interval)),
        );
        if self.body_size_limit.is_none_or(|b| b.0 == 0) {
            self.body_size_limit = Some(global.body_size_limit);
        }
        inherit(&mut self.sample_limit, global.sample_limit);
        inherit(&mut self.target_limit, global.target_limit);
        inherit(&mut self.label_limit, global.label_limit);
        inherit(
            &mut self.label_name_length_limit,
            global.label_name_length_limit,
        );
        inherit(
            &mut self.label_value_length_limit,
            global.label_value_length_limit,
        );
        inherit(&mut self.keep_dropped_targets, global.keep_dropped_targets);
        if self.scrape_protocols.is_none() {
            self.scrape_protocols = global.scrape_protocols.clone();
        }
        if let Some(p) = &self.scrape_protocols {
            if p.is_empty() {
                return Err((
                    k("scrape_protocols"),
                    "scrape_protocols cannot be empty".into(),
                ));
            }
            for (i, a) in p.iter().enumerate() {
                if p.iter().skip(i + 1).any(|b| b == a) {
                    return Err((
                        k("scrape_protocols"),
                        format!("duplicated protocol in scrape_protocols, got {p:?}"),
                    ));
                }
            }
        }
        if self.scheme != "http" && self.scheme != "https" {
            return Err((
                k("scheme"),
                format!(
                    "scheme must be \"http\" or \"https\", got {:?}",
                    self.scheme
                ),
            ));
        }
        if let Some(s) = &self.metric_name_validation_scheme {
            if !matches!(s.as_str(), "" | "legacy" | "utf8") {
                return Err((
                    k("metric_name_validation_scheme"),
                    format!("unknown scrape config name validation method specified, must be either '', 'legacy' or 'utf8', got {s}"),
                ));
            }
        }
        self.validate_http_client()?;
        for (i, f) in self.file_sd_configs.iter().enumerate() {
            f.validate().map_err(|m| {
                (
                    vec![PathElem::Key("file_sd_configs".into()), PathElem::Index(i)],
                    m,
                )
            })?;
        }
        for (i, c) in self.kubernetes_sd_configs.iter().enumerate() {
            c.validate().map_err(|(field, m)| {
                let mut path = vec![
                    PathElem::Key("kubernetes_sd_configs".into()),
                    PathElem::Index(i),
                ];
                path.extend(field);
                (path, m)
            })?;
        }
        if self.relabel_configs.is_empty() {
            for sc in &self.static_configs {
                for t in &sc.targets {
                    if t.contains('/') {
                        return Err((
                            k("static_configs"),
                            format!("{t:?} is not a valid hostname"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn validate_http_client(&self) -> Result<(), FieldError> {
        validate_client_auth(&ClientAuth {
            basic_auth: self.basic_auth.as_ref(),
            authorization: self.authorization.as_ref(),
            oauth2: self.oauth2.is_some(),
            bearer_token: self.bearer_token.is_some(),
            bearer_token_file: self.bearer_token_file.is_some(),
            tls_config: &self.tls_config,
        })
        .map_err(|(field, m)| (k(field), m))
    }
}

fn inherit(v: &mut u64, global: u64) {
    if *v == 0 {
        *v = global;
    }
}
