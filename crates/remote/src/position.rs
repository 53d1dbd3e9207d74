//! The durable send position of a queue: the WAL segment and offset up to which every
//! sample has been acknowledged by the receiver (or dropped for good).
//!
//! One small text file per queue, `<state dir>/<destination key as 16 hex digits>.pos`,
//! replaced atomically (temporary file, fsync, rename, fsync of the directory), so after a
//! crash it holds either the previous or the new position, never a torn one:
//!
//! ```text
//! argus-remote-write-position 1
//! segment 12
//! offset 4096
//! url http://receiver:8428/api/v1/write
//! name vm
//! crc32c 0x5b1e07c2
//! ```
//!
//! The checksum covers the lines above it. Only `segment` and `offset` are read back; the
//! URL and name are there for the operator.

use std::path::{Path, PathBuf};

use crate::error::RemoteError;

const MAGIC: &str = "argus-remote-write-position 1";

/// A place in the WAL: the offset of a frame boundary inside segment `segment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    /// Segment number.
    pub segment: u64,
    /// Byte offset in the segment.
    pub offset: u64,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:08}@{}", self.segment, self.offset)
    }
}

/// What reading a position file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// No file: the queue is new.
    Missing,
    /// A valid position.
    At(Position),
    /// The file exists but cannot be trusted (why).
    Damaged(String),
}

/// The position file of one queue.
#[derive(Debug, Clone)]
pub struct PositionFile {
    path: PathBuf,
    url: String,
    name: String,
}

impl PositionFile {
    /// The file for the queue with destination key `key` in `dir`.
    pub fn new(dir: &Path, key: u64, url: &str, name: &str) -> Self {
        PositionFile {
            path: dir.join(format!("{key:016x}.pos")),
            url: url.to_owned(),
            name: name.to_owned(),
        }
    }

    /// Where the file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file.
    pub fn load(&self) -> Result<Loaded, RemoteError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(decode(&text).map_or_else(Loaded::Damaged, Loaded::At)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Loaded::Missing),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                Ok(Loaded::Damaged("not UTF-8".into()))
            }
            Err(e) => Err(RemoteError::io("read", &self.path, e)),
        }
    }

    /// Replaces the file with `pos`, durably.
    pub fn store(&self, pos: Position) -> Result<(), RemoteError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| RemoteError::io("create dir", dir, e))?;
        }
        let text = encode(pos, &self.url, &self.name);
        argus_tsdb::fs::atomic_write::atomic_write(&self.path, text.as_bytes())?;
        Ok(())
    }
}

/// Newlines in the informational fields would break the line format.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn encode(pos: Position, url: &str, name: &str) -> String {
    let body = format!(
        "{MAGIC}\nsegment {}\noffset {}\nurl {}\nname {}\n",
        pos.segment,
        pos.offset,
        one_line(url),
        one_line(name)
    );
    let crc = crc32(&body);
    format!("{body}crc32c {crc:#010x}\n")
}

fn crc32(s: &str) -> u32 {
    crc32c::crc32c(s.as_bytes())
}

fn decode(text: &str) -> Result<Position, String> {
    let (body, last) = match text.trim_end_matches('\n').rsplit_once('\n') {
        Some((b, l)) => (format!("{b}\n"), l),
        None => return Err("truncated".into()),
    };
    let stored = last
        .strip_prefix("crc32c 0x")
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or("no checksum line")?;
    if crc32(&body) != stored {
        return Err("checksum mismatch".into());
    }
    let mut lines = body.lines();
    if lines.next() != Some(MAGIC) {
        return Err("unknown format".into());
    }
    let mut field = |name: &str| -> Result<u64, String> {
        lines
            .next()
            .and_then(|l| l.strip_prefix(name))
            .and_then(|v| v.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("bad {name} line"))
    };
    Ok(Position {
        segment: field("segment")?,
        offset: field("offset")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_replaces_atomically() {
        let d = tempfile::tempdir().unwrap();
        let f = PositionFile::new(&d.path().join("remote_write"), 0xabc, "http://x/w", "vm");
        assert_eq!(f.load().unwrap(), Loaded::Missing);
        let p = Position {
            segment: 12,
            offset: 4096,
        };
        f.store(p).unwrap();
        assert_eq!(f.load().unwrap(), Loaded::At(p));
        assert!(f.path().ends_with("remote_write/0000000000000abc.pos"));
        let q = Position {
            segment: 13,
            offset: 0,
        };
        f.store(q).unwrap();
        assert_eq!(f.load().unwrap(), Loaded::At(q));
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(d.path().join("remote_write"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
        let text = std::fs::read_to_string(f.path()).unwrap();
        assert!(text.contains("url http://x/w\nname vm\n"), "{text}");
    }

    #[test]
    fn damage_is_detected_not_misread() {
        let d = tempfile::tempdir().unwrap();
        let f = PositionFile::new(d.path(), 1, "u\nnewline", "");
        f.store(Position {
            segment: 3,
            offset: 77,
        })
        .unwrap();
        let good = std::fs::read_to_string(f.path()).unwrap();
        assert_eq!(good.lines().count(), 6, "{good}");
        for bad in [
            good.replace("offset 77", "offset 78"),
            good.get(..good.len() / 2).unwrap().to_owned(),
            String::new(),
            "garbage".into(),
        ] {
            std::fs::write(f.path(), &bad).unwrap();
            assert!(
                matches!(f.load().unwrap(), Loaded::Damaged(_)),
                "{bad:?} must be damaged"
            );
        }
        std::fs::write(f.path(), [0xff, 0xfe]).unwrap();
        assert!(matches!(f.load().unwrap(), Loaded::Damaged(_)));
    }

    #[test]
    fn positions_order_by_segment_then_offset() {
        let a = Position {
            segment: 1,
            offset: 900,
        };
        let b = Position {
            segment: 2,
            offset: 0,
        };
        assert!(a < b);
        assert_eq!(b.to_string(), "00000002@0");
    }
}
