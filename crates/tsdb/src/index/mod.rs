//! The block index: symbols, series (labels + chunk references), and roaring-bitmap
//! postings over block-local series ordinals.
//!
//! ```text
//! ┌──────────────────────────────┐
//! │ "ARGI" │ version u8 │ 0 0 0  │  header (8 bytes)
//! ├──────────────────────────────┤
//! │ symbols        │ crc32c u32  │  uvarint n, then n length-prefixed strings, sorted;
//! │                │             │  a symbol's ID is its position
//! ├──────────────────────────────┤
//! │ series         │ crc32c u32  │  per series, in label order (ordinal 0..N):
//! │                │             │   uvarint nlabels, (name id, value id) uvarints,
//! │                │             │   uvarint nchunks, per chunk: mint varint,
//! │                │             │   maxt−mint uvarint, ref (first absolute, then delta) uvarint
//! ├──────────────────────────────┤
//! │ series offsets │ crc32c u32  │  u32 LE per series: its offset in the series section
//! ├──────────────────────────────┤
//! │ postings       │ crc32c u32  │  roaring bitmaps (portable format), back to back
//! ├──────────────────────────────┤
//! │ postings table │ crc32c u32  │  uvarint nnames; per name: name id, uvarint nvalues,
//! │                │             │  per value: value id, offset, length (uvarints)
//! ├──────────────────────────────┤
//! │ TOC: 5 × (offset u64 BE, length u64 BE) │ crc32c u32 BE │  fixed 84 bytes at the end
//! └──────────────────────────────┘
//! ```
//!
//! Every section is checked against its CRC when the block is opened, so a damaged index is
//! reported by name at start-up and never read as garbage. Series are sorted by label set, so
//! postings in ordinal order are also in label order, and a select never has to sort.

pub mod reader;
pub mod writer;

/// Magic bytes of an index file.
pub const MAGIC: &[u8; 4] = b"ARGI";
/// Current format version.
pub const VERSION: u8 = 1;
/// Number of sections.
pub const SECTIONS: usize = 5;
/// Size of the table of contents.
pub const TOC_LEN: usize = SECTIONS * 16 + 4;

/// Section indexes in the TOC.
pub mod section {
    /// Symbols.
    pub const SYMBOLS: usize = 0;
    /// Series.
    pub const SERIES: usize = 1;
    /// Series offsets.
    pub const SERIES_OFFSETS: usize = 2;
    /// Postings.
    pub const POSTINGS: usize = 3;
    /// Postings table.
    pub const POSTINGS_TABLE: usize = 4;
}

/// A chunk's entry in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkEntry {
    /// First timestamp.
    pub mint: i64,
    /// Last timestamp.
    pub maxt: i64,
    /// `file_number << 32 | offset` of the chunk in `chunks/`.
    pub r: u64,
}
