//! Appending records to the current segment, rolling segments and fsyncing per policy.
//!
//! A commit's records are framed into one buffer and written with a single `write(2)`
//! (`write_all`), so when `log` returns the bytes are in the kernel's page cache and survive
//! the process being killed. What survives a power loss depends on [`FsyncPolicy`].

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::segment::{frame, segment_name, FRAME_HEADER};
use crate::error::{Result, TsdbError};
use crate::metrics::WalMetrics;
use crate::options::FsyncPolicy;

/// The writing end of the WAL.
pub struct WalWriter {
    dir: PathBuf,
    segment_bytes: u64,
    file: File,
    index: u64,
    size: u64,
    policy: FsyncPolicy,
    dirty: bool,
    buf: Vec<u8>,
    metrics: WalMetrics,
}

impl WalWriter {
    /// Creates segment `index` in `dir` (a fresh segment on every open, so a possibly torn
    /// older one is never appended to).
    pub fn open(
        dir: &Path,
        index: u64,
        segment_bytes: u64,
        policy: FsyncPolicy,
        metrics: WalMetrics,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| TsdbError::io("create dir", dir, e))?;
        let file = create_segment(dir, index)?;
        // The new segment's directory entry must be durable too, or a power loss before the
        // first roll could lose the whole segment even with fsync `always`.
        crate::fs::atomic_write::sync_dir(dir)?;
        metrics.segment_current.set(index as i64);
        Ok(WalWriter {
            dir: dir.to_path_buf(),
            segment_bytes,
            file,
            index,
            size: 0,
            policy,
            dirty: false,
            buf: Vec::with_capacity(64 << 10),
            metrics,
        })
    }

    /// Index of the segment being written.
    pub fn current_segment(&self) -> u64 {
        self.index
    }

    /// Bytes written to the current segment (the position a head snapshot covers up to).
    pub fn current_size(&self) -> u64 {
        self.size
    }

    /// The WAL directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `records` (unframed) in order. Returns after `write(2)`; with
    /// [`FsyncPolicy::Always`] also after `fdatasync`.
    pub fn log(&mut self, records: &[&[u8]]) -> Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let res = self.log_into(records, &mut buf);
        self.buf = buf;
        res?;
        if self.policy == FsyncPolicy::Always {
            self.sync()?;
        }
        Ok(())
    }

    fn log_into(&mut self, records: &[&[u8]], buf: &mut Vec<u8>) -> Result<()> {
        for rec in records {
            let framed = (rec.len() + FRAME_HEADER) as u64;
            if framed > self.segment_bytes {
                return Err(TsdbError::InvalidArgument(format!(
                    "WAL record of {} bytes exceeds the segment size {}",
                    rec.len(),
                    self.segment_bytes
                )));
            }
            if self.size + buf.len() as u64 + framed > self.segment_bytes {
                self.write_buf(buf)?;
                self.roll()?;
            }
            frame(rec, buf);
        }
        self.write_buf(buf)
    }

    fn write_buf(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(segment_name(self.index));
        if let Err(e) = self.file.write_all(buf) {
            self.metrics.writes_failed.inc();
            // A partial write (ENOSPC, EIO) may have left a torn frame. Cut the segment back
            // to its last complete frame so the next commit continues a clean segment: a
            // torn frame followed by more data would read as mid-WAL corruption at replay,
            // and repairing that drops everything after it. Only if the cut fails, start a
            // new segment (the torn frame then ends its segment).
            if truncate_to(&self.file, self.size).is_err() {
                let _ = self.roll();
            }
            return Err(TsdbError::io("write", &path, e));
        }
        self.size += buf.len() as u64;
        self.dirty = true;
        buf.clear();
        Ok(())
    }

    /// Closes the current segment (fsynced) and starts the next one.
    pub fn roll(&mut self) -> Result<()> {
        self.sync()?;
        let next = self.index + 1;
        self.file = create_segment(&self.dir, next)?;
        self.index = next;
        self.size = 0;
        self.metrics.segment_current.set(next as i64);
        crate::fs::atomic_write::sync_dir(&self.dir)
    }

    /// fsyncs the current segment if anything was written since the last sync.
    pub fn sync(&mut self) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let start = Instant::now();
        self.file
            .sync_data()
            .map_err(|e| TsdbError::io("fsync", &self.dir.join(segment_name(self.index)), e))?;
        self.metrics
            .fsync_duration
            .observe(start.elapsed().as_secs_f64());
        self.dirty = false;
        Ok(())
    }

    /// For the background fsync of [`FsyncPolicy::Interval`]: a duplicate handle of the
    /// current segment when it has unsynced writes (the caller fsyncs it without holding the
    /// writer's lock). Marks the writer clean.
    pub fn take_dirty_handle(&mut self) -> Option<File> {
        if !self.dirty {
            return None;
        }
        let f = self.file.try_clone().ok()?;
        self.dirty = false;
        Some(f)
    }

    /// The fsync-duration metric (for background syncs).
    pub fn metrics(&self) -> &WalMetrics {
        &self.metrics
    }
}

