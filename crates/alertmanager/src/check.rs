//! `argus check alertmanager-config FILE`: load and validate a config as the alert
//! manager would, including templates and receivers, and summarise it as
//! `amtool check-config` does, with warnings for what Argus does not support.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::{Config, ConfigError};
use crate::receivers::Integrations;
use crate::route::RouteTree;
use crate::templates::Templates;

/// A successful check.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The file.
    pub path: PathBuf,
    /// Receivers defined.
    pub receivers: usize,
    /// Routing nodes, root included.
    pub routes: usize,
    /// Inhibition rules.
    pub inhibit_rules: usize,
    /// Template globs.
    pub templates: usize,
    /// Named time intervals.
    pub time_intervals: usize,
    /// Loads, but Argus will not do it (unsupported integrations, options).
    pub warnings: Vec<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Checking '{}'  SUCCESS", self.path.display())?;
        writeln!(f, "Found:")?;
        writeln!(f, " - global config")?;
        writeln!(f, " - route ({} routing nodes)", self.routes)?;
        writeln!(f, " - {} inhibit rules", self.inhibit_rules)?;
        writeln!(f, " - {} receivers", self.receivers)?;
        writeln!(f, " - {} templates", self.templates)?;
        writeln!(f, " - {} time intervals", self.time_intervals)?;
        for w in &self.warnings {
            writeln!(f, "  WARNING: {w}")?;
        }
        Ok(())
    }
}

/// Why a config failed the check.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Parse or validation error.
    #[error("{path}: {source}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: ConfigError,
    },
    /// Templates or receivers that cannot be set up.
    #[error("{path}: {message}")]
    Setup {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Checks an Alertmanager config file.
pub fn check_config(path: &Path) -> Result<Report, CheckError> {
    let c = Config::load(path).map_err(|source| CheckError::Config {
        path: path.to_owned(),
        source,
    })?;
    let setup = |message: String| CheckError::Setup {
        path: path.to_owned(),
        message,
    };
    let routes = c
        .route
        .as_ref()
        .map(RouteTree::new)
        .transpose()
        .map_err(setup)?
        .map_or(0, |t| t.routes.len());
    Templates::load(&c.templates).map_err(|e| setup(e.to_string()))?;
    Integrations::new(&c).map_err(setup)?;
    Ok(Report {
        path: path.to_owned(),
        receivers: c.receivers.len(),
        routes,
        inhibit_rules: c.inhibit_rules.len(),
        templates: c.templates.len(),
        time_intervals: c.all_time_intervals().count(),
        warnings: c.warnings.clone(),
    })
}
