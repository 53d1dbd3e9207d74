//! Damaged files give the documented behaviour, never a panic or garbage:
//! - torn WAL tail: truncated with a warning, every complete commit kept;
//! - corruption in the middle of the WAL: dropped from that point, the rest kept;
//! - flipped byte in a block index or meta.json: the open fails naming the block;
//! - flipped byte in a chunk file: the affected series' query fails with a corruption error
//!   naming the file, other series still read, and `analyze` counts the bad chunk; a damaged
//!   time column shared by several series fails each of them;
//! - a malformed chunk behind a valid checksum: a corruption error, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use argus_model::storage::collect_series;
use argus_model::{Appendable, Labels, Matcher, Queryable, StorageError};
use argus_tsdb::{Db, FsyncPolicy, Options, TsdbError};

fn opts() -> Options {
    Options {
        auto_compaction: false,
        fsync: FsyncPolicy::Segment,
        // These tests damage the WAL after a clean close; a head snapshot would cover the
        // damaged segments and the WAL repair under test would never run.
        head_snapshot: false,
        ..Options::default()
    }
}

fn open(dir: &Path) -> Result<Db, TsdbError> {
    Db::open(dir, opts(), &prometheus::Registry::new())
}

fn lbl(i: usize) -> Labels {
    Labels::from_pairs(&[("__name__", "m".to_string()), ("i", i.to_string())])
}

/// 100 commits of 3 series, one sample each.
fn fill(db: &Db) {
    for k in 0..100i64 {
        let mut app = db.appender();
        for i in 0..3 {
            app.append(None, &lbl(i), k * 1000, k as f64).unwrap();
        }
        app.commit().unwrap();
    }
}

fn count(db: &Db) -> Vec<usize> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    collect_series(
        q.select(true, None, &[Matcher::equal("__name__", "m")])
            .as_mut(),
    )
    .unwrap()
    .iter()
    .map(|(_, s)| s.len())
    .collect()
}

fn wal_segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && std::fs::metadata(p).unwrap().len() > 0)
        .collect();
    v.sort();
    v
}

#[test]
fn torn_wal_tail_is_truncated() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path()).unwrap();
    fill(&db);
    db.close().unwrap();
    drop(db);
    let seg = wal_segments(d.path()).pop().unwrap();
    let len = std::fs::metadata(&seg).unwrap().len();
    // Cut the last commit's samples record in half.
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(len - 20).unwrap();
    drop(f);
    let db = open(d.path()).unwrap();
    let dropped = db.replay_stats().dropped_bytes;
    assert!(dropped > 0 && dropped < 100, "dropped {dropped}");
    assert_eq!(count(&db), vec![99, 99, 99]);
    // The repaired WAL keeps working: append, reopen, nothing else lost.
    let mut app = db.appender();
    app.append(None, &lbl(0), 500_000, 1.0).unwrap();
    app.commit().unwrap();
    db.close().unwrap();
    drop(db);
    let db = open(d.path()).unwrap();
    assert_eq!(count(&db), vec![100, 99, 99]);
}

#[test]
fn middle_wal_corruption_drops_from_there() {
    let d = tempfile::tempdir().unwrap();
    let db = open(d.path()).unwrap();
    fill(&db);
    db.close().unwrap();
    drop(db);
    let seg = wal_segments(d.path()).pop().unwrap();
    let mut b = std::fs::read(&seg).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0xff;
    std::fs::write(&seg, &b).unwrap();
    let db = open(d.path()).unwrap();
    let c = count(&db);
    assert!(
        c.iter().all(|&n| n > 30 && n < 70),
        "kept the first half: {c:?}"
    );
    assert!(db.replay_stats().dropped_bytes > 0);
}

fn persisted(d: &Path) -> String {
    let db = open(d).unwrap();
    fill(&db);
    db.flush_head().unwrap();
    let ulid = db.blocks()[0].meta().ulid.clone();
    db.close().unwrap();
    ulid
}

#[test]
fn flipped_byte_in_index_fails_open_naming_the_block() {
    let d = tempfile::tempdir().unwrap();
    let ulid = persisted(d.path());
    let p = d.path().join(&ulid).join("index");
    let mut b = std::fs::read(&p).unwrap();
    let at = b.len() / 3;
    b[at] ^= 0x01;
    std::fs::write(&p, &b).unwrap();
    let err = open(d.path()).err().expect("open must fail").to_string();
    assert!(err.contains(&ulid) && err.contains("index"), "{err}");
    // The analysis tool reports it too instead of failing.
    let r = argus_tsdb::analyze::analyze(d.path(), 5).unwrap();
    assert_eq!(r.broken.len(), 1);
    assert_eq!(r.broken[0].0, ulid);
}

