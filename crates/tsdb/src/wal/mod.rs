//! The write-ahead log: every commit is written here before it is acknowledged, and replayed
//! into the head at start-up.
//!
//! Layout: `wal/00000000`, `wal/00000001`, ... (segments, see [`segment`]) and at most one
//! complete `wal/checkpoint.NNNNNNNN/` (see [`checkpoint`]). Records are in [`record`];
//! [`tail`] follows a segment that is still being written.

pub mod checkpoint;
pub mod reader;
pub mod record;
pub mod segment;
pub mod tail;
pub mod writer;
