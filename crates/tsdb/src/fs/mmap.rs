//! Read-only memory maps shared by reference count.
//!
//! Block files are immutable once published, so a read-only map is safe to share between
//! threads; an `Arc<MmapFile>` keeps the mapping alive for as long as any querier holds a
//! chunk of it, even after the block was dropped from the database.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::{Result, TsdbError};

/// A whole file mapped read-only.
#[derive(Debug)]
pub struct MmapFile {
    map: Option<Mmap>,
    path: PathBuf,
}

impl MmapFile {
    /// Maps `path`. Empty files are allowed (they map to an empty slice).
    pub fn open(path: &Path) -> Result<MmapFile> {
        let f = File::open(path).map_err(|e| TsdbError::io("open", path, e))?;
        let len = f
            .metadata()
            .map_err(|e| TsdbError::io("stat", path, e))?
            .len();
        let map = if len == 0 {
            None
        } else {
            // SAFETY: block files are written to a temporary directory, fsynced and renamed
            // into place, and never modified afterwards (deletion unlinks, which keeps the
            // pages of an existing mapping valid). Nothing writes through or truncates the
            // file while it is mapped, which is what `Mmap::map` requires.
            Some(unsafe { Mmap::map(&f) }.map_err(|e| TsdbError::io("mmap", path, e))?)
        };
        Ok(MmapFile {
            map,
            path: path.to_path_buf(),
        })
    }

    /// The mapped bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        match &self.map {
            Some(m) => m,
            None => &[],
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The file's path (for error messages).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_files_and_empty_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, b"hello").unwrap();
        let m = MmapFile::open(&p).unwrap();
        assert_eq!(m.bytes(), b"hello");
        std::fs::write(d.path().join("e"), b"").unwrap();
        assert!(MmapFile::open(&d.path().join("e")).unwrap().is_empty());
        assert!(MmapFile::open(&d.path().join("missing")).is_err());
    }
}
