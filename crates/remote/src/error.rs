//! Errors of the remote-write sender.

use std::path::PathBuf;
use std::sync::Arc;

/// An invalid `remote_write` section.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// Which entry (`remote_write[1]`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Errors of the sender.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RemoteError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The HTTP client of a queue could not be built (TLS files, proxy).
    #[error("remote write {remote_name}: {message}")]
    Client {
        /// The queue.
        remote_name: String,
        /// Why.
        message: String,
    },
    /// A file of the sender's state could not be read or written.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The TSDB's WAL could not be read.
    #[error(transparent)]
    Wal(#[from] argus_tsdb::TsdbError),
    /// A metric could not be registered (a second manager on the same registry).
    #[error("registering metrics: {0}")]
    Metrics(String),
    /// The manager was shut down.
    #[error("the remote write manager is shut down")]
    Shutdown,
}

impl RemoteError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, e: std::io::Error) -> Self {
        RemoteError::Io {
            op,
            path: path.into(),
            source: Arc::new(e),
        }
    }
}
