//! Service-discovery sections of a scrape config: `static_configs` and `file_sd_configs`.
//! Other Prometheus discovery mechanisms are accepted (they are valid Prometheus YAML) and
//! reported as unsupported by [`super::ScrapeConfig::unsupported`].

use std::collections::BTreeMap;

use argus_model::PromDuration;
use serde::{Deserialize, Serialize};

use super::values::null_default;

/// One entry of `static_configs`: targets sharing a set of labels.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    /// `host:port` addresses.
    #[serde(default, deserialize_with = "null_default")]
    pub targets: Vec<String>,
    /// Labels given to every target of the group.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
}

fn default_refresh() -> PromDuration {
    PromDuration(5 * 60 * 1000)
}

/// One entry of `file_sd_configs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSdConfig {
    /// File names or globs (the last path element may contain `*`), `.json`, `.yml` or
    /// `.yaml`.
    #[serde(default, deserialize_with = "null_default")]
    pub files: Vec<String>,
    /// Re-read the files at least this often (changes are also noticed sooner by polling
    /// modification times).
    #[serde(default = "default_refresh")]
    pub refresh_interval: PromDuration,
}

impl FileSdConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.files.is_empty() {
            return Err("file service discovery config must contain at least one path name".into());
        }
        for f in &self.files {
            if !valid_file_sd_path(f) {
                return Err(format!("path name {f:?} is not valid for file discovery"));
            }
        }
        Ok(())
    }
}

/// Prometheus' `patFileSDName`: `^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`.
fn valid_file_sd_path(p: &str) -> bool {
    let ext_ok = ["json", "yml", "yaml", "JSON", "YML", "YAML"]
        .iter()
        .any(|e| p.strip_suffix(e).is_some_and(|s| s.ends_with('.')));
    if !ext_ok {
        return false;
    }
    match p.find('*') {
        None => true,
        Some(i) => {
            let after = p.get(i + 1..).unwrap_or("");
            !after.contains('*') && !after.contains('/')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_sd_patterns() {
        assert!(valid_file_sd_path("targets/*.json"));
        assert!(valid_file_sd_path("a.yml"));
        assert!(!valid_file_sd_path("a.txt"));
        assert!(!valid_file_sd_path("*/a.json"));
        assert!(!valid_file_sd_path("a*b*.json"));
    }
}
