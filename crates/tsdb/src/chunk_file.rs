//! Block chunk files: `chunks/000001`, `chunks/000002`, ... each at most 512 MiB.
//!
//! ```text
//! ┌────────────┬────────────┬───────┐
//! │ "ARGC" (4) │ version u8 │ 0 0 0 │  header
//! ├────────────┴────────────┴───────┴──────────────────────────────────────┐
//! │ len uvarint │ encoding u8 │ data (len bytes) │ crc32c(encoding+data) BE │ × n
//! └──────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! A chunk reference is `file_number << 32 | offset`. Checksums are verified when a chunk is
//! first read by an iterator, so a flipped byte is reported (file and offset) instead of being
//! decoded into wrong samples.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::chunk::ChunkData;
use crate::encoding::{put_uvarint, Decbuf};
use crate::error::{Result, TsdbError};
use crate::fs::mmap::MmapFile;

const MAGIC: &[u8; 4] = b"ARGC";
const VERSION: u8 = 1;
const HEADER: u64 = 8;
/// Maximum size of one chunk file.
pub const MAX_FILE_BYTES: u64 = 512 << 20;

/// Name of chunk file `n` (1-based).
pub fn file_name(n: u32) -> String {
    format!("{n:06}")
}

/// Writes the chunk files of a new block.
pub struct ChunkWriter {
    dir: PathBuf,
    n: u32,
    w: Option<BufWriter<File>>,
    pos: u64,
    buf: Vec<u8>,
    /// Bytes written in total.
    pub bytes: u64,
}

