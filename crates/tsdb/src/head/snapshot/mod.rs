//! Head snapshot on clean shutdown (Prometheus' `memory-snapshot-on-shutdown`): every series
//! with its labels and head chunks, written at close, so the next start loads it instead of
//! replaying the whole WAL and then replays only the segments written after it.
//!
//! ```text
//! <dir>/head.snapshot
//!   "ARGUSHS1"  header_len u32 LE  header  header_crc32c u32 LE  part 0  part 1 ...
//!   header: version uvarint (1), wal_segment uvarint, wal_offset uvarint,
//!           checkpoint uvarint (0 = none, else number + 1), min_valid_time varint,
//!           next_ref uvarint, series uvarint, parts uvarint, (part_len uvarint, crc32c u32 LE)×parts
//!   part:   series uvarint, series × n (see [`codec`])
//! ```
//!
//! The WAL stays the source of truth; the snapshot is only a faster way to reach the same
//! head. It is trusted only when the WAL still ends where it ended at the snapshot (same
//! checkpoint, the covered segment unchanged in length) and the persisted boundary is the
//! same; anything else — a missing, partial, damaged or stale file — is ignored with a
//! warning and the full WAL is replayed. After a successful load it is deleted, so a later
//! crash recovers from the WAL exactly as before. Parts are checksummed separately so they
//! can be verified and decoded in parallel.

pub mod codec;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use tracing::{info, warn};

use super::postings::MemPostings;
use super::series::MemSeries;
use super::Head;
use crate::encoding::{le_u32, put_uvarint, put_varint, Decbuf};
use crate::error::{Result, TsdbError};
use crate::fs::atomic_write::sync_dir;
use crate::fs::mmap::MmapFile;
use crate::wal::segment::{last_checkpoint, segment_name};
use codec::{decode_series, encode_series, LoadedSeries};

/// File name inside the data directory.
pub const FILE_NAME: &str = "head.snapshot";
const MAGIC: &[u8; 8] = b"ARGUSHS1";
const VERSION: u64 = 1;
/// More parts than cores keeps the threads evenly busy; each part costs one checksum.
const PARTS: usize = 16;

/// Where the WAL stood when the snapshot was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPos {
    /// Segment being written at the time; later segments are replayed after loading.
    pub wal_segment: u64,
    /// Its length then.
    pub wal_offset: u64,
    /// Newest checkpoint then.
    pub checkpoint: Option<u64>,
    /// The head's persisted boundary then.
    pub min_valid_time: i64,
}

/// What a snapshot write or load did.
#[derive(Debug, Clone, Copy, Default)]
pub struct SnapshotStats {
    /// Series written / loaded.
    pub series: u64,
    /// Chunks written / loaded (closed + open).
    pub chunks: u64,
    /// File size.
    pub bytes: u64,
    /// Wall time.
    pub duration: std::time::Duration,
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, PARTS)
}