/// Cuts `file` back to `len` bytes. The file is in append mode, so the next write lands
/// at the new end.
fn truncate_to(file: &File, len: u64) -> std::io::Result<()> {
    file.set_len(len)?;
    file.sync_data()
}

fn create_segment(dir: &Path, index: u64) -> Result<File> {
    let path = dir.join(segment_name(index));
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| TsdbError::io("create", &path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::reader::{read_all, repair, WalReader};
    use crate::wal::segment::list_segments;

    #[test]
    fn a_failed_write_is_cut_back_so_the_segment_stays_clean() {
        let d = tempfile::tempdir().unwrap();
        let mut w = writer(d.path(), 1 << 20);
        w.log(&[b"first"]).unwrap();
        let good = w.size;
        // What a partial write leaves behind: half a frame.
        let mut torn = Vec::new();
        frame(b"never acknowledged", &mut torn);
        torn.truncate(torn.len() / 2);
        w.file.write_all(&torn).unwrap();
        truncate_to(&w.file, good).unwrap();
        w.log(&[b"second"]).unwrap();
        w.sync().unwrap();
        let segs = list_segments(d.path()).unwrap();
        assert_eq!(segs.len(), 1, "no new segment was needed");
        let paths: Vec<&Path> = segs.iter().map(|(_, p)| p.as_path()).collect();
        let recs = read_all(&paths).unwrap();
        assert_eq!(recs, vec![b"first".to_vec(), b"second".to_vec()]);
    }

    fn writer(dir: &Path, seg: u64) -> WalWriter {
        WalWriter::open(
            dir,
            0,
            seg,
            FsyncPolicy::Segment,
            WalMetrics::unregistered(),
        )
        .unwrap()
    }

    #[test]
    fn rolls_segments_and_reads_back() {
        let d = tempfile::tempdir().unwrap();
        let mut w = writer(d.path(), 100);
        for i in 0..20u8 {
            w.log(&[&[i; 30]]).unwrap();
        }
        let segs = list_segments(d.path()).unwrap();
        assert!(segs.len() > 5, "records never span segments: {segs:?}");
        let paths: Vec<&Path> = segs.iter().map(|(_, p)| p.as_path()).collect();
        let recs = read_all(&paths).unwrap();
        assert_eq!(recs.len(), 20);
        assert!(recs
            .iter()
            .enumerate()
            .all(|(i, r)| r == &vec![i as u8; 30]));
    }

    #[test]
    fn torn_tail_and_middle_corruption_are_reported_and_repaired() {
        let d = tempfile::tempdir().unwrap();
        let mut w = writer(d.path(), 1 << 20);
        for i in 0..10u8 {
            w.log(&[&[i; 50]]).unwrap();
        }
        drop(w);
        let p = d.path().join("00000000");
        let full = std::fs::read(&p).unwrap();
        // Torn tail: cut the last frame in half.
        std::fs::write(&p, &full[..full.len() - 20]).unwrap();
        let mut r = WalReader::new(vec![p.clone()], 1 << 20);
        let mut buf = Vec::new();
        let mut n = 0;
        let c = loop {
            match r.next(&mut buf) {
                Ok(true) => n += 1,
                Ok(false) => panic!("expected corruption"),
                Err(Ok(c)) => break c,
                Err(Err(e)) => panic!("{e}"),
            }
        };
        assert_eq!(n, 9);
        assert!(c.torn);
        assert_eq!(repair(std::slice::from_ref(&p), &c).unwrap(), 38);
        assert_eq!(read_all(&[&p]).unwrap().len(), 9);

        // Flipped byte in the middle: not torn, everything after it is dropped.
        let mut bad = full.clone();
        bad[3 * 58 + 20] ^= 1;
        std::fs::write(&p, &bad).unwrap();
        let mut r = WalReader::new(vec![p.clone()], 1 << 20);
        let c = loop {
            match r.next(&mut buf) {
                Ok(true) => {}
                Ok(false) => panic!("expected corruption"),
                Err(Ok(c)) => break c,
                Err(Err(e)) => panic!("{e}"),
            }
        };
        assert!(!c.torn);
        assert_eq!(c.offset, 3 * 58);
        assert!(c.reason.contains("checksum"));
        assert_eq!(repair(std::slice::from_ref(&p), &c).unwrap(), 7 * 58);
        assert_eq!(read_all(&[&p]).unwrap().len(), 3);
    }
}
