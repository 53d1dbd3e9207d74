//! The Prometheus configuration file, used unchanged.
//!
//! [`Config`] is the whole top-level file. Sections other crates own (`alerting`,
//! `remote_write`, `remote_read`, `storage`, `tracing`, `otlp`, `runtime`) are kept as raw
//! YAML values for their owners to parse. Unknown fields are errors, as in Prometheus, and
//! every error names the file, line and field:
//!
//! ```text
//! prometheus.yml:12:5: scrape_configs[1]: unknown field "bogus"
//! ```
//!
//! Defaults and validation follow Prometheus' `config/config.go`: scrape interval 1m,
//! timeout 10s (never above the interval), `/metrics`, `http`, `honor_timestamps: true`,
//! duplicate job names rejected, relabel rules checked and their regexes compiled.

mod error;
mod http_client;
mod k8s_selector;
mod kubernetes;
mod locate;
mod scrape_config;
mod sd;
mod values;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use argus_model::PromDuration;
use serde::{Deserialize, Serialize};

pub use error::ConfigError;
pub use http_client::{Authorization, BasicAuth, HttpClientConfig, TlsConfig};
pub use kubernetes::{
    AttachMetadata, KubernetesRole, KubernetesSdConfig, NamespaceDiscovery, SelectorConfig,
};
pub use locate::PathElem;
pub use scrape_config::{ScrapeConfig, ScrapeProtocol};
pub use sd::{FileSdConfig, StaticConfig};
pub use values::{ByteSize, Secret};

use values::{is_zero, null_default};

/// The configuration used when no file is given: Argus scraping itself and a local
/// node_exporter every 15 s.
pub const DEFAULT_CONFIG: &str = "\
global:
  scrape_interval: 15s
  evaluation_interval: 15s

scrape_configs:
  - job_name: argus
    static_configs:
      - targets: [\"localhost:9090\"]
  - job_name: node
    static_configs:
      - targets: [\"localhost:9100\"]
";

fn default_interval() -> PromDuration {
    PromDuration(60_000)
}

/// The `global` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalConfig {
    /// Default scrape interval (1m).
    #[serde(default = "default_interval")]
    pub scrape_interval: PromDuration,
    /// Default scrape timeout (min(10s, interval) when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_timeout: Option<PromDuration>,
    /// Default accepted exposition formats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_protocols: Option<Vec<ScrapeProtocol>>,
    /// Default rule evaluation interval (1m).
    #[serde(default = "default_interval")]
    pub evaluation_interval: PromDuration,
    /// Offset of rule evaluation into the past.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_query_offset: Option<PromDuration>,
    /// File PromQL queries are logged to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_log_file: Option<String>,
    /// File scrape failures are logged to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrape_failure_log_file: Option<String>,
    /// Labels added to series and alerts leaving this server (remote write, alerts).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub external_labels: BTreeMap<String, String>,
    /// Default body size limit.
    #[serde(default, skip_serializing_if = "is_zero_size")]
    pub body_size_limit: ByteSize,
    /// Default sample limit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sample_limit: u64,
    /// Default target limit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub target_limit: u64,
    /// Default label limit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub label_limit: u64,
    /// Default label name length limit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub label_name_length_limit: u64,
    /// Default label value length limit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub label_value_length_limit: u64,
    /// Default number of dropped targets kept for the API.
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
    pub scrape_native_histograms: Option<bool>,
    /// Accepted for compatibility.
    #[serde(default, skip_serializing_if = "values::is_false")]
    pub convert_classic_histograms_to_nhcb: bool,
    /// Accepted for compatibility.
    #[serde(default, skip_serializing_if = "values::is_false")]
    pub always_scrape_classic_histograms: bool,
    /// Accepted for compatibility.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_scrape_metrics: Option<bool>,
}

fn is_zero_size(b: &ByteSize) -> bool {
    b.0 == 0
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: default_interval(),
            scrape_timeout: None,
            scrape_protocols: None,
            evaluation_interval: default_interval(),
            rule_query_offset: None,
            query_log_file: None,
            scrape_failure_log_file: None,
            external_labels: BTreeMap::new(),
            body_size_limit: ByteSize(0),
            sample_limit: 0,
            target_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
            keep_dropped_targets: 0,
            metric_name_validation_scheme: None,
            metric_name_escaping_scheme: None,
            scrape_native_histograms: None,
            convert_classic_histograms_to_nhcb: false,
            always_scrape_classic_histograms: false,
            extra_scrape_metrics: None,
        }
    }
}