#[test]
fn damaged_meta_json_fails_open_naming_the_block() {
    let d = tempfile::tempdir().unwrap();
    let ulid = persisted(d.path());
    let p = d.path().join(&ulid).join("meta.json");
    let s = std::fs::read_to_string(&p)
        .unwrap()
        .replacen("\"level\": 1", "\"level\": 2", 1);
    std::fs::write(&p, s).unwrap();
    let err = open(d.path()).err().expect("open must fail").to_string();
    assert!(err.contains(&ulid) && err.contains("meta.json"), "{err}");
}

/// Offset in `chunks/000001` of the first data byte of series `i`'s first chunk.
fn value_chunk_offset(dir: &Path, i: usize) -> usize {
    let db = open(dir).unwrap();
    let b = db.blocks()[0].clone();
    let ord = b
        .matching(&[Matcher::equal("i", i.to_string())])
        .unwrap()
        .min()
        .unwrap();
    let mut entries = Vec::new();
    b.index().series(ord, &mut entries).unwrap();
    drop(b);
    db.close().unwrap();
    // uvarint length (one byte for these small chunks), then the encoding byte.
    (entries[0].r & 0xffff_ffff) as usize + 2
}

fn assert_checksum_error(db: &Db, i: usize) {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let err = collect_series(
        q.select(true, None, &[Matcher::equal("i", i.to_string())])
            .as_mut(),
    )
    .unwrap_err();
    match &err {
        StorageError::Corruption { file, reason } => {
            assert!(file.ends_with("chunks/000001"), "{file:?}");
            assert!(reason.contains("checksum"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn flipped_byte_in_chunk_file_is_reported_on_read() {
    let d = tempfile::tempdir().unwrap();
    let ulid = persisted(d.path());
    let at = value_chunk_offset(d.path(), 0);
    let p = d.path().join(&ulid).join("chunks").join("000001");
    let mut b = std::fs::read(&p).unwrap();
    // Inside series 0's value chunk: its time-column reference, the first field.
    b[at + 1] ^= 0x04;
    std::fs::write(&p, &b).unwrap();
    let db = open(d.path()).unwrap();
    assert_checksum_error(&db, 0);
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let ok = collect_series(q.select(true, None, &[Matcher::equal("i", "2")]).as_mut()).unwrap();
    assert_eq!(ok[0].1.len(), 100);
    let r = argus_tsdb::analyze::analyze(d.path(), 5).unwrap();
    assert_eq!(r.blocks[0].corrupt_chunks, 1);
}

#[test]
fn flipped_byte_in_shared_time_column_fails_every_series_using_it() {
    let d = tempfile::tempdir().unwrap();
    let ulid = persisted(d.path());
    let p = d.path().join(&ulid).join("chunks").join("000001");
    let mut b = std::fs::read(&p).unwrap();
    // The three series share one time column, the file's first record (8-byte header,
    // length, encoding byte).
    b[8 + 3] ^= 0x10;
    std::fs::write(&p, &b).unwrap();
    let db = open(d.path()).unwrap();
    for i in 0..3 {
        assert_checksum_error(&db, i);
    }
    let r = argus_tsdb::analyze::analyze(d.path(), 5).unwrap();
    assert_eq!(r.blocks[0].corrupt_chunks, 3);
}

#[test]
fn garbage_with_valid_checksums_is_an_error_not_a_panic() {
    let d = tempfile::tempdir().unwrap();
    let ulid = persisted(d.path());
    let at = value_chunk_offset(d.path(), 1);
    let p = d.path().join(&ulid).join("chunks").join("000001");
    let mut b = std::fs::read(&p).unwrap();
    // Rewrite the bytes after series 1's header with garbage and fix up the checksum, as a
    // buggy writer would: decoding must fail cleanly.
    let len = b[at - 2] as usize;
    let (hdr, _) = argus_tsdb::chunk::columnar::values_header(&b[at..at + len]).unwrap();
    assert_eq!(hdr, 100);
    for x in &mut b[at + 6..at + len] {
        *x = 0xff;
    }
    let crc = crc32c::crc32c(&b[at - 1..at + len]);
    b[at + len..at + len + 4].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(&p, &b).unwrap();
    let db = open(d.path()).unwrap();
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let err = collect_series(q.select(true, None, &[Matcher::equal("i", "1")]).as_mut());
    match err {
        Err(StorageError::Corruption { reason, .. }) => {
            assert!(reason.contains("malformed"), "{reason}")
        }
        other => panic!("unexpected {other:?}"),
    }
}
