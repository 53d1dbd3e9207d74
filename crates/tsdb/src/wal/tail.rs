//! Reading one segment while the writer may still be appending to it, for consumers that
//! follow the WAL (the remote-write sender) rather than replay it once.
//!
//! [`WalReader`](super::reader::WalReader) fixes a segment's size when it opens it and
//! reports a frame cut off by the end of the file as a torn tail. A follower cannot tell a
//! torn tail from a record whose `write(2)` has not finished yet, so [`SegmentTail`] reports
//! both as [`TailRead::Pending`] without consuming anything: the caller retries later, and
//! only treats the leftover as torn once the writer has moved on to a newer segment (the
//! writer finishes every write to a segment before it creates the next one).
//!
//! Frames are those of [`segment`](super::segment): `len u32 BE | crc32c u32 BE | record`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::segment::FRAME_HEADER;
use crate::error::{Result, TsdbError};

/// How much is read from the file at a time.
const READ_CHUNK: usize = 1 << 20;

/// The outcome of [`SegmentTail::next`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailRead {
    /// A complete, checksummed record now in the caller's buffer; the frame spans
    /// `start..end` in the file.
    Record {
        /// Offset of the frame header.
        start: u64,
        /// Offset just past the record.
        end: u64,
    },
    /// No complete frame at the current offset (yet). `buffered` bytes of a partial frame
    /// are waiting; zero means the reader is exactly at the end of the file.
    Pending {
        /// Offset of the next frame.
        offset: u64,
        /// Bytes present after `offset`.
        buffered: u64,
    },
    /// The frame at `offset` is damaged (bad checksum, impossible or zero length). Nothing
    /// after it in this segment can be trusted.
    Corrupt {
        /// Offset of the damaged frame.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

/// A forward-only reader of one segment that tolerates the file growing underneath it.
pub struct SegmentTail {
    path: PathBuf,
    file: File,
    /// Bytes read from the file that have not been consumed; `buf[pos..]` starts at file
    /// offset `offset`.
    buf: Vec<u8>,
    pos: usize,
    offset: u64,
    max_record: u64,
}

impl SegmentTail {
    /// Opens `path` positioned at `offset`, which must be a frame boundary (0, or the `end`
    /// of a record read earlier). Frames longer than `max_record` bytes are corruption.
    pub fn open(path: &Path, offset: u64, max_record: u64) -> Result<SegmentTail> {
        let mut file = File::open(path).map_err(|e| TsdbError::io("open", path, e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| TsdbError::io("seek", path, e))?;
        Ok(SegmentTail {
            path: path.to_path_buf(),
            file,
            buf: Vec::new(),
            pos: 0,
            offset,
            max_record,
        })
    }

    /// The segment file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Offset of the next unread frame.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn available(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Reads until at least `want` unconsumed bytes are buffered or the file ends.
    fn fill(&mut self, want: usize) -> Result<()> {
        if self.available() >= want {
            return Ok(());
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        while self.buf.len() < want {
            let have = self.buf.len();
            let grow = (want - have).max(READ_CHUNK);
            self.buf.resize(have + grow, 0);
            let dst = self.buf.get_mut(have..).unwrap_or_default();
            let n = match self.file.read(dst) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 0,
                Err(e) => {
                    self.buf.truncate(have);
                    return Err(TsdbError::io("read", &self.path, e));
                }
            };
            self.buf.truncate(have + n);
            if n == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Reads the next record into `rec`.
    pub fn next(&mut self, rec: &mut Vec<u8>) -> Result<TailRead> {
        self.fill(FRAME_HEADER)?;
        let pending = |s: &Self| TailRead::Pending {
            offset: s.offset,
            buffered: s.available() as u64,
        };
        let Some(hdr) = self
            .buf
            .get(self.pos..self.pos + FRAME_HEADER)
            .and_then(|h| <[u8; FRAME_HEADER]>::try_from(h).ok())
        else {
            return Ok(pending(self));
        };
        let [l0, l1, l2, l3, c0, c1, c2, c3] = hdr;
        let len = u32::from_be_bytes([l0, l1, l2, l3]);
        let crc = u32::from_be_bytes([c0, c1, c2, c3]);
        if len == 0 {
            return Ok(TailRead::Corrupt {
                offset: self.offset,
                reason: "zero-length frame".into(),
            });
        }
        if u64::from(len) > self.max_record {
            return Ok(TailRead::Corrupt {
                offset: self.offset,
                reason: format!("frame length {len} exceeds the limit {}", self.max_record),
            });
        }
        let total = FRAME_HEADER + len as usize;
        self.fill(total)?;
        let Some(body) = self.buf.get(self.pos + FRAME_HEADER..self.pos + total) else {
            return Ok(pending(self));
        };
        let got = crc32c::crc32c(body);
        if got != crc {
            return Ok(TailRead::Corrupt {
                offset: self.offset,
                reason: format!("checksum mismatch (stored {crc:#010x}, computed {got:#010x})"),
            });
        }
        rec.clear();
        rec.extend_from_slice(body);
        let start = self.offset;
        self.pos += total;
        self.offset += total as u64;
        Ok(TailRead::Record {
            start,
            end: self.offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::wal::segment::frame;

    fn framed(records: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for r in records {
            frame(r, &mut out);
        }
        out
    }

    #[test]
    fn follows_a_growing_file_and_waits_on_partial_frames() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("00000000");
        let bytes = framed(&[b"one", b"two", b"three"]);
        let mut f = File::create(&p).unwrap();
        // Half of the second frame: the reader must neither consume nor report damage.
        f.write_all(&bytes[..11 + 5]).unwrap();
        let mut t = SegmentTail::open(&p, 0, 1 << 20).unwrap();
        let mut rec = Vec::new();
        assert_eq!(
            t.next(&mut rec).unwrap(),
            TailRead::Record { start: 0, end: 11 }
        );
        assert_eq!(rec, b"one");
        assert_eq!(
            t.next(&mut rec).unwrap(),
            TailRead::Pending {
                offset: 11,
                buffered: 5
            }
        );
        f.write_all(&bytes[16..]).unwrap();
        assert_eq!(
            t.next(&mut rec).unwrap(),
            TailRead::Record { start: 11, end: 22 }
        );
        assert_eq!(rec, b"two");
        assert!(matches!(t.next(&mut rec).unwrap(), TailRead::Record { .. }));
        assert_eq!(rec, b"three");
        assert_eq!(
            t.next(&mut rec).unwrap(),
            TailRead::Pending {
                offset: bytes.len() as u64,
                buffered: 0
            }
        );
        // Reopening at a record boundary resumes there.
        let mut t = SegmentTail::open(&p, 11, 1 << 20).unwrap();
        assert!(matches!(
            t.next(&mut rec).unwrap(),
            TailRead::Record { start: 11, .. }
        ));
        assert_eq!(rec, b"two");
    }

    #[test]
    fn damage_is_reported_with_its_offset() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("00000000");
        let mut bytes = framed(&[b"one", b"two"]);
        bytes[11 + 9] ^= 0xff;
        std::fs::write(&p, &bytes).unwrap();
        let mut t = SegmentTail::open(&p, 0, 1 << 20).unwrap();
        let mut rec = Vec::new();
        assert!(matches!(t.next(&mut rec).unwrap(), TailRead::Record { .. }));
        let TailRead::Corrupt { offset, reason } = t.next(&mut rec).unwrap() else {
            panic!("expected corruption");
        };
        assert_eq!(offset, 11);
        assert!(reason.contains("checksum"), "{reason}");

        std::fs::write(&p, [0u8; 16]).unwrap();
        let mut t = SegmentTail::open(&p, 0, 1 << 20).unwrap();
        assert!(matches!(
            t.next(&mut rec).unwrap(),
            TailRead::Corrupt { .. }
        ));
    }

    #[test]
    fn records_larger_than_one_read_chunk() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("00000000");
        let big = vec![7u8; READ_CHUNK * 2 + 3];
        std::fs::write(&p, framed(&[&big, b"x"])).unwrap();
        let mut t = SegmentTail::open(&p, 0, u64::MAX).unwrap();
        let mut rec = Vec::new();
        assert!(matches!(t.next(&mut rec).unwrap(), TailRead::Record { .. }));
        assert_eq!(rec.len(), big.len());
        assert!(matches!(t.next(&mut rec).unwrap(), TailRead::Record { .. }));
        assert_eq!(rec, b"x");
    }
}
