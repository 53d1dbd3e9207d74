//! Crash-safe publication of files and directories: write to a temporary name, fsync, rename,
//! fsync the parent. After a crash either the old or the new version is visible, never a torn
//! one.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::error::{Result, TsdbError};

/// fsyncs a directory so a rename or create inside it is durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    let f = File::open(dir).map_err(|e| TsdbError::io("open dir", dir, e))?;
    f.sync_all().map_err(|e| TsdbError::io("fsync dir", dir, e))
}

/// Writes `data` to `path` atomically (temp file in the same directory, fsync, rename,
/// fsync the directory).
pub fn atomic_write(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut f = File::create(&tmp).map_err(|e| TsdbError::io("create", &tmp, e))?;
        f.write_all(data)
            .map_err(|e| TsdbError::io("write", &tmp, e))?;
        f.sync_all().map_err(|e| TsdbError::io("fsync", &tmp, e))?;
    }
    fs::rename(&tmp, path).map_err(|e| TsdbError::io("rename", &tmp, e))?;
    sync_dir(dir)
}

/// Renames a fully written and fsynced directory into place and fsyncs the parent.
pub fn publish_dir(tmp: &Path, dst: &Path) -> Result<()> {
    sync_dir(tmp)?;
    fs::rename(tmp, dst).map_err(|e| TsdbError::io("rename", tmp, e))?;
    if let Some(parent) = dst.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Deletes a directory by renaming it to `<name>.tmp-for-deletion` first, so a crash in the
/// middle leaves a name that the next start cleans up instead of a half-deleted block.
pub fn delete_dir(dir: &Path) -> Result<()> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = dir.parent().unwrap_or(Path::new("."));
    let tmp = parent.join(format!("{name}.tmp-for-deletion"));
    fs::rename(dir, &tmp).map_err(|e| TsdbError::io("rename", dir, e))?;
    fs::remove_dir_all(&tmp).map_err(|e| TsdbError::io("remove", &tmp, e))
}

/// Total size of the regular files under `dir`, recursively.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(rd) = fs::read_dir(dir) else { return 0 };
    let mut total = 0;
    for e in rd.flatten() {
        match e.file_type() {
            Ok(t) if t.is_dir() => total += dir_size(&e.path()),
            Ok(_) => total += e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => {}
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_delete_dir_removes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("meta.json");
        atomic_write(&p, b"one").unwrap();
        atomic_write(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert!(!d.path().join("meta.json.tmp").exists());
        let sub = d.path().join("blk");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("x"), b"12345").unwrap();
        assert_eq!(dir_size(d.path()), 8);
        delete_dir(&sub).unwrap();
        assert!(!sub.exists());
    }
}