impl GlobalConfig {
    /// The default scrape timeout after resolution.
    pub fn timeout(&self) -> PromDuration {
        self.scrape_timeout.unwrap_or(PromDuration(10_000))
    }
}

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `global`.
    #[serde(default, deserialize_with = "null_default")]
    pub global: GlobalConfig,
    /// `runtime` (raw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<serde_yaml_ng::Value>,
    /// `alerting` (raw; parsed by the alerting crate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerting: Option<serde_yaml_ng::Value>,
    /// `rule_files`: file names or globs, relative to the config file.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rule_files: Vec<String>,
    /// `scrape_config_files`: files whose `scrape_configs` are added to this one's.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub scrape_config_files: Vec<String>,
    /// `scrape_configs`, including those read from `scrape_config_files`.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub scrape_configs: Vec<ScrapeConfig>,
    /// `storage` (raw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<serde_yaml_ng::Value>,
    /// `tracing` (raw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<serde_yaml_ng::Value>,
    /// `remote_write` (raw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_write: Option<serde_yaml_ng::Value>,
    /// `remote_read` (raw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_read: Option<serde_yaml_ng::Value>,
    /// `otlp` (raw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp: Option<serde_yaml_ng::Value>,
}

/// Only the `scrape_configs` of a file named in `scrape_config_files`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScrapeConfigsFile {
    #[serde(default, deserialize_with = "null_default")]
    scrape_configs: Vec<ScrapeConfig>,
}

/// Reads and validates a configuration file. Relative paths inside it (file SD, rule
/// files, credentials and TLS files) are resolved against the file's directory.
pub fn load_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
        file: name.clone(),
        source: Arc::new(e),
    })?;
    load_str(&text, &name)
}

/// Parses and validates configuration text; `name` is the file name used in errors and as
/// the base for relative paths.
pub fn load_str(text: &str, name: &str) -> Result<Config, ConfigError> {
    let mut cfg: Config = if text.trim().is_empty() {
        Config::default()
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| ConfigError::from_yaml(name, &e))?
    };
    let base = Path::new(name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    cfg.validate(text, name)?;
    let mut extra = Vec::new();
    for (i, pattern) in cfg.scrape_config_files.iter().enumerate() {
        let full = join_dir(&base, pattern);
        let paths = glob::glob(&full).map_err(|e| {
            ConfigError::at(
                name,
                text,
                &[key("scrape_config_files"), PathElem::Index(i)],
                format!("invalid scrape config file path {pattern:?}: {e}"),
            )
        })?;
        for p in paths.flatten() {
            extra.push(load_scrape_config_file(&p, &cfg.global)?);
        }
    }
    let mut seen: HashSet<String> = cfg
        .scrape_configs
        .iter()
        .map(|s| s.job_name.clone())
        .collect();
    for (file, file_text, configs) in extra {
        for (i, sc) in configs.into_iter().enumerate() {
            if !seen.insert(sc.job_name.clone()) {
                return Err(ConfigError::at(
                    &file,
                    &file_text,
                    &[key("scrape_configs"), PathElem::Index(i), key("job_name")],
                    format!(
                        "found multiple scrape configs with job name {:?}",
                        sc.job_name
                    ),
                ));
            }
            cfg.scrape_configs.push(sc);
        }
    }
    cfg.resolve_paths(&base);
    Ok(cfg)
}

type LoadedScrapeConfigs = (String, String, Vec<ScrapeConfig>);

fn load_scrape_config_file(
    path: &Path,
    global: &GlobalConfig,
) -> Result<LoadedScrapeConfigs, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
        file: name.clone(),
        source: Arc::new(e),
    })?;
    let mut f: ScrapeConfigsFile =
        serde_yaml_ng::from_str(&text).map_err(|e| ConfigError::from_yaml(&name, &e))?;
    for (i, sc) in f.scrape_configs.iter_mut().enumerate() {
        resolve_scrape_config(sc, global, i, &text, &name)?;
    }
    Ok((name, text, f.scrape_configs))
}

fn key(k: &str) -> PathElem {
    PathElem::Key(k.to_owned())
}

fn resolve_scrape_config(
    sc: &mut ScrapeConfig,
    global: &GlobalConfig,
    i: usize,
    text: &str,
    name: &str,
) -> Result<(), ConfigError> {
    sc.resolve(global).map_err(|(field, msg)| {
        let mut path = vec![key("scrape_configs"), PathElem::Index(i)];
        path.extend(field);
        ConfigError::at(name, text, &path, msg)
    })
}

