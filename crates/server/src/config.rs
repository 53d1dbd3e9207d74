//! The main configuration file (Prometheus' format) as the server uses it: the scrape
//! crate parses and validates the whole file; the sections other components own
//! (`alerting`, `storage`) are decoded here, so that one load either yields a complete,
//! consistent configuration or an error naming file, line and field, and nothing changes.

use std::collections::BTreeMap;

use anyhow::Context as _;
use argus_alert::notifier::AlertingConfig;
use argus_model::PromDuration;
use argus_scrape::config::{self as scrape_config, Config};
use serde::Deserialize;

use crate::cli::ServerArgs;

/// A fully loaded configuration.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The whole file, parsed and validated.
    pub main: Config,
    /// The `alerting` section.
    pub alerting: AlertingConfig,
    /// `storage.tsdb.out_of_order_time_window`, when set.
    pub out_of_order_window: Option<PromDuration>,
    /// The `remote_write` queues.
    pub remote_write: Vec<argus_remote::RemoteWriteConfig>,
    /// In a replica cluster, the replica label and this replica's value. It is part of
    /// `global.external_labels` (so everything sent out carries it) and is taken off
    /// again for the built-in alert manager.
    pub replica: Option<(String, String)>,
}

impl LoadedConfig {
    /// `global.external_labels` (with the replica label in a replica cluster): what is
    /// added to everything sent out.
    pub fn external_labels(&self) -> &BTreeMap<String, String> {
        &self.main.global.external_labels
    }

    /// The external labels without the replica label: what the built-in alert manager
    /// sees, so that both replicas' alerts have the same fingerprint.
    pub fn shared_external_labels(&self) -> BTreeMap<String, String> {
        let mut m = self.main.global.external_labels.clone();
        if let Some((k, _)) = &self.replica {
            m.remove(k);
        }
        m
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StorageSection {
    #[serde(default)]
    tsdb: Option<TsdbSection>,
    /// Exemplar storage: accepted, exemplars are not stored.
    #[serde(default)]
    exemplars: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TsdbSection {
    #[serde(default)]
    out_of_order_time_window: Option<PromDuration>,
}

/// The configuration used without `--config.file`: Argus scraping itself (on the port it
/// listens on) and a local node_exporter, every 15 s.
pub fn default_config_text(args: &ServerArgs) -> String {
    let port = args.listen_address.port();
    scrape_config::DEFAULT_CONFIG.replace("localhost:9090", &format!("localhost:{port}"))
}

/// Loads `--config.file`, or the embedded default.
pub fn load(args: &ServerArgs) -> anyhow::Result<LoadedConfig> {
    let (main, name) = match &args.config_file {
        Some(p) => (scrape_config::load_file(p)?, p.display().to_string()),
        None => (
            scrape_config::load_str(&default_config_text(args), "<embedded default>")?,
            "<embedded default>".to_owned(),
        ),
    };
    let Sections {
        alerting,
        out_of_order_window,
        remote_write,
    } = decode_sections(&main, &name)?;
    let mut main = main;
    let replica = crate::cluster::replica_label(&args.cluster, &main.global.external_labels);
    if let Some((k, v)) = &replica {
        main.global.external_labels.insert(k.clone(), v.clone());
    }
    Ok(LoadedConfig {
        main,
        alerting,
        out_of_order_window,
        remote_write,
        replica,
    })
}

/// The sections the scrape crate keeps raw, decoded.
pub struct Sections {
    pub alerting: AlertingConfig,
    pub out_of_order_window: Option<PromDuration>,
    pub remote_write: Vec<argus_remote::RemoteWriteConfig>,
}

/// Decodes the sections the scrape crate keeps raw: `alerting`, `storage`, `remote_write`.
pub fn decode_sections(main: &Config, name: &str) -> anyhow::Result<Sections> {
    let alerting = match &main.alerting {
        None => AlertingConfig::default(),
        Some(v) => serde_yaml_ng::from_value(v.clone())
            .with_context(|| format!("{name}: alerting section"))?,
    };
    let storage: StorageSection = match &main.storage {
        None => StorageSection::default(),
        Some(v) => serde_yaml_ng::from_value(v.clone())
            .with_context(|| format!("{name}: storage section"))?,
    };
    if storage.exemplars.is_some() {
        tracing::warn!("storage.exemplars is accepted but exemplars are not stored.");
    }
    let remote_write = argus_remote::parse(main.remote_write.as_ref())
        .with_context(|| format!("{name}: remote_write section"))?;
    Ok(Sections {
        alerting,
        out_of_order_window: storage.tsdb.and_then(|t| t.out_of_order_time_window),
        remote_write,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> ServerArgs {
        let mut v = vec!["argus"];
        v.extend_from_slice(extra);
        crate::cli::Cli::try_parse_from(v).unwrap().server
    }

    #[test]
    fn default_scrapes_own_port() {
        let c = load(&args(&["--web.listen-address=127.0.0.1:19999"])).unwrap();
        let own = c.main.scrape_config("argus").unwrap();
        assert_eq!(own.static_configs[0].targets, vec!["localhost:19999"]);
        assert!(c.main.scrape_config("node").is_some());
    }

    #[test]
    fn alerting_and_storage_sections() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.yml");
        std::fs::write(
            &f,
            "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['am:9093']\n\
             storage:\n  tsdb:\n    out_of_order_time_window: 30m\n",
        )
        .unwrap();
        let c = load(&args(&["--config.file", f.to_str().unwrap()])).unwrap();
        assert_eq!(c.alerting.alertmanagers.len(), 1);
        assert_eq!(c.out_of_order_window.unwrap().as_millis(), 30 * 60_000);

        std::fs::write(&f, "storage:\n  tsdb:\n    bogus: 1\n").unwrap();
        let e = load(&args(&["--config.file", f.to_str().unwrap()])).unwrap_err();
        assert!(format!("{e:#}").contains("bogus"), "{e:#}");
    }
}