impl ChunkWriter {
    /// A writer creating files in `dir` (created if needed).
    pub fn new(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| TsdbError::io("create dir", dir, e))?;
        Ok(ChunkWriter {
            dir: dir.to_path_buf(),
            n: 0,
            w: None,
            pos: 0,
            buf: Vec::with_capacity(2048),
            bytes: 0,
        })
    }

    fn next_file(&mut self) -> Result<()> {
        self.finish_file()?;
        self.n += 1;
        let p = self.dir.join(file_name(self.n));
        let f = File::create(&p).map_err(|e| TsdbError::io("create", &p, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        w.write_all(MAGIC)
            .and_then(|_| w.write_all(&[VERSION, 0, 0, 0]))
            .map_err(|e| TsdbError::io("write", &p, e))?;
        self.w = Some(w);
        self.pos = HEADER;
        self.bytes += HEADER;
        Ok(())
    }

    fn finish_file(&mut self) -> Result<()> {
        if let Some(w) = self.w.take() {
            let p = self.dir.join(file_name(self.n));
            let f = w
                .into_inner()
                .map_err(|e| TsdbError::io("flush", &p, e.into_error()))?;
            f.sync_all().map_err(|e| TsdbError::io("fsync", &p, e))?;
        }
        Ok(())
    }

    /// Appends a chunk; returns its reference.
    pub fn write(&mut self, encoding: u8, data: &[u8]) -> Result<u64> {
        self.buf.clear();
        put_uvarint(&mut self.buf, data.len() as u64);
        let crc_start = self.buf.len();
        self.buf.push(encoding);
        self.buf.extend_from_slice(data);
        let crc = crc32c::crc32c(self.buf.get(crc_start..).unwrap_or(&[]));
        self.buf.extend_from_slice(&crc.to_be_bytes());
        let len = self.buf.len() as u64;
        if self.w.is_none() || self.pos + len > MAX_FILE_BYTES {
            self.next_file()?;
        }
        let r = (u64::from(self.n) << 32) | self.pos;
        let p = self.dir.join(file_name(self.n));
        if let Some(w) = self.w.as_mut() {
            w.write_all(&self.buf)
                .map_err(|e| TsdbError::io("write", &p, e))?;
        }
        self.pos += len;
        self.bytes += len;
        Ok(r)
    }

    /// Flushes and fsyncs.
    pub fn finish(mut self) -> Result<u64> {
        self.finish_file()?;
        Ok(self.bytes)
    }
}

/// The mapped chunk files of a block.
#[derive(Debug, Default)]
pub struct ChunkFiles {
    files: Vec<Arc<MmapFile>>,
}

impl ChunkFiles {
    /// Maps every chunk file in `dir`, checking headers.
    pub fn open(dir: &Path) -> Result<Self> {
        let mut names: Vec<(u32, PathBuf)> = Vec::new();
        match fs::read_dir(dir) {
            Ok(rd) => {
                for e in rd.flatten() {
                    let name = e.file_name();
                    if let Some(n) = name.to_str().and_then(|s| s.parse::<u32>().ok()) {
                        names.push((n, e.path()));
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(TsdbError::io("read dir", dir, e)),
        }
        names.sort();
        let mut files = Vec::with_capacity(names.len());
        for (i, (n, p)) in names.iter().enumerate() {
            if *n as usize != i + 1 {
                return Err(TsdbError::corruption(
                    p,
                    0,
                    format!("chunk file {n} out of sequence"),
                ));
            }
            let m = MmapFile::open(p)?;
            if m.bytes().get(0..4) != Some(MAGIC.as_slice()) || m.bytes().get(4) != Some(&VERSION) {
                return Err(TsdbError::corruption(p, 0, "bad chunk file header"));
            }
            files.push(Arc::new(m));
        }
        Ok(ChunkFiles { files })
    }

    /// Total bytes.
    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.len() as u64).sum()
    }

    /// The chunk at `r` (checksum not yet verified).
    pub fn chunk(&self, r: u64) -> Result<(u8, ChunkData)> {
        let n = (r >> 32) as usize;
        let off = (r & 0xffff_ffff) as usize;
        let f = n
            .checked_sub(1)
            .and_then(|i| self.files.get(i))
            .ok_or_else(|| TsdbError::InvalidArgument(format!("chunk ref {r:#x}: no file {n}")))?;
        let b = f.bytes();
        let bad = |why: &str| TsdbError::corruption(f.path(), off as u64, why);
        let mut d = Decbuf::new(
            b.get(off..)
                .ok_or_else(|| bad("chunk offset beyond file"))?,
        );
        let len = d.uvarint().ok_or_else(|| bad("bad chunk length"))? as usize;
        let enc = d.byte().ok_or_else(|| bad("truncated chunk"))?;
        let start = off + d.offset();
        let end = start
            .checked_add(len)
            .ok_or_else(|| bad("bad chunk length"))?;
        let crc = b
            .get(end..end + 4)
            .and_then(crate::encoding::be_u32)
            .ok_or_else(|| bad("chunk extends beyond file"))?;
        Ok((
            enc,
            ChunkData::Mapped {
                file: f.clone(),
                start,
                end,
                crc,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::xor::{decode_all, encode, ENCODING_XOR};

    #[test]
    fn write_and_read_chunks() {
        let d = tempfile::tempdir().unwrap();
        let mut w = ChunkWriter::new(d.path()).unwrap();
        let a = encode(&[(1, 1.0), (2, 2.0)]);
        let b = encode(&[(5, 5.0)]);
        let ra = w.write(ENCODING_XOR, &a).unwrap();
        let rb = w.write(ENCODING_XOR, &b).unwrap();
        assert_eq!(ra, (1 << 32) | 8);
        w.finish().unwrap();
        let cf = ChunkFiles::open(d.path()).unwrap();
        let (enc, data) = cf.chunk(rb).unwrap();
        assert_eq!(enc, ENCODING_XOR);
        data.verify().unwrap();
        assert_eq!(decode_all(data.bytes()).unwrap(), vec![(5, 5.0)]);
        assert!(cf.chunk(2 << 32).is_err());
        assert!(cf.chunk((1 << 32) | 10_000).is_err());
    }
}