/// Writes the snapshot of `head` into `dir` atomically. The caller makes sure no commit can
/// happen any more (the head is closed); the commit lock is held anyway so the recorded WAL
/// position is exact.
pub fn write(head: &Head, dir: &Path) -> Result<SnapshotStats> {
    let start = Instant::now();
    let wal_dir = dir.join("wal");
    let c = head.commit.lock();
    let Some(wal) = c.wal.as_ref() else {
        return Err(TsdbError::InvalidArgument("head has no WAL".into()));
    };
    let pos = SnapshotPos {
        wal_segment: wal.current_segment(),
        wal_offset: wal.current_size(),
        checkpoint: last_checkpoint(&wal_dir)?.map(|(n, _)| n),
        min_valid_time: head.min_valid_time(),
    };
    let mut all: Vec<Arc<MemSeries>> = Vec::with_capacity(head.num_series());
    head.series.for_each(|s| all.push(s.clone()));
    all.sort_unstable_by_key(|s| s.r);
    let per_part = all.len().div_ceil(PARTS).max(1);
    let groups: Vec<&[Arc<MemSeries>]> = all.chunks(per_part).collect();
    let mut parts: Vec<(Vec<u8>, u64)> = Vec::with_capacity(groups.len());
    std::thread::scope(|sc| {
        let n = threads();
        let handles: Vec<_> = (0..n)
            .map(|k| {
                let groups = &groups;
                sc.spawn(move || {
                    groups
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % n == k)
                        .map(|(i, g)| (i, encode_part(g)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut done: Vec<(usize, (Vec<u8>, u64))> = Vec::new();
        for h in handles {
            // A panicking encoder thread is a bug; the snapshot is then simply not written.
            if let Ok(v) = h.join() {
                done.extend(v);
            }
        }
        done.sort_by_key(|(i, _)| *i);
        parts.extend(done.into_iter().map(|(_, p)| p));
    });
    if parts.len() != groups.len() {
        return Err(TsdbError::InvalidArgument(
            "snapshot encoder thread failed".into(),
        ));
    }
    let mut header = Vec::new();
    put_uvarint(&mut header, VERSION);
    put_uvarint(&mut header, pos.wal_segment);
    put_uvarint(&mut header, pos.wal_offset);
    put_uvarint(&mut header, pos.checkpoint.map_or(0, |n| n + 1));
    put_varint(&mut header, pos.min_valid_time);
    put_uvarint(&mut header, head.next_ref());
    put_uvarint(&mut header, all.len() as u64);
    put_uvarint(&mut header, parts.len() as u64);
    let mut stats = SnapshotStats {
        series: all.len() as u64,
        ..Default::default()
    };
    for (p, chunks) in &parts {
        put_uvarint(&mut header, p.len() as u64);
        header.extend_from_slice(&crc32c::crc32c(p).to_le_bytes());
        stats.chunks += chunks;
    }
    let path = dir.join(FILE_NAME);
    let tmp = dir.join(format!("{FILE_NAME}.tmp"));
    let res = write_file(&tmp, &header, parts.iter().map(|(p, _)| p.as_slice()));
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &path).map_err(|e| TsdbError::io("rename", &tmp, e))?;
    sync_dir(dir)?;
    drop(c);
    stats.bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    stats.duration = start.elapsed();
    info!(
        file = %path.display(),
        series = stats.series,
        chunks = stats.chunks,
        bytes = stats.bytes,
        wal_segment = pos.wal_segment,
        duration = ?stats.duration,
        "Head snapshot written."
    );
    Ok(stats)
}

/// Encodes one part; returns its bytes and its chunk count.
fn encode_part(series: &[Arc<MemSeries>]) -> (Vec<u8>, u64) {
    let mut out = Vec::with_capacity(series.len() * 512);
    put_uvarint(&mut out, series.len() as u64);
    let mut chunks = 0u64;
    for s in series {
        let d = s.data.lock();
        chunks += d.num_chunks() as u64;
        encode_series(s, s.logged.load(Ordering::Acquire), &d, &mut out);
    }
    (out, chunks)
}

fn write_file<'a>(tmp: &Path, header: &[u8], parts: impl Iterator<Item = &'a [u8]>) -> Result<()> {
    let f = File::create(tmp).map_err(|e| TsdbError::io("create", tmp, e))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let io = |e| TsdbError::io("write", tmp, e);
    let hlen = u32::try_from(header.len())
        .map_err(|_| TsdbError::InvalidArgument("snapshot header too large".into()))?;
    w.write_all(MAGIC).map_err(io)?;
    w.write_all(&hlen.to_le_bytes()).map_err(io)?;
    w.write_all(header).map_err(io)?;
    w.write_all(&crc32c::crc32c(header).to_le_bytes())
        .map_err(io)?;
    for p in parts {
        w.write_all(p).map_err(io)?;
    }
    let f = w.into_inner().map_err(|e| io(e.into_error()))?;
    f.sync_all().map_err(|e| TsdbError::io("fsync", tmp, e))
}

/// The parsed header.
struct Header {
    pos: SnapshotPos,
    next_ref: u64,
    series: u64,
    /// (offset in the file, length, crc32c) per part.
    parts: Vec<(usize, usize, u32)>,
}

fn parse_header(b: &[u8]) -> std::result::Result<Header, String> {
    let magic = b.get(..8).ok_or("file shorter than its magic")?;
    if magic != MAGIC {
        return Err("bad magic".into());
    }
    let mut d = Decbuf::new(b.get(8..).unwrap_or_default());
    let hlen = d
        .bytes(4)
        .and_then(le_u32)
        .ok_or("truncated header length")? as usize;
    let hb = d.bytes(hlen).ok_or("truncated header")?;
    let crc = d.bytes(4).ok_or("truncated header checksum")?;
    if crc32c::crc32c(hb).to_le_bytes() != crc {
        return Err("header checksum mismatch".into());
    }
    let mut h = Decbuf::new(hb);
    let field = |h: &mut Decbuf<'_>, what: &str| h.uvarint().ok_or(format!("truncated {what}"));
    let version = field(&mut h, "version")?;
    if version != VERSION {
        return Err(format!("unsupported version {version}"));
    }
    let wal_segment = field(&mut h, "WAL segment")?;
    let wal_offset = field(&mut h, "WAL offset")?;
    let checkpoint = field(&mut h, "checkpoint")?.checked_sub(1);
    let min_valid_time = h.varint().ok_or("truncated min valid time")?;
    let next_ref = field(&mut h, "next ref")?;
    let series = field(&mut h, "series count")?;
    let nparts = field(&mut h, "part count")?;
    if nparts > h.remaining() as u64 {
        return Err(format!("part count {nparts} exceeds the header"));
    }
    let mut off = 8 + 4 + hlen + 4;
    let mut parts = Vec::new();
    for _ in 0..nparts {
        let len = usize::try_from(field(&mut h, "part length")?).map_err(|e| e.to_string())?;
        let crc = h
            .bytes(4)
            .and_then(le_u32)
            .ok_or("truncated part checksum")?;
        parts.push((off, len, crc));
        off = off.checked_add(len).ok_or("part lengths overflow")?;
    }
    if off != b.len() {
        return Err(format!(
            "file is {} bytes, the header describes {off}",
            b.len()
        ));
    }
    Ok(Header {
        pos: SnapshotPos {
            wal_segment,
            wal_offset,
            checkpoint,
            min_valid_time,
        },
        next_ref,
        series,
        parts,
    })
}

/// Why the WAL no longer matches the snapshot, if it does not.
fn stale_reason(head: &Head, wal_dir: &Path, pos: &SnapshotPos) -> Option<String> {
    let cp = match last_checkpoint(wal_dir) {
        Ok(c) => c.map(|(n, _)| n),
        Err(e) => return Some(e.to_string()),
    };
    if cp != pos.checkpoint {
        return Some(format!(
            "WAL checkpoint is {cp:?}, the snapshot was taken at {:?}",
            pos.checkpoint
        ));
    }
    let seg: PathBuf = wal_dir.join(segment_name(pos.wal_segment));
    match std::fs::metadata(&seg) {
        Ok(m) if m.len() == pos.wal_offset => {}
        Ok(m) => {
            return Some(format!(
                "WAL segment {} is {} bytes, the snapshot covers {}",
                seg.display(),
                m.len(),
                pos.wal_offset
            ))
        }
        Err(e) => return Some(format!("WAL segment {}: {e}", seg.display())),
    }
    if head.min_valid_time() != pos.min_valid_time {
        return Some(format!(
            "persisted boundary moved from {} to {}",
            pos.min_valid_time,
            head.min_valid_time()
        ));
    }
    None
}

/// Loads `<dir>/head.snapshot` into the empty `head` when it is intact and matches the WAL.
/// Returns where WAL replay has to continue, or None (no usable snapshot: replay everything).
/// With `consume`, the file is removed afterwards (used or not), so only the WAL can
/// describe what happens after this start.
pub fn load(head: &Head, dir: &Path, consume: bool) -> Option<(SnapshotPos, SnapshotStats)> {
    let path = dir.join(FILE_NAME);
    if !path.exists() {
        return None;
    }
    let res = load_file(head, dir, &path);
    if consume {
        if let Err(e) = std::fs::remove_file(&path) {
            warn!(file = %path.display(), error = %e, "Could not remove the used head snapshot.");
        }
    }
    match res {
        Ok(x) => Some(x),
        Err(reason) => {
            head.metrics.wal.corruptions.inc();
            warn!(file = %path.display(), %reason,
                "Head snapshot ignored; replaying the whole WAL instead.");
            None
        }
    }
}

fn load_file(
    head: &Head,
    dir: &Path,
    path: &Path,
) -> std::result::Result<(SnapshotPos, SnapshotStats), String> {
    let start = Instant::now();
    // Mapped, not read: a copy would fault in and zero as many fresh pages again.
    let file = MmapFile::open(path).map_err(|e| e.to_string())?;
    let bytes = file.bytes();
    let h = parse_header(bytes)?;
    if let Some(reason) = stale_reason(head, &dir.join("wal"), &h.pos) {
        return Err(format!("stale: {reason}"));
    }
    info!(file = %path.display(), series = h.series, parts = h.parts.len(),
        bytes = bytes.len(), "Loading head snapshot.");
    let decoded = decode_parts(bytes, &h.parts)?;
    let total: u64 = decoded.iter().map(|p| p.len() as u64).sum();
    if total != h.series {
        return Err(format!(
            "{total} series in the parts, header says {}",
            h.series
        ));
    }
    // References must be unique: they are the WAL's series identities.
    let mut prev = 0u64;
    for s in decoded.iter().flatten() {
        if s.r <= prev {
            return Err(format!("series references not increasing at {}", s.r));
        }
        prev = s.r;
    }
    let mut stats = insert(head, decoded);
    head.reserve_refs(h.next_ref.max(prev + 1));
    stats.bytes = bytes.len() as u64;
    stats.duration = start.elapsed();
    head.metrics
        .replay_duration
        .set(stats.duration.as_secs_f64());
    info!(series = stats.series, chunks = stats.chunks, duration = ?stats.duration,
        wal_segment = h.pos.wal_segment, "Head snapshot loaded; replaying the WAL written after it.");
    Ok((h.pos, stats))
}

/// Verifies and decodes every part, in parallel. Nothing touches the head until all parts
/// are known to be good.
fn decode_parts(
    bytes: &[u8],
    parts: &[(usize, usize, u32)],
) -> std::result::Result<Vec<Vec<LoadedSeries>>, String> {
    let n = threads();
    let nparts = parts.len();
    let mut out: Vec<(usize, Vec<LoadedSeries>)> = Vec::with_capacity(nparts);
    std::thread::scope(|sc| {
        let handles: Vec<_> = (0..n)
            .map(|k| {
                sc.spawn(move || {
                    let mut v = Vec::new();
                    for (i, &(off, len, crc)) in parts.iter().enumerate() {
                        if i % n != k {
                            continue;
                        }
                        let b = bytes.get(off..off + len).ok_or("part outside the file")?;
                        if crc32c::crc32c(b) != crc {
                            return Err(format!("part {i}: checksum mismatch"));
                        }
                        let series = decode_part(b).map_err(|e| format!("part {i}: {e}"))?;
                        info!(
                            part = i + 1,
                            parts = nparts,
                            series = series.len(),
                            "Head snapshot part decoded."
                        );
                        v.push((i, series));
                    }
                    Ok::<_, String>(v)
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(Ok(v)) => out.extend(v),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err("decoder thread panicked".to_string()),
            }
        }
        Ok(())
    })?;
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, v)| v).collect())
}

fn decode_part(b: &[u8]) -> std::result::Result<Vec<LoadedSeries>, String> {
    let mut d = Decbuf::new(b);
    let n = d.uvarint().ok_or("truncated series count")?;
    let n = usize::try_from(n)
        .ok()
        .filter(|&n| n <= b.len())
        .ok_or("series count exceeds the part")?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(decode_series(&mut d)?);
    }
    if !d.is_empty() {
        return Err(format!("{} trailing bytes", d.remaining()));
    }
    Ok(out)
}

/// Puts decoded series into the head: the series maps are striped, so threads insert
/// concurrently, each into its own postings, merged at the end.
fn insert(head: &Head, decoded: Vec<Vec<LoadedSeries>>) -> SnapshotStats {
    let n = threads();
    let mut buckets: Vec<Vec<Vec<LoadedSeries>>> = (0..n).map(|_| Vec::new()).collect();
    for (i, p) in decoded.into_iter().enumerate() {
        if let Some(b) = buckets.get_mut(i % n) {
            b.push(p);
        }
    }
    let results: Vec<(MemPostings, SnapshotStats, i64, i64)> = std::thread::scope(|sc| {
        let handles: Vec<_> = buckets
            .into_iter()
            .map(|parts| sc.spawn(move || insert_parts(head, parts)))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut stats = SnapshotStats::default();
    let mut postings = head.postings.write();
    let (mut mint, mut maxt) = (i64::MAX, i64::MIN);
    for (p, st, lo, hi) in results {
        postings.merge(p);
        stats.series += st.series;
        stats.chunks += st.chunks;
        mint = mint.min(lo);
        maxt = maxt.max(hi);
    }
    drop(postings);
    if mint != i64::MAX {
        head.observe_time(mint);
    }
    if maxt != i64::MIN {
        head.observe_time(maxt);
    }
    let m = &head.metrics;
    m.series_created.inc_by(stats.series);
    m.head_series.add(stats.series as i64);
    m.chunks_created.inc_by(stats.chunks);
    m.head_chunks.add(stats.chunks as i64);
    stats
}

fn insert_parts(
    head: &Head,
    parts: Vec<Vec<LoadedSeries>>,
) -> (MemPostings, SnapshotStats, i64, i64) {
    let mut postings = MemPostings::default();
    let mut st = SnapshotStats::default();
    let (mut mint, mut maxt) = (i64::MAX, i64::MIN);
    for ls in parts.into_iter().flatten() {
        let Some((s, created)) = head.series.insert_with_ref(ls.r, ls.labels) else {
            continue;
        };
        if !created {
            // Impossible for a file this writer produced: the head keeps labels unique.
            warn!(series = %s.labels, "Head snapshot lists a label set twice; kept the first.");
            continue;
        }
        if let Some(t) = ls.data.min_time() {
            mint = mint.min(t);
        }
        let newest = ls.data.ooo.last().map(|o| o.t).unwrap_or(i64::MIN);
        maxt = maxt.max(ls.data.last_t).max(newest);
        st.chunks += ls.data.num_chunks() as u64;
        st.series += 1;
        *s.data.lock() = ls.data;
        s.logged.store(ls.logged, Ordering::Release);
        postings.add(s.r, &s.labels);
    }
    (postings, st, mint, maxt)
}
