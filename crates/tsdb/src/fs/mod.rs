//! File-system helpers: atomic publication, the directory lock, read-only mmaps.

pub mod atomic_write;
pub mod dir_lock;
pub mod mmap;
