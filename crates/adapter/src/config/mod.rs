//! The adapter's rules, in prometheus-adapter's configuration format, so existing configs
//! load unchanged (`--adapter.config.file`):
//!
//! ```yaml
//! rules:                       # custom.metrics.k8s.io
//! - seriesQuery: '{__name__=~"^container_.*",namespace!="",pod!=""}'
//!   seriesFilters: [{isNot: "^container_.*_seconds_total$"}]
//!   resources:
//!     overrides: {namespace: {resource: namespace}, pod: {resource: pod}}
//!     template: "kube_<<.Group>>_<<.Resource>>"
//!   name: {matches: "^container_(.*)_total$", as: "${1}_per_second"}
//!   metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
//!   on_absent: error           # Argus extension: error (default) | zero
//! externalRules: [...]         # external.metrics.k8s.io; resources.namespaced: false
//! resourceRules:               # metrics.k8s.io (kubectl top, CPU/memory HPAs)
//!   cpu: {containerQuery: ..., nodeQuery: ..., resources: ..., containerLabel: container}
//!   memory: {...}
//!   window: 5m
//! ```
//!
//! Unknown keys are ignored, as prometheus-adapter ignores them, but reported as warnings
//! (its own sample config misspells `metricsQuery`). A missing `metricsQuery` defaults to
//! `sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)`. Without `resourceRules`,
//! metrics.k8s.io is not served.

pub mod resources;
pub mod template;

mod raw;

use std::path::Path;

use argus_model::Matcher;
use regex::Regex;

pub use resources::{GroupResource, ResourceConverter};
pub use template::Template;

/// Why a configuration was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading adapter config {path}: {reason}")]
    Read {
        /// File path.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The YAML is malformed or has wrong types.
    #[error("parsing adapter config: {0}")]
    Yaml(String),
    /// A rule is invalid.
    #[error("{0}")]
    Invalid(String),
}

/// What to answer when a query returns no value for an object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnAbsent {
    /// 404: the HPA holds its current scale instead of acting on a made-up value.
    #[default]
    Error,
    /// Report `0`.
    Zero,
}

/// The fields available to `metricsQuery`, `containerQuery` and `nodeQuery`.
pub const QUERY_FIELDS: &[&str] = &["Series", "LabelMatchers", "GroupBy", "GroupBySlice"];

/// The default `metricsQuery` when a rule has none.
pub const DEFAULT_METRICS_QUERY: &str = "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)";

/// One compiled discovery rule (`rules` or `externalRules` entry).
#[derive(Debug, Clone)]
pub struct Rule {
    /// Position in its list, for messages and the debug endpoint.
    pub index: usize,
    /// `seriesQuery` as written.
    pub series_query: String,
    /// `seriesQuery` parsed.
    pub series_matchers: Vec<Matcher>,
    /// `seriesFilters`: (is, regex); `is: false` means `isNot`.
    pub filters: Vec<(bool, Regex)>,
    /// `name.matches`.
    pub name_matches: Regex,
    /// `name.as`.
    pub name_as: String,
    /// Label ↔ resource mapping.
    pub resources: ResourceConverter,
    /// External rules only: add the request's namespace as a matcher.
    pub namespaced: bool,
    /// `metricsQuery`.
    pub metrics_query: Template,
    /// `on_absent`.
    pub on_absent: OnAbsent,
    /// `labelValueReplacements` (find, replace), applied to external selector values.
    pub label_value_replacements: Vec<(String, String)>,
}

impl Rule {
    /// The API name of series `series_name` under this rule, or `None` when the rule's
    /// filters or `name.matches` exclude it.
    pub fn metric_name(&self, series_name: &str) -> Option<String> {
        for (is, re) in &self.filters {
            if re.is_match(series_name) != *is {
                return None;
            }
        }
        let caps = self.name_matches.captures(series_name)?;
        let mut out = String::new();
        caps.expand(&self.name_as, &mut out);
        (!out.is_empty()).then_some(out)
    }
}

/// One compiled `resourceRules` entry (cpu or memory).
#[derive(Debug, Clone)]
pub struct ResourceRule {
    /// Query for per-container usage.
    pub container_query: Template,
    /// Query for per-node usage.
    pub node_query: Template,
    /// Label ↔ resource mapping (node, namespace, pod labels).
    pub resources: ResourceConverter,
    /// The label holding the container name.
    pub container_label: String,
}

/// `resourceRules`.
#[derive(Debug, Clone)]
pub struct ResourceRules {
    /// CPU, in cores.
    pub cpu: ResourceRule,
    /// Memory, in bytes.
    pub memory: ResourceRule,
    /// The window reported by metrics.k8s.io, ms.
    pub window_ms: i64,
}

/// A compiled adapter configuration.
#[derive(Debug, Clone)]
pub struct AdapterConfig {
    /// `rules`.
    pub rules: Vec<Rule>,
    /// `externalRules`.
    pub external_rules: Vec<Rule>,
    /// `resourceRules`.
    pub resource_rules: Option<ResourceRules>,
    /// Non-fatal findings (unknown keys).
    pub warnings: Vec<String>,
}

/// The embedded default: cAdvisor and application metrics for the custom metrics API,
/// and `kubectl top` from kubelet cAdvisor series.
pub const DEFAULT_CONFIG_YAML: &str = include_str!("default.yaml");

impl AdapterConfig {
    /// Parses and validates a configuration.
    pub fn parse(yaml: &str) -> Result<Self, ConfigError> {
        raw::compile(yaml)
    }

    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text).map_err(|e| match e {
            ConfigError::Invalid(m) => ConfigError::Invalid(format!("{}: {m}", path.display())),
            ConfigError::Yaml(m) => ConfigError::Yaml(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The embedded default configuration.
    pub fn embedded_default() -> Result<Self, ConfigError> {
        Self::parse(DEFAULT_CONFIG_YAML)
    }
}
