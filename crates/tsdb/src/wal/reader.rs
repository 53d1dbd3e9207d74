//! Reading segments back, with corruption reported precisely enough to repair.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::segment::FRAME_HEADER;
use crate::error::{Result, TsdbError};

/// Where and why reading stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corruption {
    /// Index of the damaged segment in the list given to the reader.
    pub segment_pos: usize,
    /// The segment file.
    pub path: PathBuf,
    /// Offset of the first bad frame.
    pub offset: u64,
    /// What was wrong.
    pub reason: String,
    /// True when the file simply ended inside a frame (a write cut short by a crash).
    pub torn: bool,
}

/// Reads framed records from a list of segment files in order.
pub struct WalReader {
    segments: Vec<PathBuf>,
    pos: usize,
    cur: Option<BufReader<File>>,
    offset: u64,
    size: u64,
    max_record: u64,
    /// Bytes read so far (for progress logs).
    pub bytes_read: u64,
}

impl WalReader {
    /// A reader over `segments`; frames longer than `max_record` bytes are corruption.
    pub fn new(segments: Vec<PathBuf>, max_record: u64) -> Self {
        WalReader {
            segments,
            pos: 0,
            cur: None,
            offset: 0,
            size: 0,
            max_record,
            bytes_read: 0,
        }
    }

    /// Position of the segment being read.
    pub fn segment_pos(&self) -> usize {
        self.pos
    }

    fn corrupt(&self, reason: String, torn: bool) -> Corruption {
        Corruption {
            segment_pos: self.pos,
            path: self.segments.get(self.pos).cloned().unwrap_or_default(),
            offset: self.offset,
            reason,
            torn,
        }
    }

    /// Reads the next record into `buf`. `Ok(false)` at the end of the last segment.
    /// I/O errors are returned as `Err(Err(..))`, damage as `Err(Ok(corruption))`.
    pub fn next(&mut self, buf: &mut Vec<u8>) -> Result<bool, Result<Corruption>> {
        loop {
            if self.cur.is_none() {
                let Some(p) = self.segments.get(self.pos) else {
                    return Ok(false);
                };
                let f = File::open(p).map_err(|e| Err(TsdbError::io("open", p, e)))?;
                self.size = f
                    .metadata()
                    .map_err(|e| Err(TsdbError::io("stat", p, e)))?
                    .len();
                self.cur = Some(BufReader::with_capacity(1 << 20, f));
                self.offset = 0;
            }
            if self.offset == self.size {
                self.cur = None;
                self.pos += 1;
                continue;
            }
            let left = self.size - self.offset;
            if left < FRAME_HEADER as u64 {
                return Err(Ok(self.corrupt(
                    format!("{left} bytes left, shorter than a frame header"),
                    true,
                )));
            }
            let mut hdr = [0u8; FRAME_HEADER];
            let Some(r) = self.cur.as_mut() else {
                return Ok(false);
            };
            let path = self.segments.get(self.pos).cloned().unwrap_or_default();
            r.read_exact(&mut hdr)
                .map_err(|e| Err(TsdbError::io("read", &path, e)))?;
            let len = u64::from(u32::from_be_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]));
            let crc = u32::from_be_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]);
            if len == 0 {
                // Zeros where a frame should be: the file was extended but never written.
                let all_zero = crc == 0;
                return Err(Ok(self.corrupt("zero-length frame".into(), all_zero)));
            }
            if len > self.max_record {
                return Err(Ok(self.corrupt(
                    format!("frame length {len} exceeds the limit {}", self.max_record),
                    false,
                )));
            }
            if len > left - FRAME_HEADER as u64 {
                return Err(Ok(self.corrupt(
                    format!(
                        "frame of {len} bytes but only {} left in the file",
                        left - FRAME_HEADER as u64
                    ),
                    true,
                )));
            }
            buf.clear();
            buf.resize(len as usize, 0);
            let Some(r) = self.cur.as_mut() else {
                return Ok(false);
            };
            r.read_exact(buf)
                .map_err(|e| Err(TsdbError::io("read", &path, e)))?;
            let got = crc32c::crc32c(buf);
            if got != crc {
                return Err(Ok(self.corrupt(
                    format!("checksum mismatch (stored {crc:#010x}, computed {got:#010x})"),
                    false,
                )));
            }
            self.offset += FRAME_HEADER as u64 + len;
            self.bytes_read += FRAME_HEADER as u64 + len;
            return Ok(true);
        }
    }
}

/// Repairs a WAL after `c`: truncates the damaged segment at the bad frame and deletes every
/// later segment of `segments`. Returns the number of bytes dropped.
pub fn repair(segments: &[PathBuf], c: &Corruption) -> Result<u64> {
    let mut dropped = 0u64;
    if let Some(p) = segments.get(c.segment_pos) {
        let len = fs::metadata(p)
            .map_err(|e| TsdbError::io("stat", p, e))?
            .len();
        dropped += len.saturating_sub(c.offset);
        let f = OpenOptions::new()
            .write(true)
            .open(p)
            .map_err(|e| TsdbError::io("open", p, e))?;
        f.set_len(c.offset)
            .map_err(|e| TsdbError::io("truncate", p, e))?;
        f.sync_all().map_err(|e| TsdbError::io("fsync", p, e))?;
    }
    for p in segments.iter().skip(c.segment_pos + 1) {
        dropped += fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        fs::remove_file(p).map_err(|e| TsdbError::io("remove", p, e))?;
    }
    if let Some(dir) = segments.first().and_then(|p| p.parent()) {
        crate::fs::atomic_write::sync_dir(dir)?;
    }
    Ok(dropped)
}

/// Reads every record of the segments in `dir` (tests and tools).
pub fn read_all(paths: &[&Path]) -> std::result::Result<Vec<Vec<u8>>, String> {
    let mut r = WalReader::new(paths.iter().map(|p| p.to_path_buf()).collect(), u64::MAX);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    loop {
        match r.next(&mut buf) {
            Ok(true) => out.push(buf.clone()),
            Ok(false) => return Ok(out),
            Err(Ok(c)) => return Err(c.reason),
            Err(Err(e)) => return Err(e.to_string()),
        }
    }
}
