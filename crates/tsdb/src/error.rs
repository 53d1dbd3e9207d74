//! The crate's error type.
//!
//! Variants say what happened and carry the context an operator needs (path, offset). I/O
//! errors are kept behind an `Arc` so the error stays `Clone`, which the query layer needs to
//! hand one failure to several consumers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use argus_model::StorageError;

/// Errors of the storage engine.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TsdbError {
    /// An I/O operation on `path` failed.
    #[error("{op} {path}: {source}", path = path.display())]
    Io {
        /// What was being done (`open`, `write`, `rename`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// Bytes read from disk failed a checksum or structure check.
    #[error("corruption in {file} at offset {offset}: {reason}", file = file.display())]
    Corruption {
        /// The damaged file.
        file: PathBuf,
        /// Byte offset of the damage (0 when unknown).
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The data directory is locked by another process.
    #[error("data directory {path} is locked by another process", path = path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// The options are inconsistent.
    #[error("invalid options: {0}")]
    InvalidOptions(String),
    /// The database was closed.
    #[error("database closed")]
    Closed,
    /// An argument was out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl TsdbError {
    /// Wraps an I/O error with the operation and the path.
    pub fn io(op: &'static str, path: &Path, source: std::io::Error) -> Self {
        TsdbError::Io {
            op,
            path: path.to_path_buf(),
            source: Arc::new(source),
        }
    }

    /// A corruption error.
    pub fn corruption(file: &Path, offset: u64, reason: impl Into<String>) -> Self {
        TsdbError::Corruption {
            file: file.to_path_buf(),
            offset,
            reason: reason.into(),
        }
    }

    /// True when the error is about damaged data (as opposed to the environment).
    pub fn is_corruption(&self) -> bool {
        matches!(self, TsdbError::Corruption { .. })
    }
}

impl From<TsdbError> for StorageError {
    fn from(e: TsdbError) -> Self {
        match e {
            TsdbError::Io { op, path, source } => StorageError::Io {
                context: format!("{op} {}", path.display()),
                source,
            },
            TsdbError::Corruption {
                file,
                offset,
                reason,
            } => StorageError::Corruption {
                file,
                reason: format!("at offset {offset}: {reason}"),
            },
            TsdbError::Closed => StorageError::Closed,
            TsdbError::InvalidArgument(s) | TsdbError::InvalidOptions(s) => {
                StorageError::InvalidArgument(s)
            }
            e @ TsdbError::Locked { .. } => StorageError::Other(e.to_string()),
        }
    }
}

/// Result alias of the crate.
pub type Result<T, E = TsdbError> = std::result::Result<T, E>;