impl Config {
    fn validate(&mut self, text: &str, name: &str) -> Result<(), ConfigError> {
        let g = &mut self.global;
        if g.scrape_interval.0 <= 0 {
            return Err(ConfigError::at(
                name,
                text,
                &[key("global"), key("scrape_interval")],
                "scrape interval must be positive",
            ));
        }
        if let Some(t) = g.scrape_timeout {
            if t > g.scrape_interval {
                return Err(ConfigError::at(
                    name,
                    text,
                    &[key("global"), key("scrape_timeout")],
                    "global scrape timeout greater than scrape interval",
                ));
            }
        }
        g.scrape_timeout = Some(
            g.scrape_timeout
                .unwrap_or_else(|| PromDuration(10_000).min(g.scrape_interval)),
        );
        for (n, v) in &g.external_labels {
            let legacy = g.metric_name_validation_scheme.as_deref() == Some("legacy");
            if !crate::relabel::valid_label_name(n, legacy) {
                return Err(ConfigError::at(
                    name,
                    text,
                    &[key("global"), key("external_labels"), key(n)],
                    format!("{n:?} is not a valid label name"),
                ));
            }
            if v.is_empty() {
                // Prometheus drops empty external labels silently; so do we (below).
                continue;
            }
        }
        g.external_labels.retain(|_, v| !v.is_empty());
        for (i, rf) in self.rule_files.iter().enumerate() {
            if !valid_glob_path(rf) {
                return Err(ConfigError::at(
                    name,
                    text,
                    &[key("rule_files"), PathElem::Index(i)],
                    format!("invalid rule file path {rf:?}"),
                ));
            }
        }
        for (i, sf) in self.scrape_config_files.iter().enumerate() {
            if !valid_glob_path(sf) {
                return Err(ConfigError::at(
                    name,
                    text,
                    &[key("scrape_config_files"), PathElem::Index(i)],
                    format!("invalid scrape config file path {sf:?}"),
                ));
            }
        }
        let global = self.global.clone();
        let mut jobs = HashSet::new();
        for (i, sc) in self.scrape_configs.iter_mut().enumerate() {
            resolve_scrape_config(sc, &global, i, text, name)?;
            if !jobs.insert(sc.job_name.clone()) {
                return Err(ConfigError::at(
                    name,
                    text,
                    &[key("scrape_configs"), PathElem::Index(i), key("job_name")],
                    format!(
                        "found multiple scrape configs with job name {:?}",
                        sc.job_name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Makes relative file names absolute against the config file's directory, as
    /// Prometheus' `SetDirectory` does.
    fn resolve_paths(&mut self, base: &Path) {
        for rf in &mut self.rule_files {
            *rf = join_dir(base, rf);
        }
        for sc in &mut self.scrape_configs {
            for k in &mut sc.kubernetes_sd_configs {
                k.resolve_paths(|f| join_dir(base, f));
            }
            for f in &mut sc.file_sd_configs {
                for p in &mut f.files {
                    *p = join_dir(base, p);
                }
            }
            let files = [
                sc.bearer_token_file.as_mut(),
                sc.tls_config.ca_file.as_mut(),
                sc.tls_config.cert_file.as_mut(),
                sc.tls_config.key_file.as_mut(),
                sc.authorization
                    .as_mut()
                    .and_then(|a| a.credentials_file.as_mut()),
            ];
            for f in files.into_iter().flatten() {
                *f = join_dir(base, f);
            }
            if let Some(b) = sc.basic_auth.as_mut() {
                for f in [b.username_file.as_mut(), b.password_file.as_mut()]
                    .into_iter()
                    .flatten()
                {
                    *f = join_dir(base, f);
                }
            }
        }
    }

    /// The scrape config of job `name`.
    pub fn scrape_config(&self, name: &str) -> Option<&ScrapeConfig> {
        self.scrape_configs.iter().find(|s| s.job_name == name)
    }

    /// Settings that are valid Prometheus configuration but not acted on by Argus, one
    /// sentence each (for `argus check config` and a warning at load).
    pub fn unsupported(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, section) in [
            ("remote_read", &self.remote_read),
            ("tracing", &self.tracing),
            ("otlp", &self.otlp),
            ("runtime", &self.runtime),
        ] {
            if section.as_ref().is_some_and(|v| !v.is_null()) {
                out.push(format!(
                    "the {name} section is not supported; it is ignored"
                ));
            }
        }
        for sc in &self.scrape_configs {
            for u in sc.unsupported() {
                out.push(format!("scrape config {:?}: {u}", sc.job_name));
            }
        }
        out
    }

    /// The configuration as YAML with defaults filled in and secrets hidden, for
    /// `/api/v1/status/config`.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self).unwrap_or_default()
    }
}

/// Prometheus' `patRulePath`: `^[^*]*(\*[^/]*)?$`.
fn valid_glob_path(p: &str) -> bool {
    match p.find('*') {
        None => true,
        Some(i) => {
            let after = p.get(i + 1..).unwrap_or("");
            !after.contains('*') && !after.contains('/')
        }
    }
}

fn join_dir(base: &Path, p: &str) -> String {
    if p.is_empty() || Path::new(p).is_absolute() || base.as_os_str().is_empty() {
        return p.to_owned();
    }
    let joined: PathBuf = base.join(p);
    joined.display().to_string()
}

#[cfg(test)]
mod tests;
