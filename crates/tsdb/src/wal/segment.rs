//! Segment files and record framing.
//!
//! The WAL is a directory of numbered segment files (`00000000`, `00000001`, ...), each capped
//! at the configured size (default 128 MiB). A segment is a sequence of framed records; a
//! record never spans two segments.
//!
//! ```text
//! ┌────────────┬──────────────┬──────────────────────────┐
//! │ len u32 BE │ crc32c u32 BE│ record (len bytes)       │  × n
//! └────────────┴──────────────┴──────────────────────────┘
//! ```
//!
//! The CRC covers the record bytes. A zero length never occurs in a valid frame, so a region
//! of zeros (a file extended but not written before a crash) reads as a torn tail.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Result, TsdbError};

/// Bytes of a frame header.
pub const FRAME_HEADER: usize = 8;

/// The file name of segment `i`.
pub fn segment_name(i: u64) -> String {
    format!("{i:08}")
}

/// Appends one framed record to `out`.
pub fn frame(record: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(record.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&crc32c::crc32c(record).to_be_bytes());
    out.extend_from_slice(record);
}

/// The numbered segment files in `dir`, sorted by number. Other files are ignored.
pub fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(TsdbError::io("read dir", dir, e)),
    };
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|e| TsdbError::io("read dir", dir, e))?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(i) = name.parse::<u64>() {
                if e.file_type().map(|t| t.is_file()).unwrap_or(false) {
                    out.push((i, e.path()));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The numbers of the first and last segment in `dir`, if any (what a follower of the log
/// needs to notice truncation and new segments without collecting paths).
pub fn segment_range(dir: &Path) -> Result<Option<(u64, u64)>> {
    let segs = list_segments(dir)?;
    Ok(segs.first().zip(segs.last()).map(|(a, b)| (a.0, b.0)))
}

/// The newest complete checkpoint directory `checkpoint.NNNNNNNN` in `dir`, with its number.
pub fn last_checkpoint(dir: &Path) -> Result<Option<(u64, PathBuf)>> {
    Ok(list_checkpoints(dir)?.pop())
}

/// All complete checkpoint directories, sorted by number (temporary ones are skipped).
pub fn list_checkpoints(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(TsdbError::io("read dir", dir, e)),
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(num) = name.strip_prefix("checkpoint.") else {
            continue;
        };
        if let Ok(i) = num.parse::<u64>() {
            out.push((i, e.path()));
        }
    }
    out.sort();
    Ok(out)
}
