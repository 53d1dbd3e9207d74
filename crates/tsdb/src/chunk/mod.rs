//! Chunk codecs and the iterators over them.
//!
//! A chunk holds the samples of one series over a stretch of time. The head stores Gorilla
//! XOR chunks ([`xor`]), which can be appended to sample by sample; blocks, written once,
//! store columnar chunks ([`columnar`]: shared time columns, decimal or bit-pattern value
//! columns bit-packed by [`intcol`]); blocks of older versions hold XOR chunks, still read.
//! Iterators ([`iterator`]) walk a list of chunks, clip to a time range, skip deleted
//! intervals and merge overlapping sources.

pub mod bitpack;
pub mod bitstream;
pub mod columnar;
pub mod intcol;
pub mod iterator;
pub mod xor;

use std::sync::Arc;

use crate::fs::mmap::MmapFile;

/// The bytes of one chunk (encoding-specific payload, without framing), either owned in memory
/// (head) or a range of a mapped block file.
#[derive(Debug, Clone)]
pub enum ChunkData {
    /// Chunk bytes in memory.
    Owned(Arc<[u8]>),
    /// `file[start..end]`; `crc` is the checksum stored after the chunk, over
    /// `file[start - 1..end]` (encoding byte + data). Verified when first read.
    Mapped {
        /// The mapped chunk file.
        file: Arc<MmapFile>,
        /// Start of the data.
        start: usize,
        /// End of the data.
        end: usize,
        /// Expected CRC32C.
        crc: u32,
    },
    /// A columnar block chunk: its value chunk and the time column it refers to.
    Columnar(Arc<ColumnarData>),
}

/// The two mapped parts of a columnar block chunk.
#[derive(Debug)]
pub struct ColumnarData {
    /// The value chunk ([`columnar::ENCODING_VALUES`]).
    pub values: ChunkData,
    /// The time column it refers to ([`columnar::ENCODING_TIMES`]).
    pub times: ChunkData,
}

impl ChunkData {
    /// The chunk's bytes (empty for an out-of-range mapping, which the CRC check reports).
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        match self {
            ChunkData::Owned(b) => b,
            ChunkData::Mapped {
                file, start, end, ..
            } => file.bytes().get(*start..*end).unwrap_or(&[]),
            ChunkData::Columnar(c) => c.values.bytes(),
        }
    }

    /// The file the chunk is in (for error messages).
    pub fn path(&self) -> std::path::PathBuf {
        match self {
            ChunkData::Owned(_) => "head chunk".into(),
            ChunkData::Mapped { file, .. } => file.path().to_path_buf(),
            ChunkData::Columnar(c) => c.values.path(),
        }
    }

    /// Verifies the stored checksum. `Err` carries the file and a description.
    pub fn verify(&self) -> Result<(), (std::path::PathBuf, String)> {
        if let ChunkData::Columnar(c) = self {
            c.values.verify()?;
            return c.times.verify();
        }
        let ChunkData::Mapped {
            file,
            start,
            end,
            crc,
        } = self
        else {
            return Ok(());
        };
        let Some(framed) = start.checked_sub(1).and_then(|s| file.bytes().get(s..*end)) else {
            return Err((
                file.path().to_path_buf(),
                format!(
                    "chunk range {start}..{end} outside file of {} bytes",
                    file.len()
                ),
            ));
        };
        let got = crc32c::crc32c(framed);
        if got != *crc {
            return Err((
                file.path().to_path_buf(),
                format!("chunk at offset {start}: checksum mismatch (stored {crc:#010x}, computed {got:#010x})"),
            ));
        }
        Ok(())
    }
}

/// One chunk of a series with its time bounds.
#[derive(Debug, Clone)]
pub struct ChunkMeta {
    /// First timestamp in the chunk.
    pub mint: i64,
    /// Last timestamp in the chunk.
    pub maxt: i64,
    /// The bytes.
    pub data: ChunkData,
    /// Read at most this many samples (head isolation hides samples of later commits).
    pub limit: u16,
}
