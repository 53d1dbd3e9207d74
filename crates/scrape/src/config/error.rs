//! Configuration errors that name the file, line and field.

use std::fmt;
use std::sync::Arc;

use super::locate::{format_path, locate, PathElem};

/// A configuration file that could not be read or is invalid.
///
/// Displays as `file:line:column: path: message`, the parts that are known, for example
/// `prometheus.yml:12:5: scrape_configs[1]: unknown field "bogus"`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The file was read but its contents are not a valid configuration.
    #[error("{}", DisplayInvalid(self))]
    Invalid {
        /// The file (as given to the loader).
        file: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// Path of the offending field (`scrape_configs[1].scrape_timeout`), may be empty.
        path: String,
        /// What is wrong.
        message: String,
    },
}

struct DisplayInvalid<'a>(&'a ConfigError);

impl fmt::Display for DisplayInvalid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ConfigError::Invalid {
            file,
            line,
            column,
            path,
            message,
        } = self.0
        else {
            return Ok(());
        };
        f.write_str(file)?;
        if let Some(l) = line {
            write!(f, ":{l}")?;
            if let Some(c) = column {
                write!(f, ":{c}")?;
            }
        }
        f.write_str(": ")?;
        if !path.is_empty() {
            write!(f, "{path}: ")?;
        }
        f.write_str(message)
    }
}

impl ConfigError {
    /// An error about the node at `path` of `text`; its position is looked up.
    pub(crate) fn at(
        file: &str,
        text: &str,
        path: &[PathElem],
        message: impl Into<String>,
    ) -> Self {
        let pos = locate(text, path);
        ConfigError::Invalid {
            file: file.to_owned(),
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
            path: format_path(path),
            message: message.into(),
        }
    }

    /// Converts a serde_yaml_ng error, splitting its text into path, message and position.
    pub(crate) fn from_yaml(file: &str, e: &serde_yaml_ng::Error) -> Self {
        let mut text = e.to_string();
        let loc = e.location();
        if let Some(i) = text.rfind(" at line ") {
            if loc.is_some() {
                text.truncate(i);
            }
        }
        let (path, message) = split_path(&text);
        ConfigError::Invalid {
            file: file.to_owned(),
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            path: path.to_owned(),
            message: rewrite_message(message),
        }
    }

    /// Line of the error, if known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Invalid { line, .. } => *line,
            ConfigError::Io { .. } => None,
        }
    }
}

/// serde_yaml_ng prefixes messages with the path (`scrape_configs[1]: ...`); paths contain
/// only name characters, dots and brackets.
fn split_path(text: &str) -> (&str, &str) {
    if let Some(i) = text.find(": ") {
        let (p, rest) = text.split_at(i);
        let is_path = !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-'));
        if is_path {
            return (p, rest.get(2..).unwrap_or(""));
        }
    }
    ("", text)
}

/// serde says "unknown field `bogus`, expected one of ..."; Prometheus users expect a short
/// sentence naming the field.
fn rewrite_message(msg: &str) -> String {
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        if let Some(end) = rest.find('`') {
            return format!("unknown field {:?}", rest.get(..end).unwrap_or(""));
        }
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        if let Some(end) = rest.find('`') {
            return format!("missing field {:?}", rest.get(..end).unwrap_or(""));
        }
    }
    msg.to_owned()
}
