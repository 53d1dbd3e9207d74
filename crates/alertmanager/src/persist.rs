//! Small state files under the data directory, written atomically and checksummed.
//!
//! ```text
//! <json document>\n
//! crc32c:<8 hex digits of CRC32C over the JSON bytes>\n
//! ```
//!
//! A write goes to `<name>.tmp` in the same directory, is fsynced, renamed over the file,
//! and the directory is fsynced, so a crash leaves either the old or the new version. A
//! file whose checksum does not match is moved aside to `<name>.corrupt` and reported,
//! never half-read.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A state file that could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// I/O on a path.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Checksum or JSON error; the file was moved aside.
    #[error("corrupt state file {path} (moved to {moved_to}): {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where it went.
        moved_to: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// Encoding failed.
    #[error("encoding {path}: {reason}")]
    Encode {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> PersistError + 'a {
    move |source| PersistError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

/// Serialises `value` and replaces `path` atomically. Returns the bytes written.
pub fn write_atomic<T: Serialize>(path: &Path, value: &T) -> Result<usize, PersistError> {
    let mut body = serde_json::to_vec(value).map_err(|e| PersistError::Encode {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let crc = crc32c::crc32c(&body);
    body.extend_from_slice(format!("\ncrc32c:{crc:08x}\n").as_bytes());
    let tmp = path.with_extension("tmp");
    {
        let mut f = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io("creating", &tmp))?;
        f.write_all(&body).map_err(io("writing", &tmp))?;
        f.sync_data().map_err(io("syncing", &tmp))?;
    }
    fs::rename(&tmp, path).map_err(io("renaming", path))?;
    if let Some(dir) = path.parent() {
        // Make the rename durable. Some filesystems refuse fsync on directories; the
        // rename itself already happened, so that is not an error worth failing on.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(body.len())
}

/// Reads a file written by [`write_atomic`]; `Ok(None)` when it does not exist.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, PersistError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("reading", path)(e)),
    };
    match decode(&bytes) {
        Ok(v) => Ok(Some(v)),
        Err(reason) => {
            let moved_to = path.with_extension("corrupt");
            fs::rename(path, &moved_to).map_err(io("moving aside", path))?;
            Err(PersistError::Corrupt {
                path: path.to_owned(),
                moved_to,
                reason,
            })
        }
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    const TRAILER: usize = "\ncrc32c:00000000\n".len();
    if bytes.len() < TRAILER {
        return Err(format!("file too short ({} bytes)", bytes.len()));
    }
    let (body, trailer) = bytes.split_at(bytes.len() - TRAILER);
    let trailer = std::str::from_utf8(trailer).map_err(|_| "bad trailer".to_owned())?;
    let want = trailer
        .trim()
        .strip_prefix("crc32c:")
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or_else(|| "missing checksum trailer".to_owned())?;
    let got = crc32c::crc32c(body);
    if got != want {
        return Err(format!(
            "checksum mismatch: stored {want:08x}, computed {got:08x}"
        ));
    }
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        assert_eq!(read::<Vec<u32>>(&p).unwrap(), None);
        write_atomic(&p, &vec![1u32, 2, 3]).unwrap();
        assert_eq!(read::<Vec<u32>>(&p).unwrap(), Some(vec![1, 2, 3]));
        let mut b = fs::read(&p).unwrap();
        b[1] = b'9';
        fs::write(&p, &b).unwrap();
        let e = read::<Vec<u32>>(&p).unwrap_err();
        assert!(matches!(e, PersistError::Corrupt { .. }), "{e}");
        assert!(!p.exists());
        assert!(dir.path().join("state.corrupt").exists());
        fs::write(&p, b"x").unwrap();
        assert!(read::<Vec<u32>>(&p).is_err());
    }
}
